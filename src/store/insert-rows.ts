import type { Kysely, Transaction } from "kysely";
import type { Database } from "./tables.js";
import { isPostgres } from "./dialect.js";
import { chunks } from "./chunks.js";
import { runText, statementText } from "./statement-text.js";

/**
 * Multi-row INSERTs written as SQL text rather than built with Kysely. Kysely turns every value of
 * every row into a node of a tree and compiles the tree, each time: for ingestion's inserts (hundreds
 * of rows of up to two dozen columns) that was about 4 % of the event loop under load. The rows of
 * one insert have the same columns, so its text depends only on the table, the columns and the
 * number of rows, and is kept (statement-text.ts). Rows whose columns differ,
 * or with an undefined value (which Kysely leaves to the column's default), go through Kysely.
 */
export async function insertRows(trx: Transaction<Database>, table: keyof Database & string, rows: readonly object[], perStatement: number): Promise<void> {
  for (const part of chunks(rows, perStatement)) {
    const columns = sameColumns(part);
    if (columns === null) {
      await trx
        .insertInto(table)
        .values(part as never)
        .execute();
      continue;
    }
    await runText(trx, insertText(isPostgres(trx), table, columns, part.length), paramsOf(part, columns));
  }
}

/**
 * `insertRows` for rows that may already be stored: `conflict` is the statement's ON CONFLICT clause,
 * the same SQL on both stores. Every row must have the same columns, none undefined.
 */
export async function upsertRows(
  trx: Kysely<Database> | Transaction<Database>,
  table: keyof Database & string,
  rows: readonly object[],
  perStatement: number,
  conflict: string,
): Promise<void> {
  for (const part of chunks(rows, perStatement)) {
    const columns = sameColumns(part);
    if (columns === null) throw new Error(`upsertRows: the rows of ${table} must have the same columns, none undefined`);
    const text = `${insertText(isPostgres(trx), table, columns, part.length)} ${conflict}`;
    await runText(trx, text, paramsOf(part, columns));
  }
}

function paramsOf(rows: readonly object[], columns: readonly string[]): unknown[] {
  const params: unknown[] = [];
  for (const row of rows) for (const c of columns) params.push((row as Record<string, unknown>)[c]);
  return params;
}

/** The columns every row has, in the first row's order, with no undefined value; null when they differ. */
function sameColumns(rows: readonly object[]): string[] | null {
  const first = rows[0];
  if (first === undefined) return null;
  const columns = Object.keys(first);
  for (const row of rows) {
    const r = row as Record<string, unknown>;
    if (Object.keys(r).length !== columns.length) return null;
    for (const c of columns) if (r[c] === undefined) return null;
  }
  return columns;
}

function insertText(postgres: boolean, table: string, columns: readonly string[], rows: number): string {
  return statementText(`insert|${postgres ? "pg" : "sqlite"}|${table}|${columns.join(",")}|${rows}`, () => {
    const tuples: string[] = [];
    let n = 0;
    for (let r = 0; r < rows; r++) tuples.push(`(${columns.map(() => (postgres ? `$${++n}` : "?")).join(", ")})`);
    return `insert into ${quoted(table)} (${columns.map(quoted).join(", ")}) values ${tuples.join(", ")}`;
  });
}

/** A table or column name as an SQL identifier, on both stores. */
export function quoted(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
