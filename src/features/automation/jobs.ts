/**
 * The jobs rules queued and not yet sent (playbooks, Teams, Slack, e-mail): listed, pending or failed,
 * for administrators (API and CLI), and a failed job's retry brought forward. A job that was accepted,
 * or dropped at the end of its retry period, is no longer in the store (the drop is logged).
 */
import { badRequest, notFound } from "../../errors/graph-error.js";
import { DEFAULT_JOBS_PAGE, JOB_STATES, MAX_JOBS_PAGE, type Job } from "../../schema/automation.js";
import { announceJobs, findJob, listJobsPage, retryJobNow, type AutomationJobTable, type JobState } from "../../store/automation.js";
import { inTransaction, type StoreDb } from "../../store/transaction.js";

function destinationOf(row: AutomationJobTable): string {
  try {
    const d = JSON.parse(row.destination) as { url?: string; to?: string[] };
    // The playbook's sealed secret is never shown.
    return d.url ?? (d.to ?? []).join(", ");
  } catch {
    return "";
  }
}

export function jobView(row: AutomationJobTable & { rule_name: string | null }, retryForMs: number, now: number): Job {
  const failed = row.attempts > 0;
  return {
    id: row.id,
    ruleId: row.rule_id,
    ruleDisplayName: row.rule_name,
    kind: row.kind as Job["kind"],
    destination: destinationOf(row),
    state: failed ? "failed" : "pending",
    attempts: row.attempts,
    lastError: row.last_error,
    createdDateTime: row.created_at,
    firstFailureDateTime: row.failing_since,
    nextAttemptDateTime: row.next_attempt_at,
    giveUpDateTime: row.failing_since ? new Date(Date.parse(row.failing_since) + retryForMs).toISOString() : null,
    sending: row.lease_until !== null && Date.parse(row.lease_until) > now,
  };
}

export interface JobQuery {
  state?: string;
  top?: string | number;
  skipToken?: string;
}

function tokenOf(row: AutomationJobTable): string {
  return Buffer.from(JSON.stringify([row.created_at, row.id]), "utf8").toString("base64url");
}

function afterOf(token: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown[];
    if (typeof createdAt === "string" && typeof id === "string") return { createdAt, id };
  } catch {
    // falls through
  }
  throw badRequest("The skipToken is not one this list gave.");
}

/** One page of the tenant's jobs, oldest first; `skipToken` of the next page when there is one. */
export async function listJobs(db: StoreDb, tenantId: string, q: JobQuery, retryForMs: number): Promise<{ value: Job[]; skipToken: string | null }> {
  if (q.state !== undefined && !(JOB_STATES as readonly string[]).includes(q.state))
    throw badRequest(`The state '${q.state}' is not one of ${JOB_STATES.join(", ")}.`);
  let top = DEFAULT_JOBS_PAGE;
  if (q.top !== undefined) {
    top = Number(q.top);
    if (!Number.isInteger(top) || top < 1 || top > MAX_JOBS_PAGE) throw badRequest(`top must be a whole number from 1 to ${MAX_JOBS_PAGE}.`);
  }
  const rows = await listJobsPage(db, tenantId, {
    state: q.state as JobState | undefined,
    after: q.skipToken === undefined ? undefined : afterOf(q.skipToken),
    limit: top + 1,
  });
  const page = rows.slice(0, top);
  const now = Date.now();
  return { value: page.map((r) => jobView(r, retryForMs, now)), skipToken: rows.length > top ? tokenOf(page[page.length - 1]!) : null };
}

export async function getJob(db: StoreDb, tenantId: string, id: string, retryForMs: number): Promise<Job> {
  const row = await findJob(db, tenantId, id);
  if (!row) throw notFound(`Automation job '${id}' was not found: it was sent, dropped, or never queued.`);
  return jobView(row, retryForMs, Date.now());
}

/**
 * Brings a failed job's next attempt forward to now (and wakes the senders): it is tried again within a
 * moment, on whichever node claims it. Its retry period still counts from its first failure. A job not
 * failed is refused (400): it is sent when due.
 */
export async function retryJob(db: StoreDb, tenantId: string, id: string, retryForMs: number): Promise<Job> {
  const now = new Date().toISOString();
  await inTransaction(db, async (tx) => {
    const row = await findJob(tx, tenantId, id);
    if (!row) throw notFound(`Automation job '${id}' was not found: it was sent, dropped, or never queued.`);
    if (row.attempts === 0) throw badRequest(`Automation job '${id}' has not failed; it is sent when due.`);
    if (!(await retryJobNow(tx, tenantId, id, now))) throw badRequest(`Automation job '${id}' is being sent now.`);
    await announceJobs(tx);
  });
  return getJob(db, tenantId, id, retryForMs);
}
