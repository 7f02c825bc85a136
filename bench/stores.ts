/**
 * The benchmark's stores: seeded once per store and size with `triage seed` (the ingestion path), and
 * reused while they hold the tenant's incidents; the app the load authenticates as; the incident ids
 * the per-incident scenarios rotate over; json-server's db.json exported from the SQLite store.
 */
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import { BENCH_DIR, TENANT, TRIAGE_BIN, ROOT, fmt, importDist, loopbackRequest, run, sleep } from "./common.js";
import type * as Feed from "../src/store/feed.js";
import type { Database as Tables } from "../src/store/tables.js";

export type StoreKind = "sqlite" | "postgres";

export interface StoreRef {
  kind: StoreKind;
  size: number;
  /** SQLite: the data directory. */
  dataDir: string;
  /** PostgreSQL: the database URL. */
  dbUrl: string | null;
  /** Where the bench app's credentials are kept (dropped with the store). */
  appFile: string;
  label: string;
}

export interface BenchApp {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

/** The apps the load authenticates as: one in the seeded tenant, one in the ingestion tenant. */
export interface BenchApps {
  main: BenchApp;
  ingest: BenchApp;
}

/**
 * Ingestion is measured into this separate tenant of the same store, emptied before and after, so
 * that the seeded tenant keeps the size it is named for and every run ingests the same alerts.
 */
export const INGEST_TENANT = "b3e7c4a1-8f2d-4e6b-9a3c-5d7e8f9a0b1c";
/** Tables whose rows belong to a tenant's incidents and alerts (not its apps and users), children first. */
const TENANT_DATA = ["alerts", "incidents", "audit_log", "incident_entities", "correlation_events", "detector_stats"];

/** Alerts per incident the seed generates (measured: 2.3), and the seeding rate seen here (alerts/s), for ETAs. */
const ALERTS_PER_INCIDENT = 2.3;
const SEED_RATE: Record<StoreKind, number> = { sqlite: 1500, postgres: 1000 };

export function storeRef(kind: StoreKind, size: number, pgBase: string): StoreRef {
  if (kind === "sqlite") {
    const dataDir = join(BENCH_DIR, `sqlite-${size}`);
    return { kind, size, dataDir, dbUrl: null, appFile: join(dataDir, "bench-apps.json"), label: `sqlite ${size}` };
  }
  // The database is named after the size, prefixed by the base URL's database name if it has one.
  const url = new URL(pgBase);
  const prefix = url.pathname.replace(/^\/+|\/+$/g, "") || "triage_bench";
  if (!/^[a-z_][a-z0-9_]*$/.test(prefix)) throw new Error(`--pg: the database name prefix ${prefix} must be lower-case letters, digits and _`);
  url.pathname = `/${prefix}_${size}`;
  return {
    kind,
    size,
    dataDir: join(BENCH_DIR, `postgres-${size}`),
    dbUrl: url.toString(),
    appFile: join(BENCH_DIR, `postgres-${size}`, "bench-apps.json"),
    label: `postgres ${size}`,
  };
}

/** PostgreSQL: the database's name (whose backends' CPU the bench counts); SQLite: null. */
export function pgDatabaseOf(ref: StoreRef): string | null {
  return ref.dbUrl ? new URL(ref.dbUrl).pathname.slice(1) : null;
}

export function storeArgs(ref: StoreRef): string[] {
  return ref.dbUrl ? ["--data", ref.dataDir, "--db", ref.dbUrl] : ["--data", ref.dataDir];
}

export function sqliteFile(ref: StoreRef): string {
  return join(ref.dataDir, "triage.db");
}

/** A one-off query against the store (outside the server); [] when the store or table is not there. */
export async function query<T>(ref: StoreRef, sqlText: string, params: unknown[]): Promise<T[]> {
  if (ref.kind === "sqlite") {
    const file = sqliteFile(ref);
    if (!existsSync(file)) return [];
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return db.prepare(sqlText.replace(/\$\d+/g, "?")).all(...params) as T[];
    } catch {
      return [];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: ref.dbUrl! });
  try {
    await client.connect();
  } catch {
    return [];
  }
  try {
    return (await client.query(sqlText, params)).rows as T[];
  } catch {
    return [];
  } finally {
    await client.end();
  }
}

