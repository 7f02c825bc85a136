/**
 * The store's transactions, as the floors above see them. A feature reads, applies a rule and writes
 * within one transaction; it opens it here and hands the transaction back to store functions, never
 * touching the query builder itself (only the store speaks SQL).
 */
import { sql, type Kysely, type Transaction } from "kysely";
import type { Database } from "./tables.js";
import { announceCommit, feedMark, feedRewind, flushFeed } from "./feed.js";
import { numberFeed } from "./feed-sequencer.js";
import { isPostgres } from "./dialect.js";
import { traced } from "./trace.js";
import { walSyncOf } from "./wal-sync.js";
import { refreshPlannerStatistics, statisticsDueAfter } from "./planner-statistics.js";
import { lendDirectRun } from "./statement-text.js";

/** The database a feature is given (the `db` of an open store). */
export type StoreDb = Kysely<Database>;
/** An open transaction: passed from a feature to the store functions it calls. */
export type StoreTx = Transaction<Database>;

/**
 * Runs `fn` in one transaction: everything it writes commits together, or nothing does. The change
 * feed's rows for the incidents and alerts it wrote are its last statements (feed.ts); on PostgreSQL
 * they are numbered once it has committed, before this resolves (feed-sequencer.ts). On a durable
 * SQLite store the commit does not hold the event loop while it reaches the disk (wal-sync.ts); it
 * resolves, and the change is announced, once it has. A transaction whose new alerts take a tenant
 * past a mark starts a refresh of PostgreSQL's planner statistics once it has committed
 * (planner-statistics.ts).
 */
export function inTransaction<T>(db: StoreDb, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
  return traced("store.transaction", { "db.system.name": isPostgres(db) ? "postgresql" : "sqlite" }, async (span) => {
    let grown: Awaited<ReturnType<typeof flushFeed>> = { tenants: [], unnumbered: false };
    let analyze = false;
    const body = async (tx: StoreTx): Promise<T> => {
      // While the transaction holds SQLite's connection, statements given as text run on it directly.
      const endLoan = lendDirectRun(db, tx);
      try {
        const out = await fn(tx);
        grown = await flushFeed(tx);
        analyze = statisticsDueAfter(tx);
        return out;
      } finally {
        endLoan();
      }
    };
    const wal = walSyncOf(db);
    const result = wal ? await wal.commit(db, (conn) => conn.transaction().execute(body)) : await db.transaction().execute(body);
    span?.set({ "triage.feed.tenants": grown.tenants.length });
    // A tenant grown past a mark has its tables analyzed (PostgreSQL; planner-statistics.ts).
    if (analyze) refreshPlannerStatistics(db);
    // Rows left unnumbered (PostgreSQL) are numbered, and announced, by the sequencer's run.
    if (grown.unnumbered) await numberFeed(db);
    else if (grown.tenants.length) announceCommit(db, grown.tenants);
    return result;
  });
}

/**
 * Savepoints taken in each open transaction. Names are unique within a transaction (so savepoints
 * that do not nest cannot be confused) and repeat from one transaction to the next: each name is a
 * statement SQLite prepares and keeps, and names numbered across the process's life were prepared
 * once each, filling the statement cache with texts never used again and pushing out the ones in use.
 */
const savepoints = new WeakMap<object, number>();

/**
 * Runs `fn` inside the open transaction so that, if it throws, what it wrote is undone (rolled back to
 * a savepoint, its change-feed notes forgotten) while the transaction goes on; the error is rethrown.
 * If the store cannot roll back to the savepoint (SQLite has already undone the whole transaction
 * after a full disk or an I/O error), that error is thrown instead and the transaction fails as a whole.
 */
export async function withSavepoint<T>(tx: StoreTx, fn: () => Promise<T>): Promise<T> {
  const n = (savepoints.get(tx) ?? 0) + 1;
  savepoints.set(tx, n);
  const name = sql.raw(`triage_sp_${n}`);
  const mark = feedMark(tx);
  await sql`savepoint ${name}`.execute(tx);
  let out: T;
  try {
    out = await fn();
  } catch (e) {
    await sql`rollback to savepoint ${name}`.execute(tx);
    await sql`release savepoint ${name}`.execute(tx);
    feedRewind(tx, mark);
    throw e;
  }
  await sql`release savepoint ${name}`.execute(tx);
  return out;
}
