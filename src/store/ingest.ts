import { sql, type Insertable, type Kysely, type Transaction } from "kysely";
import type { AlertTable, Database, IncidentTable } from "./tables.js";
import { alertResource } from "../schema/alert.js";
import { incidentResource } from "../schema/incident.js";
import { alertSeverity, detectionSource, type AlertSeverity, type CorrelationReason } from "../schema/enums.js";
import { columnsOf, normalizeDateTime } from "./columns.js";
import { auditRows } from "./audit.js";
import { updateGuarded } from "./guarded-update.js";
import { entityKeys } from "../domain/entities.js";
import { decide, OPEN_STATUSES, type Candidate, type Decision } from "../domain/correlate.js";
import { highestSeverity } from "../domain/severity.js";
import { priorityScore } from "../domain/priority.js";
import { incidentName } from "../domain/incident-name.js";
import type { PropertyChange } from "../domain/changes.js";
import type { NormalizedAlert } from "../ingest/normalize-alert.js";
import { isPostgres } from "./dialect.js";
import { postgresJson, sqliteJson } from "./json-sql.js";

export interface IngestOptions {
  /** How far apart in time an alert and an incident's last sighting of a shared entity may be. */
  windowMs: number;
  /** Shown in audit rows for changes correlation makes. */
  actor: string;
  requestId: string | null;
}

export interface IngestResult {
  id: string;
  incidentId: string;
  outcome: "created" | "updated";
  /** How the alert was placed: a new incident, or the reasons it joined one. */
  correlation: { incident: "new" | "joined"; reasons: CorrelationReason[]; sharedEntities: string[] };
  merged: { incidentId: string; into: string; reasons: CorrelationReason[] }[];
  mergeRefused: { incidentId: string; why: string }[];
}

const SYSTEM_ACTOR = "Triage correlation";

/** Rows per multi-row statement: well under both stores' bound-parameter limits. */
const ROWS_PER_INSERT = 400;
/** Values per IN list. */
const IN_LIST = 2000;

/** The alert's place on the timeline: when its activity began, else when it was created. */
function alertTime(a: NormalizedAlert): string {
  return (a.firstActivityDateTime as string | null) ?? a.createdDateTime;
}

function shift(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}

function later(a: string, b: string): string {
  return a > b ? a : b;
}

