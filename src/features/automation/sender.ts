/**
 * The job sender: delivers what rules queued — a playbook's signed POST, a Teams or Slack
 * incoming-webhook message, an e-mail over SMTP. A node claims due jobs under a lease (on PostgreSQL
 * FOR UPDATE SKIP LOCKED), sends each, and removes it once the destination accepted it (a 2xx, or the
 * mail server's acceptance); a failure is retried with exponential backoff for the retry period, then
 * dropped and logged. Delivery is at least once: a node that stops between the acceptance and the
 * removal sends again, with the same X-Triage-Delivery id. Webhooks follow the change notifications'
 * outbound rules (checked destination, pinned address, no redirects, bounded answer).
 */
import { createHmac } from "node:crypto";
import { createRequire } from "node:module";
import type { Store } from "../../store/open.js";
import { claimDueJobs, finishJob, JOB_CHANNEL, recordJobFailure, releaseJob, type AutomationJobTable } from "../../store/automation.js";
import { checkUrlForm, post } from "../notifications/outbound.js";
import type { RunLog } from "./apply.js";
import { openSecret, type SecretSealer } from "./rules.js";
import type { AutomationSettings, SmtpSettings } from "./settings.js";

/** The signature header of a playbook request: HMAC-SHA256 of "<timestamp>.<body>" with the rule's secret, in hex. */
export function playbookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

interface Mailer {
  sendMail(m: { from: string; to: string[]; subject: string; text: string }): Promise<unknown>;
  close(): void;
}

type Nodemailer = typeof import("nodemailer");

/** nodemailer is loaded by the first e-mail a rule sends: a server that mails nothing does not hold it. */
function mailerOf(smtp: SmtpSettings, timeoutMs: number): Mailer {
  const nodemailer = createRequire(import.meta.url)("nodemailer") as Nodemailer;
  return nodemailer.createTransport({
    url: smtp.url,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  } as never) as unknown as Mailer;
}

export class JobSender {
  private running = 0;
  private stopped = false;
  private looping = false;
  private again = false;
  private poll: NodeJS.Timeout | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  private inflight = new Set<Promise<void>>();
  private mailer: Mailer | null = null;

  constructor(
    private readonly store: Store,
    private readonly settings: AutomationSettings,
    readonly node: string,
    private readonly log: RunLog,
    private readonly sealer: SecretSealer | undefined,
  ) {}

  async start(): Promise<void> {
    if (this.store.listen) this.stopListening = await this.store.listen(JOB_CHANNEL, () => this.kick());
    this.poll = setInterval(() => this.kick(), this.settings.pollIntervalMs);
    this.poll.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.poll);
    await this.stopListening?.();
    await Promise.allSettled([...this.inflight]);
    this.mailer?.close();
  }

  kick(): void {
    if (this.stopped) return;
    if (this.looping) {
      this.again = true;
      return;
    }
    this.looping = true;
    void this.loop()
      .catch((err) => this.log.warn({ err }, "automation: claiming due jobs failed; retried at the next poll"))
      .finally(() => {
        this.looping = false;
      });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const free = this.settings.concurrency - this.running;
      if (free <= 0 || this.stopped) return;
      const now = Date.now();
      const claimed = await claimDueJobs(this.store.db, this.node, new Date(now).toISOString(), new Date(now + this.settings.leaseMs).toISOString(), free);
      for (const job of claimed) {
        this.running++;
        const p = this.deliver(job)
          .catch((err) => {
            this.log.warn({ err, jobId: job.id }, "automation: a job failed unexpectedly");
            return releaseJob(this.store.db, job.id, this.node).catch(() => undefined);
          })
          .finally(() => {
            this.running--;
            this.inflight.delete(p);
            this.kick();
          });
        this.inflight.add(p);
      }
      if (claimed.length === free) this.again = true;
    } while (this.again && !this.stopped);
  }

  private async send(job: AutomationJobTable): Promise<void> {
    const dest = JSON.parse(job.destination) as { url?: string; secret?: string; to?: string[] };
    if (job.kind === "email") {
      const smtp = this.settings.smtp;
      if (!smtp) throw new Error("no mail server is configured (triage serve --smtp-url)");
      this.mailer ??= mailerOf(smtp, this.settings.sendTimeoutMs);
      const mail = JSON.parse(job.payload) as { subject: string; text: string };
      await this.mailer.sendMail({ from: smtp.from, to: dest.to ?? [], subject: mail.subject, text: mail.text });
      return;
    }
    const url = checkUrlForm(dest.url ?? "", this.settings, "url");
    const headers: Record<string, string> = { "x-triage-delivery": job.id };
    if (job.kind === "playbook" && dest.secret !== undefined) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      headers["x-triage-timestamp"] = timestamp;
      headers["x-triage-signature"] = playbookSignature(openSecret(this.sealer, dest.secret, job.rule_id), timestamp, job.payload);
    }
    const res = await post(url, job.payload, {
      contentType: "application/json; charset=utf-8",
      timeoutMs: this.settings.sendTimeoutMs,
      maxResponseBytes: this.settings.maxResponseBytes,
      policy: this.settings,
      userAgent: "Triage-Automation/1.0",
      headers,
    });
    if (res.status < 200 || res.status > 299) throw new Error(`answered ${res.status}`);
  }

  private async deliver(job: AutomationJobTable): Promise<void> {
    let failure: string | null = null;
    try {
      await this.send(job);
    } catch (e) {
      failure = (e as Error).message;
    }
    if (failure === null) {
      await finishJob(this.store.db, job.id, this.node);
      return;
    }
    const now = Date.now();
    const failingSince = job.failing_since ?? new Date(now).toISOString();
    if (now - Date.parse(failingSince) >= this.settings.retryForMs) {
      this.log.warn(
        { jobId: job.id, ruleId: job.rule_id, kind: job.kind, reason: failure },
        "automation: a job failed for the whole retry period and is dropped",
      );
      await finishJob(this.store.db, job.id, this.node);
      return;
    }
    const attempts = job.attempts + 1;
    const delay = Math.min(this.settings.retryBaseMs * 2 ** Math.min(attempts - 1, 30), this.settings.maxRetryDelayMs);
    await recordJobFailure(this.store.db, job.id, this.node, {
      attempts,
      failingSince,
      nextAttemptAt: new Date(now + delay).toISOString(),
      error: failure,
    });
  }
}
