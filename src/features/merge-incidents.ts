/**
 * Graph's mergeIncidents: an analyst merges 2 to 5 incidents into one, in one transaction. The domain
 * picks the target and applies correlation's refusal rules (domain/merge.ts); each source becomes
 * redirected and its alerts, tags and entities move; the target derives its properties again the way
 * every other path does (derive-stored.ts). Every changed incident and alert is audited, and the
 * merge is recorded among the correlation events, as an automatic merge is.
 */
import { badRequest } from "../errors/graph-error.js";
import { commentRefusal, type AlertComment } from "../schema/comment.js";
import type { CorrelationEvent } from "../schema/records.js";
import { alertDoc } from "../domain/ingest/place.js";
import { modifiedBy } from "../domain/incident-rules.js";
import { mergedTarget, planMerge, redirectedSource, MAX_MERGED_INCIDENTS } from "../domain/merge.js";
import { recordChanges } from "../store/audit.js";
import { alertRecordOf } from "../store/alert-rows.js";
import { writeAlert } from "../store/alerts.js";
import { incidentRecordOf } from "../store/incident-rows.js";
import { incidentKey, incidentNotFound, writeIncident } from "../store/incidents.js";
import { lockTenantForIngestion } from "../store/ingest/load.js";
import { insertCorrelationEvents, moveStoredSightings } from "../store/ingest/write.js";
import { lockIncidentAlerts, lockIncidentRows } from "../store/moves.js";
import { inTransaction, type StoreDb } from "../store/transaction.js";
import { countChange, deriveStored } from "./derive-stored.js";
import { notePerson, type WriteContext } from "./write-context.js";

export interface MergeRequest {
  incidentIds: string[];
  comment: string | null;
  reasons: string[];
}

/** Checks what the body alone decides: how many incidents, and none twice. */
function checkIds(ids: readonly string[]): void {
  if (ids.length < 2 || ids.length > MAX_MERGED_INCIDENTS) {
    throw badRequest(`'incidentIds' names ${ids.length} incident(s); a merge takes from 2 to ${MAX_MERGED_INCIDENTS} incidents.`);
  }
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw badRequest(`'incidentIds' names incident '${id}' more than once.`);
    seen.add(id);
  }
}

/** Merges the incidents; answers the id of the one left standing. */
export async function mergeIncidents(db: StoreDb, ctx: WriteContext, req: MergeRequest): Promise<string> {
  checkIds(req.incidentIds);
  const keys = req.incidentIds.map((id) => {
    const key = incidentKey(id);
    if (key === null) throw incidentNotFound(id);
    return key;
  });
  return inTransaction(db, async (tx) => {
    notePerson(tx, ctx);
    // Merges change which incident an alert belongs to, as ingestion does: one at a time per tenant.
    await lockTenantForIngestion(tx, ctx.tenantId);
    const rows = await lockIncidentRows(tx, ctx.tenantId, keys);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const [i, key] of keys.entries()) if (!byId.has(key)) throw incidentNotFound(req.incidentIds[i]!);
    const { target, sources } = planMerge(rows.map(incidentRecordOf));
    const targetRow = byId.get(target.id)!;
    const events: CorrelationEvent[] = [];
    const event = (incidentId: number, kind: string, other: number, detail: string): void => {
      events.push({ tenantId: ctx.tenantId, incidentId, at: ctx.now, kind, alertId: null, otherIncidentId: other, reasons: req.reasons, detail });
    };

    for (const source of sources) {
      for (const alertRow of await lockIncidentAlerts(tx, ctx.tenantId, source.id)) {
        const record = alertRecordOf(alertRow);
        await writeAlert(tx, alertRow, { ...record, incidentId: target.id, doc: alertDoc(record.doc, target.id, ctx.tenantId) });
        await recordChanges(tx, { ...ctx, entityType: "alert", entityId: record.id, at: ctx.now }, [
          { property: "incidentId", before: String(source.id), after: String(target.id) },
        ]);
      }
    }
    await moveStoredSightings(
      tx,
      ctx.tenantId,
      sources.map((s) => ({ from: s.id, into: target.id })),
    );

    for (const source of sources) {
      const redirected = redirectedSource(source.doc, target.id, ctx.now);
      const next = { ...source, doc: { ...redirected.doc, lastModifiedBy: modifiedBy(ctx.actor) } };
      const derived = await deriveStored(tx, ctx.tenantId, next, next, ctx.now);
      await writeIncident(tx, byId.get(source.id)!, derived.next);
      await recordChanges(tx, { ...ctx, entityType: "incident", entityId: String(source.id), at: ctx.now }, [
        ...redirected.changes,
        ...countChange(source.alertCount, derived.next.alertCount),
        ...derived.changes,
      ]);
      event(target.id, "merged", source.id, `incident ${source.id} merged into ${target.id} by ${ctx.actor}`);
      event(source.id, "redirected", target.id, `merged into incident ${target.id} by ${ctx.actor}`);
    }

    const merged = mergedTarget(
      target.doc,
      sources.map((s) => s.doc),
    );
    const changes = [...merged.changes];
    if (req.comment !== null) {
      const comment: AlertComment = { comment: req.comment, createdByDisplayName: ctx.actor, createdDateTime: ctx.now };
      const existing = (merged.doc.comments as AlertComment[] | undefined) ?? [];
      const refused = commentRefusal(existing, comment, `Incident ${target.id}`);
      if (refused) throw badRequest(refused);
      merged.doc.comments = [...existing, comment];
      changes.push({ property: "comments", before: null, after: comment });
    }
    const next = { ...target, doc: { ...merged.doc, lastModifiedBy: modifiedBy(ctx.actor) } };
    const derived = await deriveStored(tx, ctx.tenantId, next, next, ctx.now);
    await writeIncident(tx, targetRow, derived.next);
    await recordChanges(tx, { ...ctx, entityType: "incident", entityId: String(target.id), at: ctx.now }, [
      ...changes,
      ...countChange(target.alertCount, derived.next.alertCount),
      ...derived.changes,
    ]);
    await insertCorrelationEvents(tx, events);
    return String(target.id);
  });
}
