/**
 * Writing the batch's outcome, set by set. Nothing is written while the batch decides; at its end each
 * kind of row is written once, new rows in multi-row statements, in a fixed order. The order matters:
 * the recomputation of incidents in the middle reads the sightings and detector counts written before
 * it. Kept apart so that order reads in one place.
 */
import { sql, type Insertable, type Transaction } from "kysely";
import type { AlertTable, Database, IncidentTable } from "../tables.js";
import { alertResource } from "../../schema/alert.js";
import { incidentResource } from "../../schema/incident.js";
import { columnsOf } from "../columns.js";
import { updateGuarded } from "../guarded-update.js";
import { chunks, ROWS_PER_INSERT, type AlertState, type Batch, type IncidentState } from "./batch.js";
import { refreshIncidents } from "./refresh.js";
import { encodeAnalystSet } from "../../domain/alert-ownership.js";

/** `audit` names who the derived changes to existing incidents are recorded for. */
export async function finishBatch(trx: Transaction<Database>, batch: Batch, audit: { actor: string; requestId: string | null; at: string }): Promise<void> {
  await writeEntities(trx, batch);
  await writeDetectorStats(trx, batch);
  for (const part of chunks(batch.events, ROWS_PER_INSERT)) await trx.insertInto("correlation_events").values(part).execute();
  await refreshIncidents(trx, batch, audit);
  await writeIncidents(trx, batch);
  await writeAlerts(trx, batch);
  for (const part of chunks(batch.audit, ROWS_PER_INSERT)) await trx.insertInto("audit_log").values(part).execute();
  await trx.updateTable("tenants").set({ next_incident_id: batch.nextIncident, next_alert_seq: batch.nextSeq }).where("id", "=", batch.tenantId).execute();
}

const keepLatestSighting = sql<string>`case when excluded.last_seen_at > incident_entities.last_seen_at then excluded.last_seen_at else incident_entities.last_seen_at end`;

/**
 * Stored sightings of merged incidents move first, in merge order; then the batch's sightings are
 * written. Both keep the latest sighting, so the outcome is the one the step-by-step rules reach.
 */
async function writeEntities(trx: Transaction<Database>, batch: Batch): Promise<void> {
  const tenantId = batch.tenantId;
  // Incidents that may have stored sightings: a new one gains some when a stored one merges into it.
  const stored = new Set([...batch.incidents.values()].filter((i) => !i.isNew).map((i) => i.row.id));
  for (const m of batch.merges) {
    if (!stored.has(m.from)) continue;
    stored.add(m.into);
    await trx
      .insertInto("incident_entities")
      .columns(["tenant_id", "entity_key", "incident_id", "last_seen_at"])
      .expression((eb) =>
        eb
          .selectFrom("incident_entities")
          .select(["tenant_id", "entity_key", sql.lit(m.into).as("incident_id"), "last_seen_at"])
          .where("tenant_id", "=", tenantId)
          .where("incident_id", "=", m.from),
      )
      .onConflict((oc) => oc.columns(["tenant_id", "entity_key", "incident_id"]).doUpdateSet({ last_seen_at: keepLatestSighting }))
      .execute();
    await trx.deleteFrom("incident_entities").where("tenant_id", "=", tenantId).where("incident_id", "=", m.from).execute();
  }
  const rows: Insertable<Database["incident_entities"]>[] = [];
  for (const [incidentId, keys] of batch.touched) {
    for (const key of keys) rows.push({ tenant_id: tenantId, entity_key: key, incident_id: incidentId, last_seen_at: batch.sightings.get(key)!.get(incidentId)! });
  }
  for (const part of chunks(rows, ROWS_PER_INSERT)) {
    await trx
      .insertInto("incident_entities")
      .values(part)
      .onConflict((oc) => oc.columns(["tenant_id", "entity_key", "incident_id"]).doUpdateSet({ last_seen_at: keepLatestSighting }))
      .execute();
  }
}

async function writeDetectorStats(trx: Transaction<Database>, batch: Batch): Promise<void> {
  const rows = [...batch.detectors].map(([key, n]) => ({ tenant_id: batch.tenantId, detector_key: key, alert_count: n }));
  for (const part of chunks(rows, ROWS_PER_INSERT)) {
    await trx
      .insertInto("detector_stats")
      .values(part)
      .onConflict((oc) => oc.columns(["tenant_id", "detector_key"]).doUpdateSet({ alert_count: sql`detector_stats.alert_count + excluded.alert_count` }))
      .execute();
  }
}

/** The row an incident's final state is written as (the columns derived from its document). */
function incidentRow(inc: IncidentState): IncidentTable {
  return {
    ...inc.row,
    ...(columnsOf(incidentResource, inc.doc) as Partial<IncidentTable>),
    redirect_incident_id: inc.doc.redirectIncidentId == null ? null : Number(inc.doc.redirectIncidentId),
    priority_factors: inc.priorityFactors === undefined ? inc.row.priority_factors : inc.priorityFactors,
    severity_source: inc.severitySource,
    name_source: inc.nameSource,
    alert_count: inc.alertCount,
    version: inc.row.version + inc.writes,
  };
}

async function writeIncidents(trx: Transaction<Database>, batch: Batch): Promise<void> {
  const written = [...batch.incidents.values()].filter((i) => i.writes > 0).sort((a, b) => a.row.id - b.row.id);
  const inserts = written.filter((i) => i.isNew).map(incidentRow);
  for (const part of chunks(inserts, ROWS_PER_INSERT / 2)) await trx.insertInto("incidents").values(part).execute();
  for (const inc of written.filter((i) => !i.isNew)) {
    await updateGuarded(trx, "incidents", inc.row, incidentRow(inc));
  }
}

function alertRow(a: AlertState, tenantId: string): AlertTable {
  const cols = columnsOf(alertResource, a.doc) as Omit<AlertTable, "tenant_id" | "seq" | "detector_key" | "version" | "analyst_properties">;
  if (a.row) return { ...a.row, ...cols, detector_key: a.detectorKey, version: a.row.version + a.writes };
  return { tenant_id: tenantId, seq: a.seq, ...cols, detector_key: a.detectorKey, version: 1 + a.writes, analyst_properties: encodeAnalystSet(a.analystSet) };
}

async function writeAlerts(trx: Transaction<Database>, batch: Batch): Promise<void> {
  const fresh: AlertTable[] = [];
  const changed: AlertState[] = [];
  for (const a of batch.alerts.values()) {
    if (!a.row) fresh.push(alertRow(a, batch.tenantId));
    else if (a.writes > 0) changed.push(a);
  }
  // In ingestion order: the order the alerts were numbered in.
  fresh.sort((a, b) => a.seq - b.seq);
  for (const part of chunks(fresh, ROWS_PER_INSERT / 2)) await trx.insertInto("alerts").values(part).execute();
  for (const a of changed) {
    await updateGuarded(trx, "alerts", a.row!, alertRow(a, batch.tenantId));
  }
}
