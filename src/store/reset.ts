import type { Kysely } from "kysely";
import type { Database } from "./tables.js";

/**
 * A tenant's security data: what `resetTenantData` empties. Children before parents (alerts refer to
 * incidents). A new table holding a tenant's data belongs here or in KEPT_TENANT_TABLES;
 * test/testing/reset.test.ts fails until it is in one of them.
 */
export const RESET_TABLES = [
  "sync_windows",
  "automation_jobs",
  "incident_slas",
  "fault_events",
  "lifecycle_outbox",
  "subscriptions",
  "change_feed",
  "feed_counters",
  "correlation_events",
  "incident_entities",
  "incident_summaries",
  "detector_stats",
  "audit_log",
  "alerts",
  "incidents",
] as const satisfies readonly (keyof Database)[];

/**
 * Tables with a tenant's rows that a reset keeps: the tenant itself, its directory and sign-in state, and
 * its settings (automation rules, the SLA policy, fault configurations, strictness profiles).
 */
export const KEPT_TENANT_TABLES = [
  "tenants",
  "apps",
  "consents",
  "users",
  "grants",
  "rate_limits",
  "signin_failures",
  "automation_rules",
  "automation_cursors",
  "sla_policies",
  "fault_configs",
  "api_profiles",
] as const;

/**
 * Empties a tenant of incidents, alerts, their audit trail, correlation state, change feed,
 * subscriptions, automation jobs, SLA clocks and the faults injected so far, and numbers its next incident 1 again; its apps, secrets, consents and users stay.
 * One transaction: a reader sees the data before or after, never half of it.
 */
export async function resetTenantData(db: Kysely<Database>, tenantId: string): Promise<void> {
  await db.transaction().execute(async (tx) => {
    for (const table of RESET_TABLES) await tx.deleteFrom(table).where("tenant_id", "=", tenantId).execute();
    await tx.updateTable("tenants").set({ next_incident_id: 1, next_alert_seq: 1 }).where("id", "=", tenantId).execute();
    // The change feed numbers from 1 again: the tenant's rules follow it from its start.
    await tx.updateTable("automation_cursors").set({ cursor: 0 }).where("tenant_id", "=", tenantId).execute();
  });
}
