import { createHmac, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { TokenBox } from "../support/identity.js";
import { startHookReceiver, startMailServer, waitUntil, type HookReceiver, type MailServer } from "../support/hooks.js";
import { RuleRunner } from "../../src/features/automation/runner.js";
import { JobSender } from "../../src/features/automation/sender.js";
import { DEFAULT_AUTOMATION_SETTINGS } from "../../src/features/automation/settings.js";
import { automationCursor } from "../../src/store/automation.js";
import { lastFeedSeq } from "../../src/store/feed.js";

let t: TestTriage;
let hooks: HookReceiver;
let mail: MailServer;
let tokens: TokenBox;

const FAST = { batchWindowMs: 20, pollIntervalMs: 150, retryBaseMs: 150, maxRetryDelayMs: 500, leaseMs: 5_000 };
const SECRET = "playbook-secret-0123456789";
const quiet = { warn: () => undefined };

beforeAll(async () => {
  hooks = await startHookReceiver();
  mail = await startMailServer();
  t = await startTriage({
    notifications: { allowPrivateDestinations: true },
    automation: { ...FAST, smtp: { url: mail.url, from: "triage@contoso.test" } },
  });
  tokens = new TokenBox(t);
});
afterAll(async () => {
  await t.close();
  await hooks.close();
  await mail.close();
});

/** A fresh tenant with an administrator's headers. */
async function tenant(): Promise<{ id: string; admin: Record<string, string> }> {
  const id = await t.newTenant();
  const token = await tokens.user(id, ["SecurityIncident.ReadWrite.All"], ["Security Administrator"]);
  return { id, admin: { authorization: `Bearer ${token}` } };
}

function rules(admin: Record<string, string>) {
  return {
    create: (body: unknown) => t.request("POST", "/triage/automation/rules", { body, headers: admin }),
    patch: (id: string, body: unknown) => t.request("PATCH", `/triage/automation/rules/${id}`, { body, headers: admin }),
  };
}

async function ingestOne(tenantId: string, spec: Parameters<typeof alert>[0]): Promise<{ incidentId: string; alertId: string }> {
  const r = await t.ingest([alert({ device: deviceId(), ...spec })], tenantId);
  expect(r.status).toBe(200);
  return { incidentId: r.body.value[0].incidentId, alertId: r.body.value[0].id };
}

async function incident(tenantId: string, id: string): Promise<any> {
  const r = await t.request("GET", `/v1.0/security/incidents/${id}`, { headers: await t.auth(tenantId) });
  expect(r.status).toBe(200);
  return r.body;
}

async function audit(tenantId: string, id: string): Promise<any[]> {
  return (await t.request("GET", `/triage/incidents/${id}/audit?top=500`, { headers: await t.auth(tenantId) })).body.value;
}

/** Waits until the tenant's rules have run for every change so far. */
async function settled(tenantId: string): Promise<void> {
  await waitUntil(async () => (await automationCursor(t.store.db, tenantId)) === (await lastFeedSeq(t.store.db, tenantId)));
}

describe("the rules API", () => {
  it("creates, reads, lists in order, changes and deletes rules; secrets are never answered", async () => {
    const { admin } = await tenant();
    const api = rules(admin);
    const a = await api.create({
      displayName: "Second",
      order: 20,
      trigger: "incidentCreated",
      actions: [{ type: "runPlaybook", url: `${hooks.base}/pb`, secret: SECRET }],
    });
    expect(a.status).toBe(201);
    expect(a.body.actions[0]).toEqual({ type: "runPlaybook", url: `${hooks.base}/pb`, secretSet: true });
    expect(a.text).not.toContain(SECRET);
    expect(a.body).toMatchObject({ enabled: true, expirationDateTime: null, conditions: { match: "all", items: [] } });
    const b = await api.create({ displayName: "First", order: 10, trigger: "incidentUpdated", actions: [{ type: "addComment", comment: "x" }] });
    expect(b.status).toBe(201);
    const list = await t.request("GET", "/triage/automation/rules", { headers: admin });
    expect(list.body.value.map((r: any) => r.displayName)).toEqual(["First", "Second"]);
    // A rule read and sent back keeps its playbook secret.
    const edited = await api.patch(a.body.id, { enabled: false, actions: a.body.actions });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ enabled: false, actions: [{ secretSet: true }] });
    expect((await t.request("GET", `/triage/automation/rules/${a.body.id}`, { headers: admin })).body.enabled).toBe(false);
    expect((await t.request("DELETE", `/triage/automation/rules/${a.body.id}`, { headers: admin })).status).toBe(204);
    expect((await t.request("GET", `/triage/automation/rules/${a.body.id}`, { headers: admin })).status).toBe(404);
  });

  it("refuses bad rules with a Graph-shaped 400 and stores nothing", async () => {
    const { admin } = await tenant();
    const api = rules(admin);
    const base = { displayName: "r", trigger: "incidentCreated", actions: [{ type: "addComment", comment: "c" }] };
    const bad: [unknown, RegExp][] = [
      [{ ...base, trigger: "incidentDeleted" }, /trigger/],
      [{ ...base, extra: 1 }, /./],
      [{ ...base, actions: [] }, /actions/],
      [{ ...base, conditions: { match: "all", items: [{ property: "severity", operator: "equals" }] } }, /needs at least one value/],
      [{ ...base, conditions: { match: "some", items: [] } }, /match/],
      [{ ...base, conditions: { match: "all", items: [{ property: "colour", operator: "equals", values: ["x"] }] } }, /property/],
      [{ ...base, actions: [{ type: "runPlaybook", url: `${hooks.base}/pb` }] }, /secret/],
      [{ ...base, actions: [{ type: "runPlaybook", url: "ftp://example.com/x", secret: SECRET }] }, /https/],
      [{ ...base, actions: [{ type: "notify", channel: "email", to: ["not an address"] }] }, /e-mail address/],
      [{ ...base, actions: [{ type: "changeStatus", status: "redirected" }] }, /status/],
      [{ ...base, order: 0 }, /order/],
      [{ ...base, expirationDateTime: "tomorrow" }, /expirationDateTime/],
    ];
    for (const [body, message] of bad) {
      const r = await api.create(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe("BadRequest");
      expect(r.body.error.message).toMatch(message);
    }
    expect((await t.request("GET", "/triage/automation/rules", { headers: admin })).body.value).toEqual([]);
  });

  it("is for administrators only: an app, a reader and an operator are refused", async () => {
    const id = await t.newTenant();
    const body = { displayName: "r", trigger: "incidentCreated", actions: [{ type: "addComment", comment: "c" }] };
    const app = await t.auth(id);
    const operator = { authorization: `Bearer ${await tokens.user(id, ["SecurityIncident.ReadWrite.All"], ["Security Operator"])}` };
    for (const headers of [app, operator]) {
      expect((await t.request("POST", "/triage/automation/rules", { body, headers })).status).toBe(403);
      expect((await t.request("GET", "/triage/automation/rules", { headers })).status).toBe(403);
    }
    expect((await t.request("GET", "/triage/automation/rules", { headers: { authorization: "" } })).status).toBe(401);
  });

  it("keeps tenants apart", async () => {
    const one = await tenant();
    const two = await tenant();
    const r = await rules(one.admin).create({ displayName: "mine", trigger: "incidentCreated", actions: [{ type: "addComment", comment: "c" }] });
    expect((await t.request("GET", `/triage/automation/rules/${r.body.id}`, { headers: two.admin })).status).toBe(404);
    expect((await t.request("DELETE", `/triage/automation/rules/${r.body.id}`, { headers: two.admin })).status).toBe(404);
    expect((await t.request("GET", "/triage/automation/rules", { headers: two.admin })).body.value).toEqual([]);
  });
});

