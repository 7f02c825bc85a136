import type { Kysely } from "kysely";

/**
 * The readiness probe's write: each node upserts its row, so "the store accepts writes" is checked
 * by a real committed write, on a table whose size is the number of nodes.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("heartbeats")
    .addColumn("node", "text", (c) => c.primaryKey())
    .addColumn("beat_at", "text", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("heartbeats").execute();
}
