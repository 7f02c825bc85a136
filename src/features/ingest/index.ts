/**
 * Alert ingestion: the one transaction that stores a batch of alerts and correlates them into
 * incidents. This is the module's whole public surface. It is a feature because it carries the work
 * out — one transaction, the per-tenant lock, reading up front, deciding alert by alert, writing once
 * — while the decisions are the domain's (src/domain/ingest/) and the reading and writing the
 * store's (src/store/ingest/).
 */
import { DEFAULT_LIMITS, type CorrelationLimits } from "../../domain/correlate.js";
import { entityKeys } from "../../domain/entities.js";
import type { NormalizedAlert } from "../../domain/normalize-alert.js";
import { newBatch } from "../../domain/ingest/batch.js";
import { applyPlacement, mergeSources, planPlacement } from "../../domain/ingest/place.js";
import type { DecisionOptions, IngestResult } from "../../domain/ingest/result.js";
import { incidentAlertOrder, lockTenantForIngestion, storedRows } from "../../store/ingest/load.js";
import { inTransaction, type StoreDb } from "../../store/transaction.js";
import { loadBatch, loadMergeSource } from "./load.js";
import { finishBatch } from "./finish.js";

export type { IngestResult };

export interface IngestOptions {
  /** How far apart in time an alert and an incident's last sighting of a shared entity may be. */
  windowMs: number;
  /** The ingesting app: shown in audit rows for the changes its alerts make to stored alerts and incidents. */
  actor: string;
  requestId: string | null;
  /** When the batch arrived: the time of its audit rows, and of a resolution that gives none. */
  now?: string;
  /** How large correlation lets an incident grow (default: DEFAULT_LIMITS). */
  limits?: CorrelationLimits;
}

/** Ingests a batch in one transaction: all alerts land, or none do. */
export async function ingestAlerts(db: StoreDb, tenantId: string, alerts: NormalizedAlert[], options: IngestOptions): Promise<IngestResult[]> {
  const now = options.now ?? new Date().toISOString();
  return inTransaction(db, async (tx) => {
    const counters = await lockTenantForIngestion(tx, tenantId);
    const opts: DecisionOptions = { ...options, now, limits: options.limits ?? DEFAULT_LIMITS, alertOrder: incidentAlertOrder(tx) };
    const batch = newBatch(tenantId, counters.nextIncident, counters.nextSeq);
    const stored = storedRows();
    const keyed = alerts.map((alert) => ({ alert, keys: entityKeys((alert.evidence as Record<string, unknown>[]) ?? []).map((k) => k.key) }));
    await loadBatch(tx, stored, batch, keyed, opts.windowMs);
    const results: IngestResult[] = [];
    for (const { alert, keys } of keyed) {
      const placement = planPlacement(batch, alert, keys, opts);
      // A merge moves its source's alerts: those are read (and locked) now, in merge order.
      for (const from of mergeSources(placement)) await loadMergeSource(tx, stored, batch, from);
      results.push(applyPlacement(batch, placement, opts));
    }
    await finishBatch(tx, stored, batch, { actor: opts.actor, requestId: opts.requestId, at: now });
    return results;
  });
}
