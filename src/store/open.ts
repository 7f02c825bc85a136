import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import SQLite from "better-sqlite3";
import {
  Kysely,
  Migrator,
  PostgresDialect,
  type CompiledQuery,
  type Migration,
  type MigrationProvider,
  type PostgresPool,
  type PostgresPoolClient,
} from "kysely";
import { LRUCache } from "lru-cache";
import type pg from "pg";
import type { Database } from "./tables.js";
import { sqliteDialect } from "./sqlite-dialect.js";
import { postgresJson, sqliteJson, type JsonSql } from "./json-sql.js";
import * as m001 from "./migrations/001_initial.js";
import * as m002 from "./migrations/002_identity.js";
import * as m003 from "./migrations/003_rate_limits.js";
import * as m004 from "./migrations/004_rendered_json.js";
import * as m005 from "./migrations/005_entity_index.js";
import * as m006 from "./migrations/006_alert_analyst_properties.js";
import * as m007 from "./migrations/007_credential_state.js";
import * as m008 from "./migrations/008_heartbeats.js";
import * as m009 from "./migrations/009_change_feed.js";
import * as m010 from "./migrations/010_alert_category.js";
import * as m011 from "./migrations/011_automation.js";
import * as m012 from "./migrations/012_faults_and_profiles.js";
import * as m013 from "./migrations/013_rich_notifications.js";
import * as m014 from "./migrations/014_sla.js";
import * as m016 from "./migrations/016_feed_retention.js";
import * as m020 from "./migrations/020_sync_windows.js";
import * as m021 from "./migrations/021_incident_summaries.js";
import * as m022 from "./migrations/022_alert_doc_lz4.js";
import * as m023 from "./migrations/023_feed_sequencer.js";
import * as m024 from "./migrations/024_sqlite_lean_writes.js";
import * as m025 from "./migrations/025_sqlite_feed_end.js";
import { startFeedSequencer } from "./feed-sequencer.js";
import { plannerStatisticsSettled } from "./planner-statistics.js";
import { registerDirectRun, type DirectRun } from "./statement-text.js";
import { installDeadline, SqliteReadPool } from "./read-workers.js";
import { installRegex } from "./hunting-regex.js";
import { BACKSTOP_PAGES, useWalSync, WalSync } from "./wal-sync.js";
import {
  DEFAULT_MAX_QUEUED_READS,
  DEFAULT_QUERY_TIMEOUT_MS,
  DEFAULT_READ_WORKERS,
  DEFAULT_SQLITE_CACHE_MB,
  type BoundedReadOptions,
  type QueryLimitOptions,
} from "./bounded-read.js";
import { queryTimedOut } from "../errors/graph-error.js";
import { traced, tracingOn } from "./trace.js";

