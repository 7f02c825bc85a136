import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { TokenBox } from "../support/identity.js";
import { startHookReceiver, waitUntil, type HookReceiver } from "../support/hooks.js";
import { runCli } from "../support/process.js";
import { insertJobs as insertJobRows, type AutomationJobTable } from "../../src/store/automation.js";
import { inTransaction } from "../../src/store/transaction.js";
import type { Store } from "../../src/store/open.js";

/**
 * The jobs rules queued and not yet sent: listed (pending and failed) through the API and the CLI, for
 * administrators only; a failed job retried now, by either, is sent and leaves the list. A real server,
 * a real webhook receiver that refuses as told, on the suite's store.
 */
let t: TestTriage;
let hooks: HookReceiver;
let tokens: TokenBox;

// Retries 10 minutes apart: a failed job stays failed until it is retried by hand.
const SLOW_RETRY = { batchWindowMs: 20, pollIntervalMs: 150, retryBaseMs: 600_000, maxRetryDelayMs: 600_000, leaseMs: 5_000 };

beforeAll(async () => {
  hooks = await startHookReceiver();
  t = await startTriage({ notifications: { allowPrivateDestinations: true }, automation: SLOW_RETRY });
  tokens = new TokenBox(t);
});
afterAll(async () => {
  await t.close();
  await hooks.close();
});

async function tenant(): Promise<{ id: string; admin: Record<string, string> }> {
  const id = await t.newTenant();
  const token = await tokens.user(id, ["SecurityIncident.ReadWrite.All"], ["Security Administrator"]);
  return { id, admin: { authorization: `Bearer ${token}` } };
}

/** A rule that posts every new incident to a Slack webhook on the receiver, at `path`. */
async function slackRule(admin: Record<string, string>, path: string): Promise<string> {
  const r = await t.request("POST", "/triage/automation/rules", {
    body: { displayName: `Slack ${path}`, trigger: "incidentCreated", actions: [{ type: "notify", channel: "slack", url: `${hooks.base}${path}` }] },
    headers: admin,
  });
  expect(r.status, r.text).toBe(201);
  return r.body.id as string;
}

async function jobs(admin: Record<string, string>, query = ""): Promise<any[]> {
  const r = await t.request("GET", `/triage/automation/jobs${query}`, { headers: admin });
  expect(r.status, r.text).toBe(200);
  return r.body.value as any[];
}

async function insertJobs(store: Store, row: AutomationJobTable): Promise<void> {
  await inTransaction(store.db, (tx) => insertJobRows(tx, [row]));
}

