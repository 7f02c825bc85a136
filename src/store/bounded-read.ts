import type { CompiledQuery } from "kysely";
import type { Store } from "./open.js";

/**
 * Reads whose cost the caller does not control — a client's `$filter`, `$count`, `$skip`, and the
 * hunting queries to come — run through here: each statement within a time limit (504 GatewayTimeout
 * when it is reached, see errors/graph-error.ts `queryTimedOut`), and on SQLite on a worker thread, so that
 * one expensive query cannot hold up every other request.
 */

/** A statement running longer than this is stopped. Long enough for any indexed page or count of a large store. */
export const DEFAULT_QUERY_TIMEOUT_MS = 5000;
/** SQLite: worker threads for bounded reads, each with its own read-only connection. */
export const DEFAULT_READ_WORKERS = 2;
/** SQLite: bounded reads allowed to wait for a worker before more are refused with 503. */
export const DEFAULT_MAX_QUEUED_READS = 100;

export interface QueryLimitOptions {
  /** Time limit per statement, in milliseconds (default DEFAULT_QUERY_TIMEOUT_MS). */
  queryTimeoutMs?: number | undefined;
  /** SQLite: worker threads for bounded reads (default DEFAULT_READ_WORKERS; 0 runs them on the event loop, still time-limited). */
  readWorkers?: number | undefined;
  /** SQLite: bounded reads allowed to wait for a worker (default DEFAULT_MAX_QUEUED_READS). */
  maxQueuedReads?: number | undefined;
  /** SQLite: the write connection's page cache in MiB (default DEFAULT_SQLITE_CACHE_MB). */
  sqliteCacheMb?: number | undefined;
}

/**
 * SQLite: the write connection's page cache, in MiB. The driver builds SQLite with 16 MB (SQLite's own
 * default is 2 MiB). Measured with the benchmark's ingestion at 10k on a store whose freed pages are
 * scattered, alternating runs: 2 MiB 1,260–1,280 alerts/s (11 requests per CPU-second), 8 MiB
 * 1,710–1,910 (15–17), 16 MiB 1,720–1,750, 32 and 64 MiB no better; one ingestion batch of 100 alerts
 * touches more pages than 2 MiB hold (the alerts' rows and their 14 indexes, the entity sightings,
 * incidents, change feed and audit rows). 8 MiB keeps the speed for half the memory.
 */
export const DEFAULT_SQLITE_CACHE_MB = 8;

export interface BoundedReadOptions {
  /** This statement's time limit; the store's default when absent. */
  timeoutMs?: number | undefined;
  /**
   * The caller knows the statement is cheap (an indexed page, no filter): on SQLite it runs on the
   * event loop, where a round trip to a worker would cost more than the statement itself. It keeps
   * its time limit.
   */
  cheap?: boolean;
}

/** A compiled statement, or SQL text with `?` (SQLite) or `$n` (PostgreSQL) placeholders. */
export type ReadStatement = CompiledQuery | { sql: string };

/**
 * Runs one read-only statement within a time limit and returns its rows as arrays of column values,
 * in select-list order. Throws a GraphError: 504 at the time limit, 503 when too many are waiting.
 */
export function runBoundedRead(store: Store, statement: ReadStatement, parameters: readonly unknown[], options: BoundedReadOptions = {}): Promise<unknown[][]> {
  return store.bounded(statement.sql, parameters, options);
}
