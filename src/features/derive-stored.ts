/**
 * An incident's derived properties recomputed from what is stored: the store reads the inputs
 * (store/incident-facts.ts) and the one derivation ingestion uses too (domain/incident-derive.ts)
 * computes them. Shared by the incident and alert PATCH paths, merges and moves; a feature because it
 * joins a store read to a domain rule. It stores the incident's summary too (domain/incident-summary.ts),
 * summed up from all its alerts, so that every path that changes an incident's alerts leaves a summary
 * ingestion can build on.
 */
import type { IncidentRecord, PropertyChange } from "../schema/records.js";
import { deriveFromSummary } from "../domain/incident-derive.js";
import { summarize, summaryToStore, type IncidentSummary } from "../domain/incident-summary.js";
import type { IncidentState } from "../domain/incident-rules.js";
import { derivationInputs, detectorCounts } from "../store/incident-facts.js";
import { readSummaries, writeSummaries } from "../store/incident-summaries.js";
import type { StoreDb, StoreTx } from "../store/transaction.js";

/**
 * `record` with `state` applied and its derived properties recomputed at `at`; the incident must be
 * locked by the caller. With `alertsUnchanged` (a PATCH of the incident, or of an alert's own fields,
 * none of which a summary holds) its stored summary stands for its alerts, as in ingestion, and only
 * an incident without one (dropped as too large) has its alerts read; the detectors' counts are read
 * fresh either way.
 */
export async function deriveStored(
  tx: StoreTx,
  tenantId: string,
  record: IncidentRecord,
  state: IncidentState,
  at: string,
  opts: { alertsUnchanged?: boolean } = {},
): Promise<Derivation> {
  const summary = opts.alertsUnchanged ? (await readSummaries(tx, tenantId, [record.id])).get(record.id) : undefined;
  if (summary) return deriveWithSummary(tx, tenantId, record, state, summary, at);
  const inputs = await derivationInputs(tx, tenantId, record.id);
  const summed = summarize(inputs.alerts, inputs.assets);
  await writeSummaries(tx, tenantId, new Map([[record.id, summaryToStore(summed)]]));
  return derivation(record, state, summed, inputs.detectorCounts, at);
}

/** An incident's derivation with its properties recomputed, and the changes that made. */
export interface Derivation {
  next: IncidentRecord;
  changes: PropertyChange[];
}

/**
 * `deriveStored` with its alerts unchanged, from the incident's stored summary as read, and the
 * detectors' current counts: reads alone, for a write at once.
 */
export async function deriveWithSummary(
  db: StoreDb,
  tenantId: string,
  record: IncidentRecord,
  state: IncidentState,
  summary: IncidentSummary,
  at: string,
): Promise<Derivation> {
  return derivation(record, state, summary, await detectorCounts(db, tenantId, summary.detectorKeys), at);
}

function derivation(record: IncidentRecord, state: IncidentState, summary: IncidentSummary, counts: Map<string, number>, at: string): Derivation {
  const derived = deriveFromSummary({ ...state, summary, detectorCounts: counts, at });
  return {
    next: { ...record, ...state, doc: derived.doc, alertCount: derived.alertCount, priorityFactors: derived.priorityFactors },
    changes: derived.changes,
  };
}

/** The audit entry for an incident's alert count, when it changed. */
export function countChange(before: number, after: number): PropertyChange[] {
  return before === after ? [] : [{ property: "alertCount", before, after }];
}
