/**
 * Credential state kept for every node to see: failed sign-ins and lockouts per key (an account or a
 * source address; identity/lockout.ts decides when and how long to lock), and client-assertion ids
 * already accepted. Times are epoch milliseconds.
 */
import { sql } from "kysely";
import type { Db } from "../tables.js";
import { isPostgres } from "../dialect.js";

/** The lock ends (epoch ms) of those of `keys` locked after `now`. */
export async function lockEnds(db: Db, keys: readonly string[], now: number): Promise<number[]> {
  const rows = await db.selectFrom("signin_failures").select("locked_until").where("key", "in", keys).where("locked_until", ">", now).execute();
  return rows.map((r) => Number(r.locked_until));
}

/**
 * Counts one failure under `key` in one atomic upsert (as the throttling counters are): a run whose
 * record expired starts again at one. The record lives until `now + resetMs` at least. Returns the
 * run's failures and lockouts after this one.
 */
export async function countFailure(db: Db, key: string, now: number, resetMs: number): Promise<{ failures: number; lockouts: number }> {
  const expired = sql<boolean>`signin_failures.expires_at <= ${now}`;
  const row = await db
    .insertInto("signin_failures")
    .values({ key, failures: 1, lockouts: 0, locked_until: 0, expires_at: now + resetMs })
    .onConflict((oc) =>
      oc.column("key").doUpdateSet({
        failures: sql`case when ${expired} then 1 else signin_failures.failures + 1 end`,
        lockouts: sql`case when ${expired} then 0 else signin_failures.lockouts end`,
        locked_until: sql`case when ${expired} then 0 else signin_failures.locked_until end`,
        expires_at: sql`case when signin_failures.expires_at > ${now + resetMs} then signin_failures.expires_at else ${now + resetMs} end`,
      }),
    )
    .returning(["failures", "lockouts"])
    .executeTakeFirstOrThrow();
  return { failures: Number(row.failures), lockouts: Number(row.lockouts) };
}

/**
 * Locks `key` until `until` and starts a new run, only if the record still has `lockouts` lockouts
 * and at least `threshold` failures: of nodes racing past the threshold, one locks.
 */
export async function lockKey(db: Db, key: string, o: { lockouts: number; threshold: number; until: number; expiresAt: number }): Promise<void> {
  await db
    .updateTable("signin_failures")
    .set({ failures: 0, lockouts: o.lockouts + 1, locked_until: o.until, expires_at: o.expiresAt })
    .where("key", "=", key)
    .where("lockouts", "=", o.lockouts)
    .where("failures", ">=", o.threshold)
    .execute();
}

export async function deleteFailures(db: Db, key: string): Promise<void> {
  await db.deleteFrom("signin_failures").where("key", "=", key).execute();
}

/** Deletes up to `batch` failure records whose run was forgotten by `now`; how many it deleted. */
export async function deleteExpiredFailures(db: Db, now: number, batch: number): Promise<number> {
  const res = await db
    .deleteFrom("signin_failures")
    .where(
      "key",
      "in",
      db
        .selectFrom("signin_failures")
        .select("key")
        .where("expires_at", "<=", now)
        .limit(batch)
        // Nodes purging at once would otherwise lock the same rows in different orders and deadlock.
        .$if(isPostgres(db), (q) => q.forUpdate().skipLocked()),
    )
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}

/**
 * Records an assertion id until `expiresAt`; false when it is already recorded and not expired at
 * `now`. One statement, so of two nodes receiving the same assertion at once one records it.
 */
export async function rememberAssertionId(db: Db, id: string, expiresAt: number, now: number): Promise<boolean> {
  const res = await db
    .insertInto("seen_assertions")
    .values({ id, expires_at: expiresAt })
    .onConflict((oc) => oc.column("id").doUpdateSet({ expires_at: expiresAt }).where("seen_assertions.expires_at", "<=", now))
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** Deletes up to `batch` assertion ids past their replay window at `now`; how many it deleted. */
export async function deleteExpiredAssertions(db: Db, now: number, batch: number): Promise<number> {
  const res = await db
    .deleteFrom("seen_assertions")
    .where(
      "id",
      "in",
      db
        .selectFrom("seen_assertions")
        .select("id")
        .where("expires_at", "<=", now)
        .limit(batch)
        .$if(isPostgres(db), (q) => q.forUpdate().skipLocked()),
    )
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}
