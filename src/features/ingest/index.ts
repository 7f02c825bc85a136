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
import { inTransaction, withSavepoint, type StoreDb, type StoreTx } from "../../store/transaction.js";
import { noteAlertsAdded } from "../../store/planner-statistics.js";
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

/**
 * Ingests a batch: all its alerts land, or none do. Concurrent batches for one tenant are grouped:
 * while one transaction of the tenant's runs in this process, the batches that arrive wait, and the
 * next transaction takes them together (up to GROUP_ALERTS alerts, from one ingesting app), each in
 * turn, in arrival order, as if each had its own transaction: its own reads, decisions and writes,
 * inside a savepoint, so a batch that fails is undone alone and the others still commit. A batch is
 * answered once the transaction that holds it has committed.
 */
export function ingestAlerts(db: StoreDb, tenantId: string, alerts: NormalizedAlert[], options: IngestOptions): Promise<IngestResult[]> {
  return new Promise((resolve, reject) => {
    const lane = laneOf(db, tenantId);
    lane.waiting.push({ alerts, options, resolve, reject });
    if (!lane.busy) void drain(db, tenantId, lane);
  });
}

/** The most alerts one grouped transaction takes (a batch larger than this still runs, alone). */
export const GROUP_ALERTS = 1000;

interface Waiting {
  alerts: NormalizedAlert[];
  options: IngestOptions;
  resolve(results: IngestResult[]): void;
  reject(e: unknown): void;
}

/** A tenant's batches waiting in this process, and whether a transaction of theirs is running. */
interface Lane {
  busy: boolean;
  waiting: Waiting[];
}

const lanes = new WeakMap<StoreDb, Map<string, Lane>>();

function laneOf(db: StoreDb, tenantId: string): Lane {
  let byTenant = lanes.get(db);
  if (!byTenant) lanes.set(db, (byTenant = new Map()));
  let lane = byTenant.get(tenantId);
  if (!lane) byTenant.set(tenantId, (lane = { busy: false, waiting: [] }));
  return lane;
}

async function drain(db: StoreDb, tenantId: string, lane: Lane): Promise<void> {
  lane.busy = true;
  try {
    while (lane.waiting.length > 0) await runGroup(db, tenantId, takeGroup(lane));
  } finally {
    lane.busy = false;
    if (lane.waiting.length === 0) lanes.get(db)?.delete(tenantId);
  }
}

/**
 * The first waiting batch and those after it from the same app (the change feed names one actor per
 * transaction), up to GROUP_ALERTS alerts. The others keep their order for the next transaction.
 */
function takeGroup(lane: Lane): Waiting[] {
  const first = lane.waiting.shift()!;
  const group = [first];
  let size = first.alerts.length;
  const rest: Waiting[] = [];
  for (const w of lane.waiting) {
    if (w.options.actor === first.options.actor && size + w.alerts.length <= GROUP_ALERTS) {
      group.push(w);
      size += w.alerts.length;
    } else rest.push(w);
  }
  lane.waiting = rest;
  return group;
}

async function runGroup(db: StoreDb, tenantId: string, group: Waiting[]): Promise<void> {
  const outcomes: ({ ok: true; results: IngestResult[] } | { ok: false; error: unknown })[] = [];
  const ingest = (tx: StoreTx, w: Waiting) => ingestInTransaction(tx, tenantId, w.alerts, w.options);
  try {
    await inTransaction(db, async (tx) => {
      if (group.length === 1) {
        outcomes.push({ ok: true, results: await ingest(tx, group[0]!) });
        return;
      }
      for (const w of group) {
        try {
          outcomes.push({ ok: true, results: await withSavepoint(tx, () => ingest(tx, w)) });
        } catch (error) {
          outcomes.push({ ok: false, error });
        }
      }
    });
  } catch (error) {
    for (const w of group) w.reject(error);
    return;
  }
  group.forEach((w, i) => {
    const o = outcomes[i]!;
    if (o.ok) w.resolve(o.results);
    else w.reject(o.error);
  });
}

/** One batch, within the transaction given: lock, read up front, decide alert by alert, write once. */
async function ingestInTransaction(tx: StoreTx, tenantId: string, alerts: NormalizedAlert[], options: IngestOptions): Promise<IngestResult[]> {
  const now = options.now ?? new Date().toISOString();
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
  noteAlertsAdded(tx, tenantId, counters.nextSeq - 1, batch.nextSeq - 1);
  return results;
}
