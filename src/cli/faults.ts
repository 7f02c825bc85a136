import { readFileSync } from "node:fs";
import { InvalidArgumentError, type Command, type Option } from "commander";
import type { Store } from "../store/open.js";
import { clearFaultConfig, listFaultConfigs, listFaultEvents, setFaultConfig, TENANT_SCOPE } from "../store/faults.js";
import { listProfiles, setProfile } from "../store/profiles.js";
import { findApp } from "../identity/directory.js";
import { graphRouteTemplates } from "../permissions/catalog.js";
import { describeRule, FAULT_PRESETS, parseFaultConfig } from "../schema/faults.js";
import { PROFILES, type Profile } from "../schema/profile.js";
import { GraphError } from "../errors/graph-error.js";

/**
 * `triage faults set | list | clear | events` and `triage profile set | list`: the testing controls of
 * docs/testing-faults.md, written to the store, where every running node picks them up within
 * seconds. The same checks as the admin API (schema/faults.ts), so a rule the API refuses is refused here.
 */

export interface CliKit {
  dataOption(description?: string): Option;
  dbOption(): Option;
  tenantArg(v: string): string;
  clientArg(v: string): string;
  withStore<T>(o: { data: string; db?: string }, fn: (store: Store) => Promise<T>): Promise<T>;
  requireTenant(store: Store, id: string): Promise<void>;
  print(json: boolean, value: unknown, text: string): void;
  intArg(min: number, max: number): (v: string) => number;
}

interface Scoped {
  data: string;
  db?: string;
  tenant: string;
  app?: string;
  json?: boolean;
}

/** The configuration's client_id: the app's (which must be the tenant's), or the tenant's own. */
async function scopeOf(store: Store, kit: CliKit, o: Scoped): Promise<string> {
  await kit.requireTenant(store, o.tenant);
  if (o.app === undefined) return TENANT_SCOPE;
  const app = await findApp(store.db, o.app);
  if (!app || app.tenantId !== o.tenant) throw new Error(`No app ${o.app} in tenant ${o.tenant}.`);
  return app.clientId;
}

function jsonArg(what: string) {
  return (v: string, prev: unknown[] = []) => {
    try {
      return [...prev, JSON.parse(v) as unknown];
    } catch {
      throw new InvalidArgumentError(`expected ${what} as JSON, e.g. '{"fault":429,"share":0.2}'`);
    }
  };
}

