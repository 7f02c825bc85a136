import type { Db } from "../store/tables.js";
import { countFailure, deleteFailures, lockEnds, lockKey } from "../store/identity/credential-state.js";

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
export async function lockedFor(db: Db, keys: string[], now = Date.now()): Promise<number> {
  if (keys.length === 0) return 0;
  const ends = await lockEnds(db, keys, now);
  return ends.reduce((max, until) => Math.max(max, until - now), 0);
}

/**
 * Counts a failure under `key` and locks it when the run reaches `threshold`. The count is one atomic
 * upsert (as the throttling counters are); the lock is set by a conditional update that only the
 * writer which saw the threshold crossed with the current lockout count can make, so nodes racing on
 * one account lock it once, not twice as long.
 */
export async function recordFailure(db: Db, key: string, threshold: number, policy: LockoutPolicy, now = Date.now()): Promise<void> {
  const reset = policy.resetSeconds * 1000;
  const { failures, lockouts } = await countFailure(db, key, now, reset);
  if (failures < threshold) return;
  const seconds = Math.min(policy.maxLockoutSeconds, policy.lockoutSeconds * 2 ** Math.min(lockouts, 30));
  const until = now + seconds * 1000;
  await lockKey(db, key, { lockouts, threshold, until, expiresAt: until + reset });
}

/** A successful sign-in forgets the account's failures (as Entra's does); a source's are kept. */
export async function clearFailures(db: Db, key: string): Promise<void> {
  await deleteFailures(db, key);
}
