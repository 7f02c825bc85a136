/**
 * Recomputing incidents' derived properties. What an incident shows of its alerts (count, severity,
 * name, priority score) is worked out once per touched incident at the end of the batch, after the
 * batch's sightings and detector counts are written, rather than after every alert, by the same
 * derivation an analyst's PATCH goes through (domain/incident-derive.ts). The feature reads the
 * stored inputs; the steps here say which to read and apply the derivation, with no I/O of their own.
 *
 * The derivation reads an incident's summary (domain/incident-summary.ts). A stored incident that
 * only gains fresh alerts (and entities) in the batch has its stored summary updated from those alone,
 * so joining a large incident costs what joining a small one does; any other (new, merged, holding a
 * stored alert the batch changed, or without a stored summary) is summed up from all its alerts.
 */
import type { AlertFacts, AuditContext } from "../../schema/records.js";
import type { AlertSeverity } from "../../schema/enums.js";
import { deriveFromSummary } from "../incident-derive.js";
import { addAlerts, assetsOfKeys, summarize, summaryToStore, type IncidentSummary } from "../incident-summary.js";
import { audit, type AlertState, type Batch } from "./batch.js";

function factsOf(a: AlertState): AlertFacts {
  return {
    id: a.id,
    createdAt: a.createdAt,
    seq: a.seq,
    title: String(a.doc.title ?? ""),
    category: String(a.doc.category ?? ""),
    severity: a.doc.severity as AlertSeverity,
    detectionSource: String(a.doc.detectionSource ?? "unknown"),
    detectorKey: a.detectorKey,
  };
}

/** The incidents to recompute, in id order. */
export function dirtyIncidents(batch: Batch): number[] {
  return [...batch.dirty.keys()].sort((a, b) => a - b);
}

/** Of those, the ones whose stored alerts must be read: the batch holds every alert of the others. */
export function needStoredFacts(batch: Batch, ids: readonly number[]): number[] {
  return ids.filter((id) => !batch.incidents.get(id)!.isNew && !batch.alertsLoaded.has(id));
}

/** Whether a stored alert's facts are the batch's to give (it counts as it is now, and where it is now). */
export function heldByBatch(batch: Batch, alertId: string): boolean {
  return batch.alerts.has(alertId);
}

/** Each incident's alert facts: the stored ones read, and the batch's own as they are now. */
export function factsByIncident(batch: Batch, ids: readonly number[], stored: readonly (AlertFacts & { incidentId: number })[]): Map<number, AlertFacts[]> {
  const facts = new Map<number, AlertFacts[]>(ids.map((id) => [id, []]));
  for (const f of stored) facts.get(f.incidentId)!.push(f);
  for (const a of batch.alerts.values()) facts.get(a.incidentId)?.push(factsOf(a));
  return facts;
}

/**
 * Of the incidents to recompute, the stored ones whose summary the batch's fresh alerts can update on
 * their own: in no merge (whose alerts and entities move), and holding no stored alert the batch
 * changed (sent again with a change).
 */
export function summaryCandidates(batch: Batch, ids: readonly number[]): number[] {
  const whole = new Set<number>();
  for (const m of batch.merges) whole.add(m.from).add(m.into);
  for (const a of batch.alerts.values()) if (!a.isNew && a.writes > 0) whole.add(a.incidentId);
  return ids.filter((id) => !batch.incidents.get(id)!.isNew && !whole.has(id) && !batch.alertsLoaded.has(id));
}

/**
 * The candidates' stored summaries with the batch's fresh alerts added, and the entities the batch
 * saw them with for the first time (its keys they had not seen before it).
 */
export function addBatchToSummaries(batch: Batch, stored: ReadonlyMap<number, IncidentSummary>): Map<number, IncidentSummary> {
  const fresh = new Map<number, AlertFacts[]>([...stored.keys()].map((id) => [id, []]));
  for (const a of batch.alerts.values()) if (a.isNew) fresh.get(a.incidentId)?.push(factsOf(a));
  const out = new Map<number, IncidentSummary>();
  for (const [id, summary] of stored) {
    const before = batch.storedKeys.get(id);
    const seen = [...(batch.touched.get(id) ?? [])].filter((k) => !before?.has(k));
    out.set(id, addAlerts(summary, fresh.get(id)!, assetsOfKeys(seen)));
  }
  return out;
}

/**
 * The assets of the incidents the batch created, counted from the keys it saw them with: every
 * sighting such an incident has is the batch's, unless a merge moved stored sightings into it. The
 * incidents it leaves out are counted in the store.
 */
export function assetsFromBatch(batch: Batch, ids: readonly number[]): Map<number, { devices: number; accounts: number }> {
  const mergedInto = new Set(batch.merges.map((m) => m.into));
  const out = new Map<number, { devices: number; accounts: number }>();
  for (const id of ids) {
    if (batch.incidents.get(id)!.isNew && !mergedInto.has(id)) out.set(id, assetsOfKeys(batch.touched.get(id) ?? []));
  }
  return out;
}

/** The others' summaries, from all their alerts' facts and the assets they have seen. */
export function summarizeIncidents(
  ids: readonly number[],
  facts: ReadonlyMap<number, readonly AlertFacts[]>,
  assets: ReadonlyMap<number, { devices: number; accounts: number }>,
): Map<number, IncidentSummary> {
  return new Map(ids.map((id) => [id, summarize(facts.get(id)!, assets.get(id) ?? { devices: 0, accounts: 0 })]));
}

/** The detectors the incidents' alerts came from, whose counts the priority score reads. */
export function detectorKeysOf(summaries: ReadonlyMap<number, IncidentSummary>): string[] {
  return [...new Set([...summaries.values()].flatMap((s) => s.detectorKeys))];
}

/** The summaries to store: those too large to keep are dropped (null), and derived from all alerts next time. */
export function summariesToStore(summaries: ReadonlyMap<number, IncidentSummary>): Map<number, IncidentSummary | null> {
  return new Map([...summaries].map(([id, s]) => [id, summaryToStore(s)]));
}

/**
 * Recomputes what each dirty incident derives from its alerts, summed up in `summaries`. A change to
 * an incident that existed before the batch is audited, in the name of the ingesting app.
 */
export function refreshIncidents(
  batch: Batch,
  summaries: ReadonlyMap<number, IncidentSummary>,
  detectorCounts: ReadonlyMap<string, number>,
  by: Pick<AuditContext, "actor" | "requestId" | "at">,
): void {
  for (const id of dirtyIncidents(batch)) {
    const inc = batch.incidents.get(id)!;
    const derived = deriveFromSummary({
      doc: inc.doc,
      severitySource: inc.severitySource,
      nameSource: inc.nameSource,
      summary: summaries.get(id)!,
      detectorCounts,
      at: batch.dirty.get(id)!,
    });
    inc.doc = derived.doc;
    inc.alertCount = derived.alertCount;
    inc.writes++;
    inc.priorityFactors = derived.priorityFactors;
    if (!inc.isNew) audit(batch, by, "incident", String(id), derived.changes);
  }
}
