/**
 * PATCH of an incident: the domain rule decides (domain/incident-rules.ts), what the incident derives
 * from its alerts follows (a severity an analyst sets moves the priority score), then the incident and
 * its audit rows are written in one transaction. A feature: it strings store reads and writes around
 * the rules.
 */
import { patchIncident } from "../domain/incident-rules.js";
import { recordChanges } from "../store/audit.js";
import { incidentRecordOf } from "../store/incident-rows.js";
import { findIncidentRow, incidentNotFound, writeIncident } from "../store/incidents.js";
import type { IncidentTable } from "../store/tables.js";
import { inTransaction, type StoreDb, type StoreTx } from "../store/transaction.js";
import { deriveStored } from "./derive-stored.js";
import { notePerson, type WriteContext } from "./write-context.js";

export async function updateIncident(db: StoreDb, ctx: WriteContext, id: string, changes: Record<string, unknown>): Promise<IncidentTable> {
  return inTransaction(db, async (tx) => {
    notePerson(tx, ctx);
    const row = await findIncidentRow(tx, ctx.tenantId, id, true);
    if (!row) throw incidentNotFound(id);
    return patchIncidentRow(tx, ctx, row, changes);
  });
}

/** Applies validated changes to a locked incident row and writes it with its audit rows; the row as written. */
export async function patchIncidentRow(tx: StoreTx, ctx: WriteContext, row: IncidentTable, changes: Record<string, unknown>): Promise<IncidentTable> {
  const record = incidentRecordOf(row);
  const outcome = patchIncident(record, changes, ctx.actor, ctx.now);
  if (outcome.changes.length === 0) return row;
  const derived = await deriveStored(tx, ctx.tenantId, record, outcome.next, ctx.now, { alertsUnchanged: true });
  const written = await writeIncident(tx, row, derived.next);
  // The derived changes are measured from the patched incident: they never repeat the PATCH's own.
  await recordChanges(tx, { ...ctx, entityType: "incident", entityId: String(row.id), at: ctx.now }, [...outcome.changes, ...derived.changes]);
  return written;
}
