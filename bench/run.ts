/**
 * `npm run bench`: Triage against a baseline and a peer, on loopback, with autocannon in its own process.
 *
 *   npm run bench -- [--sizes 10000,100000,1000000] [--stores sqlite,postgres] [--duration 10]
 *                    [--warmup 2] [--connections 20] [--pg postgres://postgres@127.0.0.1:5432/]
 *                    [--peer-max 10000] [--startups 3] [--reseed] [--profile [scenario]] [--rounds N]
 *
 * For each size: the baseline (Fastify + better-sqlite3 on the same SQLite file), json-server on an
 * export of the same incidents, then Triage on each store. With --rounds, the baseline and Triage run
 * side by side instead and take turns on each scenario, so that every ratio compares runs seconds
 * apart. Prints a table and the targets; writes the raw results to .bench/results.json. See
 * docs/benchmarks.md.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import type { FastifyRequest } from "fastify";
import { BENCH_DIR, BUILD_DIR, backendCpuDelta, cpuSeconds, fmt, importDist, memoryMb, postgresBackends, readFlags, runLoader, sleep } from "./common.js";
import type { AutocannonResult, LoadSpec } from "./load.js";
import { startBaseline, startJsonServer, startPgBaseline, startTriage, type Running, type TlsFiles } from "./servers.js";
import {
  INGEST_TENANT,
  emptyBaselineIngest,
  emptyTenant,
  ensureApps,
  vacuumAnalyze,
  ensureSeeded,
  pgDatabaseOf,
  exportPeer,
  getToken,
  restore,
  sampleIds,
  snapshot,
  storeRef,
  type BenchApps,
  type StoreKind,
  type StoreRef,
} from "./stores.js";
import { summarizeProfile } from "./profile.js";
import type * as OpenMod from "../src/store/open.js";
import type * as KeysMod from "../src/identity/keys.js";
import type * as ValidateMod from "../src/identity/validate.js";
import type * as CallerMod from "../src/identity/caller.js";
import type * as AuthorizeMod from "../src/permissions/authorize.js";
import type * as CatalogMod from "../src/permissions/catalog.js";
import type * as TenantsMod from "../src/store/tenants.js";
import type * as TlsMod from "../src/identity/tls.js";
import type * as KeyEncryptionMod from "../src/identity/key-encryption.js";

// ------------------------------------------------------------------------------------------------
// Options

interface Options {
  sizes: number[];
  stores: StoreKind[];
  duration: number;
  warmup: number;
  connections: number;
  ingestConnections: number;
  batch: number;
  pg: string;
  peerMax: number;
  startups: number;
  /** Profile this Triage scenario (on the first store and size) instead of running the benchmark. */
  profile: string | null;
  reseed: boolean;
  /** Only these scenarios (all when empty). */
  scenarios: string[];
  /** Paired rounds (0: the baseline's scenarios, then Triage's, each once). */
  rounds: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    sizes: [10_000],
    stores: ["sqlite", "postgres"],
    duration: 10,
    warmup: 2,
    connections: 20,
    ingestConnections: 8,
    batch: 100,
    pg: process.env.TRIAGE_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/",
    peerMax: 10_000,
    startups: 3,
    profile: null,
    reseed: false,
    scenarios: [],
    rounds: 0,
  };
  readFlags(argv, (flag, { value, num, peek }) => {
    switch (flag) {
      case "--sizes":
        o.sizes = value()
          .split(",")
          .map((s) => Number(s.replace(/_/g, "")));
        break;
      case "--stores":
        o.stores = value().split(",") as StoreKind[];
        break;
      case "--duration":
        o.duration = num();
        break;
      case "--warmup":
        o.warmup = num();
        break;
      case "--connections":
        o.connections = num();
        break;
      case "--ingest-connections":
        o.ingestConnections = num();
        break;
      case "--batch":
        o.batch = num();
        break;
      case "--pg":
        o.pg = value();
        break;
      case "--peer-max":
        o.peerMax = num();
        break;
      case "--startups":
        o.startups = num();
        break;
      case "--profile":
        o.profile = peek() !== undefined ? value() : "list";
        break;
      case "--reseed":
        o.reseed = true;
        break;
      case "--scenarios":
        o.scenarios = value().split(",");
        break;
      case "--rounds":
        o.rounds = num();
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  });
  if (o.sizes.some((s) => !Number.isInteger(s) || s <= 0)) throw new Error("--sizes: whole numbers, comma-separated");
  if (o.stores.some((s) => s !== "sqlite" && s !== "postgres")) throw new Error("--stores: sqlite and/or postgres");
  if (!Number.isInteger(o.rounds) || o.rounds < 0) throw new Error("--rounds: a whole number");
  o.sizes.sort((a, b) => a - b);
  return o;
}

