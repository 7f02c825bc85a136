/**
 * The limits and timings of change notifications, with their defaults; the server passes them to the
 * subscription routes and the delivery engine (docs/notifications.md lists them).
 */
import type { OutboundPolicy } from "./outbound.js";

export interface NotificationSettings extends OutboundPolicy {
  /** How long a validation handshake may take (Graph: 10 s). */
  handshakeTimeoutMs: number;
  /** How long a receiver has to acknowledge a delivery (Graph: 3 s). */
  ackTimeoutMs: number;
  /** Retries stop, and the undelivered notifications are dropped, this long after the first failure (Graph: 4 h). */
  retryForMs: number;
  /** The first retry's delay; each further one doubles it, up to `maxRetryDelayMs`. */
  retryBaseMs: number;
  maxRetryDelayMs: number;
  /** How long after a commit the engine waits to gather more changes into one POST. */
  batchWindowMs: number;
  /** How often the engine looks for due work when nothing woke it. */
  pollIntervalMs: number;
  /** Most notifications in one POST. */
  maxNotificationsPerPost: number;
  /** Most bytes of one POST's body: fewer notifications go in one when theirs would pass it (at least one always goes). */
  maxPostBytes: number;
  /** Most deliveries in flight at once on one node. */
  concurrency: number;
  /**
   * Most bytes the bodies of one node's deliveries in flight hold together (a delivery holds
   * `maxPostBytes` while it builds its body, then the body's size until its POST ends).
   */
  maxInFlightBytes: number;
  /** How long a node's claim on a subscription lasts before another node may take it over. */
  leaseMs: number;
  /** Most subscriptions per tenant (403 beyond, as Graph's quota). */
  maxSubscriptionsPerTenant: number;
  /** Most bytes of a receiver's answer read. */
  maxResponseBytes: number;
  /** A subscription with a lifecycleNotificationUrl is sent reauthorizationRequired once it expires within this. */
  reauthorizationWindowMs: number;
  /** How often a node looks for subscriptions due a reauthorizationRequired. */
  lifecycleSweepMs: number;
  /** Change-feed entries older than this are deleted even when a reader still needs them (it is sent `missed`). */
  feedRetentionMs: number;
  /** Change-feed entries more than this many behind a tenant's newest are deleted likewise. */
  feedRetentionRows: number;
  /** How often a node prunes the change feed (each run starts at a random point of the last fifth of this). */
  pruneIntervalMs: number;
  /** Most entries one pruning transaction deletes. */
  pruneBatchRows: number;
  /** Most pruning transactions per tenant in one run. */
  pruneBatchesPerRun: number;
  /** A receiver's answer slower than this is slow (Graph: 2,900 ms); so is no answer within the ack timeout. */
  slowResponseMs: number;
  /** How long a notification URL's counts of notifications, answers and slow answers run before they start again (Graph: 10 min). */
  throttleWindowMs: number;
  /** A URL is judged on its slow answers once it has been sent this many notifications in the window (Graph: 100). */
  throttleMinNotifications: number;
  /** At this share of slow answers or more, a URL is throttled (Graph: 10 %). */
  throttleSlowRatio: number;
  /** At this share of slow answers or more, notifications to the URL are dropped (Graph: 15 %). */
  dropSlowRatio: number;
  /** A throttled URL's subscriptions are sent at most once this often, and their failures retried after it (Graph: 10 min). */
  throttleDelayMs: number;
}

export const MAX_LIFETIME_MINUTES = 43_200;

export const DEFAULT_NOTIFICATION_SETTINGS: Readonly<NotificationSettings> = {
  allowPrivateDestinations: false,
  handshakeTimeoutMs: 10_000,
  ackTimeoutMs: 3_000,
  retryForMs: 4 * 3600_000,
  retryBaseMs: 10_000,
  maxRetryDelayMs: 10 * 60_000,
  batchWindowMs: 50,
  pollIntervalMs: 2_000,
  maxNotificationsPerPost: 1_000,
  maxPostBytes: 1024 * 1024,
  concurrency: 64,
  maxInFlightBytes: 16 * 1024 * 1024,
  leaseMs: 30_000,
  maxSubscriptionsPerTenant: 1_000,
  maxResponseBytes: 64 * 1024,
  reauthorizationWindowMs: 3600_000,
  lifecycleSweepMs: 60_000,
  feedRetentionMs: 7 * 86_400_000,
  feedRetentionRows: 10_000_000,
  pruneIntervalMs: 60_000,
  pruneBatchRows: 1_000,
  pruneBatchesPerRun: 100,
  slowResponseMs: 2_900,
  throttleWindowMs: 600_000,
  throttleMinNotifications: 100,
  throttleSlowRatio: 0.1,
  dropSlowRatio: 0.15,
  throttleDelayMs: 600_000,
};
