/**
 * Recomputing incidents' derived properties. What an incident shows of its alerts (count, severity,
 * name, priority score) is worked out once per touched incident at the end of the batch, after the
 * batch's sightings and detector counts are written, rather than after every alert, by the same
 * derivation an analyst's PATCH goes through (domain/incident-derive.ts). The feature reads the
 * stored inputs; the steps here say which to read and apply the derivation, with no I/O of their own.
 */
import type { AlertFacts, AuditContext } from "../../schema/records.js";
import type { AlertSeverity } from "../../schema/enums.js";
import { deriveIncident } from "../incident-derive.js";
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

/** The detectors those alerts came from, whose counts the priority score reads. */
export function detectorKeysOf(facts: ReadonlyMap<number, readonly AlertFacts[]>): string[] {
  return [...new Set([...facts.values()].flat().map((f) => f.detectorKey))];
}

/**
 * Recomputes what each dirty incident derives from its alerts. A change to an incident that existed
 * before the batch is audited, in the name of the ingesting app.
 */
export function refreshIncidents(
  batch: Batch,
  facts: ReadonlyMap<number, readonly AlertFacts[]>,
  assets: ReadonlyMap<number, { devices: number; accounts: number }>,
  detectorCounts: ReadonlyMap<string, number>,
  by: Pick<AuditContext, "actor" | "requestId" | "at">,
): void {
  for (const id of dirtyIncidents(batch)) {
    const inc = batch.incidents.get(id)!;
    const derived = deriveIncident({
      doc: inc.doc,
      severitySource: inc.severitySource,
      nameSource: inc.nameSource,
      alerts: facts.get(id)!,
      assets: assets.get(id) ?? { devices: 0, accounts: 0 },
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
