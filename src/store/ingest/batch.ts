/**
 * The in-memory state one ingestion batch decides on, and the small helpers every stage shares. The
 * batch reads up front, decides alert by alert without touching the database, and writes once at its
 * end; each of those stages lives in its own file, and this one is what they all agree on, so that
 * none of them has to import another just to name the state or move a sighting.
 */
import type { Insertable } from "kysely";
import type { AlertTable, Database, IncidentTable } from "../tables.js";
import { OPEN_STATUSES } from "../../domain/correlate.js";
import type { NormalizedAlert } from "../../domain/normalize-alert.js";

export const SYSTEM_ACTOR = "Triage correlation";

/** Rows per multi-row statement: well under both stores' bound-parameter limits. */
export const ROWS_PER_INSERT = 400;
/** Values per IN list. */
export const IN_LIST = 2000;

/** The alert's place on the timeline: when its activity began, else when it was created. */
export function alertTime(a: NormalizedAlert): string {
  return (a.firstActivityDateTime as string | null) ?? a.createdDateTime;
}

export function shift(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}

export function later(a: string, b: string): string {
  return a > b ? a : b;
}

export function webUrl(id: number, tenantId: string): string {
  return `https://security.microsoft.com/incident2/${id}/overview?tid=${tenantId}`;
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * An incident as the batch sees it. The batch decides in memory and writes each incident once at its
 * end; `writes` counts the writes the step-by-step rules make, each of which bumps the version.
 */
export interface IncidentState {
  /** The row as read, or as first created in this batch. */
  row: IncidentTable;
  isNew: boolean;
  doc: Record<string, unknown>;
  severitySource: "alerts" | "analyst";
  nameSource: "alerts" | "analyst";
  /** Kept current alert by alert: the merge ranking reads it. */
  alertCount: number;
  /** Distinct entities it has seen, kept current alert by alert (a merge's may count shared ones twice: never too low). */
  entityCount: number;
  /** Of the batch's entity keys, those it is known to have seen, at any time. */
  knownKeys: Set<string>;
  /** The priority factors' JSON once recomputed; the row keeps the stored value, so the write sees the change. */
  priorityFactors?: string | null;
  writes: number;
}

/** An alert the batch created or changed (or read to change). */
export interface AlertState {
  /** The row as read; null for an alert this batch created. */
  row: AlertTable | null;
  id: string;
  seq: number;
  doc: Record<string, unknown>;
  incidentId: number;
  /** The created_at column of the current document: alerts of an incident are read in its order. */
  createdAt: string;
  detectorKey: string;
  /** The triage properties an analyst has set: an alert sent again keeps them. */
  analystSet: ReadonlySet<string>;
  writes: number;
}

interface MergeStep {
  from: number;
  into: number;
}

/**
 * What a batch knows and accumulates. Entity sightings are kept for the batch's entity keys: every
 * sighting an open incident had at or after the earliest window start, updated as alerts arrive and
 * merges move them, which is all a candidate search within the batch can see.
 */
export interface Batch {
  tenantId: string;
  nextIncident: number;
  nextSeq: number;
  incidents: Map<number, IncidentState>;
  alerts: Map<string, AlertState>;
  /** Entity key → incident id → latest sighting. */
  sightings: Map<string, Map<number, string>>;
  /** Incident id → its keys in `sightings`. */
  keysOf: Map<number, Set<string>>;
  /** Incident id → keys whose sighting this batch wrote. */
  touched: Map<number, Set<string>>;
  merges: MergeStep[];
  /** Incidents whose alerts were all read (so a merge need not read them again). */
  alertsLoaded: Set<number>;
  /** Incident id → the latest event time that touched it. */
  dirty: Map<number, string>;
  detectors: Map<string, number>;
  events: Insertable<Database["correlation_events"]>[];
  audit: Insertable<Database["audit_log"]>[];
}

export function isOpen(inc: IncidentState): boolean {
  return OPEN_STATUSES.includes(inc.doc.status as string);
}

export function markDirty(batch: Batch, incidentId: number, at: string): void {
  const prev = batch.dirty.get(incidentId);
  batch.dirty.set(incidentId, prev && prev > at ? prev : at);
}

/** Records that the incident has seen the key, for its entity count. */
export function knowKey(inc: IncidentState, key: string): void {
  if (inc.knownKeys.has(key)) return;
  inc.knownKeys.add(key);
  inc.entityCount++;
}

export function setSighting(batch: Batch, key: string, incidentId: number, at: string): void {
  let byIncident = batch.sightings.get(key);
  if (!byIncident) batch.sightings.set(key, (byIncident = new Map()));
  const prev = byIncident.get(incidentId);
  if (prev === undefined || at > prev) byIncident.set(incidentId, at);
  let keys = batch.keysOf.get(incidentId);
  if (!keys) batch.keysOf.set(incidentId, (keys = new Set()));
  keys.add(key);
}

/** Records that the incident saw these entities at `at` (keeping the latest sighting). */
export function touchEntities(batch: Batch, incidentId: number, keys: string[], at: string): void {
  let touched = batch.touched.get(incidentId);
  if (!touched) batch.touched.set(incidentId, (touched = new Set()));
  const inc = batch.incidents.get(incidentId)!;
  for (const key of keys) {
    setSighting(batch, key, incidentId, at);
    touched.add(key);
    knowKey(inc, key);
  }
}

export function moveSightings(batch: Batch, from: number, into: number): void {
  const src = batch.incidents.get(from)!;
  const dst = batch.incidents.get(into)!;
  // Entities both are known to have count once; any other overlap is unknown here and counts twice.
  let shared = 0;
  for (const key of src.knownKeys) {
    if (dst.knownKeys.has(key)) shared++;
    else dst.knownKeys.add(key);
  }
  dst.entityCount += src.entityCount - shared;
  src.entityCount = 0;
  src.knownKeys = new Set();
  for (const key of batch.keysOf.get(from) ?? []) {
    const byIncident = batch.sightings.get(key)!;
    const seen = byIncident.get(from)!;
    byIncident.delete(from);
    setSighting(batch, key, into, seen);
    let touched = batch.touched.get(into);
    if (!touched) batch.touched.set(into, (touched = new Set()));
    touched.add(key);
  }
  batch.keysOf.delete(from);
  batch.touched.delete(from);
}
