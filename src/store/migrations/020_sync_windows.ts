import type { Kysely } from "kysely";

/**
 * `triage sync`: how far each collection of a source tenant has been copied into a Triage tenant. The
 * window (domain/sync-window.ts) is written in the transaction that writes the page it follows, so a
 * sync that is interrupted resumes after the last page that committed and never skips one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("sync_windows")
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("collection", "text", (c) => c.notNull())
    .addColumn("since", "text")
    .addColumn("taken_at_since", "text", (c) => c.notNull())
    .addColumn("pages", "integer", (c) => c.notNull())
    .addColumn("records", "integer", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("sync_windows_pk", ["tenant_id", "source", "collection"])
    .execute();
}
