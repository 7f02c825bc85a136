/**
 * What each notification URL answered in the current counting window, shared by every node: the
 * notifications POSTed to it, the POSTs answered (or timed out) and the slow ones among them. A window
 * ends `windowMs` after it started; the first attempt after that starts a new one from zero.
 */
import { sql } from "kysely";
import type { Db } from "./tables.js";

export interface EndpointCounts {
  notifications: number;
  responses: number;
  slow: number;
}

const ZERO: EndpointCounts = { notifications: 0, responses: 0, slow: 0 };

/** The URL's counts in its current window (zero when it has none or it ended before `windowStartAfter`). */
export async function endpointCounts(db: Db, urlKey: string, windowStartAfter: string): Promise<EndpointCounts> {
  const row = await db
    .selectFrom("notification_endpoints")
    .select(["notifications", "responses", "slow"])
    .where("url_key", "=", urlKey)
    .where("window_start", ">", windowStartAfter)
    .executeTakeFirst();
  return row ? { notifications: Number(row.notifications), responses: Number(row.responses), slow: Number(row.slow) } : ZERO;
}

/**
 * Adds one POST of `notifications` (slow or not) to the URL's counts, starting a new window at `now`
 * when the current one started at or before `windowStartAfter`; the counts after it.
 */
export async function countEndpointResponse(
  db: Db,
  urlKey: string,
  attempt: { notifications: number; slow: boolean },
  now: string,
  windowStartAfter: string,
): Promise<EndpointCounts> {
  const slow = attempt.slow ? 1 : 0;
  const stale = sql`notification_endpoints.window_start <= ${windowStartAfter}`;
  const res = await sql<{ notifications: number | string; responses: number | string; slow: number | string }>`
    insert into notification_endpoints (url_key, window_start, notifications, responses, slow)
    values (${urlKey}, ${now}, ${attempt.notifications}, 1, ${slow})
    on conflict (url_key) do update set
      notifications = case when ${stale} then excluded.notifications else notification_endpoints.notifications + excluded.notifications end,
      responses = case when ${stale} then 1 else notification_endpoints.responses + 1 end,
      slow = case when ${stale} then excluded.slow else notification_endpoints.slow + excluded.slow end,
      window_start = case when ${stale} then excluded.window_start else notification_endpoints.window_start end
    returning notifications, responses, slow`.execute(db);
  const r = res.rows[0]!;
  return { notifications: Number(r.notifications), responses: Number(r.responses), slow: Number(r.slow) };
}

/** Forgets counts of windows that ended before `windowStartAfter` (housekeeping). */
export async function deleteStaleEndpoints(db: Db, windowStartAfter: string): Promise<void> {
  await db.deleteFrom("notification_endpoints").where("window_start", "<=", windowStartAfter).execute();
}
