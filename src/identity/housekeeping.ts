import type { Kysely } from "kysely";
import type { Database } from "../store/tables.js";

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
export async function purgeExpired(db: Kysely<Database>, now = Date.now(), batch = DEFAULT_PURGE_BATCH): Promise<PurgeResult> {
  const iso = new Date(now).toISOString();
  const grants = await inBatches(batch, () =>
    db.deleteFrom("grants").where("id", "in", db.selectFrom("grants").select("id").where("expires_at", "<", iso).limit(batch)).executeTakeFirst(),
  );
  const seenAssertions = await inBatches(batch, () =>
    db.deleteFrom("seen_assertions").where("id", "in", db.selectFrom("seen_assertions").select("id").where("expires_at", "<=", now).limit(batch)).executeTakeFirst(),
  );
  const signinFailures = await inBatches(batch, () =>
    db.deleteFrom("signin_failures").where("key", "in", db.selectFrom("signin_failures").select("key").where("expires_at", "<=", now).limit(batch)).executeTakeFirst(),
  );
  return { grants, seenAssertions, signinFailures };
}

async function inBatches(batch: number, run: () => Promise<{ numDeletedRows: bigint }>): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES; i++) {
    const n = Number((await run()).numDeletedRows);
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
export function schedulePurge(db: Kysely<Database>, o: { intervalMs: number; batch: number; onError(err: unknown): void }): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const next = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = purgeExpired(db, Date.now(), o.batch).then(() => undefined, o.onError).finally(() => {
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
