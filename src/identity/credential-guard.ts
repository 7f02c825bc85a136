import type { Db } from "../store/tables.js";
import { HashPool, HashPoolBusy } from "./hash-pool.js";
import { clearFailures, DEFAULT_LOCKOUT, lockedFor, lockoutKeys, recordFailure, type LockoutPolicy } from "./lockout.js";

export type Attempt<T> =
  { ok: true; value: T } | { ok: false; reason: "invalid" } | { ok: false; reason: "locked"; retryAfterSeconds: number } | { ok: false; reason: "busy" };

/**
 * Every password and client-secret check goes through here: refused at once while the account or the
 * source address is locked (no hashing, so guessing at a locked account costs the server nothing),
 * otherwise run in a bounded hashing pool, with failures counted in the store (so the lockout holds on
 * every node) and a success clearing the account's count.
 */
export class CredentialGuard {
  constructor(
    private readonly db: Db,
    readonly policy: LockoutPolicy = DEFAULT_LOCKOUT,
    readonly pool: HashPool = new HashPool(),
  ) {}

  private async locked(keys: string[]): Promise<Attempt<never> | undefined> {
    const ms = await lockedFor(this.db, keys);
    return ms > 0 ? { ok: false, reason: "locked", retryAfterSeconds: Math.ceil(ms / 1000) } : undefined;
  }

  /** `check` verifies the credential (one scrypt, real or dummy) and returns what it proves, or undefined. */
  async attempt<T>(account: string, source: string | undefined, check: () => Promise<T | undefined>): Promise<Attempt<T>> {
    const keys = lockoutKeys(account, source);
    const all = keys.source ? [keys.account, keys.source] : [keys.account];
    // Checked before queueing (a locked account's flood takes no queue slot) and again in the slot
    // (guesses queued behind the one that crossed the threshold are refused too).
    const early = await this.locked(all);
    if (early) return early;
    try {
      return await this.pool.run(async (): Promise<Attempt<T>> => {
        const late = await this.locked(all);
        if (late) return late;
        const value = await check();
        if (value === undefined) {
          await recordFailure(this.db, keys.account, this.policy.threshold, this.policy);
          if (keys.source) await recordFailure(this.db, keys.source, this.policy.sourceThreshold, this.policy);
          return { ok: false, reason: "invalid" };
        }
        await clearFailures(this.db, keys.account);
        return { ok: true, value };
      });
    } catch (e) {
      if (e instanceof HashPoolBusy) return { ok: false, reason: "busy" };
      throw e;
    }
  }
}
