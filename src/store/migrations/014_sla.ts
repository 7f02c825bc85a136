import type { Kysely } from "kysely";

/**
 * SLAs (docs/sla.md). `sla_policies` holds each tenant's policy: per severity, the time to first action
 * and the time to resolve (a JSON document). `incident_slas` holds each incident's two clocks: when
 * they started, when they are due, when they stopped (the first person's action; the resolution) and
 * when a breach was recorded, all as milliseconds since 1970, and `next_due_ms`, the earliest due time
 * of a clock still running: the breach watch reads it through its index and sleeps until it.
 * `change_feed.by_person` marks changes a signed-in person made (they stop the first-action clock);
 * `change_feed.sla_breach` marks the feed record of a breach (`firstAction` or `resolve`), which
 * triggers automation rules.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("sla_policies")
    .addColumn("tenant_id", "text", (c) => c.primaryKey())
    .addColumn("definition", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("updated_by", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("incident_slas")
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("incident_id", "integer", (c) => c.notNull())
    .addColumn("severity", "text", (c) => c.notNull())
    .addColumn("started_ms", "bigint", (c) => c.notNull())
    .addColumn("first_action_due_ms", "bigint")
    .addColumn("first_action_ms", "bigint")
    .addColumn("first_action_by", "text")
    .addColumn("first_action_breached_ms", "bigint")
    .addColumn("resolve_due_ms", "bigint")
    .addColumn("closed_ms", "bigint")
    .addColumn("resolve_breached_ms", "bigint")
    .addColumn("next_due_ms", "bigint")
    .addPrimaryKeyConstraint("incident_slas_pk", ["tenant_id", "incident_id"])
    .execute();
  await db.schema.createIndex("incident_slas_due").on("incident_slas").columns(["next_due_ms"]).execute();

  await db.schema
    .alterTable("change_feed")
    .addColumn("by_person", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("change_feed").addColumn("sla_breach", "text").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("change_feed").dropColumn("sla_breach").execute();
  await db.schema.alterTable("change_feed").dropColumn("by_person").execute();
  for (const t of ["incident_slas", "sla_policies"]) await db.schema.dropTable(t).execute();
}
