import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { SingleBar, Presets } from "cli-progress";
import { levels as pinoLevels } from "pino";
import type { Store } from "../store/open.js";
import { listTenants, createTenant, findTenant } from "../store/tenants.js";
import { buildServer, GRAPH_THROTTLE, type IdentityConfig } from "../server.js";
import { DEFAULT_ADDRESS_MAX } from "../http/throttle.js";
import { isHostEntry } from "../http/allowed-hosts.js";
import { DEFAULT_HSTS_MAX_AGE_SECONDS } from "../http/security-headers.js";
import { MAX_ALERTS_PER_INCIDENT, MAX_ENTITIES_PER_INCIDENT } from "../domain/correlate.js";
import { DEFAULT_EXPAND_ALERTS_LIMIT } from "../graph/entity-set.js";
import { DEFAULT_BATCH_RESPONSE_BYTES } from "../graph/batch.js";
import { DEFAULT_TIMEOUTS } from "../http/timeouts.js";
import { DEFAULT_READY_MIN_FREE_BYTES } from "../store/readiness.js";
import { backupSqliteFile } from "../store/backup.js";
import { seedStore } from "./seed-store.js";
import { addPermissionCommands } from "./permissions.js";
import { addRuleCommands } from "./rules.js";
import { DEFAULT_HEAP_GROWTH_PERCENT, boundHeapGrowth } from "./heap.js";
import { addSlaCommands } from "./sla.js";
import { addFixtureCommands } from "./fixtures.js";
import { dbFile, openCliStore, postgresUrlArg, prepareDataDir, redactUrl, type StoreOptions } from "./store-access.js";
import { resourceReference } from "../schema/docs.js";
import { ensureLocalTls, loadTlsFiles, type TlsMaterial } from "../identity/tls.js";
import {
  addCertificate,
  addSecret,
  createApp,
  createUser,
  findApp,
  grantAdminConsent,
  listApps,
  listUsers,
  requestPermissions,
  setUserRoles,
} from "../identity/directory.js";
import { KeyRing } from "../identity/keys.js";
import { createDemoIdentities, demoInstructions } from "./demo.js";
import { DEMO_END, DEMO_TENANT } from "../seed/demo-tenant.js";
import { ensureWebClient, ensureWebClients } from "../web/client.js";
import type { ExternalIssuer } from "../identity/validate.js";
import { defaultKeyFile, KEY_ENCRYPTION_ENV, resolveKeyEncryption, type ResolvedKey } from "../identity/key-encryption.js";
import { DEFAULT_QUERY_TIMEOUT_MS, DEFAULT_READ_WORKERS, DEFAULT_SQLITE_CACHE_MB } from "../store/bounded-read.js";
import { DEFAULT_HUNTING_TIMEOUT_MS } from "../graph/hunting.js";
import { DEFAULT_FILTER_LIMITS } from "../odata/filter-cost.js";
import { addFaultCommands } from "./faults.js";
import { addSyncCommand } from "./sync.js";
import { DEFAULT_PROFILE, PROFILES, type Profile } from "../schema/profile.js";
import { startTracing, tracesUrl, type Tracing } from "../http/tracing.js";
import { serveEphemeral } from "./serve-ephemeral.js";

/** Exit codes: 0 done, 1 failed, 2 bad usage. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DEFAULT_DATA = process.env.TRIAGE_DATA ?? "./data";

function intArg(min: number, max: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** --otel-endpoint: an http(s) base URL without credentials, query or fragment (headers go in OTEL_EXPORTER_OTLP_HEADERS). */
function otlpEndpointArg(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new InvalidArgumentError("expected an http:// or https:// URL, such as http://127.0.0.1:4318");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new InvalidArgumentError("expected an http:// or https:// URL, such as http://127.0.0.1:4318");
  if (u.username || u.password || u.search || u.hash)
    throw new InvalidArgumentError("expected a URL without credentials, query or fragment (give headers in OTEL_EXPORTER_OTLP_HEADERS)");
  return v.replace(/\/+$/, "");
}

function guidArg(what: string) {
  return (v: string) => {
    if (!GUID.test(v)) throw new InvalidArgumentError(`expected ${what} (a GUID)`);
    return v.toLowerCase();
  };
}
const tenantArg = guidArg("a tenant id");
const clientArg = guidArg("a client id");

/** --smtp-url: a mail server URL; anything else is refused before the server starts. */
function smtpUrlArg(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new InvalidArgumentError("expected smtp://host:port or smtps://host:port");
  }
  if (u.protocol !== "smtp:" && u.protocol !== "smtps:") throw new InvalidArgumentError("expected smtp://host:port or smtps://host:port");
  return v;
}

/** Where a command finds the store: the data directory (SQLite file), or PostgreSQL with --db. */
function dataOption(description = "data directory"): Option {
  return new Option("--data <dir>", description).default(DEFAULT_DATA);
}

