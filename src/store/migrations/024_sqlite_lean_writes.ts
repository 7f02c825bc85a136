import { sql, type Kysely } from "kysely";
import { isPostgres } from "../dialect.js";

/**
 * SQLite: two tables that every write transaction appends to are rebuilt so that a commit writes fewer
 * pages (measured on the bench's store: 13.6 pages of WAL per incident PATCH before, 11.8 after).
 *
 * - `change_feed` becomes a WITHOUT ROWID table clustered on its key (tenant, seq): each row was stored
 *   twice, in the table and in the key's index, and every write dirtied a page of each.
 * - `audit_log` keeps `seq` as its row id without AUTOINCREMENT, which wrote the table's row of
 *   `sqlite_sequence` on every insert. Numbers still only grow as rows are added (a new row takes the
 *   largest plus one); what AUTOINCREMENT added is that a number whose row was deleted is never
 *   handed out again, and audit rows are deleted only where an import replaces an entity's history
 *   with its file's, where a reader's position in the history replaced means nothing anyway.
 *
 * Each table is created anew from its own stored definition (so the columns later migrations added
 * come along), filled, and put in the old one's place with its indexes. PostgreSQL stores every table
 * apart from its indexes and numbers audit rows with a sequence: nothing changes there.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (isPostgres(db)) return;
  await rebuild(db, "change_feed", (create) => `${create} without rowid`);
  await rebuild(db, "audit_log", (create) => create.replace(/ autoincrement/i, ""));
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (isPostgres(db)) return;
  await rebuild(db, "change_feed", (create) => create.replace(/\s+without rowid\s*$/i, ""));
  await rebuild(db, "audit_log", (create) => create.replace(/"seq" integer primary key(?! autoincrement)/i, '"seq" integer primary key autoincrement'));
}

/** Replaces `table` with one created by its definition as `change` rewrites it, with the same rows and indexes. */
async function rebuild(db: Kysely<unknown>, table: string, change: (create: string) => string): Promise<void> {
  const defs = (await sql<{ type: string; name: string; sql: string | null }>`select type, name, sql from sqlite_master where tbl_name = ${table}`.execute(db))
    .rows;
  const create = defs.find((d) => d.type === "table")?.sql;
  if (!create) throw new Error(`migration 024: no table ${table}`);
  const columns = (await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(db)).rows.map((c) => `"${c.name}"`).join(", ");
  const next = `${table}_rebuilt`;
  const changed = change(create);
  if (changed === create) throw new Error(`migration 024: the definition of ${table} is not the one expected`);
  await sql.raw(changed.replace(new RegExp(`^CREATE TABLE "?${table}"?`, "i"), `CREATE TABLE "${next}"`)).execute(db);
  await sql.raw(`insert into "${next}" (${columns}) select ${columns} from "${table}"`).execute(db);
  await sql.raw(`drop table "${table}"`).execute(db);
  await sql.raw(`alter table "${next}" rename to "${table}"`).execute(db);
  // Automatic indexes (the key's) come with the definition; the others are created again.
  for (const d of defs) if (d.type === "index" && d.sql) await sql.raw(d.sql).execute(db);
}
