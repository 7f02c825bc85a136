/**
 * PATCH of an alert: the domain rule decides (domain/alert-rules.ts), the properties it changed become
 * the analyst's (an alert sent again keeps them: domain/alert-ownership.ts), and the alert's incident
 * derives its properties again, the same way ingestion does — all in one transaction. A feature: it
 * strings store reads and writes around the rules.
 */
import { patchAlert } from "../domain/alert-rules.js";
import { analystSetAfter } from "../domain/alert-ownership.js";
import { recordChanges } from "../store/audit.js";
import { alertRecordOf } from "../store/alert-rows.js";
import { alertNotFound, findAlertRow, writeAlert } from "../store/alerts.js";
import { incidentRecordOf } from "../store/incident-rows.js";
import { findIncidentRow, writeIncident } from "../store/incidents.js";
import type { AlertTable } from "../store/tables.js";
import { inTransaction, type StoreDb } from "../store/transaction.js";
import { deriveStored } from "./derive-stored.js";
import type { WriteContext } from "./write-context.js";

/** How many times a PATCH follows an alert that a merge moved while it waited for its locks. */
const MOVE_RETRIES = 3;

/**
 * Locks are taken incident first, then alert: the order ingestion takes them in, so the two never wait
 * on each other in a cycle. The alert is read unlocked to learn its incident; if a merge moved it
 * before the locks were granted, the incident it moved to is locked instead.
 */
export async function updateAlert(db: StoreDb, ctx: WriteContext, id: string, changes: Record<string, unknown>): Promise<AlertTable> {
  return inTransaction(db, async (tx) => {
    for (let attempt = 0; ; attempt++) {
      const seen = await findAlertRow(tx, ctx.tenantId, id);
      if (!seen) throw alertNotFound(id);
      const incident = seen.incident_id === null ? undefined : await findIncidentRow(tx, ctx.tenantId, seen.incident_id, true);
      const row = await findAlertRow(tx, ctx.tenantId, id, true);
      if (!row) throw alertNotFound(id);
      // Merges move alerts one incident at a time, each under the lock of the incident it moves them from.
      if (row.incident_id !== seen.incident_id && attempt < MOVE_RETRIES) continue;
      if (row.incident_id !== seen.incident_id) throw new Error(`alert ${id} kept moving between incidents`);
      const record = alertRecordOf(row);
      const outcome = patchAlert(record.doc, changes, ctx.now);
      if (outcome.changes.length === 0) return row;
      const written = await writeAlert(tx, row, { ...record, doc: outcome.next, analystSet: analystSetAfter(record.analystSet, outcome.changes) });
      await recordChanges(tx, { ...ctx, entityType: "alert", entityId: id, at: ctx.now }, outcome.changes);
      if (incident) {
        const stored = incidentRecordOf(incident);
        // An alert's updatable properties are none of what its incident's summary holds.
        const derived = await deriveStored(tx, ctx.tenantId, stored, stored, ctx.now, { alertsUnchanged: true });
        await writeIncident(tx, incident, derived.next);
        await recordChanges(tx, { ...ctx, entityType: "incident", entityId: String(incident.id), at: ctx.now }, derived.changes);
      }
      return written;
    }
  });
}
