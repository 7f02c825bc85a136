import { sql, type Kysely } from "kysely";
import type { Database } from "./tables.js";

export interface RateLimitResult {
  current: number;
  /** Milliseconds until the window ends. */
  ttl: number;
}

type Callback = (error: Error | null, result?: RateLimitResult) => void;

/** How often (at most) a node deletes the counters of windows that have ended. */
const PURGE_EVERY_MS = 60_000;

/**
 * Counts a request under `key` in its current window, opening a new window of `windowMs` from `now`
 * when the last one has ended (as the plugin's in-memory store does). One atomic upsert — every
 * SET expression reads the row as it was — so every node on the database draws on the same budget.
 * Returns the count including this request.
 */
export async function countRequest(db: Kysely<Database>, key: string, windowMs: number, now = Date.now()): Promise<RateLimitResult> {
  const window = Math.max(1, Math.trunc(windowMs));
  const ended = sql<boolean>`rate_limits.expires_at <= ${now}`;
  const row = await db
    .insertInto("rate_limits")
    .values({ key, window_start: now, expires_at: now + window, count: 1 })
    .onConflict((oc) =>
      oc.column("key").doUpdateSet({
        count: sql`case when ${ended} then 1 else rate_limits.count + 1 end`,
        window_start: sql`case when ${ended} then ${now} else rate_limits.window_start end`,
        expires_at: sql`case when ${ended} then ${now + window} else rate_limits.expires_at end`,
      }),
    )
    .returning(["count", "expires_at"])
    .executeTakeFirstOrThrow();
  return { current: Number(row.count), ttl: Math.max(0, Number(row.expires_at) - now) };
}

/** The count so far in the key's current window, without counting. */
export async function readRequests(db: Kysely<Database>, key: string, now = Date.now()): Promise<RateLimitResult> {
  const row = await db.selectFrom("rate_limits").select(["count", "expires_at"]).where("key", "=", key).where("expires_at", ">", now).executeTakeFirst();
  return row ? { current: Number(row.count), ttl: Number(row.expires_at) - now } : { current: 0, ttl: 0 };
}

/** Deletes the counters of windows that ended before `now`. */
export async function purgeRateLimits(db: Kysely<Database>, now = Date.now()): Promise<void> {
  await db.deleteFrom("rate_limits").where("expires_at", "<=", now).execute();
}

/**
 * A store for @fastify/rate-limit that keeps its counters in the database (fixed windows, each opened
 * by the first request after the previous one ended), so that several nodes on one PostgreSQL share
 * one budget per key. Windows that have ended are purged now and then. The plugin constructs the
 * store itself (`new Store(options)`), hence a class made per database. `continueExceeding` and
 * `exponentialBackoff` are not supported: a window's budget returns when the window ends.
 */
export function databaseRateLimitStore(db: Kysely<Database>) {
  let lastPurge = Date.now();

  function maybePurge(now: number): void {
    if (now - lastPurge < PURGE_EVERY_MS) return;
    lastPurge = now;
    // Housekeeping only: a failed purge is retried at the next interval.
    purgeRateLimits(db, now).catch(() => undefined);
  }

  return class DatabaseRateLimitStore {
    constructor(
      _options?: unknown,
      // Public: dist ships declarations, and a declared class type cannot have private members.
      readonly prefix = "",
    ) {}

    incr(key: string, callback: Callback, timeWindow: number): void {
      const now = Date.now();
      countRequest(db, this.prefix + key, timeWindow, now).then(
        (res) => {
          maybePurge(now);
          callback(null, res);
        },
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    }

    read(key: string, callback: Callback): void {
      readRequests(db, this.prefix + key).then(
        (res) => callback(null, res),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
    }

    /**
     * A route with its own limits counts apart from the others, as the plugin's own stores do. (The
     * plugin passes the merged limits with the route under `routeInfo`; its typings say the route.)
     */
    child(routeOptions: object): DatabaseRateLimitStore {
      type Route = { method?: unknown; url?: unknown };
      const route = (routeOptions as { routeInfo?: Route }).routeInfo ?? (routeOptions as Route);
      return new DatabaseRateLimitStore(undefined, `${this.prefix}${String(route.method ?? "")}${String(route.url ?? "")}-`);
    }
  };
}
