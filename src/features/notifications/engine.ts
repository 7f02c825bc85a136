/**
 * The delivery engine. A subscription's pending notifications are the tenant's change-feed entries
 * past its cursor that match it; the engine claims subscriptions with such entries (a lease in the
 * store, so several nodes on one PostgreSQL database never work on one subscription at once), POSTs
 * the matching entries in Graph's `value` envelope, and moves the cursor only when the receiver has
 * acknowledged with a 2xx within the ack timeout — so a restart or a crash re-sends (with the same
 * notification ids) rather than loses, and only committed changes are ever read. Failures are retried
 * with exponential backoff for the retry period, then the undelivered stretch is dropped (and the
 * subscription sent `missed`). Slow endpoints are throttled as Graph does (throttle.ts), and rich
 * notifications carry Graph's validationTokens (validation-tokens.ts). Lifecycle notifications are
 * queued in the store with their cause and sent by lifecycle.ts.
 *
 * It is woken after a local commit (and, on PostgreSQL, by NOTIFY from any node), waits the batch
 * window to gather changes, and otherwise polls at a modest interval. It runs outside every request:
 * a request only commits its feed rows. At most `concurrency` deliveries are in flight per node, their
 * bodies holding at most `maxInFlightBytes` together, and nothing is queued in memory beyond the
 * subscriptions it has claimed. A subscription with resource data gets each entity as it is when the
 * batch is sent, encrypted for its certificate.
 */
import { alertResource } from "../../schema/alert.js";
import { incidentResource } from "../../schema/incident.js";
import { parseFilter } from "../../odata/parse-filter.js";
import { FEED_CHANNEL, lastFeedSeq, onFeedCommit, readFeedHot, type FeedEntry } from "../../store/feed.js";
import type { Store } from "../../store/open.js";
import {
  advanceSubscription,
  claimDueSubscriptions,
  claimReauthorizations,
  deleteExpiredSubscriptions,
  deleteSubscription,
  markSubscriptionRemoved,
  matchingIds,
  recordFailedAttempt,
  releaseSubscription,
  type SubscriptionTable,
} from "../../store/subscriptions.js";
import { notificationBody } from "./notification-body.js";
import { checkUrlForm, post } from "./outbound.js";
import { encryptedContents } from "./resource-data.js";
import { subscribersMayRead } from "./access.js";
import type { NotificationSettings } from "./settings.js";
import { lifecycleOutboxRow } from "./lifecycle.js";
import { insertLifecycle, insertMissedOnce } from "../../store/lifecycle.js";
import { countEndpointResponse, endpointCounts } from "../../store/notification-endpoints.js";
import { endpointKey, endpointState } from "./throttle.js";
import type { ValidationTokens } from "./validation-tokens.js";
import { traced, type SpanHandle } from "../../store/trace.js";
import { FeedCache } from "./feed-cache.js";
import { GroupCommit } from "../../store/group-commit.js";
import { ByteBudget } from "./byte-budget.js";
import type { EndpointCounts } from "../../store/notification-endpoints.js";

export interface EngineLog {
  warn(obj: object, msg: string): void;
}

/** How a delivery attempt (one POST to a receiver) ended. */
export type DeliveryOutcome = "delivered" | "failed" | "dropped";

/** Told about each delivery attempt (the metrics); called after the attempt's state is recorded. */
export interface DeliveryObserver {
  /**
   * `notifications` were POSTed: acknowledged with a 2xx (`delivered`), not acknowledged and to be
   * retried (`failed`), or not acknowledged and dropped at the end of the retry period (`dropped`).
   * `retry` when an earlier attempt for them had failed. `lagSeconds`, for a delivery, holds each
   * notification's time from its change's commit to the receiver's acknowledgement.
   */
  deliveryAttempted(attempt: { outcome: DeliveryOutcome; notifications: number; retry: boolean; lagSeconds: readonly number[] }): void;
  /** Given, once, what is in flight on this node now: read when the metrics are scraped. */
  watchInFlight?(read: () => DeliveriesInFlight): void;
}

/** The deliveries under way on a node, the bytes their bodies hold, and those waiting for room in that budget. */
export interface DeliveriesInFlight {
  deliveries: number;
  bodyBytes: number;
  waitingForBytes: number;
}

