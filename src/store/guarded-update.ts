import { sql, type Transaction } from "kysely";
import type { Database } from "./tables.js";
import { changedColumns } from "./columns.js";
import { isPostgres } from "./dialect.js";
import { chunks } from "./chunks.js";
import { quoted } from "./insert-rows.js";
import { GraphError } from "../errors/graph-error.js";
import { noteChange } from "./feed.js";
import { runText, statementText } from "./statement-text.js";

/** A row written under a version guard. */
export interface Versioned {
  tenant_id: string;
  id: string | number;
  version: number;
}

/**
 * Writes the columns of `after` that differ from `before`, only if the row is still at the version it
 * was read at: a concurrent writer that got there first makes this throw, and its transaction roll back.
 */
export async function updateGuarded<T extends Versioned>(trx: Transaction<Database>, table: "incidents" | "alerts", before: T, after: T): Promise<void> {
  const { columns, values } = changedValues(before, after);
  const params: unknown[] = [...values];
  params.push(before.tenant_id, before.id, before.version);
  const res = await runText(trx, updateText(isPostgres(trx), table, columns), params);
  if (res.changes !== 1) throw concurrentUpdate(table, before.id);
  noteChange(trx, before.tenant_id, table === "incidents" ? "incident" : "alert", before.id, "updated");
}

/** The columns of `after` that differ from `before`, and their new values, in one order. */
export function changedValues<T extends Versioned>(before: T, after: T): { columns: string[]; values: unknown[] } {
  const changed = changedColumns(before, after) as Record<string, unknown>;
  const columns = Object.keys(changed).filter((c) => changed[c] !== undefined);
  return { columns, values: columns.map((c) => changed[c]) };
}

/**
 * The guarded UPDATE of these columns, written once per table and column list rather than built and
 * compiled by the query builder per row (ingestion updates an incident per alert it joins).
 */
function updateText(postgres: boolean, table: string, columns: readonly string[]): string {
  return statementText(`update|${postgres ? "pg" : "sqlite"}|${table}|${columns.join(",")}`, () => {
    let n = 0;
    const param = () => (postgres ? `$${++n}` : "?");
    const set = columns.length ? columns.map((c) => `${quoted(c)} = ${param()}`).join(", ") : `"version" = "version"`;
    return `update ${quoted(table)} set ${set} where "tenant_id" = ${param()} and "id" = ${param()} and "version" = ${param()}`;
  });
}

/** Rows per batched UPDATE: each carries its id, version and changed columns as parameters. */
const ROWS_PER_UPDATE = 100;

/** Each table's column types on PostgreSQL, to type the parameters of a VALUES list (read once). */
const columnTypes = new Map<string, Promise<Map<string, string>>>();

function typesOf(trx: Transaction<Database>, table: "incidents" | "alerts"): Promise<Map<string, string>> {
  let types = columnTypes.get(table);
  if (!types) {
    types = sql<{ name: string; type: string }>`select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
      where attrelid = ${table}::regclass and attnum > 0 and not attisdropped`
      .execute(trx)
      .then((r) => new Map(r.rows.map((c) => [c.name, c.type])));
    types.catch(() => columnTypes.delete(table));
    columnTypes.set(table, types);
  }
  return types;
}

/**
 * `updateGuarded` for many rows of one tenant. On PostgreSQL, one statement per hundred rows
 * (`UPDATE … FROM (VALUES …)`, every column any of them changed, each row guarded by its version),
 * instead of a round trip per row; on SQLite, where a statement costs no round trip, row by row.
 */
export async function updateGuardedMany<T extends Versioned>(
  trx: Transaction<Database>,
  table: "incidents" | "alerts",
  pairs: readonly [T, T][],
): Promise<void> {
  if (!isPostgres(trx) || pairs.length < 2) {
    for (const [before, after] of pairs) await updateGuarded(trx, table, before, after);
    return;
  }
  const types = await typesOf(trx, table);
  const type = (c: string) => sql.raw(types.get(c) ?? "text");
  for (const part of chunks(pairs, ROWS_PER_UPDATE)) {
    const cols = [...new Set(part.flatMap(([before, after]) => Object.keys(changedColumns(before, after))))].filter((c) => c !== "tenant_id" && c !== "id");
    const tenantId = part[0]![0].tenant_id;
    const rows = part.map(([before, after]) => {
      const values = cols.map((c) => sql`cast(${(after as Record<string, unknown>)[c] ?? null} as ${type(c)})`);
      return sql`(cast(${before.id} as ${type("id")}), cast(${before.version} as integer)${values.length ? sql`, ${sql.join(values)}` : sql``})`;
    });
    const names = cols.map((c) => sql.ref(c));
    const set = cols.length ? sql.join(cols.map((c) => sql`${sql.ref(c)} = v.${sql.ref(c)}`)) : sql`version = t.version`;
    const res = await sql<{ id: string | number }>`update ${sql.table(table)} as t set ${set}
      from (values ${sql.join(rows)}) as v(id, old_version${names.length ? sql`, ${sql.join(names)}` : sql``})
      where t.tenant_id = ${tenantId} and t.id = v.id and t.version = v.old_version returning t.id`.execute(trx);
    if (res.rows.length !== part.length) {
      const written = new Set(res.rows.map((r) => String(r.id)));
      throw concurrentUpdate(table, part.find(([before]) => !written.has(String(before.id)))![0].id);
    }
    for (const [before] of part) noteChange(trx, before.tenant_id, table === "incidents" ? "incident" : "alert", before.id, "updated");
  }
}

/**
 * The answer when another writer changed the row between this request's read and its write. Nothing
 * of this request was written (its transaction rolls back), so it is safe to send again: a Graph 409
 * says so, rather than a 500 that reads as a fault of the service.
 */
export function concurrentUpdate(table: "incidents" | "alerts", id: string | number): GraphError {
  const what = table === "incidents" ? `The incident '${String(id)}'` : `The alert '${String(id)}'`;
  return new GraphError(
    409,
    "Conflict",
    `${what} was changed by another request while this one was being processed; nothing was written. Send the request again.`,
  );
}