/** Versioned migrations, in order. Add new ones at the end; never edit a shipped one. */
const migrations: Record<string, Migration> = {
  "001_initial": m001,
  "002_identity": m002,
  "003_rate_limits": m003,
  "004_rendered_json": m004,
  "005_entity_index": m005,
  "006_alert_analyst_properties": m006,
  "007_credential_state": m007,
  "008_heartbeats": m008,
  "009_change_feed": m009,
  "010_alert_category": m010,
  "011_automation": m011,
  "012_faults_and_profiles": m012,
  "013_rich_notifications": m013,
  "014_sla": m014,
  "016_feed_retention": m016,
  "020_sync_windows": m020,
  "021_incident_summaries": m021,
  "022_alert_doc_lz4": m022,
  "023_feed_sequencer": m023,
  "024_sqlite_lean_writes": m024,
  "025_sqlite_feed_end": m025,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

export interface Store {
  db: Kysely<Database>;
  dialect: "sqlite" | "postgres";
  json: JsonSql;
  /**
   * Runs one read-only statement outside any transaction and returns its rows as arrays of column
   * values, in select-list order: the hot read paths, which skip building an object per row. It sees
   * every committed write and none that is still in flight.
   */
  arrays(query: CompiledQuery, parameters: readonly unknown[]): Promise<unknown[][]>;
  /**
   * Runs one read-only statement whose cost the caller does not control, within a time limit and
   * (SQLite) off the event loop; rows as `arrays` returns them. Use `runBoundedRead` (bounded-read.ts).
   */
  bounded(sqlText: string, parameters: readonly unknown[], options: BoundedReadOptions): Promise<unknown[][]>;
  /** The time limit of a bounded read that names none, in milliseconds. */
  queryTimeoutMs: number;
  /**
   * PostgreSQL only: calls `fn` with each notification on `channel` (from any node), on a connection
   * of its own that is opened again if it drops; returns what stops listening.
   */
  listen?(channel: string, fn: (payload: string) => void): Promise<() => Promise<void>>;
  /**
   * Tells `observer` how long each statement took from now on (metrics); one observer at a time,
   * `undefined` stops it. Without one the store times nothing.
   */
  observe(observer: StoreObserver | undefined): void;
  /** How busy the store's connection pools are right now (PostgreSQL's pools, SQLite's read workers). */
  pools(): PoolUse[];
  close(): Promise<void>;
}

/** Which way a statement went: through the query builder (writes, transactions), a hot read, or a bounded read. */
export type StatementPath = "builder" | "read" | "bounded";

export interface StoreObserver {
  /** One statement finished (or failed) after `seconds`. */
  statement(path: StatementPath, seconds: number): void;
}

export interface PoolUse {
  pool: string;
  /** Connections (or workers) open. */
  total: number;
  idle: number;
  /** Callers waiting for one. */
  waiting: number;
}

/** The observer's slot, and the timers the store's paths run through. */
class Observed {
  observer: StoreObserver | undefined;

  /** Kysely's log hook: it measures each query itself once a hook is set. */
  readonly log = (event: { queryDurationMillis: number }): void => {
    this.observer?.statement("builder", event.queryDurationMillis / 1000);
  };

  async time<T>(path: StatementPath, run: () => Promise<T>): Promise<T> {
    const observer = this.observer;
    if (!observer) return run();
    const start = performance.now();
    try {
      return await run();
    } finally {
      observer.statement(path, (performance.now() - start) / 1000);
    }
  }
}

export interface SqliteDurability {
  /**
   * The store is removed when this process ends (`triage serve --ephemeral`, `startTriage`): commits do
   * not wait for the disk (synchronous=OFF), which makes its migrations and writes several times faster
   * on a busy disk. A crash may then lose the last commits or corrupt the file, which is thrown away
   * anyway. Never for a store that outlives the process.
   */
  throwaway?: boolean | undefined;
}

/**
 * Opens (creating if needed) the SQLite store at `file` and brings its schema up to date.
 * WAL with synchronous=FULL (unless `throwaway`): a write is on disk when its transaction commits, which happens before
 * the response is sent, so an acknowledged write survives a crash of the process or the machine. The
 * transactions of `inTransaction` reach the same guarantee off the event loop (wal-sync.ts).
 */
export async function openSqliteStore(file: string, limits: QueryLimitOptions & SqliteDurability = {}): Promise<Store> {
  if (file !== ":memory:") ownerOnly(file);
  const queryTimeoutMs = limits.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  const native = new SQLite(file);
  const nativeDeadline = installDeadline(native);
  installRegex(native);
  native.pragma("journal_mode = WAL");
  native.pragma(limits.throwaway ? "synchronous = OFF" : "synchronous = FULL");
  native.pragma("foreign_keys = ON");
  native.pragma("busy_timeout = 5000");
  native.pragma(`cache_size = -${Math.round((limits.sqliteCacheMb ?? DEFAULT_SQLITE_CACHE_MB) * 1024)}`);
  cacheStatements(native, 400_000);
  const observed = new Observed();
  const db = new Kysely<Database>({ dialect: sqliteDialect(native), log: observed.log });
  registerDirectRun(db, directRun(native, observed));
  await migrate(db);
  // Keep the planner's statistics fresh, as SQLite advises for long-lived connections; the analysis
  // limit bounds what that costs at startup on a large store (it samples instead of scanning).
  native.pragma("analysis_limit = 1000");
  native.pragma("optimize=0x10002");
  const reader = file === ":memory:" ? null : openReader(file);
  // Commits reach the disk off the event loop, and checkpoints run on a worker (wal-sync.ts).
  const walSync = file === ":memory:" || limits.throwaway ? null : new WalSync(`${file}-wal`, { databaseFile: file });
  if (walSync) {
    native.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
    useWalSync(db, walSync);
  }
  // A second connection to an in-memory database would open another, empty, database.
  const workers = limits.readWorkers ?? DEFAULT_READ_WORKERS;
  const pool = reader && workers > 0 ? new SqliteReadPool({ file, size: workers, maxQueued: limits.maxQueuedReads ?? DEFAULT_MAX_QUEUED_READS }) : null;
  return spanned({
    db,
    dialect: "sqlite",
    json: sqliteJson,
    // Kysely's one connection runs a transaction's statements and makes everything else wait for its
    // end; hot reads run on a read-only connection of their own instead (WAL lets it read the last
    // commit while a write is in flight), which also never sees a transaction's uncommitted rows.
    arrays: async (query, parameters) => {
      if (!reader) return (await db.executeQuery<Record<string, unknown>>({ ...query, parameters })).rows.map((r) => Object.values(r));
      const observer = observed.observer;
      if (!observer) return reader.statement(query.sql).all(...parameters) as unknown[][];
      const start = performance.now();
      try {
        return reader.statement(query.sql).all(...parameters) as unknown[][];
      } finally {
        observer.statement("read", (performance.now() - start) / 1000);
      }
    },
    bounded: (sqlText, parameters, { timeoutMs = queryTimeoutMs, cheap = false }) =>
      observed.time("bounded", async () => {
        if (pool && !cheap) return pool.run(sqlText, parameters, timeoutMs);
        if (reader) return reader.within(timeoutMs, () => reader.statement(sqlText).all(...parameters) as unknown[][]);
        return nativeDeadline.within(
          timeoutMs,
          () =>
            native
              .prepare(sqlText)
              .raw(true)
              .all(...parameters) as unknown[][],
        );
      }),
    queryTimeoutMs,
    observe: (observer) => {
      observed.observer = observer;
    },
    pools: () => (pool ? [{ pool: "sqlite_read_workers", ...pool.use() }] : []),
    close: async () => {
      await pool?.close();
      await walSync?.close();
      reader?.close();
      if (native.open) native.pragma("optimize");
      await db.destroy();
    },
  });
}

/**
 * The store holds the signing keys and every tenant's incidents: its folder is created 0700 and the
 * database 0600 before SQLite opens it (SQLite gives its -wal and -shm files the database's mode);
 * files left looser by an earlier version are tightened.
 */
function ownerOnly(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  if (!existsSync(file)) writeFileSync(file, "", { mode: 0o600, flag: "a" });
  if (process.platform === "win32") return;
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    if (existsSync(f) && (statSync(f).mode & 0o077) !== 0) chmodSync(f, 0o600);
  }
}

