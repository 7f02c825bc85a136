import type { Kysely, Transaction } from "kysely";
import type { Database, IncidentTable } from "./tables.js";
import { incidentResource } from "../schema/incident.js";
import { columnsOf } from "./columns.js";
import { updateGuarded } from "./guarded-update.js";
import { recordChanges } from "./audit.js";
import { badRequest, notFound } from "../errors/graph-error.js";
import { patchIncident, type IncidentState } from "../domain/incident-rules.js";
import { commentRefusal, type AlertComment } from "../schema/comment.js";
import { MAX_INCIDENT_ID } from "../schema/limits.js";
import { isPostgres } from "./dialect.js";
import type { PropertyChange } from "../domain/changes.js";
import { deriveIncident } from "../domain/incident-derive.js";
import { assetCounts, detectorCounts, storedAlertFacts } from "./incident-facts.js";

/** Incident ids are decimal strings within the id column's range; anything else cannot name an incident. */
export function incidentKey(id: string): number | null {
  if (!/^\d{1,10}$/.test(id)) return null;
  const key = Number(id);
  return key <= MAX_INCIDENT_ID ? key : null;
}

export function incidentNotFound(id: string) {
  return notFound(`Incident with id '${id}' was not found.`);
}

/**
 * An incident's row. `forUpdate` locks it until the transaction ends on PostgreSQL, where several
 * nodes write concurrently (SQLite serializes its writers anyway).
 */
export async function findIncidentRow(db: Kysely<Database> | Transaction<Database>, tenantId: string, id: string | number, forUpdate = false): Promise<IncidentTable | undefined> {
  const key = typeof id === "number" ? id : incidentKey(id);
  if (key === null) return undefined;
  let q = db.selectFrom("incidents").selectAll().where("tenant_id", "=", tenantId).where("id", "=", key);
  if (forUpdate && isPostgres(db)) q = q.forUpdate();
  return q.executeTakeFirst();
}

/** Writes an incident document and the columns derived from it, guarded by its version. */
export async function writeIncident(
  trx: Transaction<Database>,
  row: IncidentTable,
  next: IncidentState & { alertCount?: number; priorityFactors?: string | null },
): Promise<IncidentTable> {
  const cols = columnsOf(incidentResource, next.doc);
  const updated: IncidentTable = {
    ...row,
    ...(cols as Partial<IncidentTable>),
    redirect_incident_id: next.doc.redirectIncidentId == null ? null : Number(next.doc.redirectIncidentId),
    severity_source: next.severitySource,
    name_source: next.nameSource,
    alert_count: next.alertCount ?? row.alert_count,
    priority_factors: next.priorityFactors === undefined ? row.priority_factors : next.priorityFactors,
    version: row.version + 1,
  };
  await updateGuarded(trx, "incidents", row, updated);
  return updated;
}

export function stateOf(row: IncidentTable): IncidentState {
  return {
    doc: JSON.parse(row.doc) as Record<string, unknown>,
    severitySource: row.severity_source === "analyst" ? "analyst" : "alerts",
    nameSource: row.name_source === "analyst" ? "analyst" : "alerts",
  };
}

export interface WriteContext {
  tenantId: string;
  actor: string;
  requestId: string | null;
  now: string;
}

/**
 * An incident as it derives from its alerts, in the state given: the one derivation ingestion uses
 * too (domain/incident-derive.ts), fed from the store. The row must be locked by the caller.
 */
export async function deriveStored(trx: Transaction<Database>, tenantId: string, row: IncidentTable, state: IncidentState, at: string): Promise<IncidentState & { alertCount: number; priorityFactors: string | null; changes: PropertyChange[] }> {
  const alerts = await storedAlertFacts(trx, tenantId, [row.id]);
  const assets = (await assetCounts(trx, tenantId, [row.id])).get(row.id) ?? { devices: 0, accounts: 0 };
  const counts = await detectorCounts(trx, tenantId, [...new Set(alerts.map((a) => a.detectorKey))]);
  const derived = deriveIncident({ ...state, alerts, assets, detectorCounts: counts, at });
  return { ...state, doc: derived.doc, alertCount: derived.alertCount, priorityFactors: derived.priorityFactors, changes: derived.changes };
}

/**
 * PATCH: the domain rule decides, what the incident derives from its alerts follows (a severity an
 * analyst sets moves the priority score), then the entity and its audit rows are written in one transaction.
 */
export async function updateIncident(db: Kysely<Database>, ctx: WriteContext, id: string, changes: Record<string, unknown>): Promise<IncidentTable> {
  return db.transaction().execute(async (trx) => {
    const row = await findIncidentRow(trx, ctx.tenantId, id, true);
    if (!row) throw incidentNotFound(id);
    const outcome = patchIncident(stateOf(row), changes, ctx.actor, ctx.now);
    if (outcome.changes.length === 0) return row;
    const derived = await deriveStored(trx, ctx.tenantId, row, outcome.next, ctx.now);
    const written = await writeIncident(trx, row, derived);
    // The derived changes are measured from the patched incident: they never repeat the PATCH's own.
    await recordChanges(trx, { ...ctx, entityType: "incident", entityId: String(row.id), at: ctx.now }, [...outcome.changes, ...derived.changes]);
    return written;
  });
}

/** Appends a comment; returns the whole comment collection, as Graph does. */
export async function addIncidentComment(db: Kysely<Database>, ctx: WriteContext, id: string, text: string): Promise<AlertComment[]> {
  return db.transaction().execute(async (trx) => {
    const row = await findIncidentRow(trx, ctx.tenantId, id, true);
    if (!row) throw incidentNotFound(id);
    const state = stateOf(row);
    const comment: AlertComment = { comment: text, createdByDisplayName: ctx.actor, createdDateTime: ctx.now };
    const existing = (state.doc.comments as AlertComment[] | undefined) ?? [];
    const refused = commentRefusal(existing, comment, `Incident ${row.id}`);
    if (refused) throw badRequest(refused);
    const comments = [...existing, comment];
    await writeIncident(trx, row, { ...state, doc: { ...state.doc, comments, lastUpdateDateTime: ctx.now } });
    await recordChanges(trx, { ...ctx, entityType: "incident", entityId: String(row.id), at: ctx.now }, [
      { property: "comments", before: null, after: comment },
    ]);
    return comments;
  });
}
