/**
 * PostgreSQL's planner statistics kept in step with a tenant's growth.
 *
 * The planner estimates how many rows of a table a tenant has from the last ANALYZE. A tenant that had
 * none then — a new one, in a store another tenant fills — is estimated at one row, and the
 * ingestion's reads by tenant and entity key (the sightings, the candidate incidents' entities) are
 * then planned as a walk over all of that tenant's rows in a (tenant, …) index, filtered, instead of a
 * lookup per key: every batch reads the whole tenant, and costs more as the tenant grows (measured in
 * docs/benchmarks.md, "Planner statistics on PostgreSQL"). Autovacuum analyzes a table only after a
 * tenth of it has changed (by default), which in a store of millions of alerts is hundreds of
 * thousands of alerts away, and not at all where it is off.
 *
 * So each time a transaction takes a tenant's alert count past a power of two from 1,024 on, it
 * analyzes the tables those reads plan on, in the background, once it has committed: ten times over a
 * tenant's first million alerts. Whatever adds the alerts — ingestion, an import, a sync — notes them
 * where it numbers them (`noteAlertsAdded`), and `inTransaction` (transaction.ts) starts the run. The
 * count is the tenant's alert sequence, which only grows. Batches of one tenant run one at a time
 * across every node (store/ingest/load.ts), so one batch passes each mark and one node analyzes. A
 * lost run (a crash) costs only plans until the next mark or autovacuum, so nothing records it.
 *
 * SQLite needs none of it: its planner's statistics (sqlite_stat1, refreshed by `PRAGMA optimize` as
 * the store opens) are average rows per index prefix, not per value, so no tenant is misjudged this way.
 */
import { sql } from "kysely";
import { isPostgres } from "./dialect.js";
import { traced } from "./trace.js";
import type { StoreDb, StoreTx } from "./transaction.js";

/** The first mark: below it a tenant's reads are cheap whatever their plan. */
export const FIRST_MARK = 1024;

/** Whether a tenant's alert count going from `before` to `after` passes a power of two from FIRST_MARK on. */
export function statisticsDue(before: number, after: number): boolean {
  for (let mark = FIRST_MARK; mark <= after; mark *= 2) if (mark > before) return true;
  return false;
}

/**
 * The tables whose statistics the ingestion's reads are planned on, and of each only the columns those
 * reads select by (their row count is refreshed with any column). The documents are left out: on the
 * bench's store the whole tables took 330 ms of the database's CPU a run, these columns 105 ms. The
 * other columns' statistics are autovacuum's to keep, as every other table's are (docs/postgresql.md).
 */
const TABLES = sql`alerts (tenant_id, id, incident_id), incidents (tenant_id, id, status),
  incident_entities (tenant_id, entity_key, incident_id, last_seen_at)`;

/** Per open transaction: each tenant's alert sequence before the first alert it added and after the last. */
const added = new WeakMap<StoreTx, Map<string, { before: number; after: number }>>();

/**
 * Notes that the transaction added a tenant's alerts numbered `before + 1` to `after`. A note made
 * inside a savepoint that is later rolled back stays: at worst one ANALYZE more.
 */
export function noteAlertsAdded(tx: StoreTx, tenantId: string, before: number, after: number): void {
  if (after <= before) return;
  let tenants = added.get(tx);
  if (!tenants) added.set(tx, (tenants = new Map()));
  const seen = tenants.get(tenantId);
  tenants.set(tenantId, seen ? { before: Math.min(seen.before, before), after: Math.max(seen.after, after) } : { before, after });
}

/** Whether what the transaction added passes a mark for any tenant; asked once, as it is about to commit. */
export function statisticsDueAfter(tx: StoreTx): boolean {
  const tenants = added.get(tx);
  added.delete(tx);
  return [...(tenants?.values() ?? [])].some((t) => statisticsDue(t.before, t.after));
}

const running = new WeakMap<StoreDb, { again: boolean; done: Promise<void> }>();
const failures = new WeakMap<StoreDb, (e: unknown) => void>();

/** Where a failed run on this store is told (the server logs a warning); without one it is dropped. */
export function reportPlannerStatisticsFailures(db: StoreDb, fn: (e: unknown) => void): void {
  failures.set(db, fn);
}

/**
 * PostgreSQL: analyzes the ingestion's tables in the background (one run at a time per store; a
 * request while one runs makes it run once more after). ANALYZE takes no lock that writers wait on.
 * SQLite: nothing.
 */
export function refreshPlannerStatistics(db: StoreDb): void {
  if (!isPostgres(db)) return;
  const run = running.get(db);
  if (run) {
    run.again = true;
    return;
  }
  const state = { again: false, done: Promise.resolve() };
  running.set(db, state);
  state.done = (async () => {
    try {
      do {
        state.again = false;
        await traced("store.analyze", { "db.system.name": "postgresql" }, () => sql`analyze ${TABLES}`.execute(db));
      } while (state.again);
    } catch (e) {
      failures.get(db)?.(e);
    } finally {
      running.delete(db);
    }
  })();
}

/**
 * Resolves once no run is under way on this store: a store closes after it, so that a command that
 * loads alerts and exits (`triage import`, `triage sync`) leaves its statistics refreshed.
 */
export async function plannerStatisticsSettled(db: StoreDb): Promise<void> {
  await running.get(db)?.done;
}
