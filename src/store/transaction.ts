/**
 * The store's transactions, as the floors above see them. A feature reads, applies a rule and writes
 * within one transaction; it opens it here and hands the transaction back to store functions, never
 * touching the query builder itself (only the store speaks SQL).
 */
import type { Kysely, Transaction } from "kysely";
import type { Database } from "./tables.js";

/** The database a feature is given (the `db` of an open store). */
export type StoreDb = Kysely<Database>;
/** An open transaction: passed from a feature to the store functions it calls. */
export type StoreTx = Transaction<Database>;

/** Runs `fn` in one transaction: everything it writes commits together, or nothing does. */
export function inTransaction<T>(db: StoreDb, fn: (tx: StoreTx) => Promise<T>): Promise<T> {
  return db.transaction().execute(fn);
}
