import { PostgresAdapter, sql, type ColumnDataType, type Expression, type Kysely, type Transaction } from "kysely";

type DataTypeExpression = ColumnDataType | Expression<unknown>;

/** Whether a Kysely instance (or transaction) talks to PostgreSQL rather than SQLite. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any database schema
export function isPostgres(db: Kysely<any> | Transaction<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * Text columns that are sorted: PostgreSQL compares them byte by byte like SQLite (the "C"
 * collation), so both stores list in the same order.
 */
export function sortedText(db: Kysely<unknown>): DataTypeExpression {
  return isPostgres(db) ? sql`text collate "C"` : "text";
}

/** An auto-incrementing integer key. */
export function serialKey(db: Kysely<unknown>): DataTypeExpression {
  return isPostgres(db) ? "serial" : "integer";
}