/** A tenant's change-feed end read as the store reads it (`lastFeedSeq`), outside the server. */
export async function feedEndOf(ref: StoreRef, tenantId: string): Promise<number> {
  const { lastFeedSeq } = await importDist<typeof Feed>("store/feed.js");
  const dialect =
    ref.kind === "sqlite"
      ? new SqliteDialect({ database: new Database(sqliteFile(ref), { readonly: true, fileMustExist: true }) })
      : new PostgresDialect({ pool: new pg.Pool({ connectionString: ref.dbUrl!, max: 1 }) });
  const db = new Kysely<Tables>({ dialect });
  try {
    return await lastFeedSeq(db, tenantId);
  } finally {
    await db.destroy();
  }
}

/** Statements run in one transaction against the store (outside the server, which is stopped). */
async function exec(ref: StoreRef, statements: { sql: string; params: unknown[] }[]): Promise<void> {
  if (ref.kind === "sqlite") {
    const db = new Database(sqliteFile(ref), { fileMustExist: true });
    try {
      db.pragma("busy_timeout = 10000");
      db.transaction(() => {
        for (const st of statements) db.prepare(st.sql.replace(/\$\d+/g, "?")).run(...st.params);
      })();
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: ref.dbUrl! });
  await client.connect();
  try {
    // A running server's background work (the feed sequencer, say) can deadlock with these deletes: again, twice at most.
    for (let attempt = 1; ; attempt++) {
      try {
        await client.query("begin");
        for (const st of statements) await client.query(st.sql, st.params);
        await client.query("commit");
        return;
      } catch (e) {
        await client.query("rollback");
        if ((e as { code?: string }).code !== "40P01" || attempt === 3) throw e;
      }
    }
  } finally {
    await client.end();
  }
}

/** Deletes a tenant's incidents, alerts and everything derived from them; its apps stay. */
export async function emptyTenant(ref: StoreRef, tenantId: string): Promise<void> {
  await exec(ref, [
    ...TENANT_DATA.map((t) => ({ sql: `delete from ${t} where tenant_id = $1`, params: [tenantId] })),
    { sql: "update tenants set next_incident_id = 1, next_alert_seq = 1 where id = $1", params: [tenantId] },
  ]);
}

/** The SQLite baseline's ingestion tables (baseline-server.ts) emptied, while it runs: for another run from nothing. */
export async function emptyBaselineIngest(ref: StoreRef): Promise<void> {
  await exec(
    ref,
    ["baseline_ingest_alerts", "baseline_ingest_incidents", "baseline_ingest_keys"].map((t) => ({ sql: `delete from ${t}`, params: [] })),
  );
}

export interface Snapshot {
  incidents: { id: number; doc: string; assigned_to: string | null; updated_at: string; version: number }[];
  auditSeq: number;
}

/**
 * What the write scenarios change in the seeded tenant (the PATCHed and commented incidents, the audit
 * trail), to be put back afterwards: repeated runs then measure the same data.
 */
export async function snapshot(ref: StoreRef, ids: string[]): Promise<Snapshot> {
  const wanted = new Set(ids.map(Number));
  const rows = await query<Snapshot["incidents"][number]>(ref, "select id, doc, assigned_to, updated_at, version from incidents where tenant_id = $1", [
    TENANT,
  ]);
  const seq = await query<{ n: number | string | null }>(ref, "select max(seq) as n from audit_log", []);
  return { incidents: rows.filter((r) => wanted.has(Number(r.id))), auditSeq: Number(seq[0]?.n ?? 0) };
}

export async function restore(ref: StoreRef, snap: Snapshot): Promise<void> {
  await exec(ref, [
    ...snap.incidents.map((r) => ({
      sql: "update incidents set doc = $1, assigned_to = $2, updated_at = $3, version = $4 where tenant_id = $5 and id = $6",
      params: [r.doc, r.assigned_to, r.updated_at, r.version, TENANT, r.id],
    })),
    { sql: "delete from audit_log where tenant_id = $1 and seq > $2", params: [TENANT, snap.auditSeq] },
  ]);
}

/**
 * PostgreSQL only: VACUUM (ANALYZE) the database, as autovacuum would on a maintained server. This
 * machine's PostgreSQL runs with autovacuum off, and Triage does not ANALYZE by itself, so without it
 * the planner has no statistics for the freshly seeded tables and picks poor plans. Returns whether
 * autovacuum is on, for the record.
 */
