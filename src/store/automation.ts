/**
 * Automation rules' rows, the per-tenant cursor along the change feed that says which changes the
 * rules have run for, and the outbound jobs rules produce. A node runs a tenant's rules under a lease
 * on its cursor (on PostgreSQL picked with FOR UPDATE SKIP LOCKED, so two nodes never run the same
 * tenant at once); it moves the cursor in the transaction that applies the rules' changes and records
 * their jobs, and only while it still holds the lease at the position it read — so each change is
 * handled once, and a crash before the commit leaves it to be handled again. Jobs are claimed the
 * same way and removed once sent.
 */
import { sql, type Kysely, type SqlBool, type Transaction } from "kysely";
import type { AutomationJobTable, AutomationRuleTable, Database } from "./tables.js";
import { isPostgres } from "./dialect.js";
import { feedEnd, lastFeedSeq } from "./feed.js";

export type { AutomationJobTable, AutomationRuleTable };

type Db = Kysely<Database> | Transaction<Database>;

export async function insertRule(db: Db, row: AutomationRuleTable): Promise<void> {
  await db.insertInto("automation_rules").values(row).execute();
}

/** The tenant's rules in the order they run: by order, then oldest first, then id. */
export async function listRules(db: Db, tenantId: string): Promise<AutomationRuleTable[]> {
  return db.selectFrom("automation_rules").selectAll().where("tenant_id", "=", tenantId).orderBy("rule_order").orderBy("created_at").orderBy("id").execute();
}

export async function findRule(db: Db, tenantId: string, id: string): Promise<AutomationRuleTable | undefined> {
  return db.selectFrom("automation_rules").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
}

