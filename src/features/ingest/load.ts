/**
 * Reading what an ingestion batch decides on, in the order the locks must be taken: the alerts sent
 * again, the sightings near the batch's time span, the incidents (locked, on PostgreSQL), the alerts
 * sent again once more (locked, after their incidents), the entity counts. The statements are the
 * store's (store/ingest/load.ts); what becomes of the rows is the domain's (domain/ingest/loaded.ts).
 */
import { OPEN_STATUSES } from "../../domain/correlate.js";
import type { Batch } from "../../domain/ingest/batch.js";
import {
  addEntityCounts,
  addIncidentAlerts,
  addStoredAlerts,
  addStoredIncidents,
  addStoredSightings,
  batchSpan,
  needsStoredAlerts,
  resentIncidents,
  type KeyedAlert,
} from "../../domain/ingest/loaded.js";
import {
  lockStoredAlerts,
  readEntityCounts,
  readIncidentAlerts,
  readIncidents,
  readSightings,
  readStoredAlerts,
  type StoredRows,
} from "../../store/ingest/load.js";
import type { StoreTx } from "../../store/transaction.js";

/**
 * Reads, in a few statements, what the per-alert decisions need: the alerts sent again, and the open
 * incidents that saw one of the batch's entities near its time span (with those sightings).
 */
export async function loadBatch(tx: StoreTx, stored: StoredRows, batch: Batch, keyed: readonly KeyedAlert[], windowMs: number): Promise<void> {
  addStoredAlerts(batch, await readStoredAlerts(tx, stored, batch.tenantId, [...new Set(keyed.map((k) => k.alert.id))]));
  const keys = [...new Set(keyed.flatMap((k) => k.keys))];
  const span = batchSpan(keyed, windowMs);
  const sightings = span === null ? [] : await readSightings(tx, batch.tenantId, keys, span.from);
  // Only an incident seen within the batch's whole window can be a candidate for one of its alerts.
  const candidates = new Set(sightings.filter((s) => span !== null && s.lastSeenAt <= span.to).map((s) => s.incidentId));
  addStoredIncidents(batch, await readIncidents(tx, stored, batch.tenantId, [...candidates], resentIncidents(batch), OPEN_STATUSES));
  // Only ingestion moves an alert to another incident, and it runs one batch at a time per tenant, so
  // the alerts sent again are still in the incidents just locked.
  addStoredAlerts(batch, await lockStoredAlerts(tx, stored, batch.tenantId, [...batch.alerts.keys()]));
  const counts = await readEntityCounts(tx, batch.tenantId, [...batch.incidents.keys()], keys);
  addEntityCounts(batch, counts.counts, counts.known);
  addStoredSightings(batch, sightings);
}

/** The stored alerts of an incident a merge is about to move, unless the batch holds them all already. */
export async function loadMergeSource(tx: StoreTx, stored: StoredRows, batch: Batch, incidentId: number): Promise<void> {
  if (!needsStoredAlerts(batch, incidentId)) return;
  addIncidentAlerts(batch, incidentId, await readIncidentAlerts(tx, stored, batch.tenantId, incidentId));
}
