import { sql, type Insertable, type Kysely, type Transaction } from "kysely";
import type { AlertTable, Database, IncidentTable } from "./tables.js";
import { alertResource } from "../schema/alert.js";
import { incidentResource } from "../schema/incident.js";
import type { AlertSeverity, CorrelationReason } from "../schema/enums.js";
import { columnsOf } from "./columns.js";
import { recordChanges } from "./audit.js";
import { findAlertRow, writeAlert } from "./alerts.js";
import { stateOf, writeIncident } from "./incidents.js";
import { entityKeys } from "../domain/entities.js";
import { decide, OPEN_STATUSES, type Candidate, type Decision } from "../domain/correlate.js";
import { highestSeverity } from "../domain/severity.js";
import { priorityScore } from "../domain/priority.js";
import { incidentName } from "../domain/incident-name.js";
import type { NormalizedAlert } from "../ingest/normalize-alert.js";
import { isPostgres } from "./dialect.js";
import { findIncidentRow } from "./incidents.js";

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

/**
 * What a batch accumulates and writes once at its end: the tenant's counters, the incidents whose
 * derived properties need recomputing (each once, however many alerts it got), detector counts and
 * correlation events.
 */
interface Batch {
  tenantId: string;
  nextIncident: number;
  nextSeq: number;
  /** Incident id → the latest event time that touched it. */
  dirty: Map<number, string>;
  detectors: Map<string, number>;
  events: Insertable<Database["correlation_events"]>[];
}

/** Ingests a batch in one transaction: all alerts land, or none do. */
export async function ingestAlerts(db: Kysely<Database>, tenantId: string, alerts: NormalizedAlert[], opts: IngestOptions): Promise<IngestResult[]> {
  return db.transaction().execute(async (trx) => {
    // One ingestion at a time per tenant, across every node: correlation reads what the previous
    // batch wrote, so no cluster gets two incidents and no pair is merged twice. (The tenant's
    // counters are written only here, under the same lock.)
    if (isPostgres(trx)) await sql`select pg_advisory_xact_lock(hashtext(${`triage-ingest:${tenantId}`}))`.execute(trx);
    const tenant = await trx.selectFrom("tenants").select(["next_incident_id", "next_alert_seq"]).where("id", "=", tenantId).executeTakeFirstOrThrow();
    const batch: Batch = { tenantId, nextIncident: tenant.next_incident_id, nextSeq: tenant.next_alert_seq, dirty: new Map(), detectors: new Map(), events: [] };
    const results: IngestResult[] = [];
    for (const alert of alerts) results.push(await ingestOne(trx, batch, alert, opts));
    await finishBatch(trx, batch);
    return results;
  });
}

function markDirty(batch: Batch, incidentId: number, at: string): void {
  const prev = batch.dirty.get(incidentId);
  batch.dirty.set(incidentId, prev && prev > at ? prev : at);
}

async function finishBatch(trx: Transaction<Database>, batch: Batch): Promise<void> {
  for (const [key, n] of batch.detectors) {
    await trx
      .insertInto("detector_stats")
      .values({ tenant_id: batch.tenantId, detector_key: key, alert_count: n })
      .onConflict((oc) => oc.columns(["tenant_id", "detector_key"]).doUpdateSet({ alert_count: sql`detector_stats.alert_count + ${n}` }))
      .execute();
  }
  for (let i = 0; i < batch.events.length; i += 500) {
    await trx.insertInto("correlation_events").values(batch.events.slice(i, i + 500)).execute();
  }
  // In id order: the lock order every writer uses.
  for (const id of [...batch.dirty.keys()].sort((a, b) => a - b)) await refreshIncident(trx, batch.tenantId, id, batch.dirty.get(id)!);
  await trx.updateTable("tenants").set({ next_incident_id: batch.nextIncident, next_alert_seq: batch.nextSeq }).where("id", "=", batch.tenantId).execute();
}

