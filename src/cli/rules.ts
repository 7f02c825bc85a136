/**
 * `triage rules list | create | update | delete | dry-run`: a tenant's automation rules on the command
 * line, through the same use cases as the rules API (docs/automation.md); `triage rules jobs list |
 * retry`: the jobs they queued and not yet sent, as GET /triage/automation/jobs shows them. A rule is given as a JSON
 * file in the API's shape; changes are recorded as made by "Triage CLI".
 */
import { readFileSync } from "node:fs";
import { Option as CommanderOption, type Command, type Option } from "commander";
import type { KeyEncryption, ResolvedKey } from "../identity/key-encryption.js";
import type { Store } from "../store/open.js";
import type { StoreOptions } from "./store-access.js";
import { createRule, getRule, listTenantRules, removeRule, ruleView, updateRule, type RuleContext } from "../features/automation/rules.js";
import { dryRun } from "../features/automation/dry-run.js";
import { listJobs, retryJob } from "../features/automation/jobs.js";
import { DEFAULT_AUTOMATION_SETTINGS } from "../features/automation/settings.js";
import { DEFAULT_JOBS_PAGE, MAX_JOBS_PAGE } from "../schema/automation.js";
import { findTenant } from "../store/tenants.js";

export interface CliHelpers {
  dataOption(description?: string): Option;
  dbOption(): Option;
  keyFileOption(): Option;
  tenantArg(v: string): string;
  withStore<T>(o: StoreOptions, fn: (store: Store) => Promise<T>): Promise<T>;
  keyEncryption(o: { data: string; keyFile?: string }): ResolvedKey;
  print(json: boolean, value: unknown, text: string): void;
}

const ACTOR = "Triage CLI";

interface Base extends StoreOptions {
  tenant: string;
  json?: boolean;
  keyFile?: string;
  allowPrivateDestinations?: boolean;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(`Cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${file} is not JSON.`);
  }
}

function context(o: Base, sealer: KeyEncryption | undefined): RuleContext {
  return {
    tenantId: o.tenant,
    actor: ACTOR,
    now: new Date().toISOString(),
    settings: { ...DEFAULT_AUTOMATION_SETTINGS, allowPrivateDestinations: o.allowPrivateDestinations === true },
    sealer,
    // The server that runs the rule says whether it has a mail server; the CLI cannot know.
    emailAllowed: true,
  };
}

async function requireTenant(store: Store, id: string): Promise<void> {
  if (!(await findTenant(store.db, id))) throw new Error(`No tenant ${id}. Create it with 'triage tenants create'.`);
}

