import type { Kysely, Transaction } from "kysely";
import type { AlertTable, Database } from "./tables.js";
import { alertResource } from "../schema/alert.js";
import { columnsOf } from "./columns.js";
import { updateGuarded } from "./guarded-update.js";
import { recordChanges } from "./audit.js";
import { badRequest, notFound } from "../graph/errors.js";
import { patchAlert } from "../domain/alert-rules.js";
import { commentRefusal, type AlertComment } from "../schema/comment.js";
import { MAX_ID_LENGTH } from "../schema/limits.js";
import type { WriteContext } from "./incidents.js";
import { isPostgres } from "./dialect.js";

export function alertNotFound(id: string) {
  return notFound(`Alert with id '${id}' was not found.`);
}

/** An alert's row; `forUpdate` locks it until the transaction ends (PostgreSQL). */
export async function findAlertRow(db: Kysely<Database> | Transaction<Database>, tenantId: string, id: string, forUpdate = false): Promise<AlertTable | undefined> {
  // Ingestion accepts no longer id, so none can name an alert.
  if (id.length > MAX_ID_LENGTH) return undefined;
  let q = db.selectFrom("alerts").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id);
  if (forUpdate && isPostgres(db)) q = q.forUpdate();
  return q.executeTakeFirst();
}

/** Writes an alert document and the columns derived from it, guarded by its version. */
export async function writeAlert(trx: Transaction<Database>, row: AlertTable, doc: Record<string, unknown>, extra: Partial<AlertTable> = {}): Promise<AlertTable> {
  const cols = columnsOf(alertResource, doc);
  const updated: AlertTable = { ...row, ...(cols as Partial<AlertTable>), ...extra, version: row.version + 1 };
  await updateGuarded(trx, "alerts", row, updated);
  return updated;
}

export async function updateAlert(db: Kysely<Database>, ctx: WriteContext, id: string, changes: Record<string, unknown>): Promise<AlertTable> {
  return db.transaction().execute(async (trx) => {
    const row = await findAlertRow(trx, ctx.tenantId, id, true);
    if (!row) throw alertNotFound(id);
    const outcome = patchAlert(JSON.parse(row.doc) as Record<string, unknown>, changes, ctx.now);
    if (outcome.changes.length === 0) return row;
    const written = await writeAlert(trx, row, outcome.next);
    await recordChanges(trx, { ...ctx, entityType: "alert", entityId: id, at: ctx.now }, outcome.changes);
    return written;
  });
}

export async function addAlertComment(db: Kysely<Database>, ctx: WriteContext, id: string, text: string): Promise<AlertComment[]> {
  return db.transaction().execute(async (trx) => {
    const row = await findAlertRow(trx, ctx.tenantId, id, true);
    if (!row) throw alertNotFound(id);
    const doc = JSON.parse(row.doc) as Record<string, unknown>;
    const comment: AlertComment = { comment: text, createdByDisplayName: ctx.actor, createdDateTime: ctx.now };
    const existing = (doc.comments as AlertComment[] | undefined) ?? [];
    const refused = commentRefusal(existing, comment, `Alert '${id}'`);
    if (refused) throw badRequest(refused);
    const comments = [...existing, comment];
    await writeAlert(trx, row, { ...doc, comments, lastUpdateDateTime: ctx.now });
    await recordChanges(trx, { ...ctx, entityType: "alert", entityId: id, at: ctx.now }, [{ property: "comments", before: null, after: comment }]);
    return comments;
  });
}