describe("running rules", () => {
  it("incidentCreated: every incident action, in order, audited with the rule as the actor", async () => {
    const { id, admin } = await tenant();
    const r = await rules(admin).create({
      displayName: "Triage high PowerShell",
      trigger: "incidentCreated",
      conditions: {
        match: "all",
        items: [
          { property: "severity", operator: "equals", values: ["high"] },
          { property: "title", operator: "contains", values: ["powershell"] },
        ],
      },
      actions: [
        { type: "addTags", tags: ["auto", "temp"] },
        { type: "assign", assignedTo: "tier2@contoso.test" },
        { type: "changeStatus", status: "inProgress" },
        { type: "classify", classification: "truePositive", determination: "malware" },
        { type: "removeTags", tags: ["temp"] },
        { type: "addComment", comment: "Picked up by automation." },
      ],
    });
    expect(r.status).toBe(201);
    const hit = await ingestOne(id, { severity: "high", title: "Suspicious PowerShell download" });
    const miss = await ingestOne(id, { severity: "low", title: "Suspicious PowerShell download" });
    await settled(id);
    const inc = await incident(id, hit.incidentId);
    expect(inc).toMatchObject({
      assignedTo: "tier2@contoso.test",
      status: "inProgress",
      classification: "truePositive",
      determination: "malware",
      customTags: ["auto"],
    });
    expect(inc.comments.map((c: any) => [c.comment, c.createdByDisplayName])).toEqual([
      ["Picked up by automation.", `Automation rule 'Triage high PowerShell' (${r.body.id})`],
    ]);
    const trail = (await audit(id, hit.incidentId)).filter((e) => e.actor.startsWith("Automation rule"));
    // The rule's own changes (and what the incident derives from them, such as its priority score) under the rule's name.
    const own = trail.map((e) => e.property).filter((p) => p !== "priorityScore");
    expect(new Set(own)).toEqual(new Set(["customTags", "assignedTo", "status", "classification", "determination", "comments"]));
    expect(trail.find((e) => e.property === "customTags").after).toEqual(["auto"]);
    const other = await incident(id, miss.incidentId);
    expect(other).toMatchObject({ assignedTo: null, status: "active", customTags: [] });
  });

  it("runs rules by order, each seeing what the ones before it did; disabled and expired rules do not run", async () => {
    const { id, admin } = await tenant();
    const api = rules(admin);
    // Created first, runs second: it acts only on what the first rule tagged.
    await api.create({
      displayName: "second",
      order: 2,
      trigger: "incidentCreated",
      conditions: { match: "all", items: [{ property: "tags", operator: "equals", values: ["vip"] }] },
      actions: [{ type: "addComment", comment: "second" }],
    });
    await api.create({
      displayName: "first",
      order: 1,
      trigger: "incidentCreated",
      actions: [
        { type: "addTags", tags: ["vip"] },
        { type: "addComment", comment: "first" },
      ],
    });
    await api.create({ displayName: "off", order: 1, enabled: false, trigger: "incidentCreated", actions: [{ type: "addComment", comment: "disabled" }] });
    await api.create({
      displayName: "old",
      order: 1,
      expirationDateTime: new Date(Date.now() - 60_000).toISOString(),
      trigger: "incidentCreated",
      actions: [{ type: "addComment", comment: "expired" }],
    });
    const { incidentId } = await ingestOne(id, {});
    await settled(id);
    expect((await incident(id, incidentId)).comments.map((c: any) => c.comment)).toEqual(["first", "second"]);
  });

  it("incidentUpdated runs once per change; changes made by rules never trigger rules", async () => {
    const { id, admin } = await tenant();
    const api = rules(admin);
    await api.create({ displayName: "on create", trigger: "incidentCreated", actions: [{ type: "addTags", tags: ["new"] }] });
    // With no conditions, this would fire on every update — including its own, were rules to trigger rules.
    await api.create({
      displayName: "on update",
      trigger: "incidentUpdated",
      actions: [
        { type: "addComment", comment: "updated" },
        { type: "addTags", tags: ["touched"] },
      ],
    });
    await api.create({
      displayName: "on resolve",
      trigger: "incidentUpdated",
      conditions: { match: "any", items: [{ property: "status", operator: "equals", values: ["resolved"] }] },
      actions: [{ type: "addComment", comment: "resolved" }],
    });
    const { incidentId } = await ingestOne(id, {});
    await settled(id);
    let inc = await incident(id, incidentId);
    expect(inc.customTags).toEqual(["new"]);
    expect(inc.comments).toEqual([]);
    const patch = await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, { body: { status: "resolved" }, headers: await t.auth(id) });
    expect(patch.status).toBe(200);
    await settled(id);
    // Give a runner that would loop time to do so.
    await new Promise((res) => setTimeout(res, 500));
    await settled(id);
    inc = await incident(id, incidentId);
    expect(inc.comments.map((c: any) => c.comment)).toEqual(["updated", "resolved"]);
    expect(inc.customTags).toEqual(["new", "touched"]);
  });

  it("alertCreated: conditions on techniques, entities and sources; playbook signed, Teams, Slack and e-mail sent", async () => {
    const { id, admin } = await tenant();
    const tag = randomUUID().slice(0, 8);
    const r = await rules(admin).create({
      displayName: "Notify on credential theft",
      trigger: "alertCreated",
      conditions: {
        match: "all",
        items: [
          { property: "mitreTechniques", operator: "startsWith", values: ["T1003"] },
          { property: "account", operator: "endsWith", values: ["@contoso.test"] },
          { property: "ip", operator: "equals", values: ["203.0.113.9"] },
          { property: "device", operator: "isNotEmpty" },
          { property: "detectionSource", operator: "equals", values: ["microsoftDefenderForEndpoint"] },
          { property: "serviceSource", operator: "notEquals", values: ["microsoftDefenderForOffice365"] },
          { property: "assignedTo", operator: "isEmpty" },
        ],
      },
      actions: [
        { type: "addTags", tags: ["credential-theft"] },
        { type: "runPlaybook", url: `${hooks.base}/pb/${tag}`, secret: SECRET },
        { type: "notify", channel: "teams", url: `${hooks.base}/teams/${tag}` },
        { type: "notify", channel: "slack", url: `${hooks.base}/slack/${tag}` },
        { type: "notify", channel: "email", to: [`soc-${tag}@contoso.test`], subject: `Credential theft ${tag}` },
      ],
    });
    expect(r.status).toBe(201);
    const hit = await ingestOne(id, { title: "LSASS memory read", user: "jane@contoso.test", ip: "203.0.113.9", extra: { mitreTechniques: ["T1003.001"] } });
    await ingestOne(id, { title: "Other", user: "jane@contoso.test", ip: "203.0.113.10", extra: { mitreTechniques: ["T1003.001"] } });
    await settled(id);
    await waitUntil(() => mail.mails.some((m) => m.to.includes(`soc-${tag}@contoso.test`)) && hooks.on(`/slack/${tag}`).length > 0);
    await waitUntil(() => hooks.on(`/pb/${tag}`).length > 0 && hooks.on(`/teams/${tag}`).length > 0);

    const pb = hooks.on(`/pb/${tag}`);
    expect(pb).toHaveLength(1);
    const h = pb[0]!;
    const expected = "sha256=" + createHmac("sha256", SECRET).update(`${h.headers["x-triage-timestamp"]}.${h.raw}`).digest("hex");
    expect(h.headers["x-triage-signature"]).toBe(expected);
    expect(h.body).toMatchObject({
      tenantId: id,
      trigger: "alertCreated",
      rule: { id: r.body.id },
      alert: { id: hit.alertId },
      incident: { id: hit.incidentId, customTags: ["credential-theft"] },
    });
    expect(typeof h.headers["x-triage-delivery"]).toBe("string");

    const teams = hooks.on(`/teams/${tag}`)[0]!.body;
    expect(teams.type).toBe("message");
    expect(teams.attachments[0].contentType).toBe("application/vnd.microsoft.card.adaptive");
    expect(teams.attachments[0].content.type).toBe("AdaptiveCard");
    expect(JSON.stringify(teams)).toContain("Notify on credential theft");
    const slack = hooks.on(`/slack/${tag}`)[0]!.body;
    expect(slack.text).toContain(`Incident ${hit.incidentId}`);
    expect(slack.blocks[0].type).toBe("section");

    const m = mail.mails.filter((x) => x.to.includes(`soc-${tag}@contoso.test`));
    expect(m).toHaveLength(1);
    expect(m[0]!.from).toBe("triage@contoso.test");
    expect(m[0]!.data).toContain(`Subject: Credential theft ${tag}`);
    expect(m[0]!.data).toContain(`Incident ${hit.incidentId}`);
    expect((await incident(id, hit.incidentId)).customTags).toEqual(["credential-theft"]);
  });

  it("retries a webhook that fails, and queues nothing for a rule that did not match", async () => {
    const { id, admin } = await tenant();
    const tag = randomUUID().slice(0, 8);
    await rules(admin).create({
      displayName: "retry",
      trigger: "incidentCreated",
      conditions: { match: "any", items: [{ property: "severity", operator: "equals", values: ["high"] }] },
      actions: [{ type: "notify", channel: "slack", url: `${hooks.base}/retry/${tag}` }],
    });
    hooks.statuses.push(500, 503);
    await ingestOne(id, { severity: "high" });
    await ingestOne(id, { severity: "low" });
    await waitUntil(() => hooks.on(`/retry/${tag}`).length === 1);
    await new Promise((res) => setTimeout(res, 400));
    expect(hooks.on(`/retry/${tag}`)).toHaveLength(1);
  });
});

