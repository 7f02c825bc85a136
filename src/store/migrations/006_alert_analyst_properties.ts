import type { Kysely } from "kysely";

/**
 * Which of an alert's triage properties an analyst has set (a JSON array of names): an alert sent
 * again keeps those as the analyst left them. Until now only PATCH wrote audit rows for these
 * properties, so the audit trail says exactly which ones an analyst has set on existing alerts.
 */
/** The columns this migration reads and writes, as they are at this version. */
interface Tables {
  audit_log: { tenant_id: string; entity_type: string; entity_id: string; property: string };
  alerts: { tenant_id: string; id: string; analyst_properties: string };
}

export async function up(schema: Kysely<unknown>): Promise<void> {
  await schema.schema
    .alterTable("alerts")
    .addColumn("analyst_properties", "text", (c) => c.notNull().defaultTo("[]"))
    .execute();
  const db = schema as unknown as Kysely<Tables>;
  const rows = await db
    .selectFrom("audit_log")
    .select(["tenant_id", "entity_id", "property"])
    .distinct()
    .where("entity_type", "=", "alert")
    .where("property", "in", ["status", "classification", "determination", "assignedTo", "customDetails"])
    .execute();
  const byAlert = new Map<string, { tenant: string; id: string; props: Set<string> }>();
  for (const r of rows) {
    const key = JSON.stringify([r.tenant_id, r.entity_id]);
    let entry = byAlert.get(key);
    if (!entry) byAlert.set(key, (entry = { tenant: r.tenant_id, id: r.entity_id, props: new Set() }));
    entry.props.add(r.property);
  }
  for (const e of byAlert.values()) {
    await db
      .updateTable("alerts")
      .set({ analyst_properties: JSON.stringify([...e.props].sort()) })
      .where("tenant_id", "=", e.tenant)
      .where("id", "=", e.id)
      .execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("alerts").dropColumn("analyst_properties").execute();
}