/** Runs a statement on the store's connection as Kysely's driver would, timed for the observer as Kysely's are. */
function directRun(native: SQLite.Database, observed: Observed): DirectRun {
  return (text, parameters) => {
    const observer = observed.observer;
    const start = observer ? performance.now() : 0;
    try {
      const stmt = native.prepare(text);
      if (stmt.reader) return { rows: stmt.all(parameters), changes: 0 };
      return { rows: [], changes: stmt.run(parameters).changes };
    } finally {
      observer?.statement("builder", (performance.now() - start) / 1000);
    }
  };
}

/** A read-only connection whose statements return rows as arrays, prepared once per SQL text. */
function openReader(file: string): { statement(sqlText: string): SQLite.Statement; within<T>(timeoutMs: number, fn: () => T): T; close(): void } {
  const conn = new SQLite(file, { readonly: true });
  conn.pragma("busy_timeout = 5000");
  const { within } = installDeadline(conn);
  installRegex(conn);
  const statements = new LRUCache<string, SQLite.Statement>({ max: 500 });
  return {
    within,
    statement(sqlText) {
      let st = statements.get(sqlText);
      if (!st) statements.set(sqlText, (st = conn.prepare(sqlText).raw(true)));
      return st;
    },
    close: () => conn.close(),
  };
}

/** The PostgreSQL driver, loaded when a PostgreSQL store is opened: a SQLite process never loads it. */
async function loadPg(): Promise<typeof pg> {
  return (await import("pg")).default;
}

/**
 * Opens PostgreSQL at `url` (postgres://…) and brings its schema up to date: the same Kysely code and
 * migrations as SQLite. Several Triage nodes can share it.
 */
