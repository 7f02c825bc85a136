/**
 * Deciding, alert by alert, in memory. Each alert is placed — a new incident, an incident it joins,
 * merges that joining brings about — against the batch's state alone, recording the events and audit
 * rows it causes; nothing here writes to the database. Kept apart from reading and writing so the
 * correlation rules read as one sequence of decisions, with no SQL of their own between them.
 */
import type { Transaction } from "kysely";
import type { Database, IncidentTable } from "../tables.js";
import type { CorrelationReason } from "../../schema/enums.js";
import { normalizeDateTime } from "../columns.js";
import { auditRows } from "../audit.js";
import { decide, DEFAULT_LIMITS, type Candidate, type Decision } from "../../domain/correlate.js";
import type { PropertyChange } from "../../domain/changes.js";
import type { NormalizedAlert } from "../../domain/normalize-alert.js";
import { acceptNewAlert, reingestAlert } from "../../domain/alert-ownership.js";
import { alertTime, isOpen, later, markDirty, moveSightings, shift, SYSTEM_ACTOR, touchEntities, webUrl, type AlertState, type Batch } from "./batch.js";
import { alertsOf } from "./load.js";
import type { IngestOptions, IngestResult } from "./index.js";

export async function ingestOne(trx: Transaction<Database>, batch: Batch, alert: NormalizedAlert, keys: string[], opts: IngestOptions): Promise<IngestResult> {
  const existing = batch.alerts.get(alert.id);
  if (existing) return reingest(batch, existing, alert, keys, opts);

  const at = alertTime(alert);
  const candidates = findCandidates(batch, keys, at, opts.windowMs);
  const decision = decide(candidates, keys, opts.limits ?? DEFAULT_LIMITS);
  for (const r of decision.notJoined ?? []) event(batch, r.incident, at, "joinRefused", alert.id, null, [], r.why);

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

  insertAlert(batch, acceptNewAlert(alert, opts.now!), incidentId);
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
  const summary: IngestResult["correlation"] =
    decision.kind === "new"
      ? { incident: "new", reasons: [], sharedEntities: [] }
      : { incident: "joined", reasons: decision.reasons, sharedEntities: candidates.find((c) => c.id === decision.incident)?.shared ?? [] };
  if (decision.notJoined?.length) summary.notJoined = decision.notJoined.map((r) => ({ incidentId: String(r.incident), why: r.why }));
  return summary;
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
          entityCount: inc.entityCount,
          knownKeys: inc.knownKeys,
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
  batch.incidents.set(id, { row, isNew: true, doc, severitySource: "alerts", nameSource: "alerts", alertCount: 0, entityCount: 0, knownKeys: new Set(), writes: 0 });
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
    analystSet: new Set(),
    writes: 0,
  });
}

/**
 * An alert sent again updates what its source reports; what an analyst decided, the alert's comments
 * and its incident stay (domain/alert-ownership.ts). Each change is audited in the ingesting app's name.
 */
function reingest(batch: Batch, existing: AlertState, alert: NormalizedAlert, keys: string[], opts: IngestOptions): IngestResult {
  const incidentId = existing.incidentId;
  const now = opts.now!;
  const outcome = reingestAlert(existing.doc, alert, existing.analystSet, now);
  if (outcome.next !== existing.doc) {
    existing.doc = outcome.next;
    existing.createdAt = normalizeDateTime(String(existing.doc.createdDateTime));
    existing.detectorKey = detectorKey(existing.doc);
    existing.writes++;
    audit(batch, { actor: opts.actor, requestId: opts.requestId, at: now }, "alert", existing.id, outcome.changes);
    markDirty(batch, incidentId, existing.doc.lastUpdateDateTime as string);
  }
  touchEntities(batch, incidentId, keys, alertTime(alert));
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
