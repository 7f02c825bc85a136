/**
 * Writing a decided batch. Each kind of row is written once, in a fixed order, and the order matters:
 * the recomputation of incidents in the middle reads the sightings and detector counts written before
 * it, and everything it changes is written after. Kept in one place so that order reads as one list.
 */
import type { AuditContext } from "../../schema/records.js";
import type { Batch } from "../../domain/ingest/batch.js";
import {
  addBatchToSummaries,
  assetsFromBatch,
  detectorKeysOf,
  dirtyIncidents,
  factsByIncident,
  heldByBatch,
  needStoredFacts,
  refreshIncidents,
  summariesToStore,
  summarizeIncidents,
  summaryCandidates,
} from "../../domain/ingest/refresh.js";
import { alertsToWrite, incidentsToWrite, sightingsToWrite, storedSightingMoves } from "../../domain/ingest/write-set.js";
import { insertAuditRecords } from "../../store/audit.js";
import { noteFeedActor } from "../../store/feed.js";
import { assetCounts, detectorCounts, storedAlertFacts } from "../../store/incident-facts.js";
import { readSummaries, writeSummaries } from "../../store/incident-summaries.js";
import type { StoredRows } from "../../store/ingest/load.js";
import {
  addDetectorCounts,
  insertAlerts,
  insertCorrelationEvents,
  moveStoredSightings,
  updateAlerts,
  writeIncidents,
  writeSightings,
  writeTenantCounters,
} from "../../store/ingest/write.js";
import type { StoreTx } from "../../store/transaction.js";

/** `by` names who the derived changes to existing incidents are recorded for. */
export async function finishBatch(tx: StoreTx, stored: StoredRows, batch: Batch, by: Pick<AuditContext, "actor" | "requestId" | "at">): Promise<void> {
  const tenantId = batch.tenantId;
  // The change feed records the batch as the ingesting app's, as its audit rows are.
  noteFeedActor(tx, by.actor);
  // Stored sightings of merged incidents move first, in merge order; then the batch's are written. Both
  // keep the latest sighting, so the outcome is the one the step-by-step rules reach.
  await moveStoredSightings(tx, tenantId, storedSightingMoves(batch));
  await writeSightings(tx, tenantId, sightingsToWrite(batch));
  await addDetectorCounts(tx, tenantId, batch.detectors);
  await insertCorrelationEvents(tx, batch.events);
  await refresh(tx, batch, by);
  await writeIncidents(tx, stored, tenantId, incidentsToWrite(batch));
  const alerts = alertsToWrite(batch);
  await insertAlerts(tx, tenantId, alerts.fresh);
  await updateAlerts(tx, stored, tenantId, alerts.changed);
  await insertAuditRecords(tx, batch.audit);
  await writeTenantCounters(tx, tenantId, batch.nextIncident, batch.nextSeq);
}

/**
 * Reads what the touched incidents derive from and recomputes them (domain/ingest/refresh.ts): from
 * their stored summaries and the batch's fresh alerts where that is enough, else from all their
 * alerts and entities; then stores their summaries.
 */
async function refresh(tx: StoreTx, batch: Batch, by: Pick<AuditContext, "actor" | "requestId" | "at">): Promise<void> {
  const ids = dirtyIncidents(batch);
  const summaries = addBatchToSummaries(batch, await readSummaries(tx, batch.tenantId, summaryCandidates(batch, ids)));
  const whole = ids.filter((id) => !summaries.has(id));
  const stored = await storedAlertFacts(tx, batch.tenantId, needStoredFacts(batch, whole), (id) => heldByBatch(batch, id));
  const assets = assetsFromBatch(batch, whole);
  const counted = await assetCounts(
    tx,
    batch.tenantId,
    whole.filter((id) => !assets.has(id)),
  );
  for (const [id, a] of counted) assets.set(id, a);
  for (const [id, s] of summarizeIncidents(whole, factsByIncident(batch, whole, stored), assets)) summaries.set(id, s);
  const counts = await detectorCounts(tx, batch.tenantId, detectorKeysOf(summaries));
  refreshIncidents(batch, summaries, counts, by);
  await writeSummaries(tx, batch.tenantId, summariesToStore(summaries));
}
