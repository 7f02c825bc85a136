import { sql, type Kysely } from "kysely";
import type { Database } from "../store/tables.js";

/**
 * Smart-lockout settings, modelled on Entra's: after `threshold` failed sign-ins an account is locked
 * for `lockoutSeconds`, each further lockout in the same run of failures twice as long (up to
 * `maxLockoutSeconds`); `resetSeconds` without a failure forgets the run. A source address that fails
 * `sourceThreshold` times (across accounts: password spraying) is locked the same way.
 */
export interface LockoutPolicy {
  threshold: number;
  lockoutSeconds: number;
  maxLockoutSeconds: number;
  sourceThreshold: number;
  resetSeconds: number;
}

/** Entra's default smart-lockout threshold is 10 failures and its first lockout 60 seconds. */
export const DEFAULT_LOCKOUT: LockoutPolicy = {
  threshold: 10,
  lockoutSeconds: 60,
  maxLockoutSeconds: 3600,
  sourceThreshold: 100,
  resetSeconds: 3600,
};

export function lockoutKeys(account: string, source: string | undefined): { account: string; source: string | undefined } {
  return { account: `acct:${account}`, source: source ? `src:${source}` : undefined };
}

/** Milliseconds until the latest lock on any of `keys` ends; 0 when none is locked. */
export async function lockedFor(db: Kysely<Database>, keys: string[], now = Date.now()): Promise<number> {
  if (keys.length === 0) return 0;
  const rows = await db.selectFrom("signin_failures").select("locked_until").where("key", "in", keys).where("locked_until", ">", now).execute();
  return rows.reduce((max, r) => Math.max(max, Number(r.locked_until) - now), 0);
}

/**
 * Counts a failure under `key` and locks it when the run reaches `threshold`. The count is one atomic
 * upsert (as the throttling counters are); the lock is set by a conditional update that only the
 * writer which saw the threshold crossed with the current lockout count can make, so nodes racing on
 * one account lock it once, not twice as long.
 */
export async function recordFailure(db: Kysely<Database>, key: string, threshold: number, policy: LockoutPolicy, now = Date.now()): Promise<void> {
  const reset = policy.resetSeconds * 1000;
  const expired = sql<boolean>`signin_failures.expires_at <= ${now}`;
  const row = await db
    .insertInto("signin_failures")
    .values({ key, failures: 1, lockouts: 0, locked_until: 0, expires_at: now + reset })
    .onConflict((oc) =>
      oc.column("key").doUpdateSet({
        failures: sql`case when ${expired} then 1 else signin_failures.failures + 1 end`,
        lockouts: sql`case when ${expired} then 0 else signin_failures.lockouts end`,
        locked_until: sql`case when ${expired} then 0 else signin_failures.locked_until end`,
        expires_at: sql`case when signin_failures.expires_at > ${now + reset} then signin_failures.expires_at else ${now + reset} end`,
      }),
    )
    .returning(["failures", "lockouts"])
    .executeTakeFirstOrThrow();
  const failures = Number(row.failures);
  const lockouts = Number(row.lockouts);
  if (failures < threshold) return;
  const seconds = Math.min(policy.maxLockoutSeconds, policy.lockoutSeconds * 2 ** Math.min(lockouts, 30));
  const until = now + seconds * 1000;
  await db
    .updateTable("signin_failures")
    .set({ failures: 0, lockouts: lockouts + 1, locked_until: until, expires_at: until + reset })
    .where("key", "=", key)
    .where("lockouts", "=", lockouts)
    .where("failures", ">=", threshold)
    .execute();
}

/** A successful sign-in forgets the account's failures (as Entra's does); a source's are kept. */
export async function clearFailures(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom("signin_failures").where("key", "=", key).execute();
}