const log = (s: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

// ------------------------------------------------------------------------------------------------
// Scenarios

type System = "triage" | "baseline" | "json-server";

interface Scenario {
  name: string;
  /** The load; `ids` and auth are filled in per server. */
  spec: Omit<LoadSpec, "url" | "duration" | "connections" | "headers">;
  auth: boolean;
  connections?: number;
}

interface Measured {
  system: System;
  store: string;
  size: number;
  scenario: string;
  requests: number;
  failed: number;
  rps: number;
  p50: number;
  p99: number;
  /** Server CPU seconds over the measured run (PostgreSQL: plus its backends for this database). */
  cpu: number;
  dbCpu: number;
  perCore: number;
  alertsPerSec?: number;
  note?: string;
  /** --rounds: the store and round of a paired run; a ratio compares the two runs of one pair. */
  pair?: string;
}

const LIST = "/v1.0/security/incidents?$top=50&$filter=" + encodeURIComponent("status eq 'active'") + "&$orderby=" + encodeURIComponent("createdDateTime desc");
const LIST_ALL = "/v1.0/security/incidents?$top=50";

const chosen = (o: Options, all: Scenario[]) => (o.scenarios.length ? all.filter((s) => o.scenarios.includes(s.name)) : all);

function triageScenarios(ids: string[], o: Options): Scenario[] {
  return chosen(o, [
    { name: "list", spec: { kind: "get", paths: [LIST] }, auth: true },
    { name: "list-all", spec: { kind: "get", paths: [LIST_ALL] }, auth: true },
    { name: "get", spec: { kind: "get", paths: ids.map((id) => `/v1.0/security/incidents/${id}?$expand=alerts`) }, auth: true },
    { name: "patch", spec: { kind: "patch", template: "/v1.0/security/incidents/{id}", ids }, auth: true },
    { name: "comment", spec: { kind: "comment", template: "/v1.0/security/incidents/{id}/comments", ids }, auth: true },
    { name: "healthz", spec: { kind: "get", paths: ["/healthz"] }, auth: false },
    // Into the ingestion tenant (emptied before and after), with its own app's token.
    {
      name: "ingest",
      spec: { kind: "ingest", batchSize: o.batch, tenantId: INGEST_TENANT, seed: "bench-ingest" },
      auth: true,
      connections: o.ingestConnections,
    },
  ]);
}

function baselineScenarios(ids: string[], o: Options, kind: StoreKind): Scenario[] {
  const all: Scenario[] = [
    { name: "list", spec: { kind: "get", paths: ["/incidents?status=active"] }, auth: false },
    { name: "list-all", spec: { kind: "get", paths: ["/incidents"] }, auth: false },
    { name: "get", spec: { kind: "get", paths: ids.map((id) => `/incidents/${id}`) }, auth: false },
    { name: "patch", spec: { kind: "patch", template: "/incidents/{id}", ids }, auth: false },
    // The same alerts as Triage's ingestion scenario (same seed, same batches, same connections).
    {
      name: "ingest",
      spec: { kind: "ingest", batchSize: o.batch, tenantId: INGEST_TENANT, seed: "bench-ingest" },
      auth: false,
      connections: o.ingestConnections,
    },
  ];
  // The baseline ingestion service is the SQLite one (baseline-server.ts); the PostgreSQL baseline has none.
  return chosen(
    o,
    all.filter((sc) => sc.name !== "ingest" || kind === "sqlite"),
  );
}

/** The scenarios measured again over HTTPS, on a second server of each system (Triage's default transport). */
function httpsScenarios(all: Scenario[]): Scenario[] {
  return all.filter((sc) => sc.name === "list" || sc.name === "get").map((sc) => ({ ...sc, name: `${sc.name}-https` }));
}

/**
 * The certificate chain and key Triage serves from the store's data directory (its local CA's, made or
 * renewed here as `triage serve` would), in files a baseline can be given to serve the same TLS.
 */
async function tlsFiles(ref: StoreRef): Promise<TlsFiles> {
  const { ensureLocalTls } = await importDist<typeof TlsMod>("identity/tls.js");
  const tls = await ensureLocalTls(ref.dataDir, []);
  const dir = join(ref.dataDir, "tls");
  const cert = join(dir, "bench-chain.pem");
  writeFileSync(cert, tls.ca, { mode: 0o600 });
  return { cert, key: join(dir, "server-key.pem") };
}

/** A baseline's scenarios over HTTP, then over HTTPS on a second process; its PATCHes undone afterwards. */
async function measureBaseline(res: Results, ref: StoreRef, ids: string[], o: Options, start: (tls?: TlsFiles) => Promise<Running>): Promise<void> {
  const pgDatabase = pgDatabaseOf(ref);
  const tls = await tlsFiles(ref);
  const before = await snapshot(ref, ids);
  try {
    res.servers.push(
      await withServer(
        "baseline",
        ref.kind,
        ref.size,
        o,
        () => start(),
        async (s) => {
          for (const sc of baselineScenarios(ids, o, ref.kind)) res.scenarios.push(await measure(s, "baseline", ref.kind, ref.size, sc, o, null, pgDatabase));
        },
      ),
    );
    await withServer(
      "baseline",
      ref.kind,
      ref.size,
      o,
      () => start(tls),
      async (s) => {
        for (const sc of httpsScenarios(baselineScenarios(ids, o, ref.kind)))
          res.scenarios.push(await measure(s, "baseline", ref.kind, ref.size, sc, o, null, pgDatabase));
      },
    );
  } finally {
    await restore(ref, before);
  }
}

function peerScenarios(ids: string[], o: Options): Scenario[] {
  return chosen(o, [
    { name: "list", spec: { kind: "get", paths: ["/incidents?status=active&_sort=createdDateTime&_order=desc&_limit=50"] }, auth: false },
    { name: "list-all", spec: { kind: "get", paths: ["/incidents?_sort=createdDateTime&_order=desc&_limit=50"] }, auth: false },
    { name: "get", spec: { kind: "get", paths: ids.map((id) => `/incidents/${id}?_embed=alerts`) }, auth: false },
  ]);
}

function load(spec: LoadSpec): Promise<AutocannonResult> {
  return runLoader<AutocannonResult>(join(BUILD_DIR, "load.js"), JSON.stringify(spec));
}

async function measure(
  server: Running,
  system: System,
  store: string,
  size: number,
  sc: Scenario,
  o: Options,
  token: string | null,
  pgDatabase: string | null,
  pair?: string,
): Promise<Measured> {
  const headers: Record<string, string> = {};
  if (sc.auth && token) headers.authorization = `Bearer ${token}`;
  const base: LoadSpec = { ...sc.spec, url: server.base, duration: o.duration, connections: sc.connections ?? o.connections, headers };
  // The warm-up ingests other alerts (another seed) than the measured run.
  await load({ ...base, duration: o.warmup, ...(base.seed ? { seed: `${base.seed}-warmup` } : {}) });
  const cpu0 = cpuSeconds(server.pid);
  const db0 = pgDatabase ? postgresBackends(pgDatabase) : null;
  const r = await load(base);
  const cpu = cpuSeconds(server.pid) - cpu0;
  const dbCpu = db0 ? backendCpuDelta(db0, postgresBackends(pgDatabase!)) : 0;
  const ok = r["2xx"];
  const failed = r.non2xx + r.errors + r.timeouts;
  const m: Measured = {
    system,
    store,
    size,
    scenario: sc.name,
    requests: ok,
    failed,
    rps: ok / o.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpu,
    dbCpu,
    perCore: ok / (cpu + dbCpu),
    ...(pair ? { pair } : {}),
  };
  if (sc.spec.kind === "ingest") m.alertsPerSec = (ok * (sc.spec.batchSize ?? 100)) / o.duration;
  if (failed > 0) {
    const codes = Object.entries(r.statusCodeStats)
      .filter(([c]) => !c.startsWith("2"))
      .map(([c, v]) => `${c}×${v.count}`)
      .join(" ");
    m.note = `${failed} failed${codes ? ` (${codes})` : ""}${r.errors ? ` ${r.errors} errors` : ""}${r.timeouts ? ` ${r.timeouts} timeouts` : ""}`;
  }
  log(
    `  ${system} ${store} ${size} ${sc.name}${pair ? ` (${pair})` : ""}: ${fmt(m.rps)} req/s, p99 ${m.p99} ms, ${fmt(m.perCore)} req/CPU-s${m.alertsPerSec ? `, ${fmt(m.alertsPerSec)} alerts/s` : ""}${m.note ? `, ${m.note}` : ""}`,
  );
  return m;
}

/** The bench apps' tokens from a server: the apps are made again if the store was replaced since they were. */
async function benchTokens(ref: StoreRef, base: string, apps: BenchApps): Promise<{ apps: BenchApps; main: string; ingest: string }> {
  let main: string;
  try {
    main = await getToken(base, apps.main);
  } catch {
    apps = await ensureApps(ref, true);
    main = await getToken(base, apps.main);
  }
  return { apps, main, ingest: await getToken(base, apps.ingest) };
}

/**
 * Readies a store for a measured pass: its ingestion tenant emptied, and on PostgreSQL the tables
 * vacuumed and analyzed. Whether autovacuum is on (PostgreSQL), for the results.
 */
async function readyStore(ref: StoreRef): Promise<boolean | undefined> {
  await emptyTenant(ref, INGEST_TENANT);
  if (ref.kind !== "postgres") return undefined;
  const t = Date.now();
  const autovacuum = await vacuumAnalyze(ref);
  log(`${ref.label}: VACUUM (ANALYZE) in ${fmt(Date.now() - t)} ms (autovacuum is ${autovacuum ? "on" : "off"} on this server)`);
  return autovacuum;
}

// ------------------------------------------------------------------------------------------------
// Paired rounds (--rounds N)

/**
 * The baseline and Triage on one store, both up, taking turns on each scenario for `o.rounds` rounds
 * (the baseline first in odd rounds, Triage first in even ones, so that a steady drift of the
 * machine's speed favours neither). Each ratio then compares two runs seconds apart: run one after
 * the other, as without --rounds, the two systems' runs of a scenario are minutes apart, and on a
 * machine whose speed moves by a fifth in minutes the ratio measured the machine.
 *
 * Then the reads over HTTPS the same way, on a second pair of servers. PATCHes and comments are
 * undone after every run, and each ingestion run starts from an empty ingestion tenant (and the
 * baseline's from empty tables), so that every round measures the same work on the same data.
 * PostgreSQL has no baseline ingestion service: Triage's ingestion there is paired with the SQLite
 * one's, started beside it.
 */
async function measurePaired(res: Results, ref: StoreRef, ids: string[], o: Options): Promise<void> {
  const pgDatabase = pgDatabaseOf(ref);
  let apps: BenchApps = await ensureApps(ref);
  res.machine.postgresAutovacuum = await readyStore(ref);
  const triage = triageScenarios(ids, o);
  const partners = new Map(baselineScenarios(ids, o, "sqlite").map((sc) => [sc.name, sc]));
  const startBase = (tls?: TlsFiles) => (ref.kind === "sqlite" ? startBaseline(ref, tls) : startPgBaseline(ref, tls));
  const undo = await snapshot(ref, ids);

  /** A scenario's rounds: Triage's run and its partner's, in turns, each after Triage has settled. */
  const takeTurns = async (t: Running, sc: Scenario, triageRun: (pair: string) => Promise<Measured>, partnerRun?: (pair: string) => Promise<Measured>) => {
    for (let round = 1; round <= o.rounds; round++) {
      const pair = `${ref.kind} round ${round}`;
      const runs = [triageRun];
      if (partnerRun) runs[round % 2 === 1 ? "unshift" : "push"](partnerRun);
      for (const run of runs) {
        // What the last run left to Triage's background work (the feed, deliveries) ends first.
        await settle(t);
        res.scenarios.push(await run(pair));
        if (sc.spec.kind === "patch" || sc.spec.kind === "comment") await restore(ref, undo);
      }
    }
  };

  /** A server of this store, up while `body` runs. */
  const serve = (system: System, starter: () => Promise<Running>, body: (s: Running) => Promise<void>, startups = 1) =>
    withServer(system, ref.kind, ref.size, o, starter, body, startups);

  let base = "";
  let token = "";
  try {
    res.servers.push(
      await serve(
        "baseline",
        () => startBase(),
        async (b) => {
          const ingestHere = ref.kind === "sqlite" || !triage.some((sc) => sc.name === "ingest");
          const ingestBaseline = ingestHere ? b : await startBaseline(storeRef("sqlite", ref.size, o.pg));
          try {
            let rssAfterReads = 0;
            const stats = await serve(
              "triage",
              () => startTriage(ref),
              async (t) => {
                base = t.base;
                const tokens = await benchTokens(ref, t.base, apps);
                ({ apps, main: token } = tokens);
                const ingestToken = tokens.ingest;
                for (const sc of triage) {
                  if (sc.name === "ingest") rssAfterReads = memoryMb(t.pid).rss;
                  // Comments are read against the baseline's update of the same round (patch, just before).
                  const partner = sc.name === "comment" ? undefined : partners.get(sc.name);
                  if (sc.spec.kind !== "ingest") {
                    await takeTurns(
                      t,
                      sc,
                      (pair) => measure(t, "triage", ref.kind, ref.size, sc, o, token, pgDatabase, pair),
                      partner && ((pair) => measure(b, "baseline", ref.kind, ref.size, partner, o, null, pgDatabase, pair)),
                    );
                    continue;
                  }
                  await takeTurns(
                    t,
                    sc,
                    async (pair) => {
                      await emptyTenant(ref, INGEST_TENANT);
                      return measure(t, "triage", ref.kind, ref.size, sc, o, ingestToken, pgDatabase, pair);
                    },
                    partner &&
                      (async (pair) => {
                        await emptyBaselineIngest(storeRef("sqlite", ref.size, o.pg));
                        return measure(ingestBaseline, "baseline", "sqlite", ref.size, partner, o, null, null, pair);
                      }),
                  );
                }
              },
              o.startups,
            );
            stats.rssAfterReadsMb = rssAfterReads;
            res.servers.push(stats);
          } finally {
            if (ingestBaseline !== b) await ingestBaseline.stop();
          }
        },
      ),
    );
    // The reads again over HTTPS, Triage's default transport, each system serving the same chain and key.
    const secure = httpsScenarios(triage);
    if (secure.length) {
      const tls = await tlsFiles(ref);
      const securePartners = new Map(httpsScenarios([...partners.values()]).map((sc) => [sc.name, sc]));
      await serve(
        "baseline",
        () => startBase(tls),
        (b) =>
          serve(
            "triage",
            () => startTriage(ref, { https: true }),
            async (t) => {
              const httpsToken = await getToken(t.base, apps.main);
              for (const sc of secure) {
                const partner = securePartners.get(sc.name);
                await takeTurns(
                  t,
                  sc,
                  (pair) => measure(t, "triage", ref.kind, ref.size, sc, o, httpsToken, pgDatabase, pair),
                  partner && ((pair) => measure(b, "baseline", ref.kind, ref.size, partner, o, null, pgDatabase, pair)),
                );
              }
            },
          ).then(() => undefined),
      );
    }
  } finally {
    await restore(ref, undo);
    await emptyTenant(ref, INGEST_TENANT);
  }
  try {
    if (triage.some((sc) => sc.name === "list")) res.auth.push(await measureAuth(ref, base, token));
  } catch (e) {
    log(`${ref.label}: auth cost not measured: ${e instanceof Error ? e.message : String(e)}`);
  }
}

// ------------------------------------------------------------------------------------------------
// Auth cost: authenticate + authorize in-process, with the server's code (dist/), the same store and
// the same token, the validated-token cache warm, exactly as the guard runs them on every request.

interface AuthCost {
  store: string;
  size: number;
  /** Triage's CPU per authenticate + authorize, plus PostgreSQL's for the tenant lookup. */
  cpuMicros: number;
  wallMicros: number;
}

async function measureAuth(ref: StoreRef, base: string, token: string): Promise<AuthCost> {
  const { openStore } = await importDist<typeof OpenMod>("store/open.js");
  const { KeyRing } = await importDist<typeof KeysMod>("identity/keys.js");
  const { TokenValidator } = await importDist<typeof ValidateMod>("identity/validate.js");
  const { authenticate } = await importDist<typeof CallerMod>("identity/caller.js");
  const { authorize } = await importDist<typeof AuthorizeMod>("permissions/authorize.js");
  const { operation } = await importDist<typeof CatalogMod>("permissions/catalog.js");
  const { tenantExistence } = await importDist<typeof TenantsMod>("store/tenants.js");
  const store = await openStore(ref.dbUrl ?? join(ref.dataDir, "triage.db"));
  try {
    // The signing keys are stored sealed with the key-encryption key beside the store, as the server reads them.
    const { resolveKeyEncryption, defaultKeyFile } = await importDist<typeof KeyEncryptionMod>("identity/key-encryption.js");
    const { encryption } = resolveKeyEncryption({ env: process.env.TRIAGE_KEY_ENCRYPTION_KEY, defaultFile: defaultKeyFile(ref.dataDir) });
    const validator = new TokenValidator({ keys: new KeyRing(store.db, 3599, undefined, encryption), clockSkewSeconds: 60, external: [] });
    const guard = { validator, origin: () => base, tenantExists: tenantExistence(store.db) };
    const req = { headers: { authorization: `Bearer ${token}` } } as unknown as FastifyRequest;
    const op = operation("GET /security/incidents");
    const once = async () => authorize((await authenticate(req, guard)).principal, op);
    for (let i = 0; i < 2000; i++) await once();
    const n = 20_000;
    // PostgreSQL: the tenant lookup's work in the backend counts too, as it does for the list request.
    const database = pgDatabaseOf(ref);
    const db0 = database ? postgresBackends(database) : null;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await once();
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const dbMicros = db0 ? (1e6 * backendCpuDelta(db0, postgresBackends(database!))) / n : 0;
    return { store: ref.kind, size: ref.size, cpuMicros: (c.user + c.system) / n + dbMicros, wallMicros: (wall * 1000) / n };
  } finally {
    await store.close();
  }
}

// ------------------------------------------------------------------------------------------------
// One server's run

interface ServerStats {
  system: System;
  store: string;
  size: number;
  startups: { listeningMs: number; readyMs: number }[];
  peakRssMb: number;
  rssAfterReadsMb: number;
}

/**
 * Waits (up to a minute) until a server started has stopped working on its own (SQLite's optimize;
 * the hunting language service with --warm-hunting, seconds of CPU on a loaded machine), work that
 * would otherwise be charged to the first scenarios.
 */
async function settle(s: Running): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    const c0 = cpuSeconds(s.pid);
    await sleep(500);
    if (cpuSeconds(s.pid) - c0 < 0.03 || Date.now() > until) return;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;

async function withServer(
  system: System,
  store: string,
  size: number,
  o: Options,
  starter: () => Promise<Running>,
  body: (s: Running) => Promise<void>,
  startups = 1,
): Promise<ServerStats> {
  const samples: { listeningMs: number; readyMs: number }[] = [];
  let server: Running | null = null;
  for (let i = 0; i < startups; i++) {
    if (server) await server.stop();
    server = await starter();
    samples.push({ listeningMs: server.listeningMs, readyMs: server.readyMs });
  }
  const s = server!;
  await settle(s);
  log(
    `${s.name}: ready in ${fmt(s.readyMs)} ms (listening at ${fmt(s.listeningMs)} ms)${startups > 1 ? `; over ${startups} starts: ${samples.map((x) => fmt(x.readyMs)).join(", ")} ms` : ""}`,
  );
  const stats: ServerStats = { system, store, size, startups: samples, peakRssMb: 0, rssAfterReadsMb: 0 };
  try {
    await body(s);
    const mem = memoryMb(s.pid);
    stats.peakRssMb = mem.peak;
    stats.rssAfterReadsMb = mem.rss;
  } finally {
    await s.stop();
  }
  return stats;
}

// ------------------------------------------------------------------------------------------------
// Report

interface Results {
  startedAt: string;
  finishedAt?: string;
  options: Options;
  machine: { cpus: number; model: string; node: string; loadavgStart: number[]; loadavgEnd?: number[]; postgresAutovacuum?: boolean };
  seeding: { store: string; size: number; incidents: number; seededNow: boolean; seconds: number }[];
  scenarios: Measured[];
  servers: ServerStats[];
  auth: AuthCost[];
  targets: { target: string; status: string; detail: string }[];
  profile?: ReturnType<typeof summarizeProfile>;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a && b ? `${(a / b).toFixed(2)}×` : "–";
}

function printTable(res: Results): void {
  const rows: string[][] = [
    ["scenario", "system", "store", "size", "req/s", "p50 ms", "p99 ms", "req/CPU-s", "÷ baseline req/s | per core", "÷ json-server req/s | per core", "note"],
  ];
  const find = finder(res);
  const order = ["list", "list-all", "get", "patch", "comment", "ingest", "healthz", "list-https", "get-https"];
  const systems: System[] = ["triage", "baseline", "json-server"];
  for (const size of res.options.sizes) {
    for (const scenario of order) {
      for (const system of systems) {
        for (const m of res.scenarios.filter((x) => x.system === system && x.size === size && x.scenario === scenario)) {
          let vsBase = "";
          let vsPeer = "";
          if (system === "triage") {
            const b = find("baseline", size, scenario === "comment" ? "patch" : scenario, m.store, m.pair);
            const p = find("json-server", size, scenario);
            vsBase = b ? `${ratio(m.rps, b.rps)} | ${ratio(m.perCore, b.perCore)}${scenario === "comment" ? " (vs update)" : ""}` : "";
            vsPeer = p ? `${ratio(m.rps, p.rps)} | ${ratio(m.perCore, p.perCore)}` : "";
          }
          const plain = system === "triage" && scenario.endsWith("-https") ? find("baseline", size, scenario.replace(/-https$/, ""), m.store) : undefined;
          const notes = [
            plain ? `vs the baseline over HTTP: ${ratio(m.rps, plain.rps)} | ${ratio(m.perCore, plain.perCore)}` : "",
            m.alertsPerSec ? `${fmt(m.alertsPerSec)} alerts/s` : "",
            m.dbCpu ? `incl. ${m.dbCpu.toFixed(1)} CPU-s PostgreSQL` : "",
            m.pair ?? "",
            m.note ?? "",
          ].filter(Boolean);
          rows.push([scenario, system, m.store, fmt(size), fmt(m.rps), fmt(m.p50), fmt(m.p99), fmt(m.perCore), vsBase, vsPeer, notes.join("; ")]);
        }
      }
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const right = new Set([3, 4, 5, 6, 7]);
  const line = (r: string[]) =>
    r
      .map((cell, c) => pad(cell, widths[c]!, right.has(c)))
      .join("  ")
      .trimEnd();
  process.stdout.write("\n" + line(rows[0]!) + "\n" + widths.map((w) => "-".repeat(w)).join("  ") + "\n");
  for (const r of rows.slice(1)) process.stdout.write(line(r) + "\n");

  process.stdout.write("\nServers (startup = spawn → listening line → first 200 from the health check; peak RSS = VmHWM):\n");
  for (const s of res.servers) {
    const ready = s.startups.map((x) => x.readyMs);
    process.stdout.write(
      `  ${pad(s.system, 11)} ${pad(s.store, 8)} ${pad(fmt(s.size), 9, true)}  ready ${fmt(ready[0])} ms first, ${fmt(median(ready))} ms median of ${ready.length}` +
        ` (listening ${fmt(median(s.startups.map((x) => x.listeningMs)))} ms);  RSS after reads ${fmt(s.rssAfterReadsMb)} MB, peak ${fmt(s.peakRssMb)} MB\n`,
    );
  }
  if (res.auth.length) {
    process.stdout.write("\nAuth (authenticate + authorize per request, in-process, token cache warm):\n");
    for (const a of res.auth) {
      const list = res.scenarios.find((m) => m.system === "triage" && m.store === a.store && m.size === a.size && m.scenario === "list");
      const listMicros = list ? (1e6 * (list.cpu + list.dbCpu)) / list.requests : NaN;
      process.stdout.write(
        `  ${pad(a.store, 8)} ${pad(fmt(a.size), 9, true)}  ${a.cpuMicros.toFixed(1)} µs CPU (${a.wallMicros.toFixed(1)} µs wall) vs ${fmt(listMicros)} µs CPU per list request = ${((100 * a.cpuMicros) / listMicros).toFixed(1)} %\n`,
      );
    }
  }
  process.stdout.write("\nTargets:\n");
  for (const t of res.targets) process.stdout.write(`  [${t.status}] ${t.target}: ${t.detail}\n`);
  process.stdout.write(
    `\nMachine: ${res.machine.cpus} × ${res.machine.model}, Node ${res.machine.node}; load average ${res.machine.loadavgStart.map((x) => x.toFixed(1)).join(" ")} at start, ${res.machine.loadavgEnd?.map((x) => x.toFixed(1)).join(" ")} at the end.\n`,
  );
}

/**
 * A measurement by system, size and scenario: Triage on a store is compared with the baseline on the
 * same store (the PostgreSQL baseline for PostgreSQL), and with the SQLite one where there is none.
 */
function finder(res: Results) {
  return (system: System, size: number, scenario: string, store?: string, pair?: string) => {
    const all = res.scenarios.filter((m) => m.system === system && m.size === size && m.scenario === scenario);
    if (pair) return all.find((m) => m.pair === pair);
    return all.find((m) => m.store === store) ?? all.find((m) => m.store === "sqlite") ?? all[0];
  };
}

function evaluateTargets(res: Results): Results["targets"] {
  const out: Results["targets"] = [];
  const triage = res.scenarios.filter((m) => m.system === "triage");
  const find = finder(res);
  const verdict = (parts: { ok: boolean }[]) => (parts.length === 0 ? "n/a " : parts.every((p) => p.ok) ? "MET " : parts.some((p) => p.ok) ? "MIXED" : "MISS");

  const ratioTarget = (name: string, scenario: string, other: System, otherScenario: string, min: number) => {
    const parts: { ok: boolean; text: string }[] = [];
    // With --rounds, one ratio per round (its two runs), then one verdict per store and size on their medians.
    const rounds = new Map<string, { r: number; c: number }[]>();
    for (const m of triage.filter((x) => x.scenario === scenario)) {
      const b = find(other, m.size, otherScenario, m.store, other === "baseline" ? m.pair : undefined);
      // A measurement without one answered request is no ratio (it has its note).
      if (!b || !(b.rps > 0)) continue;
      const r = m.rps / b.rps;
      const c = m.perCore / b.perCore;
      if (m.pair) {
        const key = `${m.store} ${fmt(m.size)}`;
        rounds.set(key, [...(rounds.get(key) ?? []), { r, c }]);
        continue;
      }
      parts.push({ ok: r >= min && c >= min, text: `${m.store} ${fmt(m.size)}: ${r.toFixed(2)}× req/s, ${c.toFixed(2)}× per core` });
      if (r >= min !== c >= min) parts[parts.length - 1]!.text += " (req/s and per core disagree)";
    }
    for (const [key, xs] of rounds) {
      const r = median(xs.map((x) => x.r));
      const c = median(xs.map((x) => x.c));
      const each = xs.map((x) => `${x.r.toFixed(2)}/${x.c.toFixed(2)}`).join(", ");
      parts.push({
        ok: r >= min && c >= min,
        text: `${key}: median ${r.toFixed(2)}× req/s, ${c.toFixed(2)}× per core over ${xs.length} paired round${xs.length === 1 ? "" : "s"} (each round req/s/per core: ${each})`,
      });
    }
    out.push({ target: name, status: verdict(parts), detail: parts.map((p) => p.text).join("; ") || "not measured" });
  };
  ratioTarget("list (authenticated) ≥ 2× baseline", "list", "baseline", "list", 2);
  ratioTarget("list (authenticated) ≥ 3× json-server", "list", "json-server", "list", 3);
  ratioTarget("GET one ($expand=alerts) ≥ 0.8× baseline's get", "get", "baseline", "get", 0.8);
  ratioTarget("PATCH with audit ≥ 0.5× baseline's update", "patch", "baseline", "patch", 0.5);
  ratioTarget("GET one over HTTPS ≥ 0.8× baseline's get over the same TLS", "get-https", "baseline", "get-https", 0.8);
  ratioTarget("GET one over HTTPS against the baseline's get over HTTP (TLS's cost)", "get-https", "baseline", "get", 0.8);

  {
    const parts = res.auth.map((a) => {
      const list = triage.find((m) => m.store === a.store && m.size === a.size && m.scenario === "list");
      const share = list ? a.cpuMicros / ((1e6 * (list.cpu + list.dbCpu)) / list.requests) : NaN;
      return { ok: share <= 0.1, text: `${a.store} ${fmt(a.size)}: ${(100 * share).toFixed(1)} % of a list request's CPU (${a.cpuMicros.toFixed(0)} µs)` };
    });
    out.push({ target: "auth cost ≤ 10% of throughput", status: verdict(parts), detail: parts.map((p) => p.text).join("; ") || "not measured" });
  }
  {
    const sizes = res.options.sizes;
    const parts: { ok: boolean; text: string }[] = [];
    if (sizes.length > 1) {
      const small = sizes[0]!;
      const big = sizes[sizes.length - 1]!;
      for (const store of res.options.stores) {
        const a = triage.find((m) => m.store === store && m.size === small && m.scenario === "list");
        const b = triage.find((m) => m.store === store && m.size === big && m.scenario === "list");
        if (a && b)
          parts.push({ ok: b.p99 <= 2 * a.p99, text: `${store}: ${b.p99} ms at ${fmt(big)} vs ${a.p99} ms at ${fmt(small)} = ${(b.p99 / a.p99).toFixed(2)}×` });
      }
    }
    const note = sizes.includes(1_000_000) && sizes.includes(10_000) ? "" : " (needs --sizes 10000,…,1000000; shown for the sizes run)";
    out.push({ target: "list p99 at 1M ≤ 2× at 10k", status: verdict(parts), detail: (parts.map((p) => p.text).join("; ") || "needs two sizes") + note });
  }
  for (const [store, min] of [
    ["sqlite", 5000],
    ["postgres", 3000],
  ] as const) {
    const parts = triage
      .filter((m) => m.scenario === "ingest" && m.store === store)
      .map((m) => ({ ok: (m.alertsPerSec ?? 0) >= min, text: `${fmt(m.size)}: ${fmt(m.alertsPerSec)} alerts/s` }));
    out.push({ target: `ingestion ≥ ${fmt(min)} alerts/s on ${store}`, status: verdict(parts), detail: parts.map((p) => p.text).join("; ") || "not measured" });
  }
  ratioTarget("ingestion ≥ 0.4× the baseline ingestion service", "ingest", "baseline", "ingest", 0.4);
  const biggest = Math.max(...res.options.sizes);
  const at = biggest === 1_000_000 ? "" : ` (1M not run: shown at ${fmt(biggest)})`;
  {
    const parts = res.servers
      .filter((s) => s.system === "triage" && s.size === biggest)
      .map((s) => ({ ok: s.peakRssMb <= 200, text: `${s.store}: peak ${fmt(s.peakRssMb)} MB` }));
    out.push({ target: "RSS ≤ 200 MB serving 1M", status: at ? "n/a " : verdict(parts), detail: (parts.map((p) => p.text).join("; ") || "not measured") + at });
  }
  {
    const parts = res.servers
      .filter((s) => s.system === "triage" && s.size === biggest)
      .map((s) => {
        const r = median(s.startups.map((x) => x.readyMs));
        return { ok: r <= 1000, text: `${s.store}: ${fmt(r)} ms (median; first ${fmt(s.startups[0]?.readyMs)} ms)` };
      });
    out.push({
      target: "ready ≤ 1 s on an existing 1M store",
      status: at ? "n/a " : verdict(parts),
      detail: (parts.map((p) => p.text).join("; ") || "not measured") + at,
    });
  }
  return out;
}

// ------------------------------------------------------------------------------------------------

async function profileScenario(ref: StoreRef, name: string, o: Options): Promise<Results["profile"]> {
  const dir = join(BENCH_DIR, "profiles");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const apps = await ensureApps(ref);
  const ids = await sampleIds(ref, 200);
  const sc = triageScenarios(ids, o).find((x) => x.name === name);
  if (!sc)
    throw new Error(
      `--profile: no scenario ${name} (${triageScenarios(ids, o)
        .map((x) => x.name)
        .join(", ")})`,
    );
  await readyStore(ref);
  const undo = await snapshot(ref, ids);
  try {
    await withServer(
      "triage",
      ref.kind,
      ref.size,
      o,
      () => startTriage(ref, { profileDir: dir }),
      async (s) => {
        const token = await getToken(s.base, name === "ingest" ? apps.ingest : apps.main);
        const pgDatabase = pgDatabaseOf(ref);
        await measure(s, "triage", ref.kind, ref.size, sc, o, token, pgDatabase);
      },
    );
  } finally {
    await restore(ref, undo);
    await emptyTenant(ref, INGEST_TENANT);
  }
  const file = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!file) throw new Error("no CPU profile written");
  const p = summarizeProfile(file);
  process.stdout.write(
    `\nCPU profile of the ${name} scenario (${ref.label}; ${file}; startup, warm-up and run: ${fmt(p.totalMs)} ms busy):\n\nBy area (self time):\n`,
  );
  for (const a of p.areas) process.stdout.write(`  ${pad((100 * a.share).toFixed(1) + " %", 7, true)}  ${a.area}\n`);
  process.stdout.write("\nTop functions (self time; JSON.parse/stringify and other builtins count as their caller's):\n");
  for (const f of p.self) process.stdout.write(`  ${pad((100 * f.share).toFixed(1) + " %", 7, true)}  ${f.fn}\n`);
  process.stdout.write("\nTriage's functions (inclusive time):\n");
  for (const f of p.inclusive) process.stdout.write(`  ${pad((100 * f.share).toFixed(1) + " %", 7, true)}  ${f.fn}\n`);
  return p;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  mkdirSync(BENCH_DIR, { recursive: true });
  const res: Results = {
    startedAt: new Date().toISOString(),
    options: o,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "?", node: process.version, loadavgStart: loadavg() },
    seeding: [],
    scenarios: [],
    servers: [],
    auth: [],
    targets: [],
  };

  // 1. Stores: seeded once, reused afterwards. The baseline and json-server read the SQLite store.
  const kinds: StoreKind[] = o.stores.includes("sqlite") ? o.stores : ["sqlite", ...o.stores];
  for (const size of o.sizes) {
    for (const kind of kinds) {
      const ref = storeRef(kind, size, o.pg);
      const s = await ensureSeeded(ref, log, o.reseed);
      res.seeding.push({ store: kind, size, ...s });
    }
  }

  if (o.profile) {
    res.profile = await profileScenario(storeRef(o.stores[0]!, o.sizes[0]!, o.pg), o.profile, o);
    writeFileSync(join(BENCH_DIR, "profile.json"), JSON.stringify(res.profile, null, 2));
    return;
  }

  for (const size of o.sizes) {
    const sqlite = storeRef("sqlite", size, o.pg);
    const ids = await sampleIds(sqlite, 200);

    // 2. Baseline (its PATCHes are undone afterwards), over HTTP and HTTPS; with --rounds, beside Triage (5).
    if (!o.rounds) await measureBaseline(res, sqlite, ids, o, (tls) => startBaseline(sqlite, tls));

    // 3. json-server, up to --peer-max (it holds and scans the whole JSON in memory).
    if (size <= o.peerMax && peerScenarios(ids, o).length > 0) {
      log(`json-server ${size}: exporting db.json`);
      const file = await exportPeer(sqlite);
      res.servers.push(
        await withServer(
          "json-server",
          "memory",
          size,
          o,
          () => startJsonServer(file),
          async (s) => {
            for (const sc of peerScenarios(ids, o)) res.scenarios.push(await measure(s, "json-server", "memory", size, sc, o, null, null));
          },
        ),
      );
    } else {
      log(`json-server ${size}: skipped (above --peer-max ${o.peerMax})`);
    }

    // 4. Triage on each store.
    for (const kind of o.stores) {
      const ref = storeRef(kind, size, o.pg);
      const storeIds = kind === "sqlite" ? ids : await sampleIds(ref, 200);
      // 5. Or, with --rounds, Triage and the baseline side by side, taking turns.
      if (o.rounds) {
        await measurePaired(res, ref, storeIds, o);
        continue;
      }
      const pgDatabase = pgDatabaseOf(ref);
      let apps: BenchApps = await ensureApps(ref);
      let base = "";
      let token = "";
      let rssAfterReads = 0;
      // PATCH, comments and ingestion are undone afterwards, so every run measures the seeded data.
      res.machine.postgresAutovacuum = await readyStore(ref);
      // PostgreSQL: its own baseline, on the same database.
      if (kind === "postgres") await measureBaseline(res, ref, storeIds, o, (tls) => startPgBaseline(ref, tls));
      const undo = await snapshot(ref, storeIds);
      let stats: ServerStats;
      try {
        stats = await withServer(
          "triage",
          kind,
          size,
          o,
          () => startTriage(ref),
          async (s) => {
            base = s.base;
            const tokens = await benchTokens(ref, s.base, apps);
            ({ apps, main: token } = tokens);
            const ingestToken = tokens.ingest;
            for (const sc of triageScenarios(storeIds, o)) {
              if (sc.name === "ingest") rssAfterReads = memoryMb(s.pid).rss;
              res.scenarios.push(await measure(s, "triage", kind, size, sc, o, sc.name === "ingest" ? ingestToken : token, pgDatabase));
            }
          },
          o.startups,
        );
      } finally {
        await restore(ref, undo);
        await emptyTenant(ref, INGEST_TENANT);
      }
      stats.rssAfterReadsMb = rssAfterReads;
      res.servers.push(stats);
      // The guard's work, measured on its own with the same store and token (after the server stopped).
      try {
        if (triageScenarios(storeIds, o).some((sc) => sc.name === "list")) res.auth.push(await measureAuth(ref, base, token));
      } catch (e) {
        log(`${ref.label}: auth cost not measured: ${e instanceof Error ? e.message : String(e)}`);
      }
      // The reads again on Triage's default transport, HTTPS (a token of that origin).
      await withServer(
        "triage",
        kind,
        size,
        o,
        () => startTriage(ref, { https: true }),
        async (s) => {
          const httpsToken = await getToken(s.base, apps.main);
          for (const sc of httpsScenarios(triageScenarios(storeIds, o)))
            res.scenarios.push(await measure(s, "triage", kind, size, sc, o, httpsToken, pgDatabase));
        },
      );
    }
  }

  res.machine.loadavgEnd = loadavg();
  res.finishedAt = new Date().toISOString();
  res.targets = evaluateTargets(res);
  writeFileSync(join(BENCH_DIR, "results.json"), JSON.stringify(res, null, 2));
  printTable(res);
  process.stdout.write(`\nRaw results: ${join(BENCH_DIR, "results.json")}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
