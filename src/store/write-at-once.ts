/**
 * PostgreSQL: one entity's change written as a single statement committed on its own: the row's
 * update, guarded by the version it was read at, its audit rows, and its change-feed row (unnumbered,
 * for the feed sequencer). A PATCH or a comment in a transaction is eight round trips (begin, the row
 * locked, its summary, its detectors' counts, the update, the audit rows, the feed rows, commit), and
 * writing each statement to PostgreSQL's socket was the largest part of a PATCH's cost in Triage's
 * process (docs/benchmarks.md, "Writes at once"). Read without a lock and written this way it is three
(the incident with its summary, the detectors' counts, this statement).
 *
 * The version guard is what the lock gave: if another write moved the row since it was read, the
 * statement writes nothing (its audit and feed rows are conditioned on the update) and the caller
 * decides again from a fresh read. A single statement is atomic, so nothing is half-written.
 * SQLite has no round trips to save; its writes stay in transactions.
 */
import { sql, type Kysely } from "kysely";
import type { Database } from "./tables.js";
import type { AuditContext, PropertyChange } from "../schema/records.js";
import { auditRows } from "./audit.js";
import { changedValues, type Versioned } from "./guarded-update.js";
import { isPostgres } from "./dialect.js";
import { unnumberedFeedInsert } from "./feed.js";
import { numberFeed } from "./feed-sequencer.js";
import { traced } from "./trace.js";

/** Whether this store writes single-entity changes at once (PostgreSQL). */
export function writesAtOnce(db: Kysely<Database>): boolean {
  return isPostgres(db);
}

/** Who makes the change, as its feed row records it. */
export interface AtOnceFeed {
  /** A signed-in person (docs/sla.md#first-action). */
  byPerson: boolean;
}

/**
 * Writes the columns of `after` that differ from `before`, if the row is still at `before.version`,
 * with the audit rows of `changes` and the entity's feed row, as one statement; once it has committed,
 * the feed's new row is numbered and announced (as `inTransaction` does). False, with nothing
 * written, if the row's version had moved.
 */
export function writeAtOnce<T extends Versioned>(
  db: Kysely<Database>,
  table: "incidents" | "alerts",
  before: T,
  after: T,
  audit: AuditContext,
  changes: readonly PropertyChange[],
  feed: AtOnceFeed,
): Promise<boolean> {
  return traced("store.write_at_once", { "db.system.name": "postgresql" }, async () => {
    const { columns, values } = changedValues(before, after);
    const set = columns.length ? sql.join(columns.map((c, i) => sql`${sql.ref(c)} = ${values[i]}`)) : sql`version = version`;
    const rows = auditRows(audit, changes);
    const written = sql`exists (select from updated)`;
    const feedRow = { entityType: audit.entityType, entityId: audit.entityId, changeType: "updated" as const };
    const res = await sql<{ written: number }>`with updated as (
        update ${sql.table(table)} set ${set}
        where tenant_id = ${before.tenant_id} and id = ${before.id} and version = ${before.version}
        returning 1
      ), audited as (
        insert into audit_log (tenant_id, entity_type, entity_id, at, actor, request_id, property, before, after)
        select ${audit.tenantId}, ${audit.entityType}, ${audit.entityId}, ${audit.at}, ${audit.actor}, ${audit.requestId}::text, c.property, c.before, c.after
        from unnest(${rows.map((r) => r.property)}::text[], ${rows.map((r) => r.before)}::text[], ${rows.map((r) => r.after)}::text[])
          with ordinality as c(property, before, after, n)
        where ${written}
        order by c.n
      ), fed as (
        ${unnumberedFeedInsert({ tenantId: audit.tenantId, list: [feedRow], at: new Date().toISOString(), actor: audit.actor, automated: false, byPerson: feed.byPerson }, written)}
      )
      select count(*)::integer as written from updated`.execute(db);
    if (res.rows[0]?.written !== 1) return false;
    await numberFeed(db);
    return true;
  });
}
