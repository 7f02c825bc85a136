/**
 * Appending a comment to an incident or an alert: the comment rules (schema/comment.ts) decide, then
 * the entity and its audit row are written together: at once on PostgreSQL (at-once.ts), in one
 * transaction otherwise. Both return the whole comment collection, as Graph does. A feature: it
 * strings store reads and writes around a rule.
 */
import { badRequest } from "../errors/graph-error.js";
import { commentRefusal, type AlertComment } from "../schema/comment.js";
import { recordChanges } from "../store/audit.js";
import type { AlertRecord, IncidentRecord, PropertyChange } from "../schema/records.js";
import { alertRecordOf } from "../store/alert-rows.js";
import { alertNotFound, findAlertRow, writeAlert, writeAlertAtOnce } from "../store/alerts.js";
import { incidentRecordOf } from "../store/incident-rows.js";
import { findIncidentRow, incidentNotFound, writeIncident } from "../store/incidents.js";
import type { AlertTable, IncidentTable } from "../store/tables.js";
import { inTransaction, type StoreDb, type StoreTx } from "../store/transaction.js";
import { atOnce, changeIncidentAtOnce, RACED, type IncidentDecision } from "./at-once.js";
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
function decideComment(row: IncidentTable, ctx: WriteContext, text: string): IncidentDecision & Appended<IncidentRecord> {
  return appended(incidentRecordOf(row), ctx, text, `Incident ${row.id}`);
}

interface Appended<R> {
  next: R;
  changes: PropertyChange[];
  comments: AlertComment[];
}

/** An incident's or alert's record with the comment appended (`what` names it in a refusal, thrown). */
function appended<R extends { doc: Record<string, unknown> }>(record: R, ctx: WriteContext, text: string, what: string): Appended<R> {
  const comment: AlertComment = { comment: text, createdByDisplayName: ctx.actor, createdDateTime: ctx.now };
  const existing = (record.doc.comments as AlertComment[] | undefined) ?? [];
  const refused = commentRefusal(existing, comment, what);
  if (refused) throw badRequest(refused);
  const comments = [...existing, comment];
  return {
    next: { ...record, doc: { ...record.doc, comments, lastUpdateDateTime: ctx.now } },
    changes: [{ property: "comments", before: null, after: comment }],
    comments,
  };
}

export async function addAlertComment(db: StoreDb, ctx: WriteContext, id: string, text: string): Promise<AlertComment[]> {
  const written = await atOnce(db, async () => {
    const row = await findAlertRow(db, ctx.tenantId, id);
    if (!row) throw alertNotFound(id);
    const decision = decideAlertComment(row, ctx, id, text);
    const audit = { ...ctx, entityType: "alert" as const, entityId: id, at: ctx.now };
    return (await writeAlertAtOnce(db, row, decision.next, audit, decision.changes)) ? decision.comments : RACED;
  });
  if (written) return written;
  return inTransaction(db, async (tx) => {
    const row = await findAlertRow(tx, ctx.tenantId, id, true);
    if (!row) throw alertNotFound(id);
    const decision = decideAlertComment(row, ctx, id, text);
    await writeAlert(tx, row, decision.next);
    await recordChanges(tx, { ...ctx, entityType: "alert", entityId: id, at: ctx.now }, decision.changes);
    return decision.comments;
  });
}

/** The alert in `row` with the comment appended, or the rules' refusal (thrown). */
function decideAlertComment(row: AlertTable, ctx: WriteContext, id: string, text: string): Appended<AlertRecord> {
  return appended(alertRecordOf(row), ctx, text, `Alert '${id}'`);
}