export async function openPostgresStore(url: string, poolSize = 10, limits: QueryLimitOptions = {}): Promise<Store> {
  const queryTimeoutMs = limits.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  const pg = await loadPg();
  // Idle connections never keep the process alive (allowExitOnIdle): a command, or a server that
  // refuses to start, exits when its work is done, though the feed sequencer's sweep uses the pool
  // every second (which would otherwise keep an idle connection from ever timing out).
  const pool = new pg.Pool({ connectionString: url, max: poolSize, allowExitOnIdle: true });
  // An idle connection the server closes (restart, failover, an administrator) must not take the
  // process down: the pool drops it and opens a new one when needed.
  pool.on("error", () => undefined);
  // The reads run on connections of their own whose every statement has the time limit; writes and
  // migrations keep theirs without one (a migration on a large table may take minutes). Set on a
  // connection's first use rather than as a startup parameter, which poolers such as PgBouncer refuse.
  const readPool = new pg.Pool({ connectionString: url, max: poolSize, allowExitOnIdle: true });
  readPool.on("error", () => undefined);
  const limited = new WeakSet<pg.PoolClient>();
  const observed = new Observed();
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparing(pool) }), log: observed.log });
  await migrate(db);
  // Rows a node left unnumbered when it stopped are numbered now, and then on a timer.
  const stopSequencer = await startFeedSequencer(db);
  // Named statements are parsed and planned once per connection, not on every request.
  const named = (sqlText: string, parameters: readonly unknown[]) => ({
    name: statementName(sqlText),
    text: sqlText,
    values: [...parameters],
    rowMode: "array" as const,
  });
  const bounded = async (sqlText: string, parameters: readonly unknown[], timeoutMs: number): Promise<unknown[][]> => {
    const client = await readPool.connect();
    let transaction = false;
    let broken: Error | undefined;
    try {
      if (!limited.has(client)) {
        await client.query(`set statement_timeout = ${Math.trunc(queryTimeoutMs)}`);
        limited.add(client);
      }
      if (timeoutMs === queryTimeoutMs) return (await client.query<unknown[]>(named(sqlText, parameters))).rows;
      // SET LOCAL ends with the transaction: the connection goes back with the pool's limit.
      transaction = true;
      await client.query("begin read only");
      await client.query(`set local statement_timeout = ${Math.trunc(timeoutMs)}`);
      const rows = (await client.query<unknown[]>(named(sqlText, parameters))).rows;
      transaction = false;
      await client.query("commit");
      return rows;
    } catch (e) {
      const fromServer = typeof (e as { severity?: unknown }).severity === "string";
      if (transaction && fromServer) await client.query("rollback").catch(() => undefined);
      // A connection that failed (rather than its statement) is dropped, not reused.
      if (!fromServer) broken = e as Error;
      // query_canceled: the statement reached statement_timeout.
      if ((e as { code?: string }).code === "57014") throw queryTimedOut(timeoutMs);
      throw e;
    } finally {
      client.release(broken);
    }
  };
  return spanned({
    db,
    dialect: "postgres",
    json: postgresJson,
    arrays: (query, parameters) => observed.time("read", () => bounded(query.sql, parameters, queryTimeoutMs)),
    bounded: (sqlText, parameters, { timeoutMs = queryTimeoutMs }) => observed.time("bounded", () => bounded(sqlText, parameters, timeoutMs)),
    queryTimeoutMs,
    listen: (channel, fn) => listenOn(url, channel, fn),
    observe: (observer) => {
      observed.observer = observer;
    },
    pools: () => [
      { pool: "postgres_write", total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount },
      { pool: "postgres_read", total: readPool.totalCount, idle: readPool.idleCount, waiting: readPool.waitingCount },
    ],
    close: async () => {
      // A command that loaded alerts and exits leaves its tenant's statistics refreshed.
      await plannerStatisticsSettled(db);
      await stopSequencer();
      await readPool.end();
      await db.destroy();
    },
  });
}

/**
 * The store with a span around each read (hot and bounded) while tracing is on; the builder's
 * statements are covered by their transaction's span (transaction.ts).
 */
function spanned(store: Store): Store {
  const { arrays, bounded } = store;
  const system = store.dialect === "postgres" ? "postgresql" : "sqlite";
  return {
    ...store,
    arrays: (query, parameters) =>
      tracingOn()
        ? traced("store.read", { "db.system.name": system, "triage.store.path": "read" }, () => arrays(query, parameters))
        : arrays(query, parameters),
    bounded: (sqlText, parameters, options) =>
      tracingOn()
        ? traced("store.query", { "db.system.name": system, "triage.store.path": "bounded" }, async (span) => {
            const rows = await bounded(sqlText, parameters, options);
            span?.set({ "db.response.returned_rows": rows.length });
            return rows;
          })
        : bounded(sqlText, parameters, options),
  };
}

