/**
 * The in-memory state one ingestion batch decides on, and the small helpers every decision shares.
 * The batch is read up front, decided alert by alert without touching the database, and written once
 * at its end (src/features/ingest/ carries that out); this file is what the decisions agree on. It
 * is domain code: no I/O and no rows. Incidents and alerts are held as the record shapes of
 * schema/records.ts, which the store reads and writes, plus what only the batch needs.
 */
import type { AlertRecord, AuditContext, AuditRecord, CorrelationEvent, IncidentRecord, PropertyChange } from "../../schema/records.js";
import { OPEN_STATUSES } from "../correlate.js";
import type { NormalizedAlert } from "../normalize-alert.js";

export const SYSTEM_ACTOR = "Triage correlation";

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

/**
 * An incident as the batch sees it. The batch decides in memory and writes each incident once at its
 * end; `writes` counts the writes the step-by-step rules make, each of which bumps the version.
 */
export interface IncidentState extends IncidentRecord {
  /** Created in this batch (else read from the store). */
  isNew: boolean;
  /** Distinct entities it has seen, kept current alert by alert (a merge's may count shared ones twice: never too low). */
  entityCount: number;
  /** Of the batch's entity keys, those it is known to have seen, at any time. */
  knownKeys: Set<string>;
  writes: number;
}

/** An alert the batch created or changed (or read to change). */
export interface AlertState extends AlertRecord {
  incidentId: number;
  /** Created in this batch (else read from the store). */
  isNew: boolean;
  writes: number;
}

export interface MergeStep {
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
  /** Stored incident id → of the batch's keys, those it had seen before the batch (what its summary counts). */
  storedKeys: Map<number, Set<string>>;
  merges: MergeStep[];
  /** Incidents whose alerts were all read (so a merge need not read them again). */
  alertsLoaded: Set<number>;
  /** Incident id → the latest event time that touched it. */
  dirty: Map<number, string>;
  detectors: Map<string, number>;
  events: CorrelationEvent[];
  audit: AuditRecord[];
}

export function newBatch(tenantId: string, nextIncident: number, nextSeq: number): Batch {
  return {
    tenantId,
    nextIncident,
    nextSeq,
    incidents: new Map(),
    alerts: new Map(),
    sightings: new Map(),
    keysOf: new Map(),
    touched: new Map(),
    storedKeys: new Map(),
    merges: [],
    alertsLoaded: new Set(),
    dirty: new Map(),
    detectors: new Map(),
    events: [],
    audit: [],
  };
}

export function isOpen(inc: IncidentState): boolean {
  return OPEN_STATUSES.includes(inc.doc.status as string);
}

export function markDirty(batch: Batch, incidentId: number, at: string): void {
  const prev = batch.dirty.get(incidentId);
  batch.dirty.set(incidentId, prev && prev > at ? prev : at);
}

/** Records an entity's changes for the audit trail. */
export function audit(
  batch: Batch,
  ctx: Omit<AuditContext, "tenantId" | "entityType" | "entityId">,
  entityType: "incident" | "alert",
  entityId: string,
  changes: readonly PropertyChange[],
): void {
  if (changes.length === 0) return;
  batch.audit.push({ context: { ...ctx, tenantId: batch.tenantId, entityType, entityId }, changes });
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