export async function vacuumAnalyze(ref: StoreRef): Promise<boolean> {
  if (ref.kind !== "postgres") return true;
  const client = new pg.Client({ connectionString: ref.dbUrl! });
  await client.connect();
  try {
    const on = (await client.query<{ autovacuum: string }>("show autovacuum")).rows[0]?.autovacuum === "on";
    await client.query("vacuum (analyze)");
    return on;
  } finally {
    await client.end();
  }
}

async function analyzePostgres(ref: StoreRef): Promise<void> {
  const client = new pg.Client({ connectionString: ref.dbUrl! });
  await client.connect();
  try {
    await client.query("analyze");
  } finally {
    await client.end();
  }
}

export async function incidentCount(ref: StoreRef): Promise<number> {
  const rows = await query<{ n: string | number }>(ref, "select count(*) as n from incidents where tenant_id = $1", [TENANT]);
  return Number(rows[0]?.n ?? 0);
}

async function recreatePostgres(ref: StoreRef): Promise<void> {
  const url = new URL(ref.dbUrl!);
  const name = url.pathname.slice(1);
  url.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
}

/**
 * Makes sure the store holds about `size` incidents: reused when it does (within 10 %: the seed makes
 * about N) unless `reseed`, otherwise emptied and seeded through `triage seed`, with progress and an ETA.
 * A marker records when and at which commit it was seeded (data written by older code may lack what
 * newer code stores, such as precomputed columns that migrations add without backfilling).
 */
