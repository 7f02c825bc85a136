import { sql, type Kysely } from "kysely";
import { isPostgres } from "../dialect.js";

/**
 * On PostgreSQL, an alert's document (about 5 KB of JSON, which PostgreSQL compresses and stores out
 * of line) is compressed with LZ4 instead of the default pglz. Compressing the bench's alert documents
 * took about 26 µs each with LZ4 against 77 µs with pglz (pglz was the costliest function of the
 * database's own CPU under ingestion, about a tenth of it), and reading them back a quarter less, for
 * about 4 % more space (docs/benchmarks.md, "PostgreSQL's compression of alert documents").
 *
 * Only the column's setting changes (no table rewrite): documents written from now on use LZ4, those
 * already stored keep pglz until they are written again, and PostgreSQL reads both. A server built
 * without LZ4 keeps pglz. SQLite does not compress its rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db) || !(await lz4Available(db))) return;
  await sql`alter table alerts alter column doc set compression lz4`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`alter table alerts alter column doc set compression default`.execute(db);
}

/** Whether the server was built with LZ4 (it is then one of default_toast_compression's choices). */
export async function lz4Available(db: Kysely<unknown>): Promise<boolean> {
  const { rows } = await sql<{ lz4: boolean }>`select 'lz4' = any(enumvals) as lz4 from pg_settings where name = 'default_toast_compression'`.execute(db);
  return rows[0]?.lz4 === true;
}