async function ingestOne(trx: Transaction<Database>, batch: Batch, alert: NormalizedAlert, opts: IngestOptions): Promise<IngestResult> {
  const tenantId = batch.tenantId;
  const existing = await findAlertRow(trx, tenantId, alert.id, true);
  if (existing) return reingest(trx, batch, existing, alert);

  const keys = entityKeys((alert.evidence as Record<string, unknown>[]) ?? []).map((k) => k.key);
  const at = alertTime(alert);
  const candidates = await findCandidates(trx, tenantId, keys, at, opts.windowMs);
  const decision = decide(candidates);

  let incidentId: number;
  const merged: IngestResult["merged"] = [];
  const mergeRefused: IngestResult["mergeRefused"] = [];
  if (decision.kind === "new") {
    incidentId = await createIncident(trx, batch, alert);
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

  await insertAlert(trx, batch, alert, incidentId);
  // The count is kept current at once (the next alert's merge ranking reads it); the rest of what the
  // incident derives from its alerts is recomputed once, at the end of the batch.
  await trx.updateTable("incidents").set({ alert_count: sql`alert_count + 1` }).where("tenant_id", "=", tenantId).where("id", "=", incidentId).execute();
  await touchEntities(trx, tenantId, incidentId, keys, at);
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
async function findCandidates(trx: Transaction<Database>, tenantId: string, keys: string[], at: string, windowMs: number): Promise<Candidate[]> {
  if (keys.length === 0) return [];
  const openOrdinals = OPEN_STATUSES.map((s) => incidentResourceStatusOrdinal(s));
  let q = trx
    .selectFrom("incident_entities as e")
    .innerJoin("incidents as i", (j) => j.onRef("i.tenant_id", "=", "e.tenant_id").onRef("i.id", "=", "e.incident_id"))
    .select(["e.entity_key", "i.id", "i.doc", "i.alert_count", "i.created_at", "i.status"])
    .where("e.tenant_id", "=", tenantId)
    .where("e.entity_key", "in", keys)
    .where("e.last_seen_at", ">=", shift(at, -windowMs))
    .where("e.last_seen_at", "<=", shift(at, windowMs))
    .where("i.status", "in", openOrdinals);
  // PostgreSQL: lock the candidates (in id order, the order every writer uses) as they are read. A
  // concurrent PATCH on another node (assigning, classifying, resolving) then either committed first
  // and is read here — the row is re-read once its lock is granted — or waits for this batch; the
  // join/merge decision never rests on a state that no longer holds.
  if (isPostgres(trx)) q = q.orderBy("i.id").forUpdate("i");
  const rows = await q.execute();
  const byId = new Map<number, Candidate>();
  for (const r of rows) {
    let c = byId.get(r.id);
    if (!c) {
      const doc = JSON.parse(r.doc) as Record<string, unknown>;
      c = {
        id: r.id,
        status: doc.status as string,
        assignedTo: (doc.assignedTo as string | null) ?? null,
        classification: (doc.classification as string | null) ?? null,
        alertCount: r.alert_count,
        createdAt: r.created_at,
        shared: [],
      };
      byId.set(r.id, c);
    }
    c.shared.push(r.entity_key);
  }
  for (const c of byId.values()) c.shared.sort();
  return [...byId.values()];
}

function incidentResourceStatusOrdinal(status: string): number {
  return columnsOf(incidentResource, { status }).status as number;
}

async function createIncident(trx: Transaction<Database>, batch: Batch, alert: NormalizedAlert): Promise<number> {
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
  const row: IncidentTable = {
    tenant_id: tenantId,
    id,
    ...(columnsOf(incidentResource, doc) as Omit<IncidentTable, "tenant_id" | "id">),
    redirect_incident_id: null,
    priority_factors: null,
    severity_source: "alerts",
    name_source: "alerts",
    alert_count: 0,
    version: 1,
    doc: JSON.stringify(doc),
  };
  await trx.insertInto("incidents").values(row).execute();
  return id;
}

function detectorKey(a: Record<string, unknown>): string {
  return String(a.detectorId ?? a.title ?? "unknown");
}

function alertDoc(alert: Record<string, unknown>, incidentId: number, tenantId: string): Record<string, unknown> {
  return { ...alert, incidentId: String(incidentId), incidentWebUrl: webUrl(incidentId, tenantId) };
}

async function insertAlert(trx: Transaction<Database>, batch: Batch, alert: NormalizedAlert, incidentId: number): Promise<void> {
  const tenantId = batch.tenantId;
  const seq = batch.nextSeq++;
  const doc = alertDoc(alert, incidentId, tenantId);
  const row: AlertTable = {
    tenant_id: tenantId,
    seq,
    ...(columnsOf(alertResource, doc) as Omit<AlertTable, "tenant_id" | "seq" | "detector_key" | "version" | "doc">),
    detector_key: detectorKey(alert),
    version: 1,
    doc: JSON.stringify(doc),
  };
  await trx.insertInto("alerts").values(row).execute();
}

/** An alert sent again updates what its source reports; analysts' comments and its incident stay. */
async function reingest(trx: Transaction<Database>, batch: Batch, existing: AlertTable, alert: NormalizedAlert): Promise<IngestResult> {
  const tenantId = batch.tenantId;
  const current = JSON.parse(existing.doc) as Record<string, unknown>;
  const incidentId = existing.incident_id!;
  const next: Record<string, unknown> = {
    ...alert,
    comments: current.comments,
    customDetails: Object.keys(alert.customDetails as object).length ? alert.customDetails : current.customDetails,
    incidentId: current.incidentId,
    incidentWebUrl: current.incidentWebUrl,
  };
  await writeAlert(trx, existing, next, { detector_key: detectorKey(alert) });
  const keys = entityKeys((alert.evidence as Record<string, unknown>[]) ?? []).map((k) => k.key);
  await touchEntities(trx, tenantId, incidentId, keys, alertTime(alert));
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

/** Records that the incident saw these entities at `at` (keeping the latest sighting). */
async function touchEntities(trx: Transaction<Database>, tenantId: string, incidentId: number, keys: string[], at: string): Promise<void> {
  for (const key of keys) {
    await trx
      .insertInto("incident_entities")
      .values({ tenant_id: tenantId, entity_key: key, incident_id: incidentId, last_seen_at: at })
      .onConflict((oc) =>
        oc.columns(["tenant_id", "entity_key", "incident_id"]).doUpdateSet({
          last_seen_at: sql`case when excluded.last_seen_at > incident_entities.last_seen_at then excluded.last_seen_at else incident_entities.last_seen_at end`,
        }),
      )
      .execute();
  }
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
  const tenantId = batch.tenantId;
  const at = trigger.lastUpdateDateTime as string;
  // Lock both in id order, the order every writer uses, so two writers cannot deadlock.
  const [first, second] = from < into ? [from, into] : [into, from];
  const a = (await findIncidentRow(trx, tenantId, first, true))!;
  const b = (await findIncidentRow(trx, tenantId, second, true))!;
  const src = a.id === from ? a : b;
  const dst = a.id === from ? b : a;
  const srcState = stateOf(src);
  const dstState = stateOf(dst);
  const audit = { tenantId, actor: SYSTEM_ACTOR, requestId: opts.requestId, at };

  const srcChanges = [
    { property: "status", before: srcState.doc.status, after: "redirected" },
    { property: "redirectIncidentId", before: null, after: String(into) },
  ];
  await writeIncident(trx, src, {
    ...srcState,
    doc: { ...srcState.doc, status: "redirected", redirectIncidentId: String(into), lastUpdateDateTime: later(String(srcState.doc.lastUpdateDateTime), at) },
  });
  await recordChanges(trx, { ...audit, entityType: "incident", entityId: String(from) }, srcChanges);

  const tags = [...new Set([...((dstState.doc.customTags as string[]) ?? []), ...((srcState.doc.customTags as string[]) ?? [])])];
  const dstDoc: Record<string, unknown> = { ...dstState.doc, customTags: tags };
  const dstChanges = [];
  if (tags.length !== ((dstState.doc.customTags as string[]) ?? []).length) dstChanges.push({ property: "customTags", before: dstState.doc.customTags, after: tags });
  if (!dstDoc.assignedTo && srcState.doc.assignedTo) {
    dstChanges.push({ property: "assignedTo", before: null, after: srcState.doc.assignedTo });
    dstDoc.assignedTo = srcState.doc.assignedTo;
  }
  if ((dstDoc.classification ?? "unknown") === "unknown" && (srcState.doc.classification ?? "unknown") !== "unknown") {
    dstChanges.push({ property: "classification", before: dstDoc.classification, after: srcState.doc.classification });
    dstDoc.classification = srcState.doc.classification;
  }
  await writeIncident(trx, dst, { ...dstState, doc: dstDoc });
  await recordChanges(trx, { ...audit, entityType: "incident", entityId: String(into) }, dstChanges);

  // Move the alerts, recording each move in its audit trail.
  // Locked (PostgreSQL): an analyst's concurrent alert PATCH or comment on another node otherwise
  // bumps an alert's version between this read and the write, failing the whole batch.
  let movedQuery = trx.selectFrom("alerts").selectAll().where("tenant_id", "=", tenantId).where("incident_id", "=", from);
  if (isPostgres(trx)) movedQuery = movedQuery.orderBy("id").forUpdate();
  const moved = await movedQuery.execute();
  for (const a of moved) {
    const doc = JSON.parse(a.doc) as Record<string, unknown>;
    await writeAlert(trx, a, alertDoc(doc, into, tenantId));
    await recordChanges(trx, { ...audit, entityType: "alert", entityId: a.id }, [{ property: "incidentId", before: String(from), after: String(into) }]);
  }

  await trx.updateTable("incidents").set({ alert_count: sql`alert_count + ${moved.length}` }).where("tenant_id", "=", tenantId).where("id", "=", into).execute();
  await trx.updateTable("incidents").set({ alert_count: 0 }).where("tenant_id", "=", tenantId).where("id", "=", from).execute();

  // Move the entities: the target now answers for everything the source had seen.
  const entities = await trx.selectFrom("incident_entities").selectAll().where("tenant_id", "=", tenantId).where("incident_id", "=", from).execute();
  for (const e of entities) await touchEntities(trx, tenantId, into, [e.entity_key], e.last_seen_at);
  await trx.deleteFrom("incident_entities").where("tenant_id", "=", tenantId).where("incident_id", "=", from).execute();

  event(batch, into, at, "merged", trigger.id, from, reasons, `incident ${from} merged into ${into}`);
  event(batch, from, at, "redirected", trigger.id, into, reasons, `merged into incident ${into}`);
  markDirty(batch, from, at);
  markDirty(batch, into, at);
}

/**
 * Recomputes what an incident derives from its alerts: alert count, severity (unless an analyst set
 * it), name (unless an analyst set it), priority score, last update time.
 */
async function refreshIncident(trx: Transaction<Database>, tenantId: string, incidentId: number, at: string): Promise<void> {
  const row = await findIncidentRow(trx, tenantId, incidentId, true);
  if (!row) throw new Error(`incident ${incidentId} vanished`);
  const state = stateOf(row);
  const alerts = await trx
    .selectFrom("alerts")
    .select(["doc", "detector_key"])
    .where("tenant_id", "=", tenantId)
    .where("incident_id", "=", incidentId)
    .orderBy("created_at")
    .execute();
  const docs = alerts.map((a) => JSON.parse(a.doc) as Record<string, unknown>);
  const entities = await trx.selectFrom("incident_entities").select("entity_key").where("tenant_id", "=", tenantId).where("incident_id", "=", incidentId).execute();
  const kinds = entities.map((e) => e.entity_key.slice(0, e.entity_key.indexOf(":")));
  const devices = kinds.filter((k) => k === "device").length;
  const accounts = kinds.filter((k) => k === "account" || k === "mailbox").length;

  const doc = { ...state.doc };
  let priorityFactors: string | null = null;
  if (state.doc.status === "redirected") {
    doc.priorityScore = null;
  } else if (docs.length > 0) {
    const severity = highestSeverity(docs.map((d) => d.severity as AlertSeverity));
    if (state.severitySource === "alerts") doc.severity = severity;
    if (state.nameSource === "alerts") {
      doc.displayName = incidentName({
        alertTitles: docs.map((d) => String(d.title ?? "")),
        categories: docs.map((d) => String(d.category ?? "")),
        devices,
        accounts,
      });
    }
    const detectorKeys = [...new Set(alerts.map((a) => a.detector_key ?? "unknown"))];
    const stats = await trx
      .selectFrom("detector_stats")
      .select(sql<number>`min(alert_count)`.as("n"))
      .where("tenant_id", "=", tenantId)
      .where("detector_key", "in", detectorKeys)
      .executeTakeFirst();
    const priority = priorityScore({
      severity: doc.severity as AlertSeverity,
      alertCount: docs.length,
      affectedAssets: devices + accounts,
      detectionSources: docs.map((d) => String(d.detectionSource ?? "unknown")),
      rarestDetectorCount: Number(stats?.n ?? 1),
    });
    doc.priorityScore = priority.score;
    priorityFactors = JSON.stringify(priority.factors);
  }
  doc.lastUpdateDateTime = later(String(doc.lastUpdateDateTime), at);
  await writeIncident(trx, row, { ...state, doc, alertCount: docs.length, priorityFactors });
}
