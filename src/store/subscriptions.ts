/**
 * Change-notification subscriptions: their rows, the claim a delivery node takes on the ones with
 * work due, and the delivery state each attempt leaves. A node claims a subscription by writing its
 * name and a lease expiry on it (on PostgreSQL the candidates are picked with FOR UPDATE SKIP LOCKED,
 * so two nodes never claim the same one); it advances the subscription's feed cursor only while it
 * still holds the lease, in the statement that records the receiver's acknowledgement.
 */
import { sql, type Kysely, type SqlBool } from "kysely";
import type { Database, SubscriptionTable } from "./tables.js";
import { isPostgres } from "./dialect.js";
import type { Store } from "./open.js";
import type { FilterExpr } from "../query/filter-ast.js";
import type { Resource } from "../schema/meta.js";
import { compileFilter } from "./filter-sql.js";
import { IN_LIST, chunks } from "./chunks.js";
import { feedEnd } from "./feed.js";

export type { SubscriptionTable };

export async function insertSubscription(db: Kysely<Database>, row: SubscriptionTable): Promise<void> {
  await db.insertInto("subscriptions").values(row).execute();
}

/** The subscriptions an app (and, for a signed-in user, that user) created in a tenant, by id, one page. */
export async function listSubscriptions(
  db: Kysely<Database>,
  scope: { tenantId: string; appId: string; creatorId: string | null },
  afterId: string | null,
  limit: number,
): Promise<SubscriptionTable[]> {
  let q = db.selectFrom("subscriptions").selectAll().where("tenant_id", "=", scope.tenantId).where("app_id", "=", scope.appId);
  if (scope.creatorId !== null) q = q.where("creator_id", "=", scope.creatorId);
  if (afterId !== null) q = q.where("id", ">", afterId);
  return q.orderBy("id").limit(limit).execute();
}

export async function findSubscription(
  db: Kysely<Database>,
  scope: { tenantId: string; appId: string; creatorId: string | null },
  id: string,
): Promise<SubscriptionTable | undefined> {
  let q = db.selectFrom("subscriptions").selectAll().where("tenant_id", "=", scope.tenantId).where("app_id", "=", scope.appId).where("id", "=", id);
  if (scope.creatorId !== null) q = q.where("creator_id", "=", scope.creatorId);
  return q.executeTakeFirst();
}