function webUrl(id: number, tenantId: string): string {
  return `https://security.microsoft.com/incident2/${id}/overview?tid=${tenantId}`;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * An incident as the batch sees it. The batch decides in memory and writes each incident once at its
 * end; `writes` counts the writes the step-by-step rules make, each of which bumps the version.
 */
interface IncidentState {
  /** The row as read, or as first created in this batch. */
  row: IncidentTable;
  isNew: boolean;
  doc: Record<string, unknown>;
  severitySource: "alerts" | "analyst";
  nameSource: "alerts" | "analyst";
  /** Kept current alert by alert: the merge ranking reads it. */
  alertCount: number;
  writes: number;
}

/** An alert the batch created or changed (or read to change). */
interface AlertState {
  /** The row as read; null for an alert this batch created. */
  row: AlertTable | null;
  id: string;
  seq: number;
  doc: Record<string, unknown>;
  incidentId: number;
  /** The created_at column of the current document: alerts of an incident are read in its order. */
  createdAt: string;
  detectorKey: string;
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
interface Batch {
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

/** Ingests a batch in one transaction: all alerts land, or none do. */
export async function ingestAlerts(db: Kysely<Database>, tenantId: string, alerts: NormalizedAlert[], opts: IngestOptions): Promise<IngestResult[]> {
  return db.transaction().execute(async (trx) => {
    // One ingestion at a time per tenant, across every node: correlation reads what the previous
    // batch wrote, so no cluster gets two incidents and no pair is merged twice. (The tenant's
    // counters are written only here, under the same lock.)
    if (isPostgres(trx)) await sql`select pg_advisory_xact_lock(hashtext(${`triage-ingest:${tenantId}`}))`.execute(trx);
    const tenant = await trx.selectFrom("tenants").select(["next_incident_id", "next_alert_seq"]).where("id", "=", tenantId).executeTakeFirstOrThrow();
    const batch: Batch = {
      tenantId,
      nextIncident: tenant.next_incident_id,
      nextSeq: tenant.next_alert_seq,
      incidents: new Map(),
      alerts: new Map(),
      sightings: new Map(),
      keysOf: new Map(),
      touched: new Map(),
      merges: [],
      alertsLoaded: new Set(),
      dirty: new Map(),
      detectors: new Map(),
      events: [],
      audit: [],
    };
    const keyed = alerts.map((alert) => ({ alert, keys: entityKeys((alert.evidence as Record<string, unknown>[]) ?? []).map((k) => k.key) }));
    await loadBatch(trx, batch, keyed, opts.windowMs);
    const results: IngestResult[] = [];
    for (const { alert, keys } of keyed) results.push(await ingestOne(trx, batch, alert, keys, opts));
    await finishBatch(trx, batch);
    return results;
  });
}

// ---------------------------------------------------------------------------------------------
// Reading what the batch needs, up front

/**
 * Reads, in a few statements, what the per-alert decisions need: the alerts sent again, and the open
 * incidents that saw one of the batch's entities near its time span (with those sightings).
 */
async function loadBatch(trx: Transaction<Database>, batch: Batch, keyed: { alert: NormalizedAlert; keys: string[] }[], windowMs: number): Promise<void> {
  await loadExistingAlerts(trx, batch, [...new Set(keyed.map((k) => k.alert.id))]);
  const keys = [...new Set(keyed.flatMap((k) => k.keys))];
  let first: string | null = null;
  let last: string | null = null;
  for (const { alert } of keyed) {
    const at = alertTime(alert);
    if (first === null || at < first) first = at;
    if (last === null || at > last) last = at;
  }
  const sightings = first === null || last === null ? [] : await readSightings(trx, batch.tenantId, keys, shift(first, -windowMs));
  const hi = last === null ? "" : shift(last, windowMs);
  // Only an incident seen within the batch's whole window can be a candidate for one of its alerts.
  const candidates = new Set(sightings.filter((s) => s.last_seen_at <= hi).map((s) => s.incident_id));
  const resent = new Set([...batch.alerts.values()].map((a) => a.incidentId));
  await loadIncidents(trx, batch, [...candidates], [...resent]);
  for (const s of sightings) {
    const inc = batch.incidents.get(s.incident_id);
    if (inc && isOpen(inc)) setSighting(batch, s.entity_key, s.incident_id, s.last_seen_at);
  }
}

/** The batch's alerts that are already stored (locked on PostgreSQL: this batch rewrites them). */
async function loadExistingAlerts(trx: Transaction<Database>, batch: Batch, ids: string[]): Promise<void> {
  for (const part of chunks(ids, IN_LIST)) {
    let q = trx.selectFrom("alerts").selectAll().where("tenant_id", "=", batch.tenantId).where("id", "in", part);
    if (isPostgres(trx)) q = q.orderBy("id").forUpdate();
    for (const row of await q.execute()) batch.alerts.set(row.id, alertStateOf(row));
  }
}

function alertStateOf(row: AlertTable): AlertState {
  return {
    row,
    id: row.id,
    seq: row.seq,
    doc: JSON.parse(row.doc) as Record<string, unknown>,
    incidentId: row.incident_id!,
    createdAt: row.created_at,
    detectorKey: row.detector_key ?? "unknown",
    writes: 0,
  };
}

async function readSightings(trx: Transaction<Database>, tenantId: string, keys: string[], from: string) {
  const rows: { entity_key: string; incident_id: number; last_seen_at: string }[] = [];
  for (const part of chunks(keys, IN_LIST)) {
    rows.push(
      ...(await trx
        .selectFrom("incident_entities")
        .select(["entity_key", "incident_id", "last_seen_at"])
        .where("tenant_id", "=", tenantId)
        .where("entity_key", "in", part)
        .where("last_seen_at", ">=", from)
        .execute()),
    );
  }
  return rows;
}

/**
 * Reads the open candidate incidents and the incidents of alerts sent again. PostgreSQL: they are
 * locked as they are read, in id order (the order every writer uses). A concurrent PATCH on another
 * node (assigning, classifying, resolving) then either committed first and is read here — the row is
 * re-read once its lock is granted — or waits for this batch; no decision rests on a state that no
 * longer holds.
 */
async function loadIncidents(trx: Transaction<Database>, batch: Batch, candidates: number[], resent: number[]): Promise<void> {
  const openOrdinals = OPEN_STATUSES.map((s) => incidentStatusOrdinal(s));
  const want = new Set(resent);
  for (const part of chunks([...new Set([...candidates, ...resent])].sort((a, b) => a - b), IN_LIST)) {
    const [reads, opens] = [part.filter((id) => want.has(id)), part.filter((id) => !want.has(id))];
    let q = trx
      .selectFrom("incidents")
      .selectAll()
      .where("tenant_id", "=", batch.tenantId)
      .where((eb) => {
        const ors = [];
        if (reads.length) ors.push(eb("id", "in", reads));
        if (opens.length) ors.push(eb.and([eb("id", "in", opens), eb("status", "in", openOrdinals)]));
        return eb.or(ors);
      });
    if (isPostgres(trx)) q = q.orderBy("id").forUpdate();
    for (const row of await q.execute()) {
      const doc = JSON.parse(row.doc) as Record<string, unknown>;
      batch.incidents.set(row.id, {
        row,
        isNew: false,
        doc,
        severitySource: row.severity_source === "analyst" ? "analyst" : "alerts",
        nameSource: row.name_source === "analyst" ? "analyst" : "alerts",
        alertCount: row.alert_count,
        writes: 0,
      });
    }
  }
}

function incidentStatusOrdinal(status: string): number {
  return columnsOf(incidentResource, { status }).status as number;
}

function isOpen(inc: IncidentState): boolean {
  return OPEN_STATUSES.includes(inc.doc.status as string);
}

// ---------------------------------------------------------------------------------------------
// Deciding, alert by alert, in memory

function markDirty(batch: Batch, incidentId: number, at: string): void {
  const prev = batch.dirty.get(incidentId);
  batch.dirty.set(incidentId, prev && prev > at ? prev : at);
}

function setSighting(batch: Batch, key: string, incidentId: number, at: string): void {
  let byIncident = batch.sightings.get(key);
  if (!byIncident) batch.sightings.set(key, (byIncident = new Map()));
  const prev = byIncident.get(incidentId);
  if (prev === undefined || at > prev) byIncident.set(incidentId, at);
  let keys = batch.keysOf.get(incidentId);
  if (!keys) batch.keysOf.set(incidentId, (keys = new Set()));
  keys.add(key);
}

/** Records that the incident saw these entities at `at` (keeping the latest sighting). */
function touchEntities(batch: Batch, incidentId: number, keys: string[], at: string): void {
  let touched = batch.touched.get(incidentId);
  if (!touched) batch.touched.set(incidentId, (touched = new Set()));
  for (const key of keys) {
    setSighting(batch, key, incidentId, at);
    touched.add(key);
  }
}

async function ingestOne(trx: Transaction<Database>, batch: Batch, alert: NormalizedAlert, keys: string[], opts: IngestOptions): Promise<IngestResult> {
  const existing = batch.alerts.get(alert.id);
  if (existing) return reingest(batch, existing, alert, keys);

  const at = alertTime(alert);
  const candidates = findCandidates(batch, keys, at, opts.windowMs);
  const decision = decide(candidates);

  let incidentId: number;
  const merged: IngestResult["merged"] = [];
  const mergeRefused: IngestResult["mergeRefused"] = [];
  if (decision.kind === "new") {
    incidentId = createIncident(batch, alert);
    event(batch, incidentId, at, "created", alert.id, null, [], null);
  } else {
    incidentId = decision.incident;
    const shared = candidates.find((c) => c.id === incidentId)?.shared ?? [];
    event(batch, incidentId, at, "alertJoined", alert.id, null, decision.reasons, shared.join(" "));
    for (const m of decision.merges) {
      await mergeInto(trx, batch, m.from, m.into, m.reasons, alert, opts);
      merged.push({ incidentId: String(m.from), into: String(m.into), reasons: m.reasons });
    }
    for (const r of decision.refused) {
      event(batch, r.incident, at, "mergeRefused", alert.id, r.into, [], r.why);
      mergeRefused.push({ incidentId: String(r.incident), why: r.why });
    }
  }

  insertAlert(batch, alert, incidentId);
  // The count is kept current at once (the next alert's merge ranking reads it); the rest of what the
  // incident derives from its alerts is recomputed once, at the end of the batch.
  batch.incidents.get(incidentId)!.alertCount++;
  touchEntities(batch, incidentId, keys, at);
  const dk = detectorKey(alert);
  batch.detectors.set(dk, (batch.detectors.get(dk) ?? 0) + 1);
  markDirty(batch, incidentId, alert.lastUpdateDateTime as string);

  return {
    id: alert.id,
    incidentId: String(incidentId),
    outcome: "created",
    correlation: correlationSummary(decision, candidates),
    merged,
    mergeRefused,
  };
}

function correlationSummary(decision: Decision, candidates: Candidate[]): IngestResult["correlation"] {
  if (decision.kind === "new") return { incident: "new", reasons: [], sharedEntities: [] };
  return {
    incident: "joined",
    reasons: decision.reasons,
    sharedEntities: candidates.find((c) => c.id === decision.incident)?.shared ?? [],
  };
}

/** Open incidents that saw one of the alert's entities within the window around the alert's time. */
function findCandidates(batch: Batch, keys: string[], at: string, windowMs: number): Candidate[] {
  const lo = shift(at, -windowMs);
  const hi = shift(at, windowMs);
  const byId = new Map<number, Candidate>();
  for (const key of keys) {
    for (const [id, seen] of batch.sightings.get(key) ?? []) {
      if (seen < lo || seen > hi) continue;
      const inc = batch.incidents.get(id)!;
      if (!isOpen(inc)) continue;
      let c = byId.get(id);
      if (!c) {
        c = {
          id,
          status: inc.doc.status as string,
          assignedTo: (inc.doc.assignedTo as string | null) ?? null,
          classification: (inc.doc.classification as string | null) ?? null,
          alertCount: inc.alertCount,
          createdAt: inc.row.created_at,
          shared: [],
        };
        byId.set(id, c);
      }
      c.shared.push(key);
    }
  }
  for (const c of byId.values()) c.shared.sort();
  return [...byId.values()];
}

function createIncident(batch: Batch, alert: NormalizedAlert): number {
  const tenantId = batch.tenantId;
  const id = batch.nextIncident++;
  const doc: Record<string, unknown> = {
    id: String(id),
    tenantId,
    status: "active",
    incidentWebUrl: webUrl(id, tenantId),
    redirectIncidentId: null,
    displayName: alert.title ?? "Incident",
    createdDateTime: alert.createdDateTime,
    lastUpdateDateTime: alert.lastUpdateDateTime,
    assignedTo: null,
    classification: "unknown",
    determination: "unknown",
    severity: alert.severity,
    customTags: [],
    systemTags: [],
    description: null,
    summary: null,
    lastModifiedBy: null,
    resolvingComment: null,
    priorityScore: null,
    comments: [],
    recommendedActions: alert.recommendedActions ?? null,
    recommendedHuntingQueries: [],
  };
  // The promoted columns are derived when the incident is written; until then only created_at is read.
  const row = {
    tenant_id: tenantId,
    id,
    created_at: normalizeDateTime(String(doc.createdDateTime)),
    redirect_incident_id: null,
    priority_factors: null,
    severity_source: "alerts",
    name_source: "alerts",
    alert_count: 0,
    version: 1,
  } as unknown as IncidentTable;
  batch.incidents.set(id, { row, isNew: true, doc, severitySource: "alerts", nameSource: "alerts", alertCount: 0, writes: 0 });
  return id;
}

function detectorKey(a: Record<string, unknown>): string {
  return String(a.detectorId ?? a.title ?? "unknown");
}

function alertDoc(alert: Record<string, unknown>, incidentId: number, tenantId: string): Record<string, unknown> {
  return { ...alert, incidentId: String(incidentId), incidentWebUrl: webUrl(incidentId, tenantId) };
}

function insertAlert(batch: Batch, alert: NormalizedAlert, incidentId: number): void {
  const doc = alertDoc(alert, incidentId, batch.tenantId);
  batch.alerts.set(alert.id, {
    row: null,
    id: alert.id,
    seq: batch.nextSeq++,
    doc,
    incidentId,
    createdAt: normalizeDateTime(String(doc.createdDateTime)),
    detectorKey: detectorKey(alert),
    writes: 0,
  });
}

/** An alert sent again updates what its source reports; analysts' comments and its incident stay. */
function reingest(batch: Batch, existing: AlertState, alert: NormalizedAlert, keys: string[]): IngestResult {
  const current = existing.doc;
  const incidentId = existing.incidentId;
  existing.doc = {
    ...alert,
    comments: current.comments,
    customDetails: Object.keys(alert.customDetails as object).length ? alert.customDetails : current.customDetails,
    incidentId: current.incidentId,
    incidentWebUrl: current.incidentWebUrl,
  };
  existing.createdAt = normalizeDateTime(String(existing.doc.createdDateTime));
  existing.detectorKey = detectorKey(alert);
  existing.writes++;
  touchEntities(batch, incidentId, keys, alertTime(alert));
  markDirty(batch, incidentId, alert.lastUpdateDateTime as string);
  return {
    id: alert.id,
    incidentId: String(incidentId),
    outcome: "updated",
    correlation: { incident: "joined", reasons: [], sharedEntities: [] },
    merged: [],
    mergeRefused: [],
  };
}

function event(
  batch: Batch,
  incidentId: number,
  at: string,
  kind: string,
  alertId: string | null,
  other: number | null,
  reasons: readonly string[],
  detail: string | null,
): void {
  batch.events.push({
    tenant_id: batch.tenantId,
    incident_id: incidentId,
    at,
    kind,
    alert_id: alertId,
    other_incident_id: other,
    reasons: JSON.stringify(reasons),
    detail,
  });
}

function audit(batch: Batch, ctx: { actor: string; requestId: string | null; at: string }, entityType: "incident" | "alert", entityId: string, changes: PropertyChange[]): void {
  batch.audit.push(...auditRows({ ...ctx, tenantId: batch.tenantId, entityType, entityId }, changes));
}

/**
 * Defender-style merge: `from` becomes redirected to `into`; its alerts, tags and entities move.
 * The target keeps its own owner and classification, taking the source's only where it has none.
 */
async function mergeInto(
  trx: Transaction<Database>,
  batch: Batch,
  from: number,
  into: number,
  reasons: CorrelationReason[],
  trigger: NormalizedAlert,
  opts: IngestOptions,
): Promise<void> {
  const at = trigger.lastUpdateDateTime as string;
  const src = batch.incidents.get(from)!;
  const dst = batch.incidents.get(into)!;
  const ctx = { actor: SYSTEM_ACTOR, requestId: opts.requestId, at };

  const srcChanges = [
    { property: "status", before: src.doc.status, after: "redirected" },
    { property: "redirectIncidentId", before: null, after: String(into) },
  ];
  const srcDoc = src.doc;
  src.doc = { ...srcDoc, status: "redirected", redirectIncidentId: String(into), lastUpdateDateTime: later(String(srcDoc.lastUpdateDateTime), at) };
  src.writes++;
  audit(batch, ctx, "incident", String(from), srcChanges);

  const dstTags = (dst.doc.customTags as string[]) ?? [];
  const tags = [...new Set([...dstTags, ...((srcDoc.customTags as string[]) ?? [])])];
  const dstDoc: Record<string, unknown> = { ...dst.doc, customTags: tags };
  const dstChanges = [];
  if (tags.length !== dstTags.length) dstChanges.push({ property: "customTags", before: dst.doc.customTags, after: tags });
  if (!dstDoc.assignedTo && srcDoc.assignedTo) {
    dstChanges.push({ property: "assignedTo", before: null, after: srcDoc.assignedTo });
    dstDoc.assignedTo = srcDoc.assignedTo;
  }
  if ((dstDoc.classification ?? "unknown") === "unknown" && (srcDoc.classification ?? "unknown") !== "unknown") {
    dstChanges.push({ property: "classification", before: dstDoc.classification, after: srcDoc.classification });
    dstDoc.classification = srcDoc.classification;
  }
  dst.doc = dstDoc;
  dst.writes++;
  audit(batch, ctx, "incident", String(into), dstChanges);

  // Move the alerts, recording each move in its audit trail, in the order the store lists them.
  const moved = await alertsOf(trx, batch, from);
  for (const a of moved) {
    a.doc = alertDoc(a.doc, into, batch.tenantId);
    a.incidentId = into;
    a.writes++;
    audit(batch, ctx, "alert", a.id, [{ property: "incidentId", before: String(from), after: String(into) }]);
  }
  dst.alertCount += moved.length;
  src.alertCount = 0;

  // Move the entities: the target now answers for everything the source had seen.
  moveSightings(batch, from, into);
  batch.merges.push({ from, into });

  event(batch, into, at, "merged", trigger.id, from, reasons, `incident ${from} merged into ${into}`);
  event(batch, from, at, "redirected", trigger.id, into, reasons, `merged into incident ${into}`);
  markDirty(batch, from, at);
  markDirty(batch, into, at);
}

/**
 * Every alert of the incident, stored or from this batch. The stored ones are read once (locked on
 * PostgreSQL: an analyst's concurrent alert PATCH or comment on another node otherwise bumps an
 * alert's version between this read and the write, failing the whole batch).
 */
async function alertsOf(trx: Transaction<Database>, batch: Batch, incidentId: number): Promise<AlertState[]> {
  const pg = isPostgres(trx);
  if (!batch.incidents.get(incidentId)!.isNew && !batch.alertsLoaded.has(incidentId)) {
    let q = trx.selectFrom("alerts").selectAll().where("tenant_id", "=", batch.tenantId).where("incident_id", "=", incidentId);
    if (pg) q = q.orderBy("id").forUpdate();
    for (const row of await q.execute()) if (!batch.alerts.has(row.id)) batch.alerts.set(row.id, alertStateOf(row));
    batch.alertsLoaded.add(incidentId);
  }
  const mine = [...batch.alerts.values()].filter((a) => a.incidentId === incidentId);
  // SQLite lists an incident's alerts by its (incident, created_at) index, ties in insertion order;
  // PostgreSQL reads them by id.
  return mine.sort(pg ? (a, b) => codePointCompare(a.id, b.id) : (a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.seq - b.seq));
}

/** Text order by code point, which is the byte order of PostgreSQL's "C" collation over UTF-8. */
function codePointCompare(a: string, b: string): number {
  if (a === b) return 0;
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function moveSightings(batch: Batch, from: number, into: number): void {
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

// ---------------------------------------------------------------------------------------------
// Writing the batch's outcome, set by set

async function finishBatch(trx: Transaction<Database>, batch: Batch): Promise<void> {
  await writeEntities(trx, batch);
  await writeDetectorStats(trx, batch);
  for (const part of chunks(batch.events, ROWS_PER_INSERT)) await trx.insertInto("correlation_events").values(part).execute();
  await refreshIncidents(trx, batch);
  await writeIncidents(trx, batch);
  await writeAlerts(trx, batch);
  for (const part of chunks(batch.audit, ROWS_PER_INSERT)) await trx.insertInto("audit_log").values(part).execute();
  await trx.updateTable("tenants").set({ next_incident_id: batch.nextIncident, next_alert_seq: batch.nextSeq }).where("id", "=", batch.tenantId).execute();
}

const keepLatestSighting = sql<string>`case when excluded.last_seen_at > incident_entities.last_seen_at then excluded.last_seen_at else incident_entities.last_seen_at end`;

/**
 * Stored sightings of merged incidents move first, in merge order; then the batch's sightings are
 * written. Both keep the latest sighting, so the outcome is the one the step-by-step rules reach.
 */
async function writeEntities(trx: Transaction<Database>, batch: Batch): Promise<void> {
  const tenantId = batch.tenantId;
  // Incidents that may have stored sightings: a new one gains some when a stored one merges into it.
  const stored = new Set([...batch.incidents.values()].filter((i) => !i.isNew).map((i) => i.row.id));
  for (const m of batch.merges) {
    if (!stored.has(m.from)) continue;
    stored.add(m.into);
    await trx
      .insertInto("incident_entities")
      .columns(["tenant_id", "entity_key", "incident_id", "last_seen_at"])
      .expression((eb) =>
        eb
          .selectFrom("incident_entities")
          .select(["tenant_id", "entity_key", sql.lit(m.into).as("incident_id"), "last_seen_at"])
          .where("tenant_id", "=", tenantId)
          .where("incident_id", "=", m.from),
      )
      .onConflict((oc) => oc.columns(["tenant_id", "entity_key", "incident_id"]).doUpdateSet({ last_seen_at: keepLatestSighting }))
      .execute();
    await trx.deleteFrom("incident_entities").where("tenant_id", "=", tenantId).where("incident_id", "=", m.from).execute();
  }
  const rows: Insertable<Database["incident_entities"]>[] = [];
  for (const [incidentId, keys] of batch.touched) {
    for (const key of keys) rows.push({ tenant_id: tenantId, entity_key: key, incident_id: incidentId, last_seen_at: batch.sightings.get(key)!.get(incidentId)! });
  }
  for (const part of chunks(rows, ROWS_PER_INSERT)) {
    await trx
      .insertInto("incident_entities")
      .values(part)
      .onConflict((oc) => oc.columns(["tenant_id", "entity_key", "incident_id"]).doUpdateSet({ last_seen_at: keepLatestSighting }))
      .execute();
  }
}

async function writeDetectorStats(trx: Transaction<Database>, batch: Batch): Promise<void> {
  const rows = [...batch.detectors].map(([key, n]) => ({ tenant_id: batch.tenantId, detector_key: key, alert_count: n }));
  for (const part of chunks(rows, ROWS_PER_INSERT)) {
    await trx
      .insertInto("detector_stats")
      .values(part)
      .onConflict((oc) => oc.columns(["tenant_id", "detector_key"]).doUpdateSet({ alert_count: sql`detector_stats.alert_count + excluded.alert_count` }))
      .execute();
  }
}

/** What an incident's derived properties are computed from, one entry per alert. */
interface AlertFacts {
  id: string;
  createdAt: string;
  seq: number;
  title: string;
  category: string;
  severity: AlertSeverity;
  detectionSource: string;
  detectorKey: string;
}

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

/**
 * Recomputes what each dirty incident derives from its alerts: alert count, severity (unless an
 * analyst set it), name (unless an analyst set it), priority score, last update time. The stored
 * alerts the batch did not touch are read as columns (their category straight from the document by
 * the database), never parsed here.
 */
async function refreshIncidents(trx: Transaction<Database>, batch: Batch): Promise<void> {
  const ids = [...batch.dirty.keys()].sort((a, b) => a - b);
  const facts = new Map<number, AlertFacts[]>(ids.map((id) => [id, []]));
  const stored = ids.filter((id) => !batch.incidents.get(id)!.isNew && !batch.alertsLoaded.has(id));
  for (const f of await storedFacts(trx, batch, stored)) facts.get(f.incidentId)!.push(f);
  for (const a of batch.alerts.values()) facts.get(a.incidentId)?.push(factsOf(a));
  const assets = await assetCounts(trx, batch.tenantId, ids);
  const detectorCounts = await readDetectorCounts(trx, batch.tenantId, [...new Set([...facts.values()].flat().map((f) => f.detectorKey))]);
  for (const id of ids) {
    const list = facts.get(id)!.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.seq - b.seq));
    refreshOne(batch.incidents.get(id)!, list, assets.get(id) ?? { devices: 0, accounts: 0 }, detectorCounts, batch.dirty.get(id)!);
  }
}

async function storedFacts(trx: Transaction<Database>, batch: Batch, incidentIds: number[]): Promise<(AlertFacts & { incidentId: number })[]> {
  const json = isPostgres(trx) ? postgresJson : sqliteJson;
  const out: (AlertFacts & { incidentId: number })[] = [];
  for (const part of chunks(incidentIds, IN_LIST)) {
    const rows = await trx
      .selectFrom("alerts")
      .select(["id", "incident_id", "seq", "created_at", "title", "severity", "detection_source", "detector_key"])
      .select(json.extract(sql.ref("doc"), ["category"], "string").as("category"))
      .where("tenant_id", "=", batch.tenantId)
      .where("incident_id", "in", part)
      .execute();
    for (const r of rows) {
      // An alert this batch changed counts as it is now, and where it is now.
      if (batch.alerts.has(r.id)) continue;
      out.push({
        incidentId: r.incident_id!,
        id: r.id,
        createdAt: r.created_at,
        seq: r.seq,
        title: r.title ?? "",
        category: r.category == null ? "" : String(r.category as string),
        severity: alertSeverity.members[r.severity]!,
        detectionSource: r.detection_source == null ? "unknown" : detectionSource.members[r.detection_source]!,
        detectorKey: r.detector_key ?? "unknown",
      });
    }
  }
  return out;
}

/** Devices, and accounts or mailboxes, each incident has seen (read after the batch's sightings are written). */
async function assetCounts(trx: Transaction<Database>, tenantId: string, incidentIds: number[]): Promise<Map<number, { devices: number; accounts: number }>> {
  const out = new Map<number, { devices: number; accounts: number }>();
  for (const part of chunks(incidentIds, IN_LIST)) {
    const rows = await trx
      .selectFrom("incident_entities")
      .select("incident_id")
      .select(sql<number>`sum(case when substr(entity_key, 1, 7) = 'device:' then 1 else 0 end)`.as("devices"))
      .select(sql<number>`sum(case when substr(entity_key, 1, 8) in ('account:', 'mailbox:') then 1 else 0 end)`.as("accounts"))
      .where("tenant_id", "=", tenantId)
      .where("incident_id", "in", part)
      .groupBy("incident_id")
      .execute();
    for (const r of rows) out.set(r.incident_id, { devices: Number(r.devices), accounts: Number(r.accounts) });
  }
  return out;
}

/** The tenant's alert count per detector (read after the batch's counts are added). */
async function readDetectorCounts(trx: Transaction<Database>, tenantId: string, keys: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const part of chunks(keys, IN_LIST)) {
    const rows = await trx.selectFrom("detector_stats").select(["detector_key", "alert_count"]).where("tenant_id", "=", tenantId).where("detector_key", "in", part).execute();
    for (const r of rows) out.set(r.detector_key, Number(r.alert_count));
  }
  return out;
}

function refreshOne(inc: IncidentState, alerts: AlertFacts[], assets: { devices: number; accounts: number }, detectorCounts: Map<string, number>, at: string): void {
  const doc = { ...inc.doc };
  let priorityFactors: string | null = null;
  if (inc.doc.status === "redirected") {
    doc.priorityScore = null;
  } else if (alerts.length > 0) {
    const severity = highestSeverity(alerts.map((a) => a.severity));
    if (inc.severitySource === "alerts") doc.severity = severity;
    if (inc.nameSource === "alerts") {
      doc.displayName = incidentName({
        alertTitles: alerts.map((a) => a.title),
        categories: alerts.map((a) => a.category),
        devices: assets.devices,
        accounts: assets.accounts,
      });
    }
    let rarest: number | undefined;
    for (const key of new Set(alerts.map((a) => a.detectorKey))) {
      const n = detectorCounts.get(key);
      if (n !== undefined && (rarest === undefined || n < rarest)) rarest = n;
    }
    const priority = priorityScore({
      severity: doc.severity as AlertSeverity,
      alertCount: alerts.length,
      affectedAssets: assets.devices + assets.accounts,
      detectionSources: alerts.map((a) => a.detectionSource),
      rarestDetectorCount: rarest ?? 1,
    });
    doc.priorityScore = priority.score;
    priorityFactors = JSON.stringify(priority.factors);
  }
  doc.lastUpdateDateTime = later(String(doc.lastUpdateDateTime), at);
  inc.doc = doc;
  inc.alertCount = alerts.length;
  inc.writes++;
  inc.row = { ...inc.row, priority_factors: priorityFactors };
}

/** The row an incident's final state is written as (the columns derived from its document). */
function incidentRow(inc: IncidentState): IncidentTable {
  return {
    ...inc.row,
    ...(columnsOf(incidentResource, inc.doc) as Partial<IncidentTable>),
    redirect_incident_id: inc.doc.redirectIncidentId == null ? null : Number(inc.doc.redirectIncidentId),
    severity_source: inc.severitySource,
    name_source: inc.nameSource,
    alert_count: inc.alertCount,
    version: inc.row.version + inc.writes,
  };
}

async function writeIncidents(trx: Transaction<Database>, batch: Batch): Promise<void> {
  const written = [...batch.incidents.values()].filter((i) => i.writes > 0).sort((a, b) => a.row.id - b.row.id);
  const inserts = written.filter((i) => i.isNew).map(incidentRow);
  for (const part of chunks(inserts, ROWS_PER_INSERT / 2)) await trx.insertInto("incidents").values(part).execute();
  for (const inc of written.filter((i) => !i.isNew)) {
    await updateGuarded(trx, "incidents", inc.row, incidentRow(inc));
  }
}

function alertRow(a: AlertState, tenantId: string): AlertTable {
  const cols = columnsOf(alertResource, a.doc) as Omit<AlertTable, "tenant_id" | "seq" | "detector_key" | "version">;
  if (a.row) return { ...a.row, ...cols, detector_key: a.detectorKey, version: a.row.version + a.writes };
  return { tenant_id: tenantId, seq: a.seq, ...cols, detector_key: a.detectorKey, version: 1 + a.writes };
}

async function writeAlerts(trx: Transaction<Database>, batch: Batch): Promise<void> {
  const fresh: AlertTable[] = [];
  const changed: AlertState[] = [];
  for (const a of batch.alerts.values()) {
    if (!a.row) fresh.push(alertRow(a, batch.tenantId));
    else if (a.writes > 0) changed.push(a);
  }
  // In ingestion order: the order the alerts were numbered in.
  fresh.sort((a, b) => a.seq - b.seq);
  for (const part of chunks(fresh, ROWS_PER_INSERT / 2)) await trx.insertInto("alerts").values(part).execute();
  for (const a of changed) {
    await updateGuarded(trx, "alerts", a.row!, alertRow(a, batch.tenantId));
  }
}