export function addRuleCommands(cli: Command, h: CliHelpers): void {
  const rules = cli.command("rules").description("automation rules: triggers, conditions and ordered actions (docs/automation.md)");
  const common = (c: Command) =>
    c.addOption(h.dataOption("data directory")).addOption(h.dbOption()).requiredOption("--tenant <id>", "tenant", h.tenantArg).option("--json", "print JSON");
  const writing = (c: Command) =>
    common(c)
      .addOption(h.keyFileOption())
      .option("--allow-private-destinations", "accept webhook URLs on loopback and private addresses, and plain HTTP (local development and tests only)");

  common(rules.command("list").description("list the tenant's rules in the order they run")).action(async (o: Base) => {
    await h.withStore(o, async (store) => {
      const list = (await listTenantRules(store.db, o.tenant)).map(ruleView);
      h.print(
        o.json === true,
        { value: list },
        list.map((r) => `${r.order}\t${r.enabled ? "on " : "off"}\t${r.trigger}\t${r.id}\t${r.displayName}`).join("\n") || "(no rules)",
      );
    });
  });

  writing(rules.command("create").description("create a rule from a JSON file"))
    .requiredOption("--file <file>", "the rule, as POST /triage/automation/rules takes it")
    .action(async (o: Base & { file: string }) => {
      const body = readJson(o.file);
      const sealing = h.keyEncryption(o);
      await h.withStore(o, async (store) => {
        await requireTenant(store, o.tenant);
        const r = await createRule(store.db, context(o, sealing.encryption), body);
        h.print(o.json === true, r, `Created rule ${r.id} (${r.displayName}).`);
      });
    });

  writing(rules.command("update").description("change a rule: the properties in the JSON file replace the rule's"))
    .requiredOption("--id <id>", "the rule")
    .requiredOption("--file <file>", "the properties to change, as PATCH /triage/automation/rules/{id} takes them")
    .action(async (o: Base & { id: string; file: string }) => {
      const body = readJson(o.file);
      const sealing = h.keyEncryption(o);
      await h.withStore(o, async (store) => {
        const r = await updateRule(store.db, context(o, sealing.encryption), o.id, body);
        h.print(o.json === true, r, `Changed rule ${r.id} (${r.displayName}).`);
      });
    });

  common(rules.command("delete").description("delete a rule"))
    .requiredOption("--id <id>", "the rule")
    .action(async (o: Base & { id: string }) => {
      await h.withStore(o, async (store) => {
        await removeRule(store.db, o.tenant, o.id);
        h.print(o.json === true, { id: o.id, deleted: true }, `Deleted rule ${o.id}.`);
      });
    });

  common(rules.command("dry-run").description("show what a rule would do to an incident or alert as it is now; changes nothing"))
    .option("--id <id>", "a saved rule")
    .option("--file <file>", "a rule not saved, as a JSON file (instead of --id)")
    .option("--incident <id>", "the incident to try it on")
    .option("--alert <id>", "the alert to try it on (alertCreated rules; instead of --incident)")
    .action(async (o: Base & { id?: string; file?: string; incident?: string; alert?: string }) => {
      if ((o.id === undefined) === (o.file === undefined)) throw new Error("Give exactly one of --id and --file.");
      const body: Record<string, unknown> = {};
      if (o.file !== undefined) body.rule = readJson(o.file);
      if (o.incident !== undefined) body.incidentId = o.incident;
      if (o.alert !== undefined) body.alertId = o.alert;
      await h.withStore(o, async (store) => {
        if (o.id !== undefined) await getRule(store.db, o.tenant, o.id);
        const d = await dryRun(store.db, o.tenant, o.id ?? null, body, DEFAULT_AUTOMATION_SETTINGS.maxAlertsRead, new Date().toISOString());
        const lines = [
          d.skipped ? `Would not run: ${d.skipped}` : "Would run.",
          ...d.conditions.map(
            (c) => `  ${c.holds ? "holds" : "fails"}  ${c.property} ${c.operator} ${c.values.join(", ")}  (is: ${c.actual.join(", ") || "nothing"})`,
          ),
          d.matched ? "Conditions hold; the actions would:" : "Conditions do not hold; nothing would happen.",
          ...d.actions.map((a) => `  ${a.description}`),
        ];
        h.print(o.json === true, d, lines.join("\n"));
      });
    });

  const jobs = rules.command("jobs").description("the jobs rules queued and not yet sent: playbooks, Teams, Slack, e-mail");
  common(jobs.command("list").description("list the tenant's jobs not yet sent, oldest first: pending, or failed and waiting to be retried"))
    .addOption(new CommanderOption("--state <state>", "only pending or only failed jobs").choices(["pending", "failed"]))
    .option("--top <n>", `the most jobs to list, 1 to ${MAX_JOBS_PAGE}`, String(DEFAULT_JOBS_PAGE))
    .action(async (o: Base & { state?: string; top: string }) => {
      await h.withStore(o, async (store) => {
        const page = await listJobs(store.db, o.tenant, { state: o.state, top: o.top }, DEFAULT_AUTOMATION_SETTINGS.retryForMs);
        const lines = page.value.map(
          (j) =>
            `${j.state}\t${j.kind}\t${j.id}\t${j.ruleDisplayName ?? j.ruleId}\t${j.destination}` +
            (j.state === "failed" ? `\t${j.attempts} failed, last: ${j.lastError ?? ""}; next ${j.nextAttemptDateTime}, gives up ${j.giveUpDateTime}` : ""),
        );
        if (page.skipToken !== null) lines.push(`(more than ${page.value.length}; raise --top)`);
        h.print(o.json === true, { value: page.value }, lines.join("\n") || "(no jobs)");
      });
    });
  common(jobs.command("retry").description("try a failed job again now (its retry period still counts from its first failure)"))
    .requiredOption("--id <id>", "the job")
    .action(async (o: Base & { id: string }) => {
      await h.withStore(o, async (store) => {
        const job = await retryJob(store.db, o.tenant, o.id, DEFAULT_AUTOMATION_SETTINGS.retryForMs);
        h.print(o.json === true, job, `Job ${job.id} is due now; a running server sends it within seconds.`);
      });
    });
}
