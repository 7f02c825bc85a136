/**
 * The breach watch (docs/sla.md#breaches): each node runs one. It reads the clocks due now through the
 * index on their next due time (on PostgreSQL locked with FOR UPDATE SKIP LOCKED), records each breach
 * with a guarded update and writes its change-feed record in the same transaction — the record that
 * triggers `slaBreached` rules and reaches change-notification subscribers — so a breach is recorded
 * once however many nodes race, and never lost: the clocks are rows, so a node started again finds
 * the ones that fell due while it was down. Between rounds it sleeps until the earliest due time (one
 * index read), at most `maxSleepMs`, and wakes early when clocks change (on this node, or on another
 * through LISTEN/NOTIFY).
 */
import { nextDue, running } from "../../domain/sla.js";
import { SLA_KINDS } from "../../schema/sla.js";
import type { Store } from "../../store/open.js";
import { dueSlaStates, earliestDue, recordBreach, setNextDue, SLA_CHANNEL } from "../../store/sla.js";
import { inTransaction } from "../../store/transaction.js";

export interface SlaWatchSettings {
  /** The longest sleep between rounds (a bound, should a wake-up be missed). */
  maxSleepMs: number;
  /** Clocks handled per transaction. */
  batch: number;
}

export const DEFAULT_SLA_WATCH: Readonly<SlaWatchSettings> = { maxSleepMs: 30_000, batch: 100 };

export interface WatchLog {
  warn(obj: object, msg: string): void;
}

export class SlaWatch {
  private stopped = false;
  private looping = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  private current: Promise<void> = Promise.resolve();
  /** Breaches this node recorded (for tests and logs). */
  recorded = 0;

  constructor(
    private readonly store: Store,
    private readonly settings: SlaWatchSettings,
    private readonly log: WatchLog,
  ) {}

  async start(): Promise<void> {
    if (this.store.listen) this.stopListening = await this.store.listen(SLA_CHANNEL, () => this.kick());
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.stopListening?.();
    await this.current.catch(() => undefined);
  }

  /** Looks now (clocks changed). */
  kick(): void {
    if (this.stopped) return;
    if (this.looping) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.looping = true;
    this.current = this.loop()
      .catch((err) => {
        this.log.warn({ err }, "sla: checking due clocks failed; retried shortly");
        this.sleep(1000);
      })
      .finally(() => {
        this.looping = false;
        if (this.again) this.kick();
      });
  }

  private sleep(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), Math.max(0, Math.min(ms, this.settings.maxSleepMs)));
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    let full = true;
    while (full && !this.stopped) {
      this.again = false;
      full = (await this.round(Date.now())) === this.settings.batch;
    }
    if (this.stopped) return;
    const due = await earliestDue(this.store.db);
    this.sleep(due === null ? this.settings.maxSleepMs : due - Date.now() + 1);
  }

  /** One transaction: records the breaches of up to a batch of due clocks; returns how many clocks it read. */
  private async round(nowMs: number): Promise<number> {
    let read = 0;
    let breaches = 0;
    await inTransaction(this.store.db, async (tx) => {
      breaches = 0;
      const due = await dueSlaStates(tx, nowMs, this.settings.batch);
      read = due.length;
      for (const { tenantId, state } of due) {
        const s = { ...state };
        for (const kind of SLA_KINDS) {
          const dueMs = kind === "firstAction" ? s.firstActionDueMs : s.resolveDueMs;
          if (!running(s, kind) || dueMs === null || dueMs > nowMs) continue;
          if (await recordBreach(tx, tenantId, s.incidentId, kind, nowMs)) breaches++;
          if (kind === "firstAction") s.firstActionBreachedMs = nowMs;
          else s.resolveBreachedMs = nowMs;
        }
        await setNextDue(tx, tenantId, s.incidentId, nextDue(s));
      }
    });
    this.recorded += breaches;
    return read;
  }
}
