import type { Db } from "../store/tables.js";
import { deleteExpiredGrants } from "../store/identity/grants.js";
import { deleteExpiredAssertions, deleteExpiredFailures } from "../store/identity/credential-state.js";

/** How often each node deletes expired credential state. */
export const DEFAULT_PURGE_INTERVAL_MS = 10 * 60_000;
/** Rows deleted per statement: short transactions, never a long lock on a busy table. */
export const DEFAULT_PURGE_BATCH = 1000;
/** Batches per table per run; what is left waits for the next run. */
const MAX_BATCHES = 50;

export interface PurgeResult {
  grants: number;
  seenAssertions: number;
  signinFailures: number;
}

/**
 * Deletes what can no longer be used: expired authorization codes, device codes and refresh tokens
 * (spent ones included: past their expiry a replay is refused as unknown), seen client-assertion ids
 * past their replay window, and lockout records past their reset time. Every statement deletes by
 * expiry in a bounded batch, so nodes running it at once delete each row once and repeat nothing.
 */
export async function purgeExpired(db: Db, now = Date.now(), batch = DEFAULT_PURGE_BATCH): Promise<PurgeResult> {
  const iso = new Date(now).toISOString();
  const grants = await inBatches(batch, () => deleteExpiredGrants(db, iso, batch));
  const seenAssertions = await inBatches(batch, () => deleteExpiredAssertions(db, now, batch));
  const signinFailures = await inBatches(batch, () => deleteExpiredFailures(db, now, batch));
  return { grants, seenAssertions, signinFailures };
}

async function inBatches(batch: number, run: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const n = await run();
    total += n;
    if (n < batch) break;
  }
  return total;
}

/**
 * Runs purgeExpired on every node every `intervalMs`, the first run after a random part of the interval
 * so that nodes started together do not purge together. The timer does not keep the process alive;
 * a failed run (the database briefly away) is reported and retried at the next interval.
 */
export function schedulePurge(db: Db, o: { intervalMs: number; batch: number; onError(err: unknown): void }): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const next = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = purgeExpired(db, Date.now(), o.batch)
        .then(() => undefined, o.onError)
        .finally(() => {
          running = undefined;
          next(o.intervalMs);
        });
    }, delay);
    timer.unref();
  };
  next(Math.floor(Math.random() * o.intervalMs));
  // Stopping waits for a run in progress, so the store is not closed under it.
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await running;
  };
}
