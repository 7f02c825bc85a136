import { randomUUID } from "node:crypto";
import { join, resolve } from "node:path";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { SingleBar, Presets } from "cli-progress";
import { openSqliteStore } from "../store/open.js";
import { listTenants, createTenant, findTenant } from "../store/tenants.js";
import { buildServer } from "../server.js";
import { seedStore } from "./seed-store.js";
import { resourceReference } from "../schema/docs.js";

/** Exit codes: 0 done, 1 failed, 2 bad usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** The demo tenant that `triage serve --demo` creates on first start. */
export const DEMO_TENANT = "c7a1d2e4-5b6f-4a8c-9d0e-1f2a3b4c5d6e";
/** The demo data's timeline ends here, so the same seed always yields the same data. */
export const DEMO_END = new Date("2026-11-01T00:00:00Z");

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function intArg(min: number, max: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

function tenantArg(v: string): string {
  if (!GUID.test(v)) throw new InvalidArgumentError("expected a tenant id (a GUID)");
  return v.toLowerCase();
}

function dbFile(dataDir: string): string {
  return join(resolve(dataDir), "triage.db");
}

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

function progressBar(enabled: boolean, label: string) {
  if (!enabled) return null;
  const bar = new SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} alerts | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  return bar;
}

export function program(): Command {
  const cli = new Command("triage")
    .description("Triage: a self-hosted security-incident service that speaks the Microsoft Graph security API")
    .exitOverride()
    .showHelpAfterError();

  cli
    .command("serve")
    .description("run the API server")
    .option("--data <dir>", "data directory (holds triage.db)", process.env.TRIAGE_DATA ?? "./data")
    .option("--host <host>", "address to listen on", process.env.TRIAGE_HOST ?? "127.0.0.1")
    .option("--port <n>", "port to listen on", intArg(0, 65535), Number(process.env.TRIAGE_PORT ?? 8080))
    .option("--tenant <id>", "tenant for requests that name none (default: the only tenant, if there is one)", tenantArg)
    .option("--public-url <url>", "base URL clients reach Triage at, when behind a proxy")
    .option("--demo", "on first start, create a demo tenant with generated incidents")
    .option("--demo-incidents <n>", "size of the demo data", intArg(1, 100_000), 300)
    .option("--rate-limit <n>", "requests per minute each tenant may make (off by default)", intArg(1, 10_000_000))
    .option("--log-level <level>", "log level (fatal, error, warn, info, debug)", process.env.TRIAGE_LOG_LEVEL ?? "info")
    .action(async (o: { data: string; host: string; port: number; tenant?: string; publicUrl?: string; demo?: boolean; demoIncidents: number; logLevel: string; rateLimit?: number }) => {
      const store = await openSqliteStore(dbFile(o.data));
      let tenants = await listTenants(store.db);
      if (o.demo && tenants.length === 0) {
        process.stderr.write(`Seeding the demo tenant ${DEMO_TENANT} with ${o.demoIncidents} incidents…\n`);
        const bar = progressBar(process.stderr.isTTY === true, "demo data");
        bar?.start(1, 0);
        await seedStore(store, {
          tenantId: DEMO_TENANT,
          incidents: o.demoIncidents,
          seed: "triage-demo",
          end: DEMO_END,
          onProgress: (done, total) => { bar?.setTotal(total); bar?.update(done); },
        });
        bar?.stop();
        tenants = await listTenants(store.db);
      }
      const defaultTenant = o.tenant ?? (tenants.length === 1 ? tenants[0]!.id : undefined);
      const app = await buildServer({
        store,
        defaultTenant,
        publicUrl: o.publicUrl,
        rateLimit: o.rateLimit ? { max: o.rateLimit, windowMs: 60_000 } : undefined,
        logger: { level: o.logLevel, redact: ["req.headers.authorization", "req.headers.cookie"] },
      });
      const address = await app.listen({ host: o.host, port: o.port });
      const shown = address.replace("://0.0.0.0", "://127.0.0.1").replace("://[::]", "://[::1]");
      process.stdout.write(`Triage is listening on ${shown}\n`);
      process.stdout.write(`  Graph API:   ${shown}/v1.0/security/incidents  (and /beta)\n`);
      process.stdout.write(`  Ingestion:   POST ${shown}/ingest/alerts\n`);
      if (defaultTenant) process.stdout.write(`  Tenant:      ${defaultTenant} (requests without X-Triage-Tenant)\n`);
      process.stdout.write(`  Data:        ${dbFile(o.data)}\n`);

      await new Promise<void>((resolveStop) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          app.log.info({ signal }, "shutting down: finishing in-flight requests");
          // Fastify stops accepting, lets in-flight requests finish, then the store is closed.
          app.close().then(() => store.close()).then(resolveStop, (err) => { app.log.error({ err }, "shutdown failed"); resolveStop(); });
        };
        process.once("SIGINT", () => stop("SIGINT"));
        process.once("SIGTERM", () => stop("SIGTERM"));
      });
    });

  cli
    .command("seed")
    .description("generate realistic demo alerts into a tenant, through the ingestion path")
    .option("--data <dir>", "data directory (holds triage.db)", process.env.TRIAGE_DATA ?? "./data")
    .option("--tenant <id>", "tenant to fill (created if missing)", tenantArg, DEMO_TENANT)
    .option("--incidents <n>", "about how many incidents to generate", intArg(1, 10_000_000), 300)
    .option("--seed <s>", "seed: the same seed and size give the same data", "triage-demo")
    .option("--json", "print the summary as JSON")
    .action(async (o: { data: string; tenant: string; incidents: number; seed: string; json?: boolean }) => {
      const store = await openSqliteStore(dbFile(o.data));
      try {
        const bar = progressBar(process.stderr.isTTY === true, "seeding");
        bar?.start(1, 0);
        const summary = await seedStore(store, {
          tenantId: o.tenant,
          incidents: o.incidents,
          seed: o.seed,
          end: DEMO_END,
          onProgress: (done, total) => { bar?.setTotal(total); bar?.update(done); },
        });
        bar?.stop();
        print(
          o.json === true,
          summary,
          `Seeded tenant ${summary.tenantId}: ${summary.alerts} alerts into ${summary.incidents} incidents (${summary.merged} merges) in ${summary.seconds.toFixed(1)} s.`,
        );
      } finally {
        await store.close();
      }
    });

  cli
    .command("docs")
    .description("print the resource reference (Markdown), generated from the schemas")
    .action(() => {
      process.stdout.write(resourceReference());
    });

  const tenants = cli.command("tenants").description("manage tenants");
  tenants
    .command("list")
    .option("--data <dir>", "data directory", process.env.TRIAGE_DATA ?? "./data")
    .option("--json", "print JSON")
    .action(async (o: { data: string; json?: boolean }) => {
      const store = await openSqliteStore(dbFile(o.data));
      try {
        const list = await listTenants(store.db);
        print(o.json === true, list, list.map((t) => `${t.id}  ${t.displayName}`).join("\n") || "(no tenants)");
      } finally {
        await store.close();
      }
    });
  tenants
    .command("create")
    .option("--data <dir>", "data directory", process.env.TRIAGE_DATA ?? "./data")
    .option("--id <id>", "tenant id (default: a new GUID)", tenantArg)
    .requiredOption("--name <name>", "display name")
    .option("--json", "print JSON")
    .action(async (o: { data: string; id?: string; name: string; json?: boolean }) => {
      const store = await openSqliteStore(dbFile(o.data));
      try {
        const id = o.id ?? randomUUID();
        if (await findTenant(store.db, id)) throw new Error(`Tenant ${id} already exists.`);
        const t = await createTenant(store.db, id, o.name);
        print(o.json === true, t, `Created tenant ${t.id} (${t.displayName}).`);
      } finally {
        await store.close();
      }
    });
  return cli;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return EXIT.ok;
      return EXIT.usage;
    }
    process.stderr.write(`triage: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.failed;
  }
}