function dbOption(): Option {
  return new Option("--db <url>", "PostgreSQL (postgres:// or postgresql:// URL) instead of the SQLite file in --data")
    .env("TRIAGE_DB")
    .argParser(postgresUrlArg);
}

/** pino's levels, and "silent" for none: any other name makes pino fail with a message of its own. */
export const LOG_LEVELS = [...Object.keys(pinoLevels.values).sort((a, b) => (pinoLevels.values[b] ?? 0) - (pinoLevels.values[a] ?? 0)), "silent"];

/** --throttle: a number of requests per minute, or "graph" for Graph's own limit. */
function throttleArg(v: string): number | "graph" {
  if (v === "graph") return v;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10_000_000) throw new InvalidArgumentError("expected 'graph' or a whole number from 1 to 10000000");
  return n;
}

function keyFileOption(): Option {
  return new Option(
    "--key-file <file>",
    `key that encrypts the signing keys in the store (default: ${KEY_ENCRYPTION_ENV}, else DATA/keys/master.key, created on first use)`,
  ).default(process.env.TRIAGE_KEY_FILE);
}

/** The key-encryption key for the signing keys: the environment, --key-file, or the file beside the store. */
function keyEncryption(o: { data: string; keyFile?: string }): ResolvedKey {
  return resolveKeyEncryption({ env: process.env[KEY_ENCRYPTION_ENV], keyFile: o.keyFile, defaultFile: defaultKeyFile(o.data) });
}

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

function collectHost(v: string, prev: string[] = []): string[] {
  if (!isHostEntry(v)) throw new InvalidArgumentError(`'${v}' is not a host name or address with an optional port (no scheme, no path)`);
  return [...prev, v];
}

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

function progressBar(enabled: boolean, label: string) {
  if (!enabled) return null;
  return new SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} alerts | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
}

