/**
 * Reading how an incident came together, for Triage's correlation endpoint: its correlation events
 * and the entities it has seen, mapped from their rows to the shape the endpoint serves
 * (schema/triage-api.ts). Ingestion writes these rows (store/ingest/write.ts).
 */
import type { Db, IncidentTable } from "./tables.js";
import type { Correlation } from "../schema/triage-api.js";

export async function readCorrelation(db: Db, tenantId: string, row: IncidentTable): Promise<Correlation> {
  const events = await db
    .selectFrom("correlation_events")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("incident_id", "=", row.id)
    .orderBy("seq")
    .execute();
  const entities = await db
    .selectFrom("incident_entities")
    .select(["entity_key", "last_seen_at"])
    .where("tenant_id", "=", tenantId)
    .where("incident_id", "=", row.id)
    .orderBy("entity_key")
    .execute();
  return {
    incidentId: String(row.id),
    priority: { score: row.priority_score, factors: row.priority_factors ? JSON.parse(row.priority_factors) : [] },
    entities: entities.map((e) => ({ key: e.entity_key, lastSeenDateTime: e.last_seen_at })),
    events: events.map((e) => ({
      seq: e.seq,
      at: e.at,
      kind: e.kind,
      alertId: e.alert_id,
      otherIncidentId: e.other_incident_id === null ? null : String(e.other_incident_id),
      reasons: JSON.parse(e.reasons),
      detail: e.detail,
    })),
  };
}
