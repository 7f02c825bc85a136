/**
 * The rule runner. Every committed change to an incident or alert is already a row of the tenant's
 * change feed, written in the change's own transaction; that row is the durable record that rules
 * are due. The runner claims a tenant whose feed has grown past its automation cursor (a lease in the
 * store: on PostgreSQL FOR UPDATE SKIP LOCKED, so one node at a time per tenant), reads the changes
 * after the cursor, runs the rules for each, and in ONE transaction writes what the rules changed,
 * queues what they send, and moves the cursor — only if it still holds the lease at the position it
 * read. So each rule runs once per change however many nodes there are, and a crash before the commit
 * leaves the changes to be run again, with nothing half done. Changes made by rules are marked in the
 * feed (automated) and skipped: rules never trigger rules.
 */
import { FEED_CHANNEL, noteAutomated, onFeedCommit, readFeed, type FeedEntry } from "../../store/feed.js";
import type { Store } from "../../store/open.js";
import { advanceCursor, announceJobs, claimDueCursors, insertJobs, releaseCursor, type AutomationJobTable } from "../../store/automation.js";
import { inTransaction } from "../../store/transaction.js";
import type { Trigger } from "../../schema/automation.js";
import { runRulesForChange, type RunLog } from "./apply.js";
import { listTenantRules } from "./rules.js";
import { announceSla, findSlaPolicy } from "../../store/sla.js";
import { trackSla } from "../sla/track.js";
import type { AutomationSettings } from "./settings.js";

/** The trigger a feed entry fires, if any. */
export function triggerOf(e: FeedEntry): Trigger | null {
  if (e.slaBreach !== null) return "slaBreached";
  if (e.entityType === "incident") return e.changeType === "created" ? "incidentCreated" : "incidentUpdated";
  return e.changeType === "created" ? "alertCreated" : null;
}

class LostLease extends Error {}

export class RuleRunner {
  private stopped = false;
  private looping = false;
  private again = false;
  private wake: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  private current: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly settings: AutomationSettings,
    private readonly node: string,
    private readonly log: RunLog,
    /** Called after a commit that queued jobs (the sender's wake-up on this node). */
    private readonly onJobs: () => void = () => undefined,
    /** Called after a commit that moved SLA clocks (the breach watch's wake-up on this node). */
    private readonly onSla: () => void = () => undefined,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = onFeedCommit(this.store.db, () => this.soon());
    if (this.store.listen) this.stopListening = await this.store.listen(FEED_CHANNEL, () => this.soon());
    this.poll = setInterval(() => this.kick(), this.settings.pollIntervalMs);
    this.poll.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearTimeout(this.wake);
    clearInterval(this.poll);
    await this.stopListening?.();
    await this.current.catch(() => undefined);
  }

  private soon(): void {
    if (this.stopped || this.wake) return;
    this.wake = setTimeout(() => {
      this.wake = undefined;
      this.kick();
    }, this.settings.batchWindowMs);
    this.wake.unref();
  }

  kick(): void {
    if (this.stopped) return;
    if (this.looping) {
      this.again = true;
      return;
    }
    this.looping = true;
    this.current = this.loop()
      .catch((err) => this.log.warn({ err }, "automation: running rules failed; retried at the next poll"))
      .finally(() => {
        this.looping = false;
      });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const now = Date.now();
      const claimed = await claimDueCursors(this.store.db, this.node, new Date(now).toISOString(), new Date(now + this.settings.leaseMs).toISOString(), 16);
      for (const c of claimed) {
        if (this.stopped) {
          await releaseCursor(this.store.db, c.tenantId, this.node);
          continue;
        }
        try {
          await this.runTenant(c.tenantId, c.cursor);
        } catch (err) {
          if (!(err instanceof LostLease))
            this.log.warn({ err, tenantId: c.tenantId }, "automation: running a tenant's rules failed; retried at the next poll");
        } finally {
          await releaseCursor(this.store.db, c.tenantId, this.node).catch(() => undefined);
        }
      }
      if (claimed.length === 16) this.again = true;
    } while (this.again && !this.stopped);
  }

  /** Runs the tenant's rules for its changes after `cursor`, a batch per transaction, until caught up (bounded). */
  private async runTenant(tenantId: string, cursor: number): Promise<void> {
    for (let round = 0; round < 50 && !this.stopped; round++) {
      const entries = await readFeed(this.store.db, tenantId, cursor, this.settings.changesPerTransaction);
      if (entries.length === 0) return;
      const rules = await listTenantRules(this.store.db, tenantId);
      const policy = await findSlaPolicy(this.store.db, tenantId);
      const through = entries[entries.length - 1]!.seq;
      let jobs: AutomationJobTable[] = [];
      let clocks = 0;
      await inTransaction(this.store.db, async (tx) => {
        noteAutomated(tx);
        jobs = [];
        const now = new Date().toISOString();
        // The incidents' SLA clocks move with the changes, in the transaction that moves the cursor.
        clocks = policy ? await trackSla(tx, tenantId, entries, policy) : 0;
        if (clocks) await announceSla(tx);
        if (rules.length > 0) {
          for (const e of entries) {
            const trigger = e.automated ? null : triggerOf(e);
            if (trigger === null) continue;
            const outcome = await runRulesForChange(tx, tenantId, trigger, e.entityId, rules, now, this.settings.maxAlertsRead, this.log, e.slaBreach);
            jobs.push(...outcome.jobs);
          }
        }
        await insertJobs(tx, jobs);
        if (jobs.length) await announceJobs(tx);
        const leaseUntil = new Date(Date.now() + this.settings.leaseMs).toISOString();
        if (!(await advanceCursor(tx, tenantId, this.node, cursor, through, leaseUntil))) throw new LostLease();
      });
      cursor = through;
      if (jobs.length) this.onJobs();
      if (clocks) this.onSla();
    }
    this.again = true;
  }
}
