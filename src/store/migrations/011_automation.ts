import type { Kysely } from "kysely";

/**
 * Automation rules (docs/automation.md). `automation_rules` holds each tenant's rules; a rule's
 * conditions and actions are one JSON document. `automation_cursors` keeps, per tenant, the change-feed
 * position whose changes the rules have been run for, and the lease of the node running them.
 * `automation_jobs` holds the outbound work rules produce (playbook webhooks, Teams, Slack, e-mail),
 * written in the transaction that ran the rule and delivered under a lease. `change_feed.automated`
 * marks the changes rules made, which never trigger rules again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("automation_rules")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("display_name", "text", (c) => c.notNull())
    .addColumn("rule_order", "integer", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addColumn("trigger", "text", (c) => c.notNull())
    .addColumn("expires_at", "text")
    .addColumn("definition", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("updated_by", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("automation_rules_tenant").on("automation_rules").columns(["tenant_id", "rule_order", "created_at"]).execute();

  await db.schema
    .createTable("automation_cursors")
    .addColumn("tenant_id", "text", (c) => c.primaryKey())
    .addColumn("cursor", "integer", (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", "text")
    .execute();

  await db.schema
    .createTable("automation_jobs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("rule_id", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("destination", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("failing_since", "text")
    .addColumn("last_error", "text")
    .addColumn("next_attempt_at", "text", (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", "text")
    .execute();
  await db.schema.createIndex("automation_jobs_due").on("automation_jobs").columns(["next_attempt_at"]).execute();

  await db.schema
    .alterTable("change_feed")
    .addColumn("automated", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("change_feed").dropColumn("automated").execute();
  for (const t of ["automation_jobs", "automation_cursors", "automation_rules"]) await db.schema.dropTable(t).execute();
}
