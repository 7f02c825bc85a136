import type { Kysely } from "kysely";

/**
 * The change feed and the subscriptions that read it. Every committed change to an incident or an alert
 * is one `change_feed` row, numbered per tenant by `feed_counters` in commit order (the counter row is
 * the last thing a writing transaction updates, so numbers are handed out in the order transactions
 * commit). A subscription keeps the feed position its receiver has acknowledged (`cursor`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("feed_counters")
    .addColumn("tenant_id", "text", (c) => c.primaryKey())
    .addColumn("last_seq", "integer", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("change_feed")
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("entity_type", "text", (c) => c.notNull())
    .addColumn("entity_id", "text", (c) => c.notNull())
    .addColumn("change_type", "text", (c) => c.notNull())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("change_feed_pk", ["tenant_id", "seq"])
    .execute();

  await db.schema
    .createTable("subscriptions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("app_id", "text", (c) => c.notNull())
    .addColumn("creator_id", "text", (c) => c.notNull())
    .addColumn("resource", "text", (c) => c.notNull())
    .addColumn("entity_type", "text", (c) => c.notNull())
    .addColumn("entity_id", "text")
    .addColumn("filter", "text")
    .addColumn("change_types", "text", (c) => c.notNull())
    .addColumn("notification_url", "text", (c) => c.notNull())
    .addColumn("lifecycle_url", "text")
    .addColumn("client_state", "text")
    .addColumn("tls_version", "text", (c) => c.notNull())
    .addColumn("api_version", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("cursor", "integer", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("failing_since", "text")
    .addColumn("next_attempt_at", "text", (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", "text")
    .execute();
  await db.schema.createIndex("subscriptions_app").on("subscriptions").columns(["tenant_id", "app_id", "id"]).execute();
  await db.schema.createIndex("subscriptions_due").on("subscriptions").columns(["next_attempt_at"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ["subscriptions", "change_feed", "feed_counters"]) await db.schema.dropTable(t).execute();
}