describe("the dry run", () => {
  it("shows what a saved or new rule would do to an incident, and changes nothing", async () => {
    const { id, admin } = await tenant();
    const { incidentId } = await ingestOne(id, { severity: "high", title: "Ransomware note" });
    const before = await audit(id, incidentId);
    const saved = await rules(admin).create({
      displayName: "dry",
      enabled: false,
      trigger: "incidentUpdated",
      conditions: { match: "all", items: [{ property: "severity", operator: "equals", values: ["high"] }] },
      actions: [
        { type: "assign", assignedTo: "ir@contoso.test" },
        { type: "addTags", tags: ["ransomware"] },
        { type: "runPlaybook", url: `${hooks.base}/dry`, secret: SECRET },
      ],
    });
    const r = await t.request("POST", `/triage/automation/rules/${saved.body.id}/dryRun`, { body: { incidentId }, headers: admin });
    expect(r.status).toBe(200);
    expect(r.body.matched).toBe(true);
    expect(r.body.skipped).toBe("The rule is disabled.");
    expect(r.body.conditions).toEqual([{ property: "severity", operator: "equals", values: ["high"], holds: true, actual: ["high"] }]);
    expect(r.body.actions.map((a: any) => a.type)).toEqual(["assign", "addTags", "runPlaybook"]);
    expect(r.body.actions[0].changes).toEqual([{ property: "assignedTo", before: null, after: "ir@contoso.test" }]);
    expect(r.body.actions[1].changes).toEqual([{ property: "customTags", before: [], after: ["ransomware"] }]);
    expect(r.text).not.toContain(SECRET);

    const unsaved = await t.request("POST", "/triage/automation/dryRun", {
      body: {
        incidentId,
        rule: {
          displayName: "try",
          trigger: "incidentCreated",
          conditions: { match: "all", items: [{ property: "severity", operator: "equals", values: ["low"] }] },
          actions: [{ type: "addComment", comment: "x" }],
        },
      },
      headers: admin,
    });
    expect(unsaved.status).toBe(200);
    expect(unsaved.body).toMatchObject({ matched: false, skipped: null, actions: [] });
    expect((await t.request("POST", "/triage/automation/dryRun", { body: { incidentId: "999999", rule: saved.body }, headers: admin })).status).toBe(400);
    expect((await t.request("POST", `/triage/automation/rules/${saved.body.id}/dryRun`, { body: { incidentId: "999999" }, headers: admin })).status).toBe(404);
    expect(await audit(id, incidentId)).toEqual(before);
    expect(hooks.on("/dry")).toHaveLength(0);
  });
});

