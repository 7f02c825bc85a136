import type { Kysely, Transaction } from "kysely";
import type { AlertTable, Database } from "./tables.js";
import { alertResource } from "../schema/alert.js";
import { columnsOf } from "./columns.js";
import { updateGuarded } from "./guarded-update.js";
import { recordChanges } from "./audit.js";
import { badRequest, notFound } from "../errors/graph-error.js";
import { patchAlert } from "../domain/alert-rules.js";
import { commentRefusal, type AlertComment } from "../schema/comment.js";
import { MAX_ID_LENGTH } from "../schema/limits.js";
import { deriveStored, findIncidentRow, stateOf, writeIncident, type WriteContext } from "./incidents.js";
import { analystSetAfter, decodeAnalystSet, encodeAnalystSet } from "../domain/alert-ownership.js";

/** How many times a PATCH follows an alert that a merge moved while it waited for its locks. */
const MOVE_RETRIES = 3;
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

/**
 * PATCH of an alert: the domain rule decides, the properties it changed become the analyst's (an
 * alert sent again keeps them), and the alert's incident derives its properties again, the same way
 * ingestion does — all in one transaction.
 *
 * Locks are taken incident first, then alert: the order ingestion takes them in, so the two never wait
 * on each other in a cycle. The alert is read unlocked to learn its incident; if a merge moved it
 * before the locks were granted, the incident it moved to is locked instead.
 */
export async function updateAlert(db: Kysely<Database>, ctx: WriteContext, id: string, changes: Record<string, unknown>): Promise<AlertTable> {
  return db.transaction().execute(async (trx) => {
    for (let attempt = 0; ; attempt++) {
      const seen = await findAlertRow(trx, ctx.tenantId, id);
      if (!seen) throw alertNotFound(id);
      const incident = seen.incident_id === null ? undefined : await findIncidentRow(trx, ctx.tenantId, seen.incident_id, true);
      const row = await findAlertRow(trx, ctx.tenantId, id, true);
      if (!row) throw alertNotFound(id);
      // Merges move alerts one incident at a time, each under the lock of the incident it moves them from.
      if (row.incident_id !== seen.incident_id && attempt < MOVE_RETRIES) continue;
      if (row.incident_id !== seen.incident_id) throw new Error(`alert ${id} kept moving between incidents`);
      const outcome = patchAlert(JSON.parse(row.doc) as Record<string, unknown>, changes, ctx.now);
      if (outcome.changes.length === 0) return row;
      const analyst = encodeAnalystSet(analystSetAfter(decodeAnalystSet(row.analyst_properties), outcome.changes));
      const written = await writeAlert(trx, row, outcome.next, analyst === row.analyst_properties ? {} : { analyst_properties: analyst });
      await recordChanges(trx, { ...ctx, entityType: "alert", entityId: id, at: ctx.now }, outcome.changes);
      if (incident) {
        const derived = await deriveStored(trx, ctx.tenantId, incident, stateOf(incident), ctx.now);
        await writeIncident(trx, incident, derived);
        await recordChanges(trx, { ...ctx, entityType: "incident", entityId: String(incident.id), at: ctx.now }, derived.changes);
      }
      return written;
    }
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
