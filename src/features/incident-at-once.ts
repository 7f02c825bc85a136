/**
 * A change to one incident written at once where the store does that (PostgreSQL,
 * store/write-at-once.ts): the incident and its summary read without a lock, in one statement, the change decided by the caller's rule,
 * and written in one statement guarded by the version it was read at; read and decided again if
 * another write got there first. After a few such races in a row, or when the change needs more than
 * reads to decide (`decide` returns undefined), this does nothing and says so: the caller's
 * transaction, which locks the incident, makes the change instead (under contention on one incident,
 * its lock's queue serves everyone where retries could keep losing).
 */
import type { IncidentRecord, IncidentSummary, PropertyChange } from "../schema/records.js";
import { incidentKey, incidentNotFound, writeIncidentAtOnce } from "../store/incidents.js";
import { readIncidentAndSummary } from "../store/incident-summaries.js";
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
  decide: (row: IncidentTable, summary: IncidentSummary | undefined) => Promise<IncidentDecision | undefined>,
): Promise<IncidentTable | undefined> {
  if (!writesAtOnce(db)) return undefined;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const key = incidentKey(id);
    const read = key === null ? undefined : await readIncidentAndSummary(db, ctx.tenantId, key);
    if (!read) throw incidentNotFound(id);
    const { row, summary } = read;
    const decision = await decide(row, summary);
    if (!decision) return undefined;
    if (decision.next === null) return row;
    const audit = { ...ctx, entityType: "incident" as const, entityId: String(row.id), at: ctx.now };
    const written = await writeIncidentAtOnce(db, row, decision.next, audit, decision.changes, { byPerson: ctx.person === true });
    if (written) return written;
  }
  return undefined;
}