/** Each notification's seconds from its change's commit to `acked` (entries of one transaction share `at`: parsed once). */
function lagsOf(send: readonly FeedEntry[], acked: number): number[] {
  let at = "";
  let lag = 0;
  return send.map((e) => {
    if (e.at !== at) {
      at = e.at;
      lag = Math.max(0, (acked - Date.parse(at)) / 1000);
    }
    return lag;
  });
}

/** Subscriptions claimed per lifecycle sweep for reauthorizationRequired. */
const LIFECYCLE_BATCH = 100;

/** Feed entries read per attempt at most, and per read. */
const SCAN = 5000;
const CHUNK = 200;

/**
 * How long a notification URL's counts, as this node last wrote or read them, stand for the check
 * before a POST (the counts after each POST are always read from the store): another node's answers
 * count here at most this late.
 */
const ENDPOINT_COUNTS_MS = 1_000;
/** Most URLs whose counts are kept so. */
const ENDPOINT_COUNTS_KEPT = 10_000;

export class DeliveryEngine {
  private running = 0;
  private stopped = false;
  private wake: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private sweep: NodeJS.Timeout | undefined;
  private lifecycle: NodeJS.Timeout | undefined;
  private sweepingLifecycle = false;
  private looping = false;
  private again = false;
  private stopListening: (() => Promise<void>) | undefined;
  private unsubscribe: (() => void) | undefined;
  private inflight = new Set<Promise<void>>();
  private readonly feed: FeedCache;
  private readonly endpoints = new Map<string, { counts: EndpointCounts; at: number }>();
  /** The claims and each POST's outcome: concurrent ones commit together (group-commit.ts). */
  private readonly writes: GroupCommit;
  /** The memory the bodies of deliveries in flight may hold together. */
  private readonly bodies: ByteBudget;

  constructor(
    private readonly store: Store,
    private readonly settings: NotificationSettings,
    private readonly node: string,
    private readonly log: EngineLog,
    private readonly observer?: DeliveryObserver,
    /** Called after lifecycle notifications were queued on this node (to send them now). */
    private readonly onLifecycle: () => void = () => undefined,
    /** Signs the validationTokens of rich notifications; without it none are sent. */
    private readonly tokens?: ValidationTokens,
  ) {
    this.feed = new FeedCache((tenantId, afterSeq, limit) => readFeedHot(this.store, tenantId, afterSeq, limit));
    // Its bookkeeping may be lost to a power failure harmlessly: notifications are re-sent with the same ids.
    this.writes = new GroupCommit(store.db, { durable: false });
    this.bodies = new ByteBudget(settings.maxInFlightBytes);
    observer?.watchInFlight?.(() => {
      const { used, waiting } = this.bodies.use();
      return { deliveries: this.running, bodyBytes: used, waitingForBytes: waiting };
    });
  }