export async function ensureSeeded(
  ref: StoreRef,
  log: (s: string) => void,
  reseed = false,
): Promise<{ incidents: number; seededNow: boolean; seconds: number }> {
  const existing = await incidentCount(ref);
  const marker = join(ref.dataDir, "seeded.json");
  if (!reseed && existing >= ref.size * 0.9 && existing <= ref.size * 1.1) {
    const seeded = existsSync(marker) ? (JSON.parse(readFileSync(marker, "utf8")) as { at: string; commit: string }) : null;
    const head = await gitHead();
    const by = seeded ? `seeded ${seeded.at.slice(0, 16).replace("T", " ")} at commit ${seeded.commit.slice(0, 7)}` : "seeded by an unknown version";
    log(
      `${ref.label}: reusing ${fmt(existing)} incidents, ${by}${!seeded || seeded.commit !== head ? ` (HEAD is ${head.slice(0, 7)}: --reseed seeds with the current code)` : ""}`,
    );
    return { incidents: existing, seededNow: false, seconds: 0 };
  }
  if (existing > 0) log(`${ref.label}: holds ${fmt(existing)} incidents${reseed ? "" : `, not about ${fmt(ref.size)}`}: seeding again`);
  rmSync(ref.dataDir, { recursive: true, force: true });
  mkdirSync(ref.dataDir, { recursive: true });
  // json-server's export is made from the SQLite store: it goes with it.
  if (ref.kind === "sqlite") rmSync(join(BENCH_DIR, `peer-${ref.size}`), { recursive: true, force: true });
  if (ref.kind === "postgres") await recreatePostgres(ref);
  const alerts = Math.round(ref.size * ALERTS_PER_INCIDENT);
  const eta = alerts / SEED_RATE[ref.kind];
  log(`${ref.label}: seeding ~${fmt(alerts)} alerts through the ingestion path; rough ETA ${formatDuration(eta)} (at ~${SEED_RATE[ref.kind]} alerts/s)`);
  const started = Date.now();
  const child = spawn(process.execPath, [TRIAGE_BIN, "seed", ...storeArgs(ref), "--incidents", String(ref.size), "--json"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const done = new Promise<number>((r) => child.on("close", (code) => r(code ?? 1)));
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) {
    await Promise.race([done, sleep(30_000)]);
    if (finished) break;
    // This machine's PostgreSQL has autovacuum off: analyze as it would, or the planner keeps guessing.
    if (ref.kind === "postgres") await analyzePostgres(ref);
    const n = await incidentCount(ref);
    const secs = (Date.now() - started) / 1000;
    const rate = n / secs;
    log(
      `${ref.label}: ${fmt(n)} of ~${fmt(ref.size)} incidents after ${formatDuration(secs)}${rate > 0 ? `, ETA ${formatDuration((ref.size - n) / rate)}` : ""}`,
    );
  }
  if ((await done) !== 0) throw new Error(`seeding ${ref.label} failed: ${err.trim()}`);
  const summary = JSON.parse(out) as { incidents: number; alerts: number; seconds: number };
  writeFileSync(marker, JSON.stringify({ at: new Date().toISOString(), commit: await gitHead(), ...summary }, null, 2));
  log(
    `${ref.label}: seeded ${fmt(summary.alerts)} alerts into ${fmt(summary.incidents)} incidents in ${formatDuration(summary.seconds)} (${fmt(summary.alerts / summary.seconds)} alerts/s)`,
  );
  return { incidents: summary.incidents, seededNow: true, seconds: summary.seconds };
}

/** The commit checked out (read-only), to tell which code seeded a store. */
async function gitHead(): Promise<string> {
  try {
    return (await run("git", ["rev-parse", "HEAD"])).trim();
  } catch {
    return "unknown";
  }
}

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

async function createApp(ref: StoreRef, tenantId: string): Promise<BenchApp> {
  const out = await run(process.execPath, [
    TRIAGE_BIN,
    "apps",
    "create",
    ...storeArgs(ref),
    "--tenant",
    tenantId,
    "--name",
    "Triage benchmark",
    "--permission",
    "SecurityIncident.ReadWrite.All",
    "--permission",
    "SecurityAlert.ReadWrite.All",
    "--admin-consent",
    "--json",
  ]);
  return JSON.parse(out) as BenchApp;
}

/**
 * The apps the load authenticates as, created once per store with `triage apps create` (and the
 * ingestion tenant with `triage tenants create`); `fresh` makes new ones (the store was replaced).
 */
export async function ensureApps(ref: StoreRef, fresh = false): Promise<BenchApps> {
  if (!fresh && existsSync(ref.appFile)) return JSON.parse(readFileSync(ref.appFile, "utf8")) as BenchApps;
  const tenants = JSON.parse(await run(process.execPath, [TRIAGE_BIN, "tenants", "list", ...storeArgs(ref), "--json"])) as { id: string }[];
  if (!tenants.some((t) => t.id === INGEST_TENANT)) {
    await run(process.execPath, [TRIAGE_BIN, "tenants", "create", ...storeArgs(ref), "--id", INGEST_TENANT, "--name", "Benchmark ingestion", "--json"]);
  }
  const apps: BenchApps = { main: await createApp(ref, TENANT), ingest: await createApp(ref, INGEST_TENANT) };
  mkdirSync(dirname(ref.appFile), { recursive: true });
  writeFileSync(ref.appFile, JSON.stringify(apps, null, 2));
  return apps;
}

/** A token from the server's own token endpoint (client credentials), for the origin the load uses. */
export async function getToken(base: string, app: BenchApp): Promise<string> {
  const res = await loopbackRequest(`${base}/${app.tenantId}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scope: "https://graph.microsoft.com/.default",
    }).toString(),
  });
  const body = JSON.parse(res.text) as { access_token?: string };
  if (res.status !== 200 || !body.access_token) throw new Error(`token request failed: ${res.status} ${res.text}`);
  return body.access_token;
}

/** `count` open incidents spread evenly over the id range (so the reads touch the whole store). */
export async function sampleIds(ref: StoreRef, count: number): Promise<string[]> {
  const rows = await query<{ id: string | number }>(ref, "select id from incidents where tenant_id = $1 and status in (0, 2) and alert_count > 0 order by id", [
    TENANT,
  ]);
  const step = Math.max(1, Math.floor(rows.length / count));
  const out: string[] = [];
  for (let i = 0; i < rows.length && out.length < count; i += step) out.push(String(rows[i]!.id));
  return out;
}

/**
 * json-server's db.json: the tenant's incidents and alerts as Graph JSON (alerts carry `incidentId`,
 * which json-server's `_embed=alerts` joins on). Written once per size.
 */
export async function exportPeer(ref: StoreRef): Promise<string> {
  const dir = join(BENCH_DIR, `peer-${ref.size}`);
  const file = join(dir, "db.json");
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp`;
  const out = createWriteStream(tmp);
  const db = new Database(sqliteFile(ref), { readonly: true });
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once("drain", () => r())));
  for (const [i, table] of (["incidents", "alerts"] as const).entries()) {
    await write(`${i === 0 ? "{" : ","}"${table}":[`);
    let first = true;
    for (const row of db
      .prepare(`select doc from ${table} where tenant_id = ? order by ${table === "incidents" ? "id" : "seq"}`)
      .iterate(TENANT) as IterableIterator<{ doc: string }>) {
      await write((first ? "" : ",\n") + row.doc);
      first = false;
    }
    await write("]");
  }
  await write("}\n");
  db.close();
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
  renameSync(tmp, file);
  return file;
}
