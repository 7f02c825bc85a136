/**
 * The change feed's retention: every node prunes the feed now and then (a timer, at a random point of
 * the last fifth of the interval, so nodes drift apart; never in a tight loop), tenant by tenant, a
 * bounded batch per transaction and a bounded number of batches per tenant per run. An entry goes once
 * every reader has passed it, or once it is past the retention limit (time or rows); a subscription
 * still behind it then jumps past it and is sent `missed`, and the automation cursor jumps likewise
 * (logged). Store side: store/feed-retention.ts.
 */
import type { Store } from "../../store/open.js";
import { feedTenants, pruneFeedBatch } from "../../store/feed-retention.js";
import { deleteStaleEndpoints } from "../../store/notification-endpoints.js";
import type { NotificationSettings } from "./settings.js";
import { lifecycleOutboxRow } from "./lifecycle.js";

export interface PrunerLog {
  warn(obj: object, msg: string): void;
}

/** Tenants read per page. */
const TENANT_PAGE = 100;

export interface PruneRun {
  deleted: number;
  missed: number;
}

export class FeedPruner {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private current: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly settings: NotificationSettings,
    private readonly log: PrunerLog,
    /** Told after a run that moved subscriptions past entries (their `missed` is in the outbox). */
    private readonly onMissed: () => void = () => undefined,
  ) {}

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current.catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    const every = this.settings.pruneIntervalMs;
    this.timer = setTimeout(
      () => {
        this.current = this.run()
          .catch((err) => this.log.warn({ err }, "change feed: pruning failed; retried at the next run"))
          .finally(() => this.schedule());
      },
      every * 0.8 + Math.random() * every * 0.2,
    );
    this.timer.unref();
  }

  /** One run over every tenant; what it deleted. */
  async run(): Promise<PruneRun> {
    const total = { deleted: 0, missed: 0 };
    let after: string | null = null;
    for (;;) {
      const tenants = await feedTenants(this.store.db, after, TENANT_PAGE);
      for (const tenantId of tenants) {
        for (let b = 0; b < this.settings.pruneBatchesPerRun && !this.stopped; b++) {
          const now = Date.now();
          const out = await pruneFeedBatch(
            this.store.db,
            tenantId,
            {
              now: new Date(now).toISOString(),
              cutoffAt: new Date(now - this.settings.feedRetentionMs).toISOString(),
              keepRows: this.settings.feedRetentionRows,
              batch: this.settings.pruneBatchRows,
            },
            (sub) => lifecycleOutboxRow(sub, "missed"),
          );
          total.deleted += out.deleted;
          total.missed += out.missed;
          if (out.missed > 0)
            this.log.warn(
              { tenantId, subscriptions: out.missed },
              "change feed: subscriptions were behind the retention limit; they skip ahead and are sent missed",
            );
          if (out.automationSkipped)
            this.log.warn({ tenantId }, "change feed: automation rules were behind the retention limit; the changes past it are not run on");
          if (out.deleted < this.settings.pruneBatchRows) break;
        }
        if (this.stopped) return total;
      }
      if (tenants.length < TENANT_PAGE) break;
      after = tenants[tenants.length - 1]!;
    }
    if (total.missed > 0) this.onMissed();
    // Housekeeping: slow-endpoint counts of windows that have ended.
    await deleteStaleEndpoints(this.store.db, new Date(Date.now() - this.settings.throttleWindowMs).toISOString());
    return total;
  }
}
