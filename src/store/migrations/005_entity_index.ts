import type { Kysely } from "kysely";

/**
 * Reading an incident's entities (every refresh and merge does) by (tenant, incident) with the key in
 * the index: without planner statistics — a store fed from empty — SQLite otherwise picks the primary
 * key by tenant alone and scans every entity row of the tenant for each alert.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("incident_entities_incident").execute();
  await db.schema.createIndex("incident_entities_incident_key").on("incident_entities").columns(["tenant_id", "incident_id", "entity_key"]).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("incident_entities_incident_key").execute();
  await db.schema.createIndex("incident_entities_incident").on("incident_entities").columns(["tenant_id", "incident_id"]).execute();
}
