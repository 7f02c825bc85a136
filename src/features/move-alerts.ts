/**
 * Graph's moveAlerts: an analyst moves alerts to an existing open incident, or (no incidentId) to a
 * new one named from its alerts the way ingestion names an incident. One transaction: the alerts
 * change incident (their comment, if given, added), the entities they carry go with them, and every
 * incident involved derives its properties again (derive-stored.ts); each change is audited and the
 * move recorded among the correlation events. An incident left with no alerts stays, with none.
 * Ingesting a moved alert again keeps it where the analyst put it (domain/alert-ownership.ts keeps
 * incidentId from the stored alert).
 */
import { badRequest } from "../errors/graph-error.js";
import { commentRefusal, type AlertComment } from "../schema/comment.js";
import { normalizeDateTime } from "../schema/date-time.js";
import type { CorrelationEvent, IncidentRecord, PropertyChange } from "../schema/records.js";
import { MAX_ALERTS_PER_INCIDENT } from "../domain/correlate.js";
import { entityKeys } from "../domain/entities.js";
import { alertDoc, newIncidentRecord } from "../domain/ingest/place.js";
import { moveRefusal } from "../domain/merge.js";
import { recordChanges } from "../store/audit.js";
import { alertRecordOf } from "../store/alert-rows.js";
import { alertNotFound, writeAlert } from "../store/alerts.js";
import { incidentRecordOf } from "../store/incident-rows.js";
import { incidentKey, incidentNotFound, writeIncident } from "../store/incidents.js";
import { lockTenantForIngestion } from "../store/ingest/load.js";
import { insertCorrelationEvents, writeSightings, writeTenantCounters } from "../store/ingest/write.js";
import { deleteSightings, insertIncident, lockIncidentAlerts, lockIncidentRows, readAlertRows } from "../store/moves.js";
import type { AlertTable, IncidentTable } from "../store/tables.js";
import { inTransaction, type StoreDb } from "../store/transaction.js";
import { countChange, deriveStored } from "./derive-stored.js";
import { notePerson, type WriteContext } from "./write-context.js";

export interface MoveRequest {
  alertIds: string[];
  /** The destination incident; null for a new one. */
  incidentId: string | null;
  comment: string | null;
  reasons: string[];
}

function checkIds(ids: readonly string[]): void {
  if (ids.length === 0) throw badRequest("'alertIds' must name at least one alert.");
  if (ids.length > MAX_ALERTS_PER_INCIDENT) {
    throw badRequest(`'alertIds' names ${ids.length} alerts; one move takes at most ${MAX_ALERTS_PER_INCIDENT}, the most one incident holds.`);
  }
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw badRequest(`'alertIds' names alert '${id}' more than once.`);
    seen.add(id);
  }
}

function keysOf(doc: Record<string, unknown>): string[] {
  return entityKeys(Array.isArray(doc.evidence) ? (doc.evidence as Record<string, unknown>[]) : []).map((k) => k.key);
}

/** When an alert's entities were seen: when its activity began, else when it was created. */
function seenAt(doc: Record<string, unknown>): string {
  return normalizeDateTime(String(doc.firstActivityDateTime ?? doc.createdDateTime));
}

