/**
 * Changes to one entity written at once where the store does that (PostgreSQL,
 * store/write-at-once.ts): the entity read without a lock (an incident with its summary, in one
 * statement), the change decided by the caller's rule, and written in one statement guarded by the
 * version it was read at; read and decided again if another write got there first. After a few such
 * races in a row, or when the change needs more than reads to decide, this does nothing and says so:
 * the caller's transaction, which locks the entity, makes the change instead (under contention on one
 * entity, its lock's queue serves everyone where retries could keep losing).
 */
import type { IncidentRecord, IncidentSummary, PropertyChange } from "../schema/records.js";
import { incidentKey, incidentNotFound, writeIncidentAtOnce } from "../store/incidents.js";
import { readIncidentAndSummary } from "../store/incident-summaries.js";
import type { IncidentTable } from "../store/tables.js";
import type { StoreDb } from "../store/transaction.js";
import { writesAtOnce } from "../store/write-at-once.js";
import type { WriteContext } from "./write-context.js";

/** What an attempt returns when its guarded write found the entity changed since it was read. */
export const RACED: unique symbol = Symbol("raced");

/** Reads in a row before the caller's transaction takes over: the fresh read of each attempt. */
const ATTEMPTS = 3;

/**
 * Runs `attempt` (read, decide, write at once) until it does not lose a race, at most ATTEMPTS times;
 * undefined when this store does not write at once, when an attempt says it cannot (undefined), or
 * after the last race: the caller's transaction does the change then.
 */
export async function atOnce<T>(db: StoreDb, attempt: () => Promise<T | typeof RACED | undefined>): Promise<T | undefined> {
  if (!writesAtOnce(db)) return undefined;
  for (let i = 0; i < ATTEMPTS; i++) {
    const out = await attempt();
    if (out !== RACED) return out;
  }
  return undefined;
}

/** What a change does to an incident: its next state and audited changes, or nothing (`next` null). */
export interface IncidentDecision {
  next: IncidentRecord | null;
  changes: PropertyChange[];
}

/** The incident as written (or as read, when the change changed nothing); undefined: not done here. */
export function changeIncidentAtOnce(
  db: StoreDb,
  ctx: WriteContext,
  id: string,
  decide: (row: IncidentTable, summary: IncidentSummary | undefined) => Promise<IncidentDecision | undefined>,
): Promise<IncidentTable | undefined> {
  return atOnce(db, async () => {
    const key = incidentKey(id);
    const read = key === null ? undefined : await readIncidentAndSummary(db, ctx.tenantId, key);
    if (!read) throw incidentNotFound(id);
    const { row, summary } = read;
    const decision = await decide(row, summary);
    if (!decision) return undefined;
    if (decision.next === null) return row;
    const audit = { ...ctx, entityType: "incident" as const, entityId: String(row.id), at: ctx.now };
    return (await writeIncidentAtOnce(db, row, decision.next, audit, decision.changes, { byPerson: ctx.person === true })) ?? RACED;
  });
}
