/** How an incident came together, as ingestion recorded it: its correlation events and the entities it has seen. */
import type { Selectable } from "kysely";
import type { CorrelationEventTable, Db, IncidentEntityTable } from "./tables.js";

/** The incident's correlation and merge events, in the order they happened. */
export async function correlationEvents(db: Db, tenantId: string, incidentId: number): Promise<Selectable<CorrelationEventTable>[]> {
  return db.selectFrom("correlation_events").selectAll().where("tenant_id", "=", tenantId).where("incident_id", "=", incidentId).orderBy("seq").execute();
}

/** The entities the incident correlates on, by key, with when each was last seen. */
export async function incidentEntities(db: Db, tenantId: string, incidentId: number): Promise<Pick<IncidentEntityTable, "entity_key" | "last_seen_at">[]> {
  return db.selectFrom("incident_entities").select(["entity_key", "last_seen_at"]).where("tenant_id", "=", tenantId).where("incident_id", "=", incidentId).orderBy("entity_key").execute();
}
