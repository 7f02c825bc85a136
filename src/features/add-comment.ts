/**
 * Appending a comment to an incident or an alert: the comment rules (schema/comment.ts) decide, then
 * the entity and its audit row are written in one transaction. Both return the whole comment
 * collection, as Graph does. A feature: it strings store reads and writes around a rule.
 */
import { badRequest } from "../errors/graph-error.js";
import { commentRefusal, type AlertComment } from "../schema/comment.js";
import { recordChanges } from "../store/audit.js";
import type { IncidentRecord } from "../schema/records.js";
import { alertRecordOf } from "../store/alert-rows.js";
import { alertNotFound, findAlertRow, writeAlert } from "../store/alerts.js";
import { incidentRecordOf } from "../store/incident-rows.js";
import { findIncidentRow, incidentNotFound, writeIncident } from "../store/incidents.js";
import type { IncidentTable } from "../store/tables.js";
import { inTransaction, type StoreDb, type StoreTx } from "../store/transaction.js";
import { changeIncidentAtOnce, type IncidentDecision } from "./incident-at-once.js";
import { notePerson, type WriteContext } from "./write-context.js";

export async function addIncidentComment(db: StoreDb, ctx: WriteContext, id: string, text: string): Promise<AlertComment[]> {
  let comments: AlertComment[] = [];
  const atOnce = await changeIncidentAtOnce(db, ctx, id, async (row) => {
    const decision = decideComment(row, ctx, text);
    comments = decision.comments;
    return decision;
  });
  if (atOnce) return comments;
  return inTransaction(db, async (tx) => {
    notePerson(tx, ctx);
    const row = await findIncidentRow(tx, ctx.tenantId, id, true);
    if (!row) throw incidentNotFound(id);
    return (await commentOnIncidentRow(tx, ctx, row, text)).comments;
  });
}

/** Appends a comment to a locked incident row and writes it with its audit row; the comments and the row as written. */
export async function commentOnIncidentRow(
  tx: StoreTx,
  ctx: WriteContext,
  row: IncidentTable,
  text: string,
): Promise<{ comments: AlertComment[]; row: IncidentTable }> {
  const decision = decideComment(row, ctx, text);
  const written = await writeIncident(tx, row, decision.next);
  await recordChanges(tx, { ...ctx, entityType: "incident", entityId: String(row.id), at: ctx.now }, decision.changes);
  return { comments: decision.comments, row: written };
}

/** The incident in `row` with the comment appended, or the rules' refusal (thrown). */
function decideComment(row: IncidentTable, ctx: WriteContext, text: string): IncidentDecision & { next: IncidentRecord; comments: AlertComment[] } {
  const record = incidentRecordOf(row);
  const comment: AlertComment = { comment: text, createdByDisplayName: ctx.actor, createdDateTime: ctx.now };
  const existing = (record.doc.comments as AlertComment[] | undefined) ?? [];
  const refused = commentRefusal(existing, comment, `Incident ${row.id}`);
  if (refused) throw badRequest(refused);
  const comments = [...existing, comment];
  return {
    next: { ...record, doc: { ...record.doc, comments, lastUpdateDateTime: ctx.now } },
    changes: [{ property: "comments", before: null, after: comment }],
    comments,
  };
}

export async function addAlertComment(db: StoreDb, ctx: WriteContext, id: string, text: string): Promise<AlertComment[]> {
  return inTransaction(db, async (tx) => {
    const row = await findAlertRow(tx, ctx.tenantId, id, true);
    if (!row) throw alertNotFound(id);
    const record = alertRecordOf(row);
    const comment: AlertComment = { comment: text, createdByDisplayName: ctx.actor, createdDateTime: ctx.now };
    const existing = (record.doc.comments as AlertComment[] | undefined) ?? [];
    const refused = commentRefusal(existing, comment, `Alert '${id}'`);
    if (refused) throw badRequest(refused);
    const comments = [...existing, comment];
    await writeAlert(tx, row, { ...record, doc: { ...record.doc, comments, lastUpdateDateTime: ctx.now } });
    await recordChanges(tx, { ...ctx, entityType: "alert", entityId: id, at: ctx.now }, [{ property: "comments", before: null, after: comment }]);
    return comments;
  });
}
