/**
 * Deciding, alert by alert, in memory. Each alert is placed — a new incident, an incident it joins,
 * merges that joining brings about — against the batch's state alone, recording the events and audit
 * entries it causes; nothing here reads or writes the database. Placing is two steps: `planPlacement`
 * decides without changing anything, so the feature can read the alerts its merges will move
 * (`mergeSources`), and `applyPlacement` carries the decision out on the batch.
 */
import type { CorrelationReason } from "../../schema/enums.js";
import type { CorrelationEvent, IncidentRecord } from "../../schema/records.js";
import { normalizeDateTime } from "../../schema/date-time.js";
import { decide, type Candidate, type Decision } from "../correlate.js";
import type { NormalizedAlert } from "../normalize-alert.js";
import { acceptNewAlert, reingestAlert } from "../alert-ownership.js";
import { alertTime, audit, isOpen, later, markDirty, moveSightings, shift, SYSTEM_ACTOR, touchEntities, webUrl, type AlertState, type Batch } from "./batch.js";
import type { DecisionOptions, IngestResult } from "./result.js";

/** Where an alert goes, decided but not yet carried out. */
export type Placement =
  | { kind: "resent"; alert: NormalizedAlert; keys: string[]; existing: AlertState }
  | { kind: "new"; alert: NormalizedAlert; keys: string[]; at: string; candidates: Candidate[]; decision: Decision };

export function planPlacement(batch: Batch, alert: NormalizedAlert, keys: string[], opts: DecisionOptions): Placement {
  const existing = batch.alerts.get(alert.id);
  if (existing) return { kind: "resent", alert, keys, existing };
  const at = alertTime(alert);
  const candidates = findCandidates(batch, keys, at, opts.windowMs);
  return { kind: "new", alert, keys, at, candidates, decision: decide(candidates, keys, opts.limits) };
}

/** The incidents whose alerts the placement's merges move, in merge order. */
export function mergeSources(p: Placement): number[] {
  return p.kind === "new" && p.decision.kind === "join" ? p.decision.merges.map((m) => m.from) : [];
}

/** Carries the placement out. The alerts of its merge sources must have been read (domain/ingest/loaded.ts). */
export function applyPlacement(batch: Batch, p: Placement, opts: DecisionOptions): IngestResult {
  if (p.kind === "resent") return reingest(batch, p.existing, p.alert, p.keys, opts);
  const { alert, keys, at, candidates, decision } = p;
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
      mergeInto(batch, m.from, m.into, m.reasons, alert, opts);
      merged.push({ incidentId: String(m.from), into: String(m.into), reasons: m.reasons });
    }
    for (const r of decision.refused) {
      event(batch, r.incident, at, "mergeRefused", alert.id, r.into, [], r.why);
      mergeRefused.push({ incidentId: String(r.incident), why: r.why });
    }
  }

  insertAlert(batch, acceptNewAlert(alert, opts.now), incidentId);
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
          createdAt: inc.createdAt,
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
  batch.incidents.set(id, {
    ...newIncidentRecord(id, tenantId, alert),
    isNew: true,
    entityCount: 0,
    knownKeys: new Set(),
    writes: 0,
  });
  return id;
}

/** A new incident, before any alert is counted in it: its document from its first alert, its properties the alerts' to derive. */
export function newIncidentRecord(id: number, tenantId: string, alert: Record<string, unknown>): IncidentRecord {
  const doc = newIncidentDoc(id, tenantId, alert);
  return {
    id,
    createdAt: normalizeDateTime(String(doc.createdDateTime)),
    doc,
    severitySource: "alerts",
    nameSource: "alerts",
    alertCount: 0,
    priorityFactors: null,
  };
}

/** A new incident's document, named and rated from its first alert (its derivation then follows all of them). */
function newIncidentDoc(id: number, tenantId: string, alert: Record<string, unknown>): Record<string, unknown> {
  return {
    id: String(id),
    tenantId,
    status: "active",
    incidentWebUrl: webUrl(id, tenantId),
    redirectIncidentId: null,
    displayName: (alert.title as string | undefined) ?? "Incident",
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
}

function detectorKey(a: Record<string, unknown>): string {
  return String(a.detectorId ?? a.title ?? "unknown");
}

/** An alert's document once it belongs to `incidentId`. */
export function alertDoc(alert: Record<string, unknown>, incidentId: number, tenantId: string): Record<string, unknown> {
  return { ...alert, incidentId: String(incidentId), incidentWebUrl: webUrl(incidentId, tenantId) };
}

function insertAlert(batch: Batch, alert: NormalizedAlert, incidentId: number): void {
  const doc = alertDoc(alert, incidentId, batch.tenantId);
  batch.alerts.set(alert.id, {
    isNew: true,
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
function reingest(batch: Batch, existing: AlertState, alert: NormalizedAlert, keys: string[], opts: DecisionOptions): IngestResult {
  const incidentId = existing.incidentId;
  const now = opts.now;
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
  const e: CorrelationEvent = { tenantId: batch.tenantId, incidentId, at, kind, alertId, otherIncidentId: other, reasons, detail };
  batch.events.push(e);
}

/**
 * Defender-style merge: `from` becomes redirected to `into`; its alerts, tags and entities move.
 * The target keeps its own owner and classification, taking the source's only where it has none.
 */
function mergeInto(batch: Batch, from: number, into: number, reasons: CorrelationReason[], trigger: NormalizedAlert, opts: DecisionOptions): void {
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
  const moved = alertsOf(batch, from, opts.alertOrder);
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

/** Every alert of the incident, stored (already read) or from this batch, in the order the store lists them. */
function alertsOf(batch: Batch, incidentId: number, order: DecisionOptions["alertOrder"]): AlertState[] {
  const mine = [...batch.alerts.values()].filter((a) => a.incidentId === incidentId);
  return mine.sort(
    order === "id" ? (a, b) => codePointCompare(a.id, b.id) : (a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.seq - b.seq),
  );
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
