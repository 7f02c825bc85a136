/**
 * A change to one incident written at once where the store does that (PostgreSQL,
 * store/write-at-once.ts): the incident read without a lock, the change decided by the caller's rule,
 * and written in one statement guarded by the version it was read at; read and decided again if
 * another write got there first. After a few such races in a row, or when the change needs more than
 * reads to decide (`decide` returns undefined), this does nothing and says so: the caller's
 * transaction, which locks the incident, makes the change instead (under contention on one incident,
 * its lock's queue serves everyone where retries could keep losing).
 */
import type { IncidentRecord, PropertyChange } from "../schema/records.js";
import { findIncidentRow, incidentNotFound, writeIncidentAtOnce } from "../store/incidents.js";
import type { IncidentTable } from "../store/tables.js";
import type { StoreDb } from "../store/transaction.js";
import { writesAtOnce } from "../store/write-at-once.js";
import type { WriteContext } from "./write-context.js";

/** What a change does to an incident: its next state and audited changes, or nothing (`next` null). */
export interface IncidentDecision {
  next: IncidentRecord | null;
  changes: PropertyChange[];
}

/** Reads in a row before the caller's transaction takes over: the fresh read of each attempt. */
const ATTEMPTS = 3;

/** The incident as written (or as read, when the change changed nothing); undefined: not done here. */
export async function changeIncidentAtOnce(
  db: StoreDb,
  ctx: WriteContext,
  id: string,
  decide: (row: IncidentTable) => Promise<IncidentDecision | undefined>,
): Promise<IncidentTable | undefined> {
  if (!writesAtOnce(db)) return undefined;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const row = await findIncidentRow(db, ctx.tenantId, id);
    if (!row) throw incidentNotFound(id);
    const decision = await decide(row);
    if (!decision) return undefined;
    if (decision.next === null) return row;
    const audit = { ...ctx, entityType: "incident" as const, entityId: String(row.id), at: ctx.now };
    const written = await writeIncidentAtOnce(db, row, decision.next, audit, decision.changes, { byPerson: ctx.person === true });
    if (written) return written;
  }
  return undefined;
}
