import { CompiledQuery, type Kysely } from "kysely";
import { LRUCache } from "lru-cache";
import type { Database } from "./tables.js";

/**
 * Statements that run in every write, written as SQL text kept once built rather than built with
 * Kysely's builders and compiled on each call: for a PATCH's small statements, building and compiling
 * cost about as much CPU as SQLite running them; ingestion's multi-row inserts and guarded updates
 * (insert-rows.ts, guarded-update.ts) keep theirs here too. The text may depend only on the key, never
 * on a value: values are always bound parameters. One cache for all of them, bounded by the number of
 * texts and by their length (a 100-row insert's text is some kilobytes).
 */
const texts = new LRUCache<string, string>({ max: 1_500, maxSize: 3_000_000, sizeCalculation: (text) => text.length });

export function statementText(key: string, build: () => string): string {
  let text = texts.get(key);
  if (text === undefined) texts.set(key, (text = build()));
  return text;
}

/** `count` parameter placeholders, comma-separated, numbered from `from` on PostgreSQL. */
export function placeholders(postgres: boolean, count: number, from = 1): string {
  return Array.from({ length: count }, (_, i) => (postgres ? `$${from + i}` : "?")).join(", ");
}

/** One statement run on SQLite's connection as it is called (better-sqlite3 is synchronous). */
export type DirectRun = (text: string, parameters: readonly unknown[]) => { rows: unknown[]; changes: number };

/** Each SQLite store's direct runner (registered as it opens), and the holders it is lent to. */
const runners = new WeakMap<object, DirectRun>();
const lent = new WeakMap<object, DirectRun>();

export function registerDirectRun(db: Kysely<Database>, run: DirectRun): void {
  runners.set(db, run);
}

/**
 * Lends the store's direct runner to `holder` — a transaction, or a connection, that holds SQLite's
 * one connection for as long as it is lent (Kysely makes every other statement wait for it) — and
 * returns what ends the loan. Only while it holds the connection may a statement skip Kysely: run
 * directly at any other time, it could land inside another caller's open transaction.
 */
export function lendDirectRun(db: Kysely<Database>, holder: object): () => void {
  const run = runners.get(db);
  if (!run) return () => {};
  lent.set(holder, run);
  return () => lent.delete(holder);
}

/**
 * Runs a statement given as SQL text with its parameters: directly on SQLite's connection when `db`
 * holds it (a transaction of `inTransaction`), which spares Kysely's asynchronous path — several
 * promise hops and a lock per statement — and through Kysely otherwise (PostgreSQL, or a store handle
 * that holds no connection).
 */
export async function runText<R>(db: Kysely<Database>, text: string, parameters: readonly unknown[]): Promise<{ rows: R[]; changes: number }> {
  const run = lent.get(db);
  if (run) return run(text, parameters) as { rows: R[]; changes: number };
  const res = await db.executeQuery<R>(CompiledQuery.raw(text, [...parameters]));
  return { rows: res.rows, changes: Number(res.numAffectedRows ?? 0) };
}
