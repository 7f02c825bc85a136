/**
 * Graph's throttling of slow endpoints: a POST answered after more than 2,900 ms (or not within the
 * 3-second timeout) is slow. Once a notification URL has been sent 100 notifications in the current
 * 10-minute window, it is throttled while 10 % or more of its answers were slow — each subscription on
 * it is then sent at most once every 10 minutes, and a failure is retried after 10 minutes — and its
 * notifications are dropped (the subscriptions are sent `missed`) while 15 % or more were. The counts
 * are kept in the store per URL (store/notification-endpoints.ts), so every node sees the same.
 */
import { createHash } from "node:crypto";
import type { EndpointCounts } from "../../store/notification-endpoints.js";
import type { NotificationSettings } from "./settings.js";

export type EndpointState = "normal" | "throttled" | "dropping";

/** The key a notification URL's counts are kept under: the SHA-256 of the URL as given (with its query). */
export function endpointKey(url: string): string {
  return createHash("sha256").update(url).digest("hex");
}

export function endpointState(c: EndpointCounts, s: NotificationSettings): EndpointState {
  if (c.notifications < s.throttleMinNotifications || c.responses === 0) return "normal";
  const ratio = c.slow / c.responses;
  if (ratio >= s.dropSlowRatio) return "dropping";
  if (ratio >= s.throttleSlowRatio) return "throttled";
  return "normal";
}