describe("durability and several nodes", () => {
  it("runs each rule once per change with several runners on one store, and a runner started later catches up", async () => {
    const { id, admin } = await tenant();
    const tag = randomUUID().slice(0, 8);
    await rules(admin).create({
      displayName: "once",
      trigger: "incidentCreated",
      actions: [
        { type: "addComment", comment: "once" },
        { type: "runPlaybook", url: `${hooks.base}/once/${tag}`, secret: SECRET },
      ],
    });
    const settings = { ...DEFAULT_AUTOMATION_SETTINGS, ...FAST, allowPrivateDestinations: true };
    const extra = [1, 2].map((n) => {
      const sender = new JobSender(t.store, settings, `extra-${n}-${tag}`, quiet, t.keyEncryption);
      return { sender, runner: new RuleRunner(t.store, settings, `extra-${n}-${tag}`, quiet, () => sender.kick()) };
    });
    for (const e of extra) {
      await e.sender.start();
      await e.runner.start();
    }
    try {
      const r = await t.ingest(
        Array.from({ length: 30 }, () => alert({ device: deviceId() })),
        id,
      );
      const incidents: string[] = [...new Set<string>(r.body.value.map((v: any) => v.incidentId as string))];
      expect(incidents).toHaveLength(30);
      await settled(id);
      await waitUntil(() => hooks.on(`/once/${tag}`).length >= 30);
      await new Promise((res) => setTimeout(res, 500));
      const delivered = hooks.on(`/once/${tag}`).map((h) => h.body.incident.id);
      expect(delivered.sort()).toEqual([...incidents].sort());
      for (const inc of incidents) expect((await incident(id, inc)).comments).toHaveLength(1);
    } finally {
      for (const e of extra) {
        await e.runner.stop();
        await e.sender.stop();
      }
    }
  });

  it("a change committed while no node runs rules is run when one starts", async () => {
    const other = await startTriage({ notifications: { allowPrivateDestinations: true }, automation: { ...FAST, run: false } });
    try {
      const tok = new TokenBox(other);
      const admin = { authorization: `Bearer ${await tok.user(other.tenantId, ["SecurityIncident.ReadWrite.All"], ["Security Administrator"])}` };
      const c = await other.request("POST", "/triage/automation/rules", {
        body: { displayName: "late", trigger: "incidentCreated", actions: [{ type: "addTags", tags: ["late"] }] },
        headers: admin,
      });
      expect(c.status).toBe(201);
      const r = await other.ingest([alert({ device: deviceId() })]);
      const incidentId = r.body.value[0].incidentId;
      await new Promise((res) => setTimeout(res, 400));
      expect((await other.get(`/v1.0/security/incidents/${incidentId}`)).body.customTags).toEqual([]);
      const runner = new RuleRunner(other.store, { ...DEFAULT_AUTOMATION_SETTINGS, ...FAST }, "late-node", quiet);
      await runner.start();
      try {
        await waitUntil(async () => (await other.get(`/v1.0/security/incidents/${incidentId}`)).body.customTags.includes("late"));
      } finally {
        await runner.stop();
      }
    } finally {
      await other.close();
    }
  });
});