describe("pending and failed automation jobs", () => {
  it("lists a failed job with its error, retries it now through the API, and it is sent and gone", async () => {
    const { id, admin } = await tenant();
    const path = `/jobs/${randomUUID().slice(0, 8)}`;
    const ruleId = await slackRule(admin, path);
    hooks.statuses.push(503);
    expect((await t.ingest([alert({ device: deviceId() })], id)).status).toBe(200);

    // The sender tried once, was refused, and will not try again for 10 minutes.
    await waitUntil(async () => (await jobs(admin, "?state=failed")).length === 1, 20_000);
    const [job] = await jobs(admin);
    expect(job).toMatchObject({
      ruleId,
      ruleDisplayName: `Slack ${path}`,
      kind: "slack",
      destination: `${hooks.base}${path}`,
      state: "failed",
      attempts: 1,
      lastError: "answered 503",
      sending: false,
    });
    expect(Date.parse(job.nextAttemptDateTime)).toBeGreaterThan(Date.now() + 500_000);
    expect(Date.parse(job.giveUpDateTime) - Date.parse(job.firstFailureDateTime)).toBe(4 * 3600_000);
    expect(await jobs(admin, "?state=pending")).toEqual([]);
    expect((await t.request("GET", `/triage/automation/jobs/${job.id}`, { headers: admin })).body).toEqual(job);
    expect(hooks.on(path)).toHaveLength(0);

    const retried = await t.request("POST", `/triage/automation/jobs/${job.id}/retry`, { headers: admin });
    expect(retried.status, retried.text).toBe(200);
    expect(Date.parse(retried.body.nextAttemptDateTime)).toBeLessThanOrEqual(Date.now());
    await waitUntil(() => hooks.on(path).length === 1, 20_000);
    await waitUntil(async () => (await jobs(admin)).length === 0, 20_000);
    expect(hooks.on(path)[0]!.headers["x-triage-delivery"]).toBe(job.id);
    expect((await t.request("GET", `/triage/automation/jobs/${job.id}`, { headers: admin })).status).toBe(404);
    expect((await t.request("POST", `/triage/automation/jobs/${job.id}/retry`, { headers: admin })).status).toBe(404);
  }, 60_000);

  it("pages, filters, refuses bad queries and a retry of a job that has not failed, keeps tenants apart; administrators only", async () => {
    const one = await tenant();
    const two = await tenant();
    const path = `/paged/${randomUUID().slice(0, 8)}`;
    const r = await t.request("POST", "/triage/automation/rules", {
      body: { displayName: "every alert", trigger: "alertCreated", actions: [{ type: "notify", channel: "teams", url: `${hooks.base}${path}` }] },
      headers: one.admin,
    });
    expect(r.status, r.text).toBe(201);
    hooks.statuses.push(500, 500, 500);
    expect(
      (
        await t.ingest(
          [1, 2, 3].map(() => alert({ device: deviceId() })),
          one.id,
        )
      ).status,
    ).toBe(200);
    await waitUntil(async () => (await jobs(one.admin, "?state=failed")).length === 3, 20_000);
    // A job queued and not yet due (as one waiting behind the sender's capacity): pending.
    const pendingId = randomUUID();
    await insertJobs(t.store, {
      id: pendingId,
      tenant_id: one.id,
      rule_id: r.body.id,
      kind: "teams",
      destination: JSON.stringify({ url: `${hooks.base}${path}` }),
      payload: "{}",
      created_at: new Date().toISOString(),
      attempts: 0,
      failing_since: null,
      last_error: null,
      next_attempt_at: new Date(Date.now() + 3600_000).toISOString(),
      lease_owner: null,
      lease_until: null,
    });

    const first = await t.request("GET", "/triage/automation/jobs?top=2", { headers: one.admin });
    expect(first.status).toBe(200);
    expect(first.body.value).toHaveLength(2);
    expect(first.body.nextLink).toMatch(/^\/triage\/automation\/jobs\?top=2&skipToken=/);
    const second = await t.request("GET", first.body.nextLink, { headers: one.admin });
    expect(second.body.value).toHaveLength(2);
    expect(second.body.nextLink).toBeUndefined();
    const all = [...first.body.value, ...second.body.value];
    expect(new Set(all.map((j: any) => j.id)).size).toBe(4);
    expect(all.map((j: any) => j.state).sort()).toEqual(["failed", "failed", "failed", "pending"]);
    expect((await jobs(one.admin, "?state=pending")).map((j) => j.id)).toEqual([pendingId]);

    const bad = async (url: string, method = "GET") => {
      const res = await t.request(method, url, { headers: one.admin });
      expect(res.status, url).toBe(400);
      expect(res.body.error.code).toBe("BadRequest");
    };
    await bad("/triage/automation/jobs?state=dropped");
    await bad("/triage/automation/jobs?top=0");
    await bad("/triage/automation/jobs?top=501");
    await bad("/triage/automation/jobs?skipToken=nonsense");
    await bad(`/triage/automation/jobs/${pendingId}/retry`, "POST");

    // Another tenant's administrator sees none of them.
    expect(await jobs(two.admin)).toEqual([]);
    expect((await t.request("GET", `/triage/automation/jobs/${pendingId}`, { headers: two.admin })).status).toBe(404);
    expect((await t.request("POST", `/triage/automation/jobs/${all[0].id}/retry`, { headers: two.admin })).status).toBe(404);
    // An app and an operator are refused.
    const operator = { authorization: `Bearer ${await tokens.user(one.id, ["SecurityIncident.ReadWrite.All"], ["Security Operator"])}` };
    for (const headers of [await t.auth(one.id), operator]) {
      expect((await t.request("GET", "/triage/automation/jobs", { headers })).status).toBe(403);
      expect((await t.request("POST", `/triage/automation/jobs/${all[0].id}/retry`, { headers })).status).toBe(403);
    }
  }, 60_000);

  it("triage rules jobs list and retry: the CLI on the server's store", async () => {
    const { id, admin } = await tenant();
    const path = `/cli/${randomUUID().slice(0, 8)}`;
    await slackRule(admin, path);
    hooks.statuses.push(502);
    expect((await t.ingest([alert({ device: deviceId() })], id)).status).toBe(200);
    await waitUntil(async () => (await jobs(admin, "?state=failed")).length === 1, 20_000);
    const args = [...t.storeArgs, "--tenant", id];

    const listed = await runCli(["rules", "jobs", "list", ...args, "--state", "failed", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    const [job] = JSON.parse(listed.stdout).value;
    expect(job).toMatchObject({ state: "failed", kind: "slack", attempts: 1, lastError: "answered 502", destination: `${hooks.base}${path}` });
    const text = await runCli(["rules", "jobs", "list", ...args]);
    expect(text.stdout).toContain(job.id);
    expect(text.stdout).toContain("answered 502");
    expect((await runCli(["rules", "jobs", "list", ...args, "--state", "pending"])).stdout.trim()).toBe("(no jobs)");
    expect((await runCli(["rules", "jobs", "list", ...args, "--state", "gone"])).code).not.toBe(0);

    const retried = await runCli(["rules", "jobs", "retry", ...args, "--id", job.id]);
    const now = await t.request("GET", `/triage/automation/jobs/${job.id}`, { headers: admin });
    expect(retried.code, `${retried.stderr}\n${now.text}\n${JSON.stringify(hooks.on(path))}\n${JSON.stringify(job)}`).toBe(0);
    expect(retried.stdout).toContain(`Job ${job.id} is due now`);
    await waitUntil(() => hooks.on(path).length === 1, 20_000);
    await waitUntil(async () => (await jobs(admin)).length === 0, 20_000);
    const again = await runCli(["rules", "jobs", "retry", ...args, "--id", job.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not found/);
  }, 180_000);
});