function presetArg(v: string, prev: string[] = []): string[] {
  if (!(FAULT_PRESETS as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${FAULT_PRESETS.join(", ")}`);
  return [...prev, v];
}

/** A configuration's problem (a 400 from the shared parser) is the user's to fix: a usage error. */
function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof GraphError) throw new InvalidArgumentError(e.message);
    throw e;
  }
}

export function addFaultCommands(cli: Command, kit: CliKit): void {
  const faults = cli.command("faults").description("fault injection on the Graph surface, per tenant or app (docs/testing-faults.md)");
  faults
    .command("set")
    .description("set (replace) the fault rules of a tenant, or of one app with --app")
    .addOption(kit.dataOption("data directory"))
    .addOption(kit.dbOption())
    .requiredOption("--tenant <id>", "tenant", kit.tenantArg)
    .option("--app <client-id>", "only this app's requests (its rules replace the tenant's for it)", kit.clientArg)
    .option(
      "--rule <json>",
      'a rule as JSON, e.g. \'{"fault":429,"share":0.2,"methods":["PATCH"],"route":"/security/incidents/{id}"}\' (repeatable)',
      jsonArg("a rule"),
    )
    .option("--preset <name>", `a named preset: ${FAULT_PRESETS.join(" or ")} (repeatable)`, presetArg)
    .option("--file <file>", "the whole configuration as JSON: {seed, rules}")
    .option("--seed <s>", "seed of every draw: the same seed and the same requests give the same faults (default: a random one, printed)")
    .option("--json", "print JSON")
    .action(async (o: Scoped & { rule?: unknown[]; preset?: string[]; file?: string; seed?: string }) => {
      const fromFile = o.file ? (JSON.parse(readFileSync(o.file, "utf8")) as { seed?: unknown; rules?: unknown[] }) : {};
      const rules = [...(fromFile.rules ?? []), ...(o.rule ?? []), ...(o.preset ?? []).map((preset) => ({ preset }))];
      const config = usage(() => parseFaultConfig({ seed: o.seed ?? fromFile.seed, rules }, graphRouteTemplates()));
      await kit.withStore(o, async (store) => {
        const scope = await scopeOf(store, kit, o);
        const saved = await setFaultConfig(store.db, o.tenant, scope, config, "triage faults set");
        kit.print(
          o.json === true,
          { tenantId: o.tenant, clientId: scope || null, seed: saved.config.seed, rules: saved.config.rules },
          [
            `Fault rules of ${scope ? `app ${scope}` : `tenant ${o.tenant}`} (seed ${saved.config.seed}):`,
            ...saved.config.rules.map((r, i) => `  ${i}: ${describeRule(r)}`),
          ].join("\n"),
        );
      });
    });
  faults
    .command("list")
    .description("the fault rules of a tenant and its apps, with how often each matched and fired")
    .addOption(kit.dataOption("data directory"))
    .addOption(kit.dbOption())
    .requiredOption("--tenant <id>", "tenant", kit.tenantArg)
    .option("--json", "print JSON")
    .action(async (o: Scoped) => {
      await kit.withStore(o, async (store) => {
        await kit.requireTenant(store, o.tenant);
        const list = await listFaultConfigs(store.db, o.tenant);
        const text = list.flatMap((f) => [
          `${f.clientId ? `app ${f.clientId}` : "tenant"} (seed ${f.config.seed}, set ${f.updatedAt} by ${f.updatedBy}):`,
          ...f.config.rules.map((r, i) => `  ${i}: ${describeRule(r)} — matched ${f.counters[i]?.matched ?? 0}, fired ${f.counters[i]?.fired ?? 0}`),
        ]);
        kit.print(
          o.json === true,
          list.map((f) => ({ clientId: f.clientId || null, seed: f.config.seed, rules: f.config.rules, counters: f.counters, updatedDateTime: f.updatedAt })),
          text.join("\n") || "(no fault rules)",
        );
      });
    });
  faults
    .command("clear")
    .description("remove the fault rules of a tenant, or of one app with --app")
    .addOption(kit.dataOption("data directory"))
    .addOption(kit.dbOption())
    .requiredOption("--tenant <id>", "tenant", kit.tenantArg)
    .option("--app <client-id>", "the app's rules (its requests then get the tenant's, if any)", kit.clientArg)
    .option("--json", "print JSON")
    .action(async (o: Scoped) => {
      await kit.withStore(o, async (store) => {
        const scope = await scopeOf(store, kit, o);
        const cleared = await clearFaultConfig(store.db, o.tenant, scope);
        kit.print(o.json === true, { cleared }, cleared ? "Cleared." : "There were no fault rules to clear.");
      });
    });
  faults
    .command("events")
    .description("the faults injected in a tenant, oldest first")
    .addOption(kit.dataOption("data directory"))
    .addOption(kit.dbOption())
    .requiredOption("--tenant <id>", "tenant", kit.tenantArg)
    .option("--app <client-id>", "only this app's requests", kit.clientArg)
    .option("--after <seq>", "only events after this one", kit.intArg(0, Number.MAX_SAFE_INTEGER), 0)
    .option("--top <n>", "most events to print", kit.intArg(1, 100_000), 1000)
    .option("--json", "print JSON")
    .action(async (o: Scoped & { after: number; top: number }) => {
      await kit.withStore(o, async (store) => {
        await kit.requireTenant(store, o.tenant);
        const events = await listFaultEvents(store.db, o.tenant, { after: o.after, clientId: o.app, limit: o.top });
        kit.print(
          o.json === true,
          events,
          events
            .map(
              (e) =>
                `${e.seq}  ${e.at}  ${e.fault}${e.delayMs !== null ? ` ${e.delayMs} ms` : ""}  ${e.method} ${e.route}  app ${e.clientId}  request ${e.requestId}`,
            )
            .join("\n") || "(no faults injected)",
        );
      });
    });

  const profile = cli.command("profile").description("how strictly the Graph surface reads requests, per tenant or app (docs/graph-api.md)");
  profile
    .command("set")
    .description("set the strictness profile of a tenant, or of one app with --app")
    .addOption(kit.dataOption("data directory"))
    .addOption(kit.dbOption())
    .requiredOption("--tenant <id>", "tenant", kit.tenantArg)
    .option("--app <client-id>", "only this app's requests", kit.clientArg)
    .requiredOption("--profile <name>", `${PROFILES.join(", ")}, or inherit (the tenant's, else the server's --profile)`, (v: string) => {
      if (v !== "inherit" && !(PROFILES as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected ${PROFILES.join(", ")} or inherit`);
      return v;
    })
    .option("--json", "print JSON")
    .action(async (o: Scoped & { profile: string }) => {
      await kit.withStore(o, async (store) => {
        const scope = await scopeOf(store, kit, o);
        const value = o.profile === "inherit" ? null : (o.profile as Profile);
        await setProfile(store.db, o.tenant, scope, value);
        kit.print(
          o.json === true,
          { tenantId: o.tenant, clientId: scope || null, profile: value },
          `${scope ? `App ${scope}` : `Tenant ${o.tenant}`}: ${value ?? "inherits"}.`,
        );
      });
    });
  profile
    .command("list")
    .description("the strictness profiles a tenant and its apps set")
    .addOption(kit.dataOption("data directory"))
    .addOption(kit.dbOption())
    .requiredOption("--tenant <id>", "tenant", kit.tenantArg)
    .option("--json", "print JSON")
    .action(async (o: Scoped) => {
      await kit.withStore(o, async (store) => {
        await kit.requireTenant(store, o.tenant);
        const list = await listProfiles(store.db, o.tenant);
        kit.print(
          o.json === true,
          list.map((p) => ({ clientId: p.clientId || null, profile: p.profile })),
          list.map((p) => `${p.clientId ? `app ${p.clientId}` : "tenant"}: ${p.profile}`).join("\n") || "(none set: the server's --profile applies)",
        );
      });
    });
}