/** A dedicated connection LISTENing on a channel, reconnected a second after it drops. */
async function listenOn(url: string, channel: string, fn: (payload: string) => void): Promise<() => Promise<void>> {
  const pg = await loadPg();
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    c.on("notification", (n) => {
      if (n.channel === channel) fn(n.payload ?? "");
    });
    c.on("error", () => {
      c.end().catch(() => undefined);
      if (!stopped) retry = setTimeout(() => void connect().catch(() => undefined), 1000);
    });
    await c.connect();
    await c.query(`listen ${pg.escapeIdentifier(channel)}`);
    client = c;
    // A reconnection may have missed notifications: tell the listener to look.
    fn("");
  };
  await connect();
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    await client?.end().catch(() => undefined);
  };
}

const statementNames = new LRUCache<string, string>({ max: 1000 });

/** The most parameters a builder statement may have to be prepared: beyond, its shapes are many (multi-row inserts, IN lists). */
const MAX_PREPARED_PARAMETERS = 32;
/** The longest builder statement that is prepared. */
const MAX_PREPARED_SQL = 4096;

/**
 * The pool Kysely runs its statements on (writes, transactions, the reads outside the hot paths), with
 * each query of a bounded shape sent as a named statement: PostgreSQL parses and plans it once per
 * connection instead of on every execution, which was most of the database's work in a PATCH. Only
 * SELECT, INSERT, UPDATE, DELETE and WITH statements with few parameters are named — their shapes are
 * fixed by the code, so each connection holds a bounded number — and never DDL (migrations) or
 * transaction control. A statement that fails to parse is not remembered, and is parsed again next time.
 */
function preparing(pool: pg.Pool): PostgresPool {
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const preparable = (text: string, values: readonly unknown[]) =>
    values.length <= MAX_PREPARED_PARAMETERS && text.length <= MAX_PREPARED_SQL && /^\s*(select|insert|update|delete|with)\b/i.test(text);
  return {
    connect: async () => {
      const client = await pool.connect();
      let out = wrapped.get(client);
      if (!out) {
        const query = (text: unknown, values?: readonly unknown[]): unknown => {
          if (typeof text === "string" && values && preparable(text, values)) return client.query({ name: statementName(text), text, values: [...values] });
          return (client.query as (t: unknown, v?: unknown) => unknown)(text, values);
        };
        out = { query, release: (destroy?: boolean) => client.release(destroy) } as PostgresPoolClient;
        wrapped.set(client, out);
      }
      return out;
    },
    end: () => pool.end(),
  };
}

/** A prepared statement's name on PostgreSQL: the same SQL text, the same name, on every connection. */
function statementName(sqlText: string): string {
  let name = statementNames.get(sqlText);
  if (!name) statementNames.set(sqlText, (name = `triage_${createHash("sha256").update(sqlText).digest("hex").slice(0, 24)}`));
  return name;
}

/** A postgres:// URL opens PostgreSQL; anything else is a SQLite file path. */
export function openStore(location: string, limits: QueryLimitOptions = {}): Promise<Store> {
  return /^postgres(ql)?:\/\//i.test(location) ? openPostgresStore(location, undefined, limits) : openSqliteStore(location, limits);
}

/**
 * Kysely's SQLite driver prepares every query anew, which costs more than running it; the same SQL
 * text gets the same prepared statement back. The cache is bounded by the total length of the SQL it
 * holds, not only by count: ingestion's multi-row inserts and IN lists come in many lengths, and a
 * thousand prepared 200-row inserts held hundreds of megabytes.
 */
function cacheStatements(native: SQLite.Database, maxSqlChars: number): void {
  const prepare = native.prepare.bind(native);
  const cache = new LRUCache<string, SQLite.Statement>({ max: 1000, maxSize: maxSqlChars, sizeCalculation: (_, source) => source.length });
  native.prepare = ((source: string) => {
    let stmt = cache.get(source);
    if (!stmt) {
      stmt = prepare(source);
      if (source.length <= maxSqlChars / 4) cache.set(source, stmt);
    }
    return stmt;
  }) as SQLite.Database["prepare"];
}

export async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error || failed) {
    // The cause keeps the driver's error code (a missing database, a refused connection) for the caller.
    throw new Error(`Migration ${failed?.migrationName ?? ""} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
