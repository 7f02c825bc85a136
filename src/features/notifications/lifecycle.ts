/**
 * Lifecycle notifications (reauthorizationRequired, subscriptionRemoved, missed), sent durably: the
 * cause writes a row to the store's lifecycle outbox in its own transaction, and this sender POSTs each
 * row to its subscription's lifecycleNotificationUrl in Graph's `value` envelope. A row is deleted once
 * the receiver answers 2xx within the acknowledgement timeout; otherwise it is retried with the
 * notifications' backoff for their retry period, then dropped (logged). Rows are leased (on PostgreSQL
 * picked with SKIP LOCKED), so several nodes send each once; a node that stops mid-send leaves the
 * row to be sent again when its lease ends.
 */
import type { Store } from "../../store/open.js";
import type { SubscriptionTable } from "../../store/subscriptions.js";
import {
  claimDueLifecycle,
  finishLifecycle,
  recordLifecycleFailure,
  lifecycleRow,
  type LifecycleEvent,
  type LifecycleOutboxTable,
} from "../../store/lifecycle.js";
import { checkUrlForm, post } from "./outbound.js";
import type { NotificationSettings } from "./settings.js";

export interface LifecycleLog {
  warn(obj: object, msg: string): void;
}

/** Graph's lifecycle notification: the subscription, the event, and no resource. */
export function lifecycleNotificationOf(sub: SubscriptionTable, lifecycleEvent: LifecycleEvent): Record<string, unknown> {
  return {
    subscriptionId: sub.id,
    subscriptionExpirationDateTime: sub.expires_at,
    tenantId: sub.tenant_id,
    clientState: sub.client_state,
    lifecycleEvent,
  };
}

/** The outbox row for the subscription's lifecycle notification; null when it has no lifecycleNotificationUrl. */
export function lifecycleOutboxRow(sub: SubscriptionTable, event: LifecycleEvent, now = new Date().toISOString()): LifecycleOutboxTable | null {
  return lifecycleRow(sub, event, lifecycleNotificationOf(sub, event), now);
}

/** Rows claimed per look. */
const CLAIM = 16;

export class LifecycleSender {
  private stopped = false;
  private looping = false;
  private again = false;
  private poll: NodeJS.Timeout | undefined;
  private current: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly settings: NotificationSettings,
    private readonly node: string,
    private readonly log: LifecycleLog,
  ) {}

  start(): void {
    this.poll = setInterval(() => this.kick(), this.settings.pollIntervalMs);
    this.poll.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    await this.current.catch(() => undefined);
  }

  /** Look now (a row was just written on this node). */
  kick(): void {
    if (this.stopped) return;
    if (this.looping) {
      this.again = true;
      return;
    }
    this.looping = true;
    this.current = this.loop()
      .catch((err) => this.log.warn({ err }, "change notifications: sending lifecycle notifications failed; retried at the next poll"))
      .finally(() => {
        this.looping = false;
      });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const now = Date.now();
      const rows = await claimDueLifecycle(this.store.db, this.node, new Date(now).toISOString(), new Date(now + this.settings.leaseMs).toISOString(), CLAIM);
      await Promise.all(rows.map((r) => this.send(r)));
      if (rows.length === CLAIM) this.again = true;
    } while (this.again && !this.stopped);
  }

  private async send(row: LifecycleOutboxTable): Promise<void> {
    let failure: string | null = null;
    try {
      const res = await post(checkUrlForm(row.url, this.settings, "lifecycleNotificationUrl"), JSON.stringify({ value: [JSON.parse(row.body)] }), {
        contentType: "application/json; charset=utf-8",
        timeoutMs: this.settings.ackTimeoutMs,
        maxResponseBytes: this.settings.maxResponseBytes,
        policy: this.settings,
      });
      if (res.status < 200 || res.status > 299) failure = `answered ${res.status}`;
    } catch (e) {
      failure = (e as Error).message;
    }
    if (failure === null) return finishLifecycle(this.store.db, row.id, this.node);
    const now = Date.now();
    const failingSince = row.failing_since ?? new Date(now).toISOString();
    if (now - Date.parse(failingSince) >= this.settings.retryForMs) {
      this.log.warn(
        { subscriptionId: row.subscription_id, lifecycleEvent: row.event, reason: failure },
        "change notifications: the lifecycle receiver failed for the whole retry period; the lifecycle notification is dropped",
      );
      return finishLifecycle(this.store.db, row.id, this.node);
    }
    const attempts = row.attempts + 1;
    const delay = Math.min(this.settings.retryBaseMs * 2 ** Math.min(attempts - 1, 30), this.settings.maxRetryDelayMs);
    this.log.warn(
      { subscriptionId: row.subscription_id, lifecycleEvent: row.event, reason: failure, attempts },
      "change notifications: a lifecycle notification was not acknowledged; it is retried",
    );
    await recordLifecycleFailure(this.store.db, row.id, this.node, { attempts, failingSince, nextAttemptAt: new Date(now + delay).toISOString() });
  }
}
