/**
 * The limits and timings of automation rules and of what they send, with their defaults; the server
 * passes them to the rule routes, the rule runner and the job sender (docs/automation.md lists them).
 */
import type { OutboundPolicy } from "../notifications/outbound.js";

export interface SmtpSettings {
  /** smtp:// or smtps:// URL of the mail server, optionally with user:password (never logged). */
  url: string;
  /** The From address of every e-mail. */
  from: string;
}

export interface AutomationSettings extends OutboundPolicy {
  /** How long after a commit the runner waits to gather more changes. */
  batchWindowMs: number;
  /** How often the runner and the sender look for work when nothing woke them. */
  pollIntervalMs: number;
  /** How long a node's claim on a tenant's changes, or on a job, lasts before another node may take it over. */
  leaseMs: number;
  /** Feed entries handled in one transaction. */
  changesPerTransaction: number;
  /** Most alerts of an incident read for its conditions (sources, techniques, entities). */
  maxAlertsRead: number;
  /** Most jobs sent at once per node. */
  concurrency: number;
  /** How long a webhook has to answer. */
  sendTimeoutMs: number;
  /** Retries stop, and the job is dropped, this long after its first failure. */
  retryForMs: number;
  retryBaseMs: number;
  maxRetryDelayMs: number;
  /** Most bytes of a webhook's answer read. */
  maxResponseBytes: number;
  /** The mail server for e-mail actions; without it, e-mail actions are refused. */
  smtp: SmtpSettings | null;
}

export const DEFAULT_AUTOMATION_SETTINGS: Readonly<AutomationSettings> = {
  allowPrivateDestinations: false,
  batchWindowMs: 200,
  pollIntervalMs: 2_000,
  leaseMs: 30_000,
  changesPerTransaction: 100,
  maxAlertsRead: 500,
  concurrency: 8,
  sendTimeoutMs: 10_000,
  retryForMs: 4 * 3600_000,
  retryBaseMs: 10_000,
  maxRetryDelayMs: 10 * 60_000,
  maxResponseBytes: 64 * 1024,
  smtp: null,
};
