/**
 * What the batch makes of what was read up front: stored incidents and alerts become batch state,
 * stored sightings become the candidate search's sightings. The reading itself is the store's
 * (store/ingest/load.ts), and when to read is the feature's (features/ingest/load.ts); these are the
 * pure steps between, kept in the domain so the batch state is only ever built by domain code.
 */
import type { AlertRecord, IncidentRecord } from "../../schema/records.js";
import type { NormalizedAlert } from "../normalize-alert.js";
import { alertTime, isOpen, setSighting, shift, type AlertState, type Batch } from "./batch.js";

/** An alert as sent, with the entity keys its evidence names. */
export interface KeyedAlert {
  alert: NormalizedAlert;
  keys: string[];
}

/** A stored sighting: an incident saw an entity at a time. */
export interface Sighting {
  entityKey: string;
  incidentId: number;
  lastSeenAt: string;
}

/**
 * The time span the batch's candidate search can reach: sightings from `from` on may matter, and only
 * an incident seen by `to` can be a candidate for one of its alerts. Null for an empty batch.
 */
export function batchSpan(keyed: readonly KeyedAlert[], windowMs: number): { from: string; to: string } | null {
  let first: string | null = null;
  let last: string | null = null;
  for (const { alert } of keyed) {
    const at = alertTime(alert);
    if (first === null || at < first) first = at;
    if (last === null || at > last) last = at;
  }
  return first === null || last === null ? null : { from: shift(first, -windowMs), to: shift(last, windowMs) };
}

function alertStateOf(record: AlertRecord): AlertState {
  return { ...record, incidentId: record.incidentId!, isNew: false, writes: 0 };
}

/** Stored alerts the batch sends again (read again: the latest read wins). */
export function addStoredAlerts(batch: Batch, records: readonly AlertRecord[]): void {
  for (const r of records) batch.alerts.set(r.id, alertStateOf(r));
}

/** The incidents of the alerts sent again. */
export function resentIncidents(batch: Batch): number[] {
  return [...new Set([...batch.alerts.values()].map((a) => a.incidentId))];
}

export function addStoredIncidents(batch: Batch, records: readonly IncidentRecord[]): void {
  for (const r of records) batch.incidents.set(r.id, { ...r, isNew: false, entityCount: 0, knownKeys: new Set(), writes: 0 });
}

/** How many entities each stored incident has seen, and which of the batch's keys are among them. */
export function addEntityCounts(batch: Batch, counts: ReadonlyMap<number, number>, known: readonly { incidentId: number; entityKey: string }[]): void {
  for (const [id, n] of counts) batch.incidents.get(id)!.entityCount = n;
  for (const k of known) {
    batch.incidents.get(k.incidentId)!.knownKeys.add(k.entityKey);
    let keys = batch.storedKeys.get(k.incidentId);
    if (!keys) batch.storedKeys.set(k.incidentId, (keys = new Set()));
    keys.add(k.entityKey);
  }
}

/** The stored sightings of the open incidents the batch read. */
export function addStoredSightings(batch: Batch, sightings: readonly Sighting[]): void {
  for (const s of sightings) {
    const inc = batch.incidents.get(s.incidentId);
    if (inc && isOpen(inc)) setSighting(batch, s.entityKey, s.incidentId, s.lastSeenAt);
  }
}

/** Whether a merge that moves the incident's alerts must read them first. */
export function needsStoredAlerts(batch: Batch, incidentId: number): boolean {
  return !batch.incidents.get(incidentId)!.isNew && !batch.alertsLoaded.has(incidentId);
}

/** The incident's stored alerts, read for a merge; those the batch already holds stay as the batch has them. */
export function addIncidentAlerts(batch: Batch, incidentId: number, records: readonly AlertRecord[]): void {
  for (const r of records) if (!batch.alerts.has(r.id)) batch.alerts.set(r.id, alertStateOf(r));
  batch.alertsLoaded.add(incidentId);
}
