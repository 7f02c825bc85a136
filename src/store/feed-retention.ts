/**
 * Pruning the change feed. A tenant's oldest entries are deleted a bounded batch at a time, each batch
 * one transaction, when every reader has passed them — every live subscription's cursor and the
 * automation cursor — or when they are past the retention limit (older than the retention time, or
 * more than the retention rows behind the newest entry). A reader still behind an entry deleted for
 * being past the limit has its cursor moved past it in the same transaction, and a subscription is
 * sent `missed` (its outbox row is written in that transaction too). On PostgreSQL the batch is picked
 * with FOR UPDATE SKIP LOCKED, so nodes pruning at once delete disjoint rows and never wait on each other.
 */
import { sql } from "kysely";
import type { Db, LifecycleOutboxTable, SubscriptionTable } from "./tables.js";
import { isPostgres } from "./dialect.js";
import { insertLifecycle } from "./lifecycle.js";
import { chunks, IN_LIST } from "./chunks.js";
import { lastFeedSeq, raiseFeedFloor } from "./feed.js";

export interface PruneLimits {
  /** Entries committed before this (ISO time) are past the limit. */
  cutoffAt: string;
  /** Entries more than this many behind the tenant's newest are past the limit. */
  keepRows: number;
  /** Most entries deleted by one call. */
  batch: number;
  now: string;
}

export interface PruneOutcome {
  deleted: number;
  /** Subscriptions moved past entries they had not been sent (each is sent `missed`). */
  missed: number;
  /** The automation cursor was moved past entries its rules had not run on. */
  automationSkipped: boolean;
}

/**
 * Tenants that may have a feed, by id, a page at a time: every tenant (on SQLite a tenant's feed has a
 * counter row only once it has been pruned: feed.ts, `feedEnd`).
 */
export async function feedTenants(db: Db, afterTenant: string | null, limit: number): Promise<string[]> {
  let q = db.selectFrom("tenants").select("id as tenant_id");
  if (afterTenant !== null) q = q.where("id", ">", afterTenant);
  return (await q.orderBy("id").limit(limit).execute()).map((r) => r.tenant_id);
}

/**
 * Deletes up to `limits.batch` of the tenant's oldest entries that may go, in one transaction; the
 * subscriptions whose cursor moves are told with the outbox row `missedRow` builds for each.
 */
export async function pruneFeedBatch(
  db: Db,
  tenantId: string,
  limits: PruneLimits,
  missedRow: (sub: SubscriptionTable) => LifecycleOutboxTable | null,
): Promise<PruneOutcome> {
  return db.transaction().execute(async (tx) => {
    const last = await lastFeedSeq(tx, tenantId);
    if (last === 0) return { deleted: 0, missed: 0, automationSkipped: false };
    // What the readers still need: every entry after the smallest of their cursors.
    const subs = await tx
      .selectFrom("subscriptions")
      .select((eb) => eb.fn.min<number>("cursor").as("c"))
      .where("tenant_id", "=", tenantId)
      .where("removed_at", "is", null)
      .where("expires_at", ">", limits.now)
      .executeTakeFirst();
    const auto = await tx.selectFrom("automation_cursors").select("cursor").where("tenant_id", "=", tenantId).executeTakeFirst();
    let needed = last;
    if (subs?.c !== null && subs?.c !== undefined) needed = Math.min(needed, Number(subs.c));
    if (auto) needed = Math.min(needed, Number(auto.cursor));
    const overRows = last - limits.keepRows;

    const head = isPostgres(tx)
      ? await sql<{
          seq: number | string;
          at: string;
        }>`select seq, at from change_feed where tenant_id = ${tenantId} and seq is not null order by seq limit ${limits.batch} for update skip locked`.execute(
          tx,
        )
      : await sql<{
          seq: number | string;
          at: string;
        }>`select seq, at from change_feed where tenant_id = ${tenantId} order by seq limit ${limits.batch}`.execute(tx);
    // The oldest entries, up to the first one that must stay.
    const gone: number[] = [];
    for (const r of head.rows) {
      const seq = Number(r.seq);
      if (seq <= needed || seq <= overRows || r.at < limits.cutoffAt) gone.push(seq);
      else break;
    }
    if (gone.length === 0) return { deleted: 0, missed: 0, automationSkipped: false };
    await raiseFeedFloor(tx, tenantId);
    for (const part of chunks(gone, IN_LIST)) await tx.deleteFrom("change_feed").where("tenant_id", "=", tenantId).where("seq", "in", part).execute();
    const through = gone[gone.length - 1]!;
    if (through <= needed) return { deleted: gone.length, missed: 0, automationSkipped: false };

    // Past the limit, and some reader had not got there: its cursor jumps past everything past the
    // limit (not only this batch), so it is told once.
    const kept = await tx
      .selectFrom("change_feed")
      .select("seq")
      .where("tenant_id", "=", tenantId)
      .where("seq", ">", through)
      .where("at", ">=", limits.cutoffAt)
      .orderBy("seq")
      .limit(1)
      .executeTakeFirst();
    const target = Math.max(through, Math.min(last, overRows), kept ? Number(kept.seq) - 1 : last);
    const moved = await tx
      .updateTable("subscriptions")
      .set({ cursor: target, attempts: 0, failing_since: null })
      .where("tenant_id", "=", tenantId)
      .where("removed_at", "is", null)
      .where("expires_at", ">", limits.now)
      .where("cursor", "<", through)
      .returningAll()
      .execute();
    await insertLifecycle(
      tx,
      moved.map((s) => missedRow({ ...s, cursor: Number(s.cursor), attempts: Number(s.attempts) })),
    );
    const skipped = await tx
      .updateTable("automation_cursors")
      .set({ cursor: target })
      .where("tenant_id", "=", tenantId)
      .where("cursor", "<", through)
      .executeTakeFirst();
    return { deleted: gone.length, missed: moved.length, automationSkipped: Number(skipped.numUpdatedRows) > 0 };
  });
}
