/**
 * Lifecycle notifications waiting to be sent (reauthorizationRequired, subscriptionRemoved, missed):
 * each is a row written in the transaction that decided it, claimed by one node at a time (a lease;
 * on PostgreSQL picked with FOR UPDATE SKIP LOCKED), deleted once acknowledged or given up on, and
 * otherwise retried at the time its last failure set.
 */
import { randomUUID } from "node:crypto";
import { sql, type SqlBool } from "kysely";
import type { Db, LifecycleOutboxTable, SubscriptionTable } from "./tables.js";
import type { StoreTx } from "./transaction.js";
import { isPostgres } from "./dialect.js";

export type { LifecycleOutboxTable };

export type LifecycleEvent = "reauthorizationRequired" | "subscriptionRemoved" | "missed";

/** The outbox row for a subscription's lifecycle notification (`item`: the notification, complete); null without a lifecycleNotificationUrl. */
export function lifecycleRow(sub: SubscriptionTable, event: LifecycleEvent, item: Record<string, unknown>, now: string): LifecycleOutboxTable | null {
  if (sub.lifecycle_url === null) return null;
  return {
    id: randomUUID(),
    tenant_id: sub.tenant_id,
    subscription_id: sub.id,
    event,
    url: sub.lifecycle_url,
    body: JSON.stringify(item),
    created_at: now,
    attempts: 0,
    failing_since: null,
    next_attempt_at: now,
    lease_owner: null,
    lease_until: null,
  };
}

export async function insertLifecycle(db: Db | StoreTx, rows: readonly (LifecycleOutboxTable | null)[]): Promise<number> {
  const real = rows.filter((r): r is LifecycleOutboxTable => r !== null);
  if (real.length) await db.insertInto("lifecycle_outbox").values(real).execute();
  return real.length;
}

/** Queues `missed` for the subscription unless one is already waiting to be sent; whether it was queued. */
export async function insertMissedOnce(db: Db | StoreTx, row: LifecycleOutboxTable | null): Promise<boolean> {
  if (row === null) return false;
  const waiting = await db
    .selectFrom("lifecycle_outbox")
    .select("id")
    .where("subscription_id", "=", row.subscription_id)
    .where("event", "=", "missed")
    .executeTakeFirst();
  if (waiting) return false;
  await db.insertInto("lifecycle_outbox").values(row).execute();
  return true;
}

/** Claims up to `limit` lifecycle notifications due by `now` that no live node holds, leased to `node` until `leaseUntil`. */
export async function claimDueLifecycle(db: Db, node: string, now: string, leaseUntil: string, limit: number): Promise<LifecycleOutboxTable[]> {
  const due = sql<SqlBool>`o.next_attempt_at <= ${now} and (o.lease_until is null or o.lease_until < ${now})`;
  const pick = isPostgres(db)
    ? sql`select o.id from lifecycle_outbox o where ${due} order by o.next_attempt_at limit ${limit} for update of o skip locked`
    : sql`select o.id from lifecycle_outbox o where ${due} order by o.next_attempt_at limit ${limit}`;
  const res =
    await sql<LifecycleOutboxTable>`update lifecycle_outbox set lease_owner = ${node}, lease_until = ${leaseUntil} where id in (${pick}) returning *`.execute(
      db,
    );
  return res.rows.map((r) => ({ ...r, attempts: Number(r.attempts) }));
}

/** The notification was acknowledged, or given up on: it is deleted (only by the node holding it). */
export async function finishLifecycle(db: Db, id: string, node: string): Promise<void> {
  await db.deleteFrom("lifecycle_outbox").where("id", "=", id).where("lease_owner", "=", node).execute();
}

/** A failed attempt: the next is due at `nextAttemptAt`; the lease is released. */
export async function recordLifecycleFailure(
  db: Db,
  id: string,
  node: string,
  state: { attempts: number; failingSince: string; nextAttemptAt: string },
): Promise<void> {
  await db
    .updateTable("lifecycle_outbox")
    .set({ attempts: state.attempts, failing_since: state.failingSince, next_attempt_at: state.nextAttemptAt, lease_owner: null, lease_until: null })
    .where("id", "=", id)
    .where("lease_owner", "=", node)
    .execute();
}
