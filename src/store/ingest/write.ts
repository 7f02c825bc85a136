/**
 * Writing an ingestion batch's outcome, set by set. Nothing is written while the batch decides; at its
 * end each kind of row is written once, new rows in multi-row statements. The order the sets are
 * written in is the feature's (features/ingest/finish.ts); these functions only persist what they
 * are handed, rows mapped by incident-rows.ts and alert-rows.ts, updates guarded by the versions of
 * the rows as read (load.ts's StoredRows).
 */
import { sql, type Insertable, type Transaction } from "kysely";
import type { AlertTable, Database, IncidentTable } from "../tables.js";
import type { AlertRecord, CorrelationEvent, IncidentRecord } from "../../schema/records.js";
import { updateGuardedMany } from "../guarded-update.js";
import { chunks, ROWS_PER_INSERT } from "../chunks.js";
import { insertRows, upsertRows } from "../insert-rows.js";
import { incidentRowOf } from "../incident-rows.js";
import { alertRowOf } from "../alert-rows.js";
import type { StoredRows } from "./load.js";
import { noteChange } from "../feed.js";

/** A record the batch changed `writes` times: each write the step-by-step rules make bumps the version. */
type Written<R> = R & { writes: number };

const LATEST_SIGHTING = "case when excluded.last_seen_at > incident_entities.last_seen_at then excluded.last_seen_at else incident_entities.last_seen_at end";
const keepLatestSighting = sql.raw<string>(LATEST_SIGHTING);
/** A sighting already stored keeps the later time. */
const SIGHTING_CONFLICT = `on conflict ("tenant_id", "entity_key", "incident_id") do update set "last_seen_at" = ${LATEST_SIGHTING}`;

/** Moves each merge's stored sightings to the incident it merged into, in merge order, keeping the latest sighting. */
export async function moveStoredSightings(trx: Transaction<Database>, tenantId: string, moves: readonly { from: number; into: number }[]): Promise<void> {
  for (const m of moves) {
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
}

/** Writes sightings, keeping the later of a stored one and the one given. */
export async function writeSightings(
  trx: Transaction<Database>,
  tenantId: string,
  sightings: readonly { incidentId: number; entityKey: string; lastSeenAt: string }[],
): Promise<void> {
  const rows: Insertable<Database["incident_entities"]>[] = sightings.map((s) => ({
    tenant_id: tenantId,
    entity_key: s.entityKey,
    incident_id: s.incidentId,
    last_seen_at: s.lastSeenAt,
  }));
  await upsertRows(trx, "incident_entities", rows, ROWS_PER_INSERT, SIGHTING_CONFLICT);
}

/** Adds to the tenant's alert count per detector. */
export async function addDetectorCounts(trx: Transaction<Database>, tenantId: string, counts: ReadonlyMap<string, number>): Promise<void> {
  const rows = [...counts].map(([key, n]) => ({ tenant_id: tenantId, detector_key: key, alert_count: n }));
  for (const part of chunks(rows, ROWS_PER_INSERT)) {
    await trx
      .insertInto("detector_stats")
      .values(part)
      .onConflict((oc) => oc.columns(["tenant_id", "detector_key"]).doUpdateSet({ alert_count: sql`detector_stats.alert_count + excluded.alert_count` }))
      .execute();
  }
}

export async function insertCorrelationEvents(trx: Transaction<Database>, events: readonly CorrelationEvent[]): Promise<void> {
  const rows: Insertable<Database["correlation_events"]>[] = events.map((e) => ({
    tenant_id: e.tenantId,
    incident_id: e.incidentId,
    at: e.at,
    kind: e.kind,
    alert_id: e.alertId,
    other_incident_id: e.otherIncidentId,
    reasons: JSON.stringify(e.reasons),
    detail: e.detail,
  }));
  await insertRows(trx, "correlation_events", rows, ROWS_PER_INSERT);
}

/**
 * Writes incidents in the order given: those `stored` holds a row for are updated (guarded by the
 * version read), the others inserted, several to a statement. A new incident starts at version 1.
 */
export async function writeIncidents(
  trx: Transaction<Database>,
  stored: StoredRows,
  tenantId: string,
  incidents: readonly Written<IncidentRecord>[],
): Promise<void> {
  const inserts: IncidentTable[] = [];
  const updates: [IncidentTable, IncidentTable][] = [];
  for (const inc of incidents) {
    const before = stored.incidents.get(inc.id);
    if (before) updates.push([before, incidentRowOf(tenantId, inc, before.version + inc.writes, before)]);
    else inserts.push(incidentRowOf(tenantId, inc, 1 + inc.writes));
  }
  await insertRows(trx, "incidents", inserts, ROWS_PER_INSERT / 2);
  for (const row of inserts) noteChange(trx, tenantId, "incident", row.id, "created");
  await updateGuardedMany(trx, "incidents", updates);
}

/** Inserts new alerts, several to a statement, in the order given; a new alert starts at version 1. */
export async function insertAlerts(trx: Transaction<Database>, tenantId: string, alerts: readonly Written<AlertRecord>[]): Promise<void> {
  const rows = alerts.map((a) => alertRowOf(tenantId, a, 1 + a.writes));
  await insertRows(trx, "alerts", rows, ROWS_PER_INSERT / 2);
  for (const row of rows) noteChange(trx, tenantId, "alert", row.id, "created");
}

/** Updates stored alerts, each guarded by the version read (on PostgreSQL, many to a statement). */
export async function updateAlerts(trx: Transaction<Database>, stored: StoredRows, tenantId: string, alerts: readonly Written<AlertRecord>[]): Promise<void> {
  const updates = alerts.map((a): [AlertTable, AlertTable] => {
    const before = stored.alerts.get(a.id)!;
    return [before, alertRowOf(tenantId, a, before.version + a.writes, before)];
  });
  await updateGuardedMany(trx, "alerts", updates);
}

/** The tenant's counters after the batch: the next incident id and alert sequence number. */
export async function writeTenantCounters(trx: Transaction<Database>, tenantId: string, nextIncident: number, nextSeq: number): Promise<void> {
  await trx.updateTable("tenants").set({ next_incident_id: nextIncident, next_alert_seq: nextSeq }).where("id", "=", tenantId).execute();
}