export async function countTenantSubscriptions(db: Kysely<Database>, tenantId: string): Promise<number> {
  const row = await db
    .selectFrom("subscriptions")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("tenant_id", "=", tenantId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function setSubscriptionExpiry(db: Kysely<Database>, tenantId: string, id: string, expiresAt: string): Promise<void> {
  await db.updateTable("subscriptions").set({ expires_at: expiresAt }).where("tenant_id", "=", tenantId).where("id", "=", id).execute();
}

export async function deleteSubscription(db: Kysely<Database>, tenantId: string, id: string): Promise<boolean> {
  const res = await db.deleteFrom("subscriptions").where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/** Removes subscriptions that expired before `now`, and removed ones left behind by a node that stopped; how many. */
export async function deleteExpiredSubscriptions(db: Kysely<Database>, now: string): Promise<number> {
  const res = await db
    .deleteFrom("subscriptions")
    .where((eb) => eb.or([eb("expires_at", "<", now), eb("removed_at", "<", now)]))
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}

/**
 * Claims up to `limit` subscriptions that have feed entries past their cursor, are due for an attempt
 * and are not leased by a live node: each is leased to `node` until `leaseUntil`.
 */
export async function claimDueSubscriptions(db: Kysely<Database>, node: string, now: string, leaseUntil: string, limit: number): Promise<SubscriptionTable[]> {
  const pg = isPostgres(db);
  const due = sql<SqlBool>`s.next_attempt_at <= ${now} and s.expires_at > ${now} and s.removed_at is null and (s.lease_until is null or s.lease_until < ${now})
    and s.cursor < ${feedEnd(pg, sql`s.tenant_id`)}`;
  const pick = pg
    ? sql`select s.id from subscriptions s where ${due} order by s.next_attempt_at limit ${limit} for update of s skip locked`
    : sql`select s.id from subscriptions s where ${due} order by s.next_attempt_at limit ${limit}`;
  const res =
    await sql<SubscriptionTable>`update subscriptions set lease_owner = ${node}, lease_until = ${leaseUntil} where id in (${pick}) returning *`.execute(db);
  return res.rows.map((r) => ({ ...r, cursor: Number(r.cursor), attempts: Number(r.attempts) }));
}

/**
 * Records a handled stretch of the feed (delivered and acknowledged, dropped after the retry period,
 * or matching nothing): the cursor moves to `cursor`, the failure state clears and the lease is
 * released; the next attempt is due at `nextAttemptAt` (a throttled endpoint's wait). Only the node
 * holding the lease can do it; false when it no longer does.
 */
export async function advanceSubscription(
  db: Kysely<Database>,
  id: string,
  node: string,
  cursor: number,
  now: string,
  nextAttemptAt: string = now,
): Promise<boolean> {
  const res = await db
    .updateTable("subscriptions")
    .set({ cursor, attempts: 0, failing_since: null, next_attempt_at: nextAttemptAt, lease_owner: null, lease_until: null })
    .where("id", "=", id)
    .where("lease_owner", "=", node)
    .where("cursor", "<=", cursor)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Records a failed attempt: the next one is due at `nextAttemptAt`; the lease is released. */
export async function recordFailedAttempt(
  db: Kysely<Database>,
  id: string,
  node: string,
  state: { attempts: number; failingSince: string; nextAttemptAt: string },
): Promise<void> {
  await db
    .updateTable("subscriptions")
    .set({ attempts: state.attempts, failing_since: state.failingSince, next_attempt_at: state.nextAttemptAt, lease_owner: null, lease_until: null })
    .where("id", "=", id)
    .where("lease_owner", "=", node)
    .execute();
}

/**
 * Marks a leased subscription removed (its app may no longer read its resource): it is never claimed
 * again. True for the one node that marks it, which then sends subscriptionRemoved and deletes it.
 */
export async function markSubscriptionRemoved(db: Kysely<Database>, id: string, node: string, now: string): Promise<boolean> {
  const res = await db
    .updateTable("subscriptions")
    .set({ removed_at: now, lease_owner: null, lease_until: null })
    .where("id", "=", id)
    .where("lease_owner", "=", node)
    .where("removed_at", "is", null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/**
 * Claims up to `limit` subscriptions with a lifecycle URL expiring before `until` that have not had a
 * reauthorizationRequired for their current expiry: each is marked as told, so only the node that
 * claims it sends it (on PostgreSQL the candidates are picked with FOR UPDATE SKIP LOCKED, and the
 * update re-checks the condition).
 */
export async function claimReauthorizations(db: Kysely<Database>, now: string, until: string, limit: number): Promise<SubscriptionTable[]> {
  const due = sql<SqlBool>`s.lifecycle_url is not null and s.removed_at is null and s.expires_at > ${now} and s.expires_at <= ${until}
    and (s.reauthorization_notified_for is null or s.reauthorization_notified_for <> s.expires_at)`;
  const pick = isPostgres(db)
    ? sql`select s.id from subscriptions s where ${due} order by s.expires_at limit ${limit} for update of s skip locked`
    : sql`select s.id from subscriptions s where ${due} order by s.expires_at limit ${limit}`;
  const res = await sql<SubscriptionTable>`update subscriptions set reauthorization_notified_for = expires_at
    where id in (${pick}) and (reauthorization_notified_for is null or reauthorization_notified_for <> expires_at) returning *`.execute(db);
  return res.rows.map((r) => ({ ...r, cursor: Number(r.cursor), attempts: Number(r.attempts) }));
}

/** Gives up a lease without recording anything (the node is stopping). */
export async function releaseSubscription(db: Kysely<Database>, id: string, node: string): Promise<void> {
  await db.updateTable("subscriptions").set({ lease_owner: null, lease_until: null }).where("id", "=", id).where("lease_owner", "=", node).execute();
}

/** Which of `ids` (of the resource's entities in the tenant) match the filter now. */
export async function matchingIds(store: Store, resource: Resource, filter: FilterExpr, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
  const out = new Set<string>();
  const table = resource.table === "incidents" ? "incidents" : "alerts";
  const predicate = compileFilter(filter, resource, store.json);
  for (const part of chunks(ids, IN_LIST)) {
    const keys = table === "incidents" ? part.map(Number).filter((n) => Number.isSafeInteger(n)) : part;
    if (keys.length === 0) continue;
    const rows = await sql<{
      id: string | number;
    }>`select id from ${sql.table(table)} where tenant_id = ${tenantId} and id in (${sql.join(keys)}) and ${predicate}`.execute(store.db);
    for (const r of rows.rows) out.add(String(r.id));
  }
  return out;
}

/** Compiles a filter against the resource, so a subscription's filter is refused at creation exactly as a listing's would be. */
export function checkFilterCompiles(store: Store, resource: Resource, filter: FilterExpr): void {
  compileFilter(filter, resource, store.json);
}

export interface NotificationBacklog {
  /** Subscriptions not yet expired. */
  subscriptions: number;
  /** Of those, the ones with a failed attempt since their last delivery (retrying). */
  failing: number;
  /** Feed entries past their cursors, summed over them: what is still to be looked at (an upper bound of what will be sent, before each one's filter). */
  entries: number;
  /** When the oldest of those entries was committed; null when there are none. */
  oldestAt: string | null;
  /** Lifecycle notifications waiting to be sent (new, or retrying). */
  lifecycle: number;
}

/** The delivery backlog across every tenant, for the metrics: a few aggregates over the subscriptions, read at scrape time. */
export async function notificationBacklog(db: Kysely<Database>, now: string): Promise<NotificationBacklog> {
  const end = feedEnd(isPostgres(db), sql`s.tenant_id`);
  const totals = await sql<{ subscriptions: number | string; failing: number | string | null; entries: number | string | null }>`
    select count(*) as subscriptions,
      sum(case when s.failing_since is null then 0 else 1 end) as failing,
      sum(case when ${end} > s.cursor then ${end} - s.cursor else 0 end) as entries
    from subscriptions s
    where s.expires_at > ${now}`.execute(db);
  // The entry just past each cursor is the oldest that subscription has yet to handle (the feed's key finds it).
  const oldest = await sql<{ at: string | null }>`
    select min(c.at) as at from subscriptions s join change_feed c on c.tenant_id = s.tenant_id and c.seq = s.cursor + 1
    where s.expires_at > ${now}`.execute(db);
  const t = totals.rows[0];
  const lifecycle = await db
    .selectFrom("lifecycle_outbox")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirst();
  return {
    lifecycle: Number(lifecycle?.n ?? 0),
    subscriptions: Number(t?.subscriptions ?? 0),
    failing: Number(t?.failing ?? 0),
    entries: Number(t?.entries ?? 0),
    oldestAt: oldest.rows[0]?.at ?? null,
  };
}