/** Moves the alerts; answers the id of the incident they are in now. */
export async function moveAlerts(db: StoreDb, ctx: WriteContext, req: MoveRequest): Promise<string> {
  checkIds(req.alertIds);
  const targetKey = req.incidentId === null ? null : incidentKey(req.incidentId);
  if (req.incidentId !== null && targetKey === null) throw incidentNotFound(req.incidentId);
  return inTransaction(db, async (tx) => {
    notePerson(tx, ctx);
    // A move changes which incident an alert belongs to, as ingestion does: one at a time per tenant.
    const counters = await lockTenantForIngestion(tx, ctx.tenantId);
    const seen = new Map((await readAlertRows(tx, ctx.tenantId, req.alertIds, false)).map((r) => [r.id, r]));
    for (const id of req.alertIds) if (!seen.has(id)) throw alertNotFound(id);
    const sourceIds = [...new Set([...seen.values()].map((a) => a.incident_id).filter((id): id is number => id !== null && id !== targetKey))];
    const rows = new Map((await lockIncidentRows(tx, ctx.tenantId, targetKey === null ? sourceIds : [...sourceIds, targetKey])).map((r) => [r.id, r]));

    let target: { row: IncidentTable; record: IncidentRecord };
    if (targetKey !== null) {
      const row = rows.get(targetKey);
      if (!row) throw incidentNotFound(req.incidentId!);
      const record = incidentRecordOf(row);
      const refused = moveRefusal(record);
      if (refused) throw badRequest(refused);
      target = { row, record };
    } else {
      const first = [...seen.values()].sort((a, b) => a.created_at.localeCompare(b.created_at) || a.seq - b.seq)[0]!;
      const id = counters.nextIncident;
      const record = newIncidentRecord(id, ctx.tenantId, alertRecordOf(first).doc);
      await writeTenantCounters(tx, ctx.tenantId, id + 1, counters.nextSeq);
      target = { row: await insertIncident(tx, ctx.tenantId, record), record };
    }
    const into = target.record.id;

    const events: CorrelationEvent[] = [];
    const event = (incidentId: number, kind: string, alertId: string, other: number | null, detail: string): void => {
      events.push({ tenantId: ctx.tenantId, incidentId, at: ctx.now, kind, alertId, otherIncidentId: other, reasons: req.reasons, detail });
    };
    if (targetKey === null) event(into, "created", req.alertIds[0]!, null, `created by ${ctx.actor} for moved alerts`);

    const movedKeys = new Map<number, Set<string>>();
    const sightings: { incidentId: number; entityKey: string; lastSeenAt: string }[] = [];
    // Locked once their incidents are, in id order, as every writer takes them.
    const locked: AlertTable[] = await readAlertRows(tx, ctx.tenantId, req.alertIds, true);
    for (const row of locked) {
      if (row.incident_id === into) continue;
      const record = alertRecordOf(row);
      const from = row.incident_id;
      const changes: PropertyChange[] = [{ property: "incidentId", before: from === null ? null : String(from), after: String(into) }];
      let doc = alertDoc(record.doc, into, ctx.tenantId);
      if (req.comment !== null) {
        const comment: AlertComment = { comment: req.comment, createdByDisplayName: ctx.actor, createdDateTime: ctx.now };
        const existing = (doc.comments as AlertComment[] | undefined) ?? [];
        const refused = commentRefusal(existing, comment, `Alert '${row.id}'`);
        if (refused) throw badRequest(refused);
        doc = { ...doc, comments: [...existing, comment], lastUpdateDateTime: ctx.now };
        changes.push({ property: "comments", before: null, after: comment });
      }
      await writeAlert(tx, row, { ...record, incidentId: into, doc });
      await recordChanges(tx, { ...ctx, entityType: "alert", entityId: row.id, at: ctx.now }, changes);
      const keys = keysOf(record.doc);
      for (const key of keys) sightings.push({ incidentId: into, entityKey: key, lastSeenAt: seenAt(record.doc) });
      if (from !== null) {
        let set = movedKeys.get(from);
        if (!set) movedKeys.set(from, (set = new Set()));
        for (const key of keys) set.add(key);
        event(into, "alertMovedIn", row.id, from, `moved from incident ${from} by ${ctx.actor}`);
        event(from, "alertMovedOut", row.id, into, `moved to incident ${into} by ${ctx.actor}`);
      } else {
        event(into, "alertMovedIn", row.id, null, `moved by ${ctx.actor}`);
      }
    }
    await writeSightings(tx, ctx.tenantId, sightings);
    // A source forgets the entities only the moved alerts carried.
    for (const [from, keys] of movedKeys) {
      const kept = new Set((await lockIncidentAlerts(tx, ctx.tenantId, from)).flatMap((a) => keysOf(alertRecordOf(a).doc)));
      await deleteSightings(
        tx,
        ctx.tenantId,
        from,
        [...keys].filter((k) => !kept.has(k)),
      );
    }

    const involved: { row: IncidentTable; record: IncidentRecord }[] = [
      ...[...movedKeys.keys()].sort((a, b) => a - b).map((id) => ({ row: rows.get(id)!, record: incidentRecordOf(rows.get(id)!) })),
      target,
    ];
    for (const { row, record } of involved) {
      const derived = await deriveStored(tx, ctx.tenantId, record, record, ctx.now);
      await writeIncident(tx, row, derived.next);
      await recordChanges(tx, { ...ctx, entityType: "incident", entityId: String(record.id), at: ctx.now }, [
        ...countChange(record.alertCount, derived.next.alertCount),
        ...derived.changes,
      ]);
    }
    await insertCorrelationEvents(tx, events);
    return String(into);
  });
}
