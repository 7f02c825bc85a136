/**
 * PATCH of an incident: the domain rule decides (domain/incident-rules.ts), what the incident derives
 * from its alerts follows (a severity an analyst sets moves the priority score), then the incident and
 * its audit rows are written together: at once on PostgreSQL (at-once.ts), in one transaction
 * otherwise. A feature: it strings store reads and writes around the rules.
 */
import { patchIncident, type IncidentState } from "../domain/incident-rules.js";
import type { IncidentRecord } from "../schema/records.js";
import { recordChanges } from "../store/audit.js";
import { incidentRecordOf } from "../store/incident-rows.js";
import { findIncidentRow, incidentNotFound, writeIncident } from "../store/incidents.js";
import type { IncidentTable } from "../store/tables.js";
import { inTransaction, type StoreDb, type StoreTx } from "../store/transaction.js";
import { deriveStored, deriveWithSummary, type Derivation } from "./derive-stored.js";
import { changeIncidentAtOnce, type IncidentDecision } from "./at-once.js";
import { notePerson, type WriteContext } from "./write-context.js";

export async function updateIncident(db: StoreDb, ctx: WriteContext, id: string, changes: Record<string, unknown>): Promise<IncidentTable> {
  const atOnce = await changeIncidentAtOnce(db, ctx, id, (row, summary) =>
    decidePatch(row, changes, ctx, async (record, state) => summary && deriveWithSummary(db, ctx.tenantId, record, state, summary, ctx.now)),
  );
  if (atOnce) return atOnce;
  return inTransaction(db, async (tx) => {
    notePerson(tx, ctx);
    const row = await findIncidentRow(tx, ctx.tenantId, id, true);
    if (!row) throw incidentNotFound(id);
    return patchIncidentRow(tx, ctx, row, changes);
  });
}

/** Applies validated changes to a locked incident row and writes it with its audit rows; the row as written. */
export async function patchIncidentRow(tx: StoreTx, ctx: WriteContext, row: IncidentTable, changes: Record<string, unknown>): Promise<IncidentTable> {
  const decision = await decidePatch(row, changes, ctx, (record, state) => deriveStored(tx, ctx.tenantId, record, state, ctx.now, { alertsUnchanged: true }));
  if (!decision?.next) return row;
  const written = await writeIncident(tx, row, decision.next);
  await recordChanges(tx, { ...ctx, entityType: "incident", entityId: String(row.id), at: ctx.now }, decision.changes);
  return written;
}

/**
 * The PATCH's outcome for the incident in `row`, with what it derives (`derive`: undefined when it
 * cannot be derived from reads alone).
 */
async function decidePatch(
  row: IncidentTable,
  changes: Record<string, unknown>,
  ctx: WriteContext,
  derive: (record: IncidentRecord, state: IncidentState) => Promise<Derivation | undefined>,
): Promise<IncidentDecision | undefined> {
  const record = incidentRecordOf(row);
  const outcome = patchIncident(record, changes, ctx.actor, ctx.now);
  if (outcome.changes.length === 0) return { next: null, changes: [] };
  const derived = await derive(record, outcome.next);
  if (!derived) return undefined;
  // The derived changes are measured from the patched incident: they never repeat the PATCH's own.
  return { next: derived.next, changes: [...outcome.changes, ...derived.changes] };
}