export async function countRules(db: Db, tenantId: string): Promise<number> {
  const row = await db
    .selectFrom("automation_rules")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("tenant_id", "=", tenantId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function replaceRule(db: Db, row: AutomationRuleTable): Promise<void> {
  await db
    .updateTable("automation_rules")
    .set({
      display_name: row.display_name,
      rule_order: row.rule_order,
      enabled: row.enabled,
      trigger: row.trigger,
      expires_at: row.expires_at,
      definition: row.definition,
      updated_at: row.updated_at,
      updated_by: row.updated_by,
    })
    .where("tenant_id", "=", row.tenant_id)
    .where("id", "=", row.id)
    .execute();
}

export async function deleteRule(db: Db, tenantId: string, id: string): Promise<boolean> {
  const res = await db.deleteFrom("automation_rules").where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/**
 * Starts the tenant's automation cursor at the current end of its feed, if it has none: rules run for
 * the changes committed after the first rule was created, never for the history before it.
 */
export async function ensureCursor(tx: Transaction<Database>, tenantId: string): Promise<void> {
  const at = await lastFeedSeq(tx, tenantId);
  await tx
    .insertInto("automation_cursors")
    .values({ tenant_id: tenantId, cursor: at, lease_owner: null, lease_until: null })
    .onConflict((oc) => oc.column("tenant_id").doNothing())
    .execute();
}

export interface ClaimedCursor {
  tenantId: string;
  cursor: number;
}

/** Claims up to `limit` tenants whose feed has grown past their automation cursor and that no live node holds. */
export async function claimDueCursors(db: Kysely<Database>, node: string, now: string, leaseUntil: string, limit: number): Promise<ClaimedCursor[]> {
  const due = sql<SqlBool>`(c.lease_until is null or c.lease_until < ${now})
    and c.cursor < ${feedEnd(isPostgres(db), sql`c.tenant_id`)}`;
  const pick = isPostgres(db)
    ? sql`select c.tenant_id from automation_cursors c where ${due} limit ${limit} for update of c skip locked`
    : sql`select c.tenant_id from automation_cursors c where ${due} limit ${limit}`;
  const res = await sql<{
    tenant_id: string;
    cursor: number;
  }>`update automation_cursors set lease_owner = ${node}, lease_until = ${leaseUntil} where tenant_id in (${pick}) returning tenant_id, cursor`.execute(db);
  return res.rows.map((r) => ({ tenantId: r.tenant_id, cursor: Number(r.cursor) }));
}

/**
 * Moves the tenant's cursor from `from` to `to`, in the transaction that applied what the rules did
 * for the changes in between. False (and nothing moves) when this node no longer holds the lease or
 * another already moved it: the caller then rolls its transaction back.
 */
export async function advanceCursor(db: Db, tenantId: string, node: string, from: number, to: number, keepLeaseUntil: string): Promise<boolean> {
  const res = await db
    .updateTable("automation_cursors")
    .set({ cursor: to, lease_until: keepLeaseUntil })
    .where("tenant_id", "=", tenantId)
    .where("lease_owner", "=", node)
    .where("cursor", "=", from)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function releaseCursor(db: Db, tenantId: string, node: string): Promise<void> {
  await db
    .updateTable("automation_cursors")
    .set({ lease_owner: null, lease_until: null })
    .where("tenant_id", "=", tenantId)
    .where("lease_owner", "=", node)
    .execute();
}

export async function automationCursor(db: Db, tenantId: string): Promise<number | null> {
  const row = await db.selectFrom("automation_cursors").select("cursor").where("tenant_id", "=", tenantId).executeTakeFirst();
  return row ? Number(row.cursor) : null;
}

/** The documents of up to `limit` of an incident's alerts, oldest first. */
export async function incidentAlertDocs(db: Db, tenantId: string, incidentId: number, limit: number): Promise<Record<string, unknown>[]> {
  const rows = await db
    .selectFrom("alerts")
    .select("doc")
    .where("tenant_id", "=", tenantId)
    .where("incident_id", "=", incidentId)
    .orderBy("created_at")
    .orderBy("seq")
    .limit(limit)
    .execute();
  return rows.map((r) => JSON.parse(r.doc) as Record<string, unknown>);
}

export async function insertJobs(tx: Transaction<Database>, rows: readonly AutomationJobTable[]): Promise<void> {
  if (rows.length)
    await tx
      .insertInto("automation_jobs")
      .values([...rows])
      .execute();
}

/** Claims up to `limit` jobs due for an attempt that no live node holds. */
export async function claimDueJobs(db: Kysely<Database>, node: string, now: string, leaseUntil: string, limit: number): Promise<AutomationJobTable[]> {
  const due = sql<SqlBool>`j.next_attempt_at <= ${now} and (j.lease_until is null or j.lease_until < ${now})`;
  const pick = isPostgres(db)
    ? sql`select j.id from automation_jobs j where ${due} order by j.next_attempt_at limit ${limit} for update of j skip locked`
    : sql`select j.id from automation_jobs j where ${due} order by j.next_attempt_at limit ${limit}`;
  const res =
    await sql<AutomationJobTable>`update automation_jobs set lease_owner = ${node}, lease_until = ${leaseUntil} where id in (${pick}) returning *`.execute(db);
  return res.rows.map((r) => ({ ...r, attempts: Number(r.attempts) }));
}

/** A job is done (sent, or given up): removed, if this node still holds it. */
export async function finishJob(db: Db, id: string, node: string): Promise<boolean> {
  const res = await db.deleteFrom("automation_jobs").where("id", "=", id).where("lease_owner", "=", node).executeTakeFirst();
  return Number(res.numDeletedRows) === 1;
}

export async function recordJobFailure(
  db: Db,
  id: string,
  node: string,
  state: { attempts: number; failingSince: string; nextAttemptAt: string; error: string },
): Promise<void> {
  await db
    .updateTable("automation_jobs")
    .set({
      attempts: state.attempts,
      failing_since: state.failingSince,
      next_attempt_at: state.nextAttemptAt,
      last_error: state.error.slice(0, 1000),
      lease_owner: null,
      lease_until: null,
    })
    .where("id", "=", id)
    .where("lease_owner", "=", node)
    .execute();
}

export async function releaseJob(db: Db, id: string, node: string): Promise<void> {
  await db.updateTable("automation_jobs").set({ lease_owner: null, lease_until: null }).where("id", "=", id).where("lease_owner", "=", node).execute();
}

/** The tenant's jobs not yet sent (for the API and tests), oldest first. */
export async function pendingJobs(db: Db, tenantId: string, limit: number): Promise<AutomationJobTable[]> {
  return db.selectFrom("automation_jobs").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").orderBy("id").limit(limit).execute();
}

/** The PostgreSQL channel a transaction that queued jobs notifies. */
export const JOB_CHANNEL = "triage_automation_jobs";

/** Tells other nodes (PostgreSQL) that jobs were queued; delivered only if the transaction commits. */
export async function announceJobs(tx: Transaction<Database>): Promise<void> {
  if (isPostgres(tx)) await sql`select pg_notify(${JOB_CHANNEL}, '')`.execute(tx);
}

/** A job's state as the jobs list filters it: not yet failed, or failed and waiting to be retried. */
export type JobState = "pending" | "failed";

/**
 * A page of the tenant's jobs not yet sent, oldest first, after `after` (the last job of the previous
 * page: its created_at and id), with the name of the rule that queued each (null once deleted).
 */
export async function listJobsPage(
  db: Db,
  tenantId: string,
  opts: { state?: JobState; after?: { createdAt: string; id: string }; limit: number },
): Promise<(AutomationJobTable & { rule_name: string | null })[]> {
  let q = db
    .selectFrom("automation_jobs as j")
    .leftJoin("automation_rules as r", (join) => join.onRef("r.id", "=", "j.rule_id").onRef("r.tenant_id", "=", "j.tenant_id"))
    .selectAll("j")
    .select("r.display_name as rule_name")
    .where("j.tenant_id", "=", tenantId);
  if (opts.state === "pending") q = q.where("j.attempts", "=", 0);
  if (opts.state === "failed") q = q.where("j.attempts", ">", 0);
  const after = opts.after;
  if (after)
    q = q.where((eb) => eb.or([eb("j.created_at", ">", after.createdAt), eb.and([eb("j.created_at", "=", after.createdAt), eb("j.id", ">", after.id)])]));
  const rows = await q.orderBy("j.created_at").orderBy("j.id").limit(opts.limit).execute();
  return rows.map((r) => ({ ...r, attempts: Number(r.attempts) }));
}

export async function findJob(db: Db, tenantId: string, id: string): Promise<(AutomationJobTable & { rule_name: string | null }) | undefined> {
  const row = await db
    .selectFrom("automation_jobs as j")
    .leftJoin("automation_rules as r", (join) => join.onRef("r.id", "=", "j.rule_id").onRef("r.tenant_id", "=", "j.tenant_id"))
    .selectAll("j")
    .select("r.display_name as rule_name")
    .where("j.tenant_id", "=", tenantId)
    .where("j.id", "=", id)
    .executeTakeFirst();
  return row ? { ...row, attempts: Number(row.attempts) } : undefined;
}

/**
 * Makes a failed job due now (its backoff cut short); its retry period still runs from its first
 * failure. False when the job is not failed or a node holds it (it is being sent).
 */
export async function retryJobNow(tx: Transaction<Database>, tenantId: string, id: string, now: string): Promise<boolean> {
  const res = await tx
    .updateTable("automation_jobs")
    .set({ next_attempt_at: now })
    .where("tenant_id", "=", tenantId)
    .where("id", "=", id)
    .where("attempts", ">", 0)
    .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<", now)]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