/** Runs `fn` with the store, closing it afterwards. */
async function withStore<T>(o: StoreOptions, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openCliStore(o);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function requireTenant(store: Store, id: string): Promise<void> {
  if (!(await findTenant(store.db, id))) throw new Error(`No tenant ${id}. Create it with 'triage tenants create'.`);
}

/** Settings read from --config FILE (JSON), for what does not fit on a command line. */
interface FileConfig {
  publicUrl?: string;
  hostNames?: string[];
  allowedHosts?: string[];
  externalIssuers?: ExternalIssuer[];
  identity?: Omit<IdentityConfig, "externalIssuers">;
}

function readConfig(file: string | undefined): FileConfig {
  if (!file) return {};
  const parsed = JSON.parse(readFileSync(file, "utf8")) as FileConfig;
  for (const e of parsed.externalIssuers ?? []) {
    if (!GUID.test(e.tenantId) || !/^https?:\/\//.test(e.jwksUri)) throw new Error(`${file}: each external issuer needs a tenantId (GUID) and a jwksUri.`);
  }
  return parsed;
}

interface ServeOptions {
  data: string;
  db?: string;
  host: string;
  port: number;
  publicUrl?: string;
  hostName: string[];
  http?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  config?: string;
  demo?: boolean;
  demoIncidents: number;
  logLevel: string;
  throttle?: number | "graph";
  throttleAddress?: number;
  allowedHost: string[];
  hstsMaxAge?: number;
  maxIncidentAlerts: number;
  maxIncidentEntities: number;
  keyFile?: string;
  expandAlertsLimit: number;
  batchResponseMb: number;
  requestTimeout: number;
  headersTimeout: number;
  keepAliveTimeout: number;
  idleTimeout: number;
  readyMinFreeMb: number;
  queryTimeout: number;
  huntingTimeout: number;
  warmHunting?: boolean;
  heapGrowth: number;
  readWorkers: number;
  sqliteCacheMb: number;
  filterMaxNodes: number;
  filterMaxLambdas: number;
  allowPrivateDestinations?: boolean;
  smtpUrl?: string;
  smtpFrom?: string;
  metricsPort?: number;
  metricsHost: string;
  profile: Profile;
  tracing?: boolean;
  otelEndpoint?: string;
  ephemeral?: boolean;
  json?: boolean;
  caDir?: string;
}

/** Triage's version, from its package.json. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

/** What --ephemeral may be combined with; it makes its own store, CA and tenant, every other setting at its default. */
const EPHEMERAL_OPTIONS = new Set(["ephemeral", "json", "host", "port", "http", "logLevel", "caDir", "profile"]);

async function serve(o: ServeOptions): Promise<void> {
  const file = readConfig(o.config);
  // The data folder holds the store, the TLS keys and the key-encryption key: owner-only.
  const dataDir = prepareDataDir(o.data);
  const sealing = keyEncryption(o);
  boundHeapGrowth(o.heapGrowth);
  // Off unless asked for: only then are the SDK loaded and OTEL_EXPORTER_OTLP_ENDPOINT read.
  const tracing: Tracing | undefined =
    o.tracing || o.otelEndpoint !== undefined
      ? await startTracing({ endpoint: o.otelEndpoint, serviceVersion: packageVersion(), instance: `${hostname()}:${process.pid}` })
      : undefined;
  const store = await openCliStore(o, { queryTimeoutMs: o.queryTimeout, readWorkers: o.readWorkers, sqliteCacheMb: o.sqliteCacheMb });
  let tls: TlsMaterial | null = null;
  if (!o.http) {
    tls = o.tlsCert && o.tlsKey ? await loadTlsFiles(o.tlsCert, o.tlsKey) : await ensureLocalTls(dataDir, [...o.hostName, ...(file.hostNames ?? [])]);
  }
  let demoText = "";
  if (o.demo) {
    if ((await listTenants(store.db)).length === 0) {
      process.stderr.write(`Seeding the demo tenant ${DEMO_TENANT} with ${o.demoIncidents} incidents…\n`);
      const bar = progressBar(process.stderr.isTTY === true, "demo data");
      bar?.start(1, 0);
      await seedStore(store, {
        tenantId: DEMO_TENANT,
        incidents: o.demoIncidents,
        seed: "triage-demo",
        end: DEMO_END,
        analysts: true,
        onProgress: (done, total) => {
          bar?.setTotal(total);
          bar?.update(done);
        },
      });
      bar?.stop();
    }
    if (await findTenant(store.db, DEMO_TENANT)) {
      const creds = await createDemoIdentities(store, DEMO_TENANT, dataDir);
      demoText = creds ? "\n" + demoInstructions(creds, "%BASE%", tls?.caPath ?? null) : "";
    }
  }
  for (const e of file.externalIssuers ?? []) {
    if (!(await findTenant(store.db, e.tenantId.toLowerCase()))) await createTenant(store.db, e.tenantId.toLowerCase(), `External tenant ${e.tenantId}`);
  }
  // Triage's web app signs in as a first-party public client of each tenant.
  await ensureWebClients(store.db);
  let rateLimit: { max: number; windowMs: number; addressMax?: number } | undefined;
  if (o.throttle === "graph") rateLimit = { ...GRAPH_THROTTLE };
  else if (o.throttle !== undefined) rateLimit = { max: o.throttle, windowMs: 60_000 };
  if (rateLimit && o.throttleAddress !== undefined) rateLimit.addressMax = o.throttleAddress;

  // Metrics are collected only when they are served, and served only on a listener of their own
  // (prom-client is loaded only then).
  const metricsModule = o.metricsPort === undefined ? undefined : await import("../http/metrics.js");
  const metrics = metricsModule && new metricsModule.Metrics();
  const app = await buildServer({
    metrics,
    store,
    tls: tls ? { key: tls.key, cert: tls.ca } : undefined,
    publicUrl: o.publicUrl ?? file.publicUrl,
    // The certificate's names are names clients use: they are accepted as Host too.
    allowedHosts: [...o.allowedHost, ...(file.allowedHosts ?? []), ...o.hostName, ...(file.hostNames ?? [])],
    hstsMaxAgeSeconds: o.hstsMaxAge,
    identity: { ...file.identity, externalIssuers: file.externalIssuers ?? [] },
    rateLimit,
    // With --json, stdout carries only the line saying where Triage listens; the log goes to stderr.
    logger: o.json ? { level: o.logLevel, stream: process.stderr } : { level: o.logLevel },
    maxAlertsPerIncident: o.maxIncidentAlerts,
    maxEntitiesPerIncident: o.maxIncidentEntities,
    keyEncryption: sealing.encryption,
    expandAlertsLimit: o.expandAlertsLimit,
    batchResponseLimit: o.batchResponseMb * 1024 * 1024,
    timeouts: { requestMs: o.requestTimeout * 1000, headersMs: o.headersTimeout * 1000, keepAliveMs: o.keepAliveTimeout * 1000, idleMs: o.idleTimeout * 1000 },
    readiness: { minFreeBytes: o.readyMinFreeMb * 1024 * 1024 },
    queryTimeoutMs: o.queryTimeout,
    huntingTimeoutMs: o.huntingTimeout,
    filterLimits: { maxNodes: o.filterMaxNodes, maxLambdas: o.filterMaxLambdas },
    // The permissions explorer's list (about 15 MB of heap once built) is built by its first request.
    // Off by default: the language service holds about 100 MB once loaded, which a server that never
    // runs a hunting query should not carry; the first hunting query loads it instead.
    warmHunting: o.warmHunting === true,
    notifications: { allowPrivateDestinations: o.allowPrivateDestinations === true },
    profile: o.profile,
    automation: { smtp: o.smtpUrl ? { url: o.smtpUrl, from: o.smtpFrom ?? "triage@localhost" } : null },
  });
  const address = await app.listen({ host: o.host, port: o.port });
  const metricsListener =
    metricsModule && metrics && o.metricsPort !== undefined ? await metricsModule.listenMetrics(metrics, o.metricsHost, o.metricsPort) : undefined;
  const shown = (o.publicUrl ?? file.publicUrl ?? address.replace("://0.0.0.0", "://127.0.0.1").replace("://[::]", "://[::1]")).replace(/\/+$/, "");
  const lines = [
    `Triage is listening on ${shown}`,
    `  Graph API:   ${shown}/v1.0/security/incidents  (and /beta)`,
    `  Token service: ${shown}/{tenant}/v2.0/.well-known/openid-configuration`,
    `  Ingestion:   POST ${shown}/ingest/alerts`,
    `  Store:       ${o.db ? redactUrl(o.db) : dbFile(dataDir)}`,
  ];
  if (sealing.source !== KEY_ENCRYPTION_ENV) {
    // Every node on one PostgreSQL must seal and open the signing keys with the same key.
    const note = o.db ? ": every node on this database needs this same key (copy the file, or set " + KEY_ENCRYPTION_ENV + ")" : "";
    lines.push(`  Signing keys: encrypted with ${sealing.source}${sealing.created ? " (created now; keep a copy with your backups)" : ""}${note}`);
  }
  if (metricsListener) lines.push(`  Metrics:     ${metricsListener.url}  (Prometheus; a listener of its own)`);
  if (tracing) {
    const env =
      process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
      (process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? tracesUrl(process.env.OTEL_EXPORTER_OTLP_ENDPOINT) : undefined);
    lines.push(`  Tracing:     OTLP/HTTP to ${redactUrl(o.otelEndpoint ? tracesUrl(o.otelEndpoint) : (env ?? "http://localhost:4318/v1/traces"))}`);
  }
  if (tls?.caPath) lines.push(`  TLS:         trust the local CA with NODE_EXTRA_CA_CERTS=${tls.caPath}`);
  // The signals are handled before the address is printed: whoever reads it may stop Triage at once.
  const stopped = new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      app.log.info({ signal }, "shutting down: finishing in-flight requests");
      // Fastify stops accepting, lets in-flight requests finish, then the store is closed.
      app
        .close()
        .then(() => new Promise<void>((done) => (metricsListener ? metricsListener.server.close(() => done()) : done())))
        .then(() => store.close())
        // The spans of the last requests are still buffered: send them before exiting.
        .then(() => tracing?.shutdown())
        .then(resolveStop, (err) => {
          app.log.error({ err }, "shutdown failed");
          resolveStop();
        });
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  if (o.json) {
    const where = o.db ? redactUrl(o.db) : dbFile(dataDir);
    process.stdout.write(`${JSON.stringify({ url: shown, graphUrl: `${shown}/v1.0`, caFile: tls?.caPath ?? null, store: where, pid: process.pid })}\n`);
  } else {
    process.stdout.write(lines.join("\n") + demoText.replaceAll("%BASE%", shown) + "\n");
  }
  await stopped;
}

export function program(): Command {
  const cli = new Command("triage")
    .description("Triage: a self-hosted security-incident service that speaks the Microsoft Graph security API")
    .exitOverride()
    // The error alone, then where the options are: a full help text would bury the one line that matters.
    .showHelpAfterError("(add --help to see the options)");

  cli
    .command("serve")
    .description("run the API server (HTTPS with a local CA unless --http)")
    .addOption(dataOption("data directory (holds triage.db and tls/)"))
    .addOption(dbOption())
    .option("--host <host>", "address to listen on", process.env.TRIAGE_HOST ?? "127.0.0.1")
    .option("--port <n>", "port to listen on", intArg(0, 65535), Number(process.env.TRIAGE_PORT ?? 8443))
    .option("--public-url <url>", "base URL clients reach Triage at, when behind a proxy")
    .option("--host-name <name>", "another host name or address for the server certificate (repeatable)", collect, [])
    .option("--tls-cert <file>", "serve this certificate (PEM, with its chain) instead of the local CA's")
    .option("--tls-key <file>", "the private key of --tls-cert (PEM)")
    .option("--http", "serve plain HTTP (the Microsoft client libraries refuse it)")
    .option(
      "--ephemeral",
      "a throwaway server for tests: a fresh store in a temporary folder (removed on exit), a free port, a tenant with an app per kind of access",
    )
    .option("--json", "print where the server listens as one line of JSON (with --ephemeral: the tenant, apps and secrets too)")
    .option("--ca-dir <dir>", "with --ephemeral: issue the server certificate from the CA in this folder (ca.pem, ca-key.pem) instead of a new CA")
    .option("--config <file>", "JSON settings: publicUrl, hostNames, allowedHosts, externalIssuers, identity")
    .option("--throttle <n|graph>", "requests per minute each app may make in each tenant (1 to 10000000); 'graph' for Graph's 150", throttleArg)
    .option(
      "--throttle-address <n>",
      `with --throttle: requests per minute one address may make without a valid token (default ${DEFAULT_ADDRESS_MAX})`,
      intArg(1, 10_000_000),
    )
    .option("--allowed-host <name[:port]>", "another Host name clients reach the server by, besides its address and --public-url (repeatable)", collectHost, [])
    .option(
      "--hsts-max-age <seconds>",
      `Strict-Transport-Security max-age on HTTPS (default ${DEFAULT_HSTS_MAX_AGE_SECONDS}; 0 sends none)`,
      intArg(0, 1_000_000_000),
    )
    .option("--max-incident-alerts <n>", "the most alerts correlation puts in one incident", intArg(1, 1_000_000), MAX_ALERTS_PER_INCIDENT)
    .option("--max-incident-entities <n>", "the most distinct entities correlation lets one incident see", intArg(1, 1_000_000), MAX_ENTITIES_PER_INCIDENT)
    .option("--query-timeout <ms>", "time limit of each statement a listing runs; 504 when reached", intArg(100, 600_000), DEFAULT_QUERY_TIMEOUT_MS)
    .option("--hunting-timeout <ms>", "time limit of an advanced-hunting query; 504 when reached", intArg(100, 600_000), DEFAULT_HUNTING_TIMEOUT_MS)
    .option("--warm-hunting", "load advanced hunting's language service when the server starts, not on the first hunting query (about 100 MB more memory)")
    .option(
      "--heap-growth <percent>",
      "how far the JavaScript heap may grow past what the last full garbage collection kept (0: V8's own rule, up to fourfold)",
      intArg(0, 400),
      DEFAULT_HEAP_GROWTH_PERCENT,
    )
    .option("--read-workers <n>", "SQLite: threads that run filtered and counted listings off the event loop", intArg(0, 64), DEFAULT_READ_WORKERS)
    .option("--sqlite-cache-mb <n>", "SQLite: the write connection's page cache, in MiB", intArg(1, 1024), DEFAULT_SQLITE_CACHE_MB)
    .option("--filter-max-nodes <n>", "most nodes in a $filter expression; 400 beyond", intArg(1, 10_000), DEFAULT_FILTER_LIMITS.maxNodes)
    .option("--filter-max-lambdas <n>", "most any/all expressions in a $filter; 400 beyond", intArg(0, 1000), DEFAULT_FILTER_LIMITS.maxLambdas)
    .option(
      "--allow-private-destinations",
      "change notifications may go to loopback, private and link-local addresses, and over plain HTTP (local development and tests only)",
    )
    .addOption(
      new Option("--smtp-url <url>", "mail server for automation rules' e-mail actions: smtp:// or smtps://, optionally with user:password")
        .env("TRIAGE_SMTP_URL")
        .argParser(smtpUrlArg),
    )
    .option("--smtp-from <address>", "the From address of automation rules' e-mail", "triage@localhost")
    .option("--metrics-port <n>", "serve Prometheus metrics at /metrics on this port, a listener apart from the API's (off when absent)", intArg(0, 65535))
    .option("--metrics-host <host>", "address the metrics listener binds to", "127.0.0.1")
    .addOption(
      new Option(
        "--profile <name>",
        "how strictly Graph requests are read where a tenant or app sets no profile: lenient (Triage's extensions) or strict (what Graph documents)",
      )
        .choices(PROFILES)
        .default(DEFAULT_PROFILE),
    )
    .option("--tracing", "export OpenTelemetry traces over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318")
    .option("--otel-endpoint <url>", "export OpenTelemetry traces over OTLP/HTTP to this base URL (…/v1/traces); implies --tracing", otlpEndpointArg)
    .option("--demo", "on first start, create a demo tenant with generated incidents, apps and users")
    .option("--demo-incidents <n>", "size of the demo data", intArg(1, 100_000), 300)
    .addOption(new Option("--log-level <level>", "log level").choices(LOG_LEVELS).env("TRIAGE_LOG_LEVEL").default("info"))
    .addOption(keyFileOption())
    .option("--expand-alerts-limit <n>", "most alerts $expand=alerts serves inline per incident", intArg(1, 100_000), DEFAULT_EXPAND_ALERTS_LIMIT)
    .option("--batch-response-mb <n>", "most megabytes of answers one $batch answer holds", intArg(1, 1024), DEFAULT_BATCH_RESPONSE_BYTES / 1024 / 1024)
    .option("--request-timeout <s>", "seconds a request (headers and body) may take to arrive", intArg(1, 3600), DEFAULT_TIMEOUTS.requestMs / 1000)
    .option("--headers-timeout <s>", "seconds a request's headers may take to arrive", intArg(1, 3600), DEFAULT_TIMEOUTS.headersMs / 1000)
    .option("--keep-alive-timeout <s>", "seconds an idle keep-alive connection is kept open", intArg(1, 3600), DEFAULT_TIMEOUTS.keepAliveMs / 1000)
    .option("--idle-timeout <s>", "seconds a connection may stay silent both ways before it is closed", intArg(1, 3600), DEFAULT_TIMEOUTS.idleMs / 1000)
    .option(
      "--ready-min-free-mb <n>",
      "GET /readyz fails when a SQLite store has less room to grow",
      intArg(0, 1_048_576),
      DEFAULT_READY_MIN_FREE_BYTES / 1024 / 1024,
    )
    .action(async (o: ServeOptions, cmd: Command) => {
      if (o.ephemeral) {
        const refused = cmd.options
          .map((opt) => opt.attributeName())
          .filter((name) => !EPHEMERAL_OPTIONS.has(name) && cmd.getOptionValueSource(name) === "cli");
        if (refused.length) {
          const flags = refused.map((name) => cmd.options.find((opt) => opt.attributeName() === name)!.long).join(", ");
          cmd.error(
            `error: --ephemeral makes its own store and settings; it takes only --host, --port, --http, --json, --log-level, --ca-dir and --profile (not ${flags})`,
            {
              exitCode: EXIT.usage,
              code: "triage.usage",
            },
          );
        }
        const explicit = (name: string) => cmd.getOptionValueSource(name) === "cli" || cmd.getOptionValueSource(name) === "env";
        await serveEphemeral({
          host: o.host,
          // A free port and a quiet log unless asked otherwise: several suites may run side by side.
          port: cmd.getOptionValueSource("port") === "cli" ? o.port : 0,
          http: o.http,
          json: o.json,
          caDir: o.caDir,
          profile: o.profile,
          logLevel: explicit("logLevel") ? o.logLevel : "warn",
        });
        return;
      }
      if (o.caDir !== undefined) {
        cmd.error("error: --ca-dir goes with --ephemeral (a data folder keeps its CA in DATA/tls/)", { exitCode: EXIT.usage, code: "triage.usage" });
      }
      if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) {
        cmd.error(
          `error: --tls-cert and --tls-key go together: ${o.tlsCert === undefined ? "--tls-key needs --tls-cert" : "--tls-cert needs --tls-key"} (or leave both out for the local CA)`,
          { exitCode: EXIT.usage, code: "triage.usage" },
        );
      }
      await serve(o);
    });

  cli
    .command("seed")
    .description("generate realistic demo alerts into a tenant, through the ingestion path")
    .addOption(dataOption("data directory (holds triage.db)"))
    .addOption(dbOption())
    .option("--tenant <id>", "tenant to fill (created if missing)", tenantArg, DEMO_TENANT)
    .option("--incidents <n>", "about how many incidents to generate", intArg(1, 10_000_000), 300)
    .option("--seed <s>", "seed: the same seed and size give the same data", "triage-demo")
    .option("--json", "print the summary as JSON")
    .action(async (o: { data: string; db?: string; tenant: string; incidents: number; seed: string; json?: boolean }) => {
      await withStore(o, async (store) => {
        const bar = progressBar(process.stderr.isTTY === true, "seeding");
        bar?.start(1, 0);
        const summary = await seedStore(store, {
          tenantId: o.tenant,
          incidents: o.incidents,
          seed: o.seed,
          end: DEMO_END,
          onProgress: (done, total) => {
            bar?.setTotal(total);
            bar?.update(done);
          },
        });
        bar?.stop();
        print(
          o.json === true,
          summary,
          `Seeded tenant ${summary.tenantId}: ${summary.alerts} alerts into ${summary.incidents} incidents (${summary.merged} merges) in ${summary.seconds.toFixed(1)} s.`,
        );
      });
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
    .addOption(dataOption("data directory"))
    .addOption(dbOption())
    .option("--json", "print JSON")
    .action(async (o: { data: string; db?: string; json?: boolean }) => {
      await withStore(o, async (store) => {
        const list = await listTenants(store.db);
        print(o.json === true, list, list.map((t) => `${t.id}  ${t.displayName}`).join("\n") || "(no tenants)");
      });
    });
  tenants
    .command("create")
    .addOption(dataOption("data directory"))
    .addOption(dbOption())
    .option("--id <id>", "tenant id (default: a new GUID)", tenantArg)
    .requiredOption("--name <name>", "display name")
    .option("--json", "print JSON")
    .action(async (o: { data: string; db?: string; id?: string; name: string; json?: boolean }) => {
      await withStore(o, async (store) => {
        const id = o.id ?? randomUUID();
        if (await findTenant(store.db, id)) throw new Error(`Tenant ${id} already exists.`);
        const t = await createTenant(store.db, id, o.name);
        await ensureWebClient(store.db, t.id);
        print(o.json === true, t, `Created tenant ${t.id} (${t.displayName}).`);
      });
    });

  const apps = cli.command("apps").description("manage app registrations: permissions, consent, secrets, certificates");
  apps
    .command("create")
    .addOption(dataOption("data directory"))
    .addOption(dbOption())
    .requiredOption("--tenant <id>", "tenant", tenantArg)
    .requiredOption("--name <name>", "display name")
    .option("--permission <name>", "application permission to request (repeatable)", collect, [])
    .option("--delegated <name>", "delegated permission to request (repeatable)", collect, [])
    .option("--admin-consent", "grant admin consent for the requested permissions")
    .option("--public-client", "a public client (no secret; device code, PKCE, password)")
    .option("--redirect-uri <uri>", "redirect URI for the authorization code flow (repeatable)", collect, [])
    .option("--json", "print JSON")
    .action(
      async (o: {
        data: string;
        db?: string;
        tenant: string;
        name: string;
        permission: string[];
        delegated: string[];
        adminConsent?: boolean;
        publicClient?: boolean;
        redirectUri: string[];
        json?: boolean;
      }) => {
        await withStore(o, async (store) => {
          await requireTenant(store, o.tenant);
          const app = await createApp(store.db, {
            tenantId: o.tenant,
            displayName: o.name,
            appPermissions: o.permission,
            delegatedPermissions: o.delegated,
            publicClient: o.publicClient === true,
            redirectUris: o.redirectUri,
          });
          if (o.adminConsent) await grantAdminConsent(store.db, app.clientId);
          const secret = o.publicClient ? undefined : (await addSecret(store.db, app.clientId)).secret;
          const out: Record<string, unknown> = { tenantId: o.tenant, clientId: app.clientId };
          if (secret) out.clientSecret = secret;
          print(
            o.json === true,
            out,
            `Created app ${app.displayName}: client id ${app.clientId}${secret ? `, secret ${secret} (shown only now)` : ""}${o.adminConsent ? ", admin consent granted" : " (no consent yet: triage apps consent)"}.`,
          );
        });
      },
    );
  apps
    .command("consent")
    .description("grant admin consent for every permission the app requests")
    .addOption(dataOption("data directory"))
    .addOption(dbOption())
    .requiredOption("--client-id <id>", "the app", clientArg)
    .option("--permission <name>", "also request this application permission first (repeatable)", collect, [])
    .option("--delegated <name>", "also request this delegated permission first (repeatable)", collect, [])
    .option("--json", "print JSON")
    .action(async (o: { data: string; db?: string; clientId: string; permission: string[]; delegated: string[]; json?: boolean }) => {
      await withStore(o, async (store) => {
        if (o.permission.length || o.delegated.length) await requestPermissions(store.db, o.clientId, { application: o.permission, delegated: o.delegated });
        const granted = await grantAdminConsent(store.db, o.clientId);
        print(
          o.json === true,
          { clientId: o.clientId, ...granted },
          `Consented: application ${granted.application.join(", ") || "(none)"}; delegated ${granted.delegated.join(", ") || "(none)"}.`,
        );
      });
    });
  apps
    .command("secret")
    .description("add a client secret (shown once)")
    .addOption(dataOption("data directory"))
    .addOption(dbOption())
    .requiredOption("--client-id <id>", "the app", clientArg)
    .option("--days <n>", "days until it expires", intArg(1, 3650), 180)
    .option("--json", "print JSON")
    .action(async (o: { data: string; db?: string; clientId: string; days: number; json?: boolean }) => {
      await withStore(o, async (store) => {
        const app = await findApp(store.db, o.clientId);
        if (!app) throw new Error(`No app with client id ${o.clientId}.`);
        const s = await addSecret(store.db, o.clientId, o.days);
        print(
          o.json === true,
          { tenantId: app.tenantId, clientId: o.clientId, clientSecret: s.secret, expiresAt: s.expiresAt },
          `Secret ${s.secret} (expires ${s.expiresAt}; shown only now).`,
        );
      });
    });
  apps
    .command("certificate")
    .description("register a certificate (PEM) for client assertions")
    .addOption(dataOption("data directory"))
    .addOption(dbOption())
    .requiredOption("--client-id <id>", "the app", clientArg)
    .requiredOption("--file <pem>", "the certificate")
    .option("--json", "print JSON")
    .action(async (o: { data: string; db?: string; clientId: string; file: string; json?: boolean }) => {
      await withStore(o, async (store) => {
        const c = await addCertificate(store.db, o.clientId, readFileSync(o.file, "utf8"));
        print(o.json === true, { clientId: o.clientId, ...c }, `Registered certificate ${c.thumbprint} (expires ${c.expiresAt}).`);
      });
    });
  apps
    .command("list")
    .addOption(dataOption("data directory"))
    .addOption(dbOption())
    .requiredOption("--tenant <id>", "tenant", tenantArg)
    .option("--json", "print JSON")
    .action(async (o: { data: string; db?: string; tenant: string; json?: boolean }) => {
      await withStore(o, async (store) => {
        const list = await listApps(store.db, o.tenant);
        print(
          o.json === true,
          list,
          list
            .map((a) => `${a.clientId}  ${a.displayName}  app: ${a.appPermissions.join(",") || "-"}  delegated: ${a.delegatedPermissions.join(",") || "-"}`)
            .join("\n") || "(no apps)",
        );
      });
    });

  const users = cli.command("users").description("manage users and their Entra roles");
  users
    .command("create")
    .addOption(dataOption("data directory"))
    .addOption(dbOption())
    .requiredOption("--tenant <id>", "tenant", tenantArg)
    .requiredOption("--upn <upn>", "user principal name (name@domain)")
    .option("--name <name>", "display name")
    .option("--password <password>", "password (for test users' sign-in)")
    .option("--role <role>", "Security Reader, Global Reader, Security Operator or Security Administrator (repeatable)", collect, [])
    .option("--json", "print JSON")
    .action(async (o: { data: string; db?: string; tenant: string; upn: string; name?: string; password?: string; role: string[]; json?: boolean }) => {
      await withStore(o, async (store) => {
        await requireTenant(store, o.tenant);
        const u = await createUser(store.db, { tenantId: o.tenant, upn: o.upn, displayName: o.name, password: o.password, roles: o.role });
        print(o.json === true, u, `Created user ${u.upn} (${u.id}) with roles ${u.roles.join(", ") || "(none)"}.`);
      });
    });
  users
    .command("roles")
    .description("replace a user's roles")
    .addOption(dataOption("data directory"))
    .addOption(dbOption())
    .requiredOption("--tenant <id>", "tenant", tenantArg)
    .requiredOption("--upn <upn>", "user principal name")
    .option("--role <role>", "role (repeatable; none clears them)", collect, [])
    .option("--json", "print JSON")
    .action(async (o: { data: string; db?: string; tenant: string; upn: string; role: string[]; json?: boolean }) => {
      await withStore(o, async (store) => {
        const u = await setUserRoles(store.db, o.tenant, o.upn, o.role);
        print(o.json === true, u, `${u.upn}: ${u.roles.join(", ") || "(no roles)"}.`);
      });
    });
  users
    .command("list")
    .addOption(dataOption("data directory"))
    .addOption(dbOption())
    .requiredOption("--tenant <id>", "tenant", tenantArg)
    .option("--json", "print JSON")
    .action(async (o: { data: string; db?: string; tenant: string; json?: boolean }) => {
      await withStore(o, async (store) => {
        const list = await listUsers(store.db, o.tenant);
        print(o.json === true, list, list.map((u) => `${u.upn}  ${u.displayName}  ${u.roles.join(", ")}`).join("\n") || "(no users)");
      });
    });

  cli
    .command("backup")
    .description("copy a consistent snapshot of the SQLite store (safe while the server runs)")
    .addOption(dataOption())
    .requiredOption("--out <file>", "where to write the copy")
    .option("--json", "print JSON")
    .action(async (o: { data: string; out: string; json?: boolean }) => {
      const file = dbFile(o.data);
      if (!existsSync(file)) throw new Error(`No store at ${file}.`);
      await backupSqliteFile(file, resolve(o.out));
      print(o.json === true, { from: file, to: resolve(o.out) }, `Backed up ${file} to ${resolve(o.out)}.`);
    });

  cli
    .command("keys")
    .description("token signing keys")
    .command("rotate")
    .addOption(dataOption("data directory"))
    .addOption(dbOption())
    .addOption(keyFileOption())
    .option("--json", "print JSON")
    .action(async (o: { data: string; db?: string; keyFile?: string; json?: boolean }) => {
      const sealing = keyEncryption(o);
      await withStore(o, async (store) => {
        const ring = new KeyRing(store.db, 3600, undefined, sealing.encryption);
        // Refuses (naming the setting) when this key cannot open the store's keys: a key sealed with
        // another key would stop every node that has the right one from signing.
        await ring.sealStoredKeys();
        const kid = await ring.rotate();
        print(o.json === true, { kid }, `New signing key ${kid}; the previous one stays published until its tokens expire.`);
      });
    });
  addRuleCommands(cli, { dataOption, dbOption, keyFileOption, tenantArg, withStore, keyEncryption, print });
  addSlaCommands(cli, { dataOption, dbOption, tenantArg, withStore, print });
  addFixtureCommands(cli, { dataOption, dbOption, tenantArg, withStore, print });
  addPermissionCommands(cli);
  addFaultCommands(cli, { dataOption, dbOption, tenantArg, clientArg, withStore, requireTenant, print, intArg });
  addSyncCommand(cli, { dataOption, dbOption, tenantArg, intArg, withStore, print });
  return cli;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return EXIT.ok;
  } catch (e) {
    // An InvalidArgumentError is a CommanderError too, but one thrown outside commander's parsing has
    // not been printed: it is checked first so that no usage error ends in silence.
    if (e instanceof InvalidArgumentError) {
      process.stderr.write(`triage: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof CommanderError) {
      // Commander printed what is wrong before it threw (parsing errors and cmd.error()).
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return EXIT.ok;
      return EXIT.usage;
    }
    process.stderr.write(`triage: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT.failed;
  }
}
