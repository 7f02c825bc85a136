/** `triage sync`'s windows (migration 020): read before a page, written in the page's own transaction. */
import type { Kysely } from "kysely";
import type { Database } from "./tables.js";

export interface StoredSyncWindow {
  since: string | null;
  takenAtSince: string[];
  pages: number;
  records: number;
  updatedAt: string | null;
}

export async function readSyncWindow(db: Kysely<Database>, tenantId: string, source: string, collection: string): Promise<StoredSyncWindow> {
  const row = await db
    .selectFrom("sync_windows")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("source", "=", source)
    .where("collection", "=", collection)
    .executeTakeFirst();
  if (!row) return { since: null, takenAtSince: [], pages: 0, records: 0, updatedAt: null };
  return { since: row.since, takenAtSince: JSON.parse(row.taken_at_since) as string[], pages: row.pages, records: row.records, updatedAt: row.updated_at };
}

/** Records a page taken: the window moves and the counters grow. Run it in the transaction that wrote the page. */
export async function writeSyncWindow(
  db: Kysely<Database>,
  tenantId: string,
  source: string,
  collection: string,
  window: { since: string | null; takenAtSince: string[] },
  taken: { pages: number; records: number },
): Promise<void> {
  const updated_at = new Date().toISOString();
  const values = {
    since: window.since,
    taken_at_since: JSON.stringify(window.takenAtSince),
    updated_at,
  };
  await db
    .insertInto("sync_windows")
    .values({ tenant_id: tenantId, source, collection, ...values, pages: taken.pages, records: taken.records })
    .onConflict((oc) =>
      oc.columns(["tenant_id", "source", "collection"]).doUpdateSet((eb) => ({
        ...values,
        pages: eb("sync_windows.pages", "+", taken.pages),
        records: eb("sync_windows.records", "+", taken.records),
      })),
    )
    .execute();
}

/** The windows of a tenant, for `triage sync --status`. */
export async function listSyncWindows(db: Kysely<Database>, tenantId: string) {
  return db.selectFrom("sync_windows").selectAll().where("tenant_id", "=", tenantId).orderBy("source").orderBy("collection").execute();
}
