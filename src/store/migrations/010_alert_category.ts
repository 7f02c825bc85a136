import { sql, type Kysely } from "kysely";
import { isPostgres } from "../dialect.js";

/**
 * Advanced hunting reads the alerts' typed columns rather than their documents: the alert's category
 * (AlertInfo's Category) gets a column of its own, filled here from the documents of the alerts already
 * stored and from then on by the alert row mapping (alert-rows.ts, through the schema's column mapping),
 * and one index serves every hunting table read: the tenant and the query window (Timestamp) lead, and
 * the alert columns the hunting tables show follow, so that AlertInfo queries are answered from the index
 * without reading the ~5 KB rows.
 *
 * On PostgreSQL the window is compared in the "C" collation, as hunting compares every string (the
 * index column says so to be usable), and only the fixed-size columns are carried in the index: an index
 * entry is limited to about 2.7 kB, and a title or category may be longer.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("alerts").addColumn("category", "text").execute();
  if (isPostgres(db)) {
    await sql`update alerts set category = doc::json ->> 'category' where doc::json ->> 'category' is not null`.execute(db);
    await sql`create index alerts_hunting on alerts (tenant_id, created_at collate "C") include (id, severity, service_source, detection_source)`.execute(db);
  } else {
    await sql`update alerts set category = json_extract(doc, '$.category') where json_extract(doc, '$.category') is not null`.execute(db);
    await db.schema
      .createIndex("alerts_hunting")
      .on("alerts")
      .columns(["tenant_id", "created_at", "severity", "service_source", "detection_source", "category", "title", "id"])
      .execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("alerts_hunting").execute();
  await db.schema.alterTable("alerts").dropColumn("category").execute();
}