  async start(): Promise<void> {
    this.unsubscribe = onFeedCommit(this.store.db, () => this.soon());
    if (this.store.listen) this.stopListening = await this.store.listen(FEED_CHANNEL, () => this.soon());
    this.poll = setInterval(() => this.kick(), this.settings.pollIntervalMs);
    this.poll.unref();
    this.sweep = setInterval(() => void deleteExpiredSubscriptions(this.store.db, new Date().toISOString()).catch(() => undefined), 60_000);
    this.sweep.unref();
    this.lifecycle = setInterval(() => this.track(this.reauthorizations()), this.settings.lifecycleSweepMs);
    this.lifecycle.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.wake);
    clearInterval(this.poll);
    clearInterval(this.sweep);
    clearInterval(this.lifecycle);
    await this.stopListening?.();
    // A claim under way may still start deliveries: wait until nothing is left.
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    this.feed.clear();
  }

  /** Background work stop() waits for. */
  private track(p: Promise<void>): void {
    const q = p
      .catch((err) => this.log.warn({ err }, "change notifications: lifecycle work failed; retried at the next sweep"))
      .finally(() => this.inflight.delete(q));
    this.inflight.add(q);
  }

  /**
   * reauthorizationRequired to the subscriptions expiring within the window, each once per expiry, a
   * batch at a time: the claim and the lifecycle outbox rows are one transaction (lifecycle.ts sends them).
   */
  private async reauthorizations(): Promise<void> {
    if (this.sweepingLifecycle || this.stopped) return;
    this.sweepingLifecycle = true;
    try {
      const now = Date.now();
      const queued = await this.store.db.transaction().execute(async (tx) => {
        const due = await claimReauthorizations(
          tx,
          new Date(now).toISOString(),
          new Date(now + this.settings.reauthorizationWindowMs).toISOString(),
          LIFECYCLE_BATCH,
        );
        return insertLifecycle(
          tx,
          due.map((sub) => lifecycleOutboxRow(sub, "reauthorizationRequired")),
        );
      });
      if (queued > 0) this.onLifecycle();
    } finally {
      this.sweepingLifecycle = false;
    }
  }

  /**
   * The subscription's app may no longer read its resource: in one transaction it is marked removed
   * (so no node delivers to it again), its subscriptionRemoved is queued, and it is deleted.
   */
  private async remove(sub: SubscriptionTable): Promise<void> {
    const removed = await this.store.db.transaction().execute(async (tx) => {
      if (!(await markSubscriptionRemoved(tx, sub.id, this.node, new Date().toISOString()))) return false;
      await insertLifecycle(tx, [lifecycleOutboxRow(sub, "subscriptionRemoved")]);
      await deleteSubscription(tx, sub.tenant_id, sub.id);
      return true;
    });
    if (!removed) return;
    this.log.warn(
      { subscriptionId: sub.id, appId: sub.app_id },
      "change notifications: the subscription's app may no longer read its resource; the subscription is removed",
    );
    this.onLifecycle();
  }

  /** After a commit: look once the batch window has gathered what follows it. */
  private soon(): void {
    if (this.stopped || this.wake) return;
    this.wake = setTimeout(() => {
      this.wake = undefined;
      this.kick();
    }, this.settings.batchWindowMs);
    this.wake.unref();
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.looping) {
      this.again = true;
      return;
    }
    this.looping = true;
    // Tracked, so that stop() waits for a claim under way rather than closing the store under it.
    this.track(
      this.loop()
        .catch((err) => this.log.warn({ err }, "change notifications: claiming due subscriptions failed; retried at the next poll"))
        .finally(() => {
          this.looping = false;
        }),
    );
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const free = this.settings.concurrency - this.running;
      if (free <= 0 || this.stopped) return;
      const now = Date.now();
      // Whether each subscriber may still read its resource is read in the claim's transaction: on
      // SQLite no separate waits for the connection behind ingestion's transactions.
      const claimed = await this.writes.run(async (tx) => {
        const subs = await claimDueSubscriptions(tx, this.node, new Date(now).toISOString(), new Date(now + this.settings.leaseMs).toISOString(), free);
        const mayRead = await subscribersMayRead(tx, subs);
        return subs.map((sub, i) => ({ sub, mayRead: mayRead[i]! }));
      });
      // Feed entries served from the cache must have been read after this (feed-cache.ts).
      const claimedAt = Date.now();
      for (const { sub, mayRead } of claimed) {
        this.running++;
        let more = false;
        const p = this.deliver(sub, mayRead, claimedAt)
          .then((full) => {
            more = full;
          })
          .catch((err) => {
            this.log.warn({ err, subscriptionId: sub.id }, "change notifications: a delivery failed unexpectedly");
            return releaseSubscription(this.store.db, sub.id, this.node).catch(() => undefined);
          })
          .finally(() => {
            this.running--;
            this.inflight.delete(p);
            // A subscription with a backlog goes on at once; otherwise what committed during the POST
            // has gathered, and the batch window lets a little more (a free slot goes to others then too).
            if (more) this.kick();
            else this.soon();
          });
        this.inflight.add(p);
      }
      if (claimed.length === free) this.again = true;
    } while (this.again && !this.stopped);
  }

  /**
   * The entries after the cursor this subscription is told about, and how far they take the cursor.
   * The feed is read in chunks, and no further once more entries of the subscription's kind are in hand
   * than one POST carries: with a backlog, each POST then reads about as many rows as it sends rather
   * than the whole scan (every subscription reads the feed on its own).
   */
  private async pending(sub: SubscriptionTable, claimedAt: number): Promise<{ send: FeedEntry[]; through: number }> {
    const types = new Set(sub.change_types.split(","));
    const max = this.settings.maxNotificationsPerPost;
    let candidates: FeedEntry[] = [];
    let through = sub.cursor;
    for (let scanned = 0; scanned < SCAN && candidates.length <= max;) {
      const want = Math.min(Math.max(CHUNK, max + 1), SCAN - scanned);
      const entries = await this.feed.after(sub.tenant_id, through, want, claimedAt);
      if (entries.length === 0) break;
      scanned += entries.length;
      through = entries[entries.length - 1]!.seq;
      for (const e of entries)
        if (e.entityType === sub.entity_type && types.has(e.changeType) && (sub.entity_id === null || e.entityId === sub.entity_id)) candidates.push(e);
      if (entries.length < want) break;
    }
    if (sub.filter !== null && candidates.length > 0) {
      const resource = sub.entity_type === "incident" ? incidentResource : alertResource;
      const matches = await matchingIds(this.store, resource, parseFilter(sub.filter), sub.tenant_id, [...new Set(candidates.map((c) => c.entityId))]);
      candidates = candidates.filter((c) => matches.has(c.entityId));
    }
    if (candidates.length > max) {
      const send = candidates.slice(0, max);
      return { send, through: send[send.length - 1]!.seq };
    }
    return { send: candidates, through };
  }

  /**
   * One subscription's turn: a span of its own (a new trace: the engine works outside every request,
   * even when a request's commit woke it). The receiver's URL is not recorded: it may carry a secret.
   */
  /** True when the POST was full: the subscription has more pending. */
  private deliver(sub: SubscriptionTable, mayRead: boolean, claimedAt: number): Promise<boolean> {
    return traced("notification.delivery", { "triage.notification.retry": sub.attempts > 0 }, (span) => this.attempt(sub, mayRead, claimedAt, span), {
      root: true,
      kind: "client",
    });
  }

  private async attempt(sub: SubscriptionTable, mayRead: boolean, claimedAt: number, span: SpanHandle | undefined): Promise<boolean> {
    let { send, through } = await this.pending(sub, claimedAt);
    let full = send.length >= this.settings.maxNotificationsPerPost;
    const nowIso = () => new Date().toISOString();
    span?.set({ "triage.notification.count": send.length });
    if (send.length === 0) {
      span?.set({ "triage.notification.outcome": "none" });
      await this.writes.run((tx) => advanceSubscription(tx, sub.id, this.node, through, nowIso()));
      return false;
    }
    // Checked at the claim, before anything is read or sent: an app deleted or without consent gets nothing more.
    if (!mayRead) {
      span?.set({ "triage.notification.outcome": "removed" });
      await this.remove(sub);
      return false;
    }
    const retry = sub.attempts > 0;
    const told = (outcome: DeliveryOutcome, lagSeconds: readonly number[] = []) => {
      span?.set({ "triage.notification.outcome": outcome });
      this.observer?.deliveryAttempted({ outcome, notifications: send.length, retry, lagSeconds });
    };
    // Slow-endpoint throttling (throttle.ts): the URL's counts in the current window, on every node.
    const key = endpointKey(sub.notification_url);
    const windowStartAfter = () => new Date(Date.now() - this.settings.throttleWindowMs).toISOString();
    if (endpointState(await this.countsOf(key, windowStartAfter()), this.settings) === "dropping") {
      this.log.warn(
        { subscriptionId: sub.id, dropped: send.length },
        "change notifications: the notification URL answers too slowly; these notifications are dropped",
      );
      // Everything pending goes, not only this POST's worth: one `missed` covers it.
      await this.drop(sub, Math.max(through, await lastFeedSeq(this.store.db, sub.tenant_id)));
      span?.set({ "triage.notification.throttled": "dropping" });
      told("dropped");
      return false;
    }
    let failure: string | null = null;
    let slow = false;
    // The body's memory is held from before its entities are read until its POST has ended (byte-budget.ts).
    let held = await this.bodies.hold(this.settings.maxPostBytes);
    try {
      const encrypted = await encryptedContents(this.store, sub, send);
      // Rich notifications carry Graph's validationTokens: one per app and tenant (a POST holds one subscription's).
      const token = sub.encryption_certificate !== null ? await this.tokens?.forSubscription(sub) : null;
      // As many notifications as the body's bound allows (at least one); the rest go in the next POST.
      const body = notificationBody(sub, send, { encrypted, validationToken: token, maxBytes: this.settings.maxPostBytes });
      const kept = Math.min(held, body.bytes.length);
      this.bodies.release(held - kept);
      held = kept;
      if (body.count < send.length) {
        send = send.slice(0, body.count);
        through = send[send.length - 1]!.seq;
        full = true;
        span?.set({ "triage.notification.count": send.length });
      }
      const started = Date.now();
      try {
        const url = checkUrlForm(sub.notification_url, this.settings, "notificationUrl");
        const res = await post(url, body.bytes, {
          contentType: "application/json; charset=utf-8",
          timeoutMs: this.settings.ackTimeoutMs,
          maxResponseBytes: this.settings.maxResponseBytes,
          policy: this.settings,
        });
        span?.set({ "http.response.status_code": res.status });
        slow = Date.now() - started > this.settings.slowResponseMs;
        if (res.status < 200 || res.status > 299) failure = `answered ${res.status}`;
      } catch (e) {
        failure = (e as Error).message;
        // No answer within the acknowledgement timeout is slow too; a refused connection is not.
        slow = Date.now() - started >= Math.min(this.settings.slowResponseMs, this.settings.ackTimeoutMs);
      }
    } finally {
      this.bodies.release(held);
    }
    const acked = Date.now();
    const now = Date.now();
    const failingSince = sub.failing_since ?? new Date(now).toISOString();
    const giveUp = failure !== null && now - Date.parse(failingSince) >= this.settings.retryForMs;
    const attempts = sub.attempts + 1;
    // A POST's count and (acknowledged) cursor, or its failure, commit together, and with those of
    // the other deliveries that ended meanwhile.
    const { counts, throttled } = await this.writes.run(async (tx) => {
      const counts = await countEndpointResponse(tx, key, { notifications: send.length, slow }, nowIso(), windowStartAfter());
      const throttled = endpointState(counts, this.settings) !== "normal";
      if (failure === null) {
        const next = throttled ? new Date(acked + this.settings.throttleDelayMs).toISOString() : nowIso();
        await advanceSubscription(tx, sub.id, this.node, through, nowIso(), next);
      } else if (!giveUp) {
        const backoff = Math.min(this.settings.retryBaseMs * 2 ** Math.min(attempts - 1, 30), this.settings.maxRetryDelayMs);
        const delay = throttled ? Math.max(backoff, this.settings.throttleDelayMs) : backoff;
        await recordFailedAttempt(tx, sub.id, this.node, { attempts, failingSince, nextAttemptAt: new Date(now + delay).toISOString() });
      }
      return { counts, throttled };
    });
    this.keepCounts(key, counts);
    if (throttled) span?.set({ "triage.notification.throttled": "throttled" });
    if (failure === null) {
      told("delivered", this.observer ? lagsOf(send, acked) : []);
      // More is pending for sure: it goes at once (unless throttled), not after the batch window.
      return full && !throttled;
    }
    if (giveUp) {
      this.log.warn(
        { subscriptionId: sub.id, dropped: send.length, reason: failure },
        "change notifications: the receiver failed for the whole retry period; these notifications are dropped",
      );
      await this.drop(sub, through);
      told("dropped");
      return false;
    }
    told("failed");
    return false;
  }

  /** The URL's counts in its current window, as this node last saw them if that was under ENDPOINT_COUNTS_MS ago. */
  private async countsOf(key: string, windowStartAfter: string): Promise<EndpointCounts> {
    const kept = this.endpoints.get(key);
    if (kept && Date.now() - kept.at < ENDPOINT_COUNTS_MS) return kept.counts;
    const counts = await endpointCounts(this.store.db, key, windowStartAfter);
    this.keepCounts(key, counts);
    return counts;
  }

  private keepCounts(key: string, counts: EndpointCounts): void {
    this.endpoints.delete(key);
    this.endpoints.set(key, { counts, at: Date.now() });
    if (this.endpoints.size > ENDPOINT_COUNTS_KEPT) this.endpoints.delete(this.endpoints.keys().next().value as string);
  }

  /** Drops the stretch up to `through`: the cursor moves past it and, in the same transaction, `missed` is queued (unless one waits already). */
  private async drop(sub: SubscriptionTable, through: number): Promise<void> {
    const queued = await this.store.db.transaction().execute(async (tx) => {
      const now = new Date().toISOString();
      if (!(await advanceSubscription(tx, sub.id, this.node, through, now))) return false;
      return insertMissedOnce(tx, lifecycleOutboxRow(sub, "missed", now));
    });
    if (queued) this.onLifecycle();
  }
}
