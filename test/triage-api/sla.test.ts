import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { TokenBox } from "../support/identity.js";
import { waitUntil } from "../support/hooks.js";
import { RuleRunner } from "../../src/features/automation/runner.js";
import { DEFAULT_AUTOMATION_SETTINGS } from "../../src/features/automation/settings.js";
import { SlaWatch } from "../../src/features/sla/watch.js";
import { automationCursor } from "../../src/store/automation.js";
import { lastFeedSeq, readFeed, type FeedEntry } from "../../src/store/feed.js";
import { slaStates } from "../../src/store/sla.js";

/**
 * SLAs (docs/sla.md) over real HTTP on a real store: the policy API and its permissions, due times per
 * severity in the @triage.sla annotation (lenient profile only), what stops each clock, breaches
 * recorded once (several watches racing) that trigger slaBreached rules, and a breach that fell due
 * while no watch ran, recorded when one starts.
 */
let t: TestTriage;
let tokens: TokenBox;

const FAST = { batchWindowMs: 20, pollIntervalMs: 150, leaseMs: 5_000 };
const quiet = { warn: () => undefined };
const SLA = "@triage.sla";

beforeAll(async () => {
  t = await startTriage({ automation: FAST, sla: { maxSleepMs: 1_000 } });
  tokens = new TokenBox(t);
}, 60_000);
afterAll(async () => {
  await t.close();
});

async function tenant(): Promise<{ id: string; admin: Record<string, string>; analyst: Record<string, string> }> {
  const id = await t.newTenant();
  const admin = { authorization: `Bearer ${await tokens.user(id, ["SecurityIncident.ReadWrite.All"], ["Security Administrator"])}` };
  const analyst = { authorization: `Bearer ${await tokens.user(id, ["SecurityIncident.ReadWrite.All"], ["Security Operator"])}` };
  return { id, admin, analyst };
}

const putPolicy = (admin: Record<string, string>, body: unknown) => t.request("PUT", "/triage/sla/policy", { body, headers: admin });

async function ingestOne(tenantId: string, severity: string): Promise<string> {
  const r = await t.ingest([alert({ device: deviceId(), severity })], tenantId);
  expect(r.status).toBe(200);
  return String(r.body.value[0].incidentId);
}

async function settled(tenantId: string): Promise<void> {
  await waitUntil(async () => (await automationCursor(t.store.db, tenantId)) === (await lastFeedSeq(t.store.db, tenantId)), 30_000);
}

async function incident(tenantId: string, id: string, headers?: Record<string, string>): Promise<any> {
  const r = await t.request("GET", `/v1.0/security/incidents/${id}`, { headers: headers ?? (await t.auth(tenantId)) });
  expect(r.status).toBe(200);
  return r.body;
}

describe("the SLA policy API", () => {
  it("answers no policy, saves one, and reads it back", async () => {
    const { admin } = await tenant();
    const none = await t.request("GET", "/triage/sla/policy", { headers: admin });
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ enabled: false, targets: {}, lastModifiedDateTime: null });
    const saved = await putPolicy(admin, { targets: { high: { firstAction: "PT15M", resolve: "PT4H" }, low: { resolve: "P7D" } } });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ enabled: true, targets: { high: { firstAction: "PT15M", resolve: "PT4H" } }, lastModifiedBy: expect.any(String) });
    expect((await t.request("GET", "/triage/sla/policy", { headers: admin })).body).toEqual(saved.body);
  });

  it("refuses bad policies with a Graph-shaped 400 and keeps the old one", async () => {
    const { admin } = await tenant();
    await putPolicy(admin, { targets: { high: { firstAction: "PT15M" } } });
    for (const [body, message] of [
      [{ targets: { high: { firstAction: "15 minutes" } } }, /targets\.high\.firstAction/],
      [{ targets: { high: { firstAction: "PT0S" } } }, /1 second/],
      [{ targets: { high: { firstAction: "P400D" } } }, /365 days/],
      [{ targets: { severe: { firstAction: "PT1H" } } }, /./],
      [{ targets: { high: { respond: "PT1H" } } }, /./],
      [{ enabled: "yes", targets: {} }, /enabled/],
      [[], /JSON object/],
    ] as [unknown, RegExp][]) {
      const r = await putPolicy(admin, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe("BadRequest");
      expect(r.body.error.message).toMatch(message);
    }
    expect((await t.request("GET", "/triage/sla/policy", { headers: admin })).body.targets).toEqual({ high: { firstAction: "PT15M" } });
  });

  it("is for administrators only: an app and an operator are refused", async () => {
    const { id, analyst } = await tenant();
    const app = await t.auth(id);
    for (const headers of [app, analyst]) {
      expect((await t.request("GET", "/triage/sla/policy", { headers })).status).toBe(403);
      expect((await putPolicy(headers, { targets: {} })).status).toBe(403);
    }
    expect((await t.request("GET", "/triage/sla/policy", { headers: { authorization: "" } })).status).toBe(401);
  });
});

describe("clocks", () => {
  it("are due per severity, shown under the lenient profile only, and recomputed when the policy changes", async () => {
    const { id, admin } = await tenant();
    await putPolicy(admin, { targets: { high: { firstAction: "PT1H", resolve: "PT4H" }, low: { firstAction: "P1D", resolve: "P7D" } } });
    const high = await ingestOne(id, "high");
    const low = await ingestOne(id, "low");
    const medium = await ingestOne(id, "medium");
    await settled(id);
    const h = await incident(id, high);
    const created = Date.parse(h[SLA].startDateTime);
    expect(Date.parse(h[SLA].firstAction.dueDateTime)).toBe(created + 3600_000);
    expect(Date.parse(h[SLA].resolve.dueDateTime)).toBe(created + 4 * 3600_000);
    expect(h[SLA]).toMatchObject({
      overdue: false,
      nextDueDateTime: h[SLA].firstAction.dueDateTime,
      firstAction: { metDateTime: null, breachedDateTime: null },
    });
    const l = await incident(id, low);
    expect(Date.parse(l[SLA].firstAction.dueDateTime)).toBe(Date.parse(l[SLA].startDateTime) + 24 * 3600_000);
    expect(Date.parse(l[SLA].resolve.dueDateTime)).toBe(Date.parse(l[SLA].startDateTime) + 7 * 24 * 3600_000);
    // No target for medium: the clocks exist, with no due time.
    expect((await incident(id, medium))[SLA]).toMatchObject({ firstAction: { dueDateTime: null }, resolve: { dueDateTime: null }, overdue: false });
    // The listing carries the annotation too.
    const list = await t.request("GET", "/v1.0/security/incidents", { headers: await t.auth(id) });
    expect(list.body.value.find((i: any) => i.id === high)[SLA].firstAction.dueDateTime).toBe(h[SLA].firstAction.dueDateTime);

    // A policy change recomputes the open clocks from their start.
    await putPolicy(admin, { targets: { high: { firstAction: "PT2H" }, medium: { resolve: "PT8H" } } });
    const h2 = await incident(id, high);
    expect(Date.parse(h2[SLA].firstAction.dueDateTime)).toBe(created + 2 * 3600_000);
    expect(h2[SLA].resolve.dueDateTime).toBeNull();
    const m2 = await incident(id, medium);
    expect(Date.parse(m2[SLA].resolve.dueDateTime)).toBe(Date.parse(m2[SLA].startDateTime) + 8 * 3600_000);

    // The strict profile answers exactly Graph's shape.
    expect((await t.request("PUT", "/triage/admin/profile", { body: { profile: "strict" }, headers: admin })).status).toBe(204);
    expect(await incident(id, high)).not.toHaveProperty(SLA);
    const strictList = await t.request("GET", "/v1.0/security/incidents", { headers: await t.auth(id) });
    expect(strictList.text).not.toContain(SLA);
  });

  it("first action: a person's change stops it; ingestion and an app's change do not; resolving stops the resolve clock", async () => {
    const { id, admin, analyst } = await tenant();
    await putPolicy(admin, { targets: { high: { firstAction: "PT1H", resolve: "PT4H" } } });
    const inc = await ingestOne(id, "high");
    await settled(id);
    // An app's change (application permission) is not a person's.
    expect((await t.request("PATCH", `/v1.0/security/incidents/${inc}`, { body: { customTags: ["app"] }, headers: await t.auth(id) })).status).toBe(200);
    await settled(id);
    expect((await incident(id, inc))[SLA].firstAction.metDateTime).toBeNull();
    // A signed-in person's assignment is.
    const before = Date.now();
    expect((await t.request("PATCH", `/v1.0/security/incidents/${inc}`, { body: { assignedTo: "analyst@contoso.com" }, headers: analyst })).status).toBe(200);
    await settled(id);
    const met = (await incident(id, inc))[SLA];
    expect(Date.parse(met.firstAction.metDateTime)).toBeGreaterThanOrEqual(before - 1000);
    expect(met.resolve.metDateTime).toBeNull();
    expect(met.nextDueDateTime).toBe(met.resolve.dueDateTime);
    // Resolving stops the resolve clock; nothing runs any more.
    expect((await t.request("PATCH", `/v1.0/security/incidents/${inc}`, { body: { status: "resolved" }, headers: analyst })).status).toBe(200);
    await settled(id);
    const done = (await incident(id, inc))[SLA];
    expect(done.resolve.metDateTime).not.toBeNull();
    expect(done).toMatchObject({ nextDueDateTime: null, overdue: false });
  });

  it("a comment by a person is a first action", async () => {
    const { id, admin, analyst } = await tenant();
    await putPolicy(admin, { targets: { low: { firstAction: "PT1H" } } });
    const inc = await ingestOne(id, "low");
    await settled(id);
    expect(
      (
        await t.request("POST", `/v1.0/security/incidents/${inc}/comments`, {
          body: { "@odata.type": "microsoft.graph.security.alertComment", comment: "looking" },
          headers: analyst,
        })
      ).status,
    ).toBe(200);
    await settled(id);
    expect((await incident(id, inc))[SLA].firstAction.metDateTime).not.toBeNull();
  });
});

describe("breaches", () => {
  it("are recorded once, show as overdue, and trigger slaBreached rules", async () => {
    const { id, admin } = await tenant();
    const rule = await t.request("POST", "/triage/automation/rules", {
      body: {
        displayName: "Escalate missed first actions",
        trigger: "slaBreached",
        conditions: { match: "all", items: [{ property: "slaBreach", operator: "equals", values: ["firstAction"] }] },
        actions: [
          { type: "addTags", tags: ["sla-missed"] },
          { type: "assign", assignedTo: "lead@contoso.com" },
        ],
      },
      headers: admin,
    });
    expect(rule.status).toBe(201);
    await putPolicy(admin, { targets: { high: { firstAction: "PT1S", resolve: "P1D" } } });
    const inc = await ingestOne(id, "high");
    await waitUntil(async () => (await incident(id, inc)).customTags.includes("sla-missed"), 30_000);
    const doc = await incident(id, inc);
    expect(doc.assignedTo).toBe("lead@contoso.com");
    expect(doc[SLA]).toMatchObject({ overdue: true, firstAction: { overdue: true, metDateTime: null }, resolve: { overdue: false } });
    expect(doc[SLA].firstAction.breachedDateTime).not.toBeNull();
    // The rule's own assignment is not a person's first action.
    expect(doc[SLA].firstAction.metDateTime).toBeNull();
    const feed = await readFeed(t.store.db, id, 0, 1000);
    expect(feed.filter((e) => e.slaBreach !== null)).toEqual([expect.objectContaining({ entityId: inc, slaBreach: "firstAction", automated: false })]);
  });

  it("with several watches racing on one store, each breach is recorded once", async () => {
    const { id, admin } = await tenant();
    await putPolicy(admin, { targets: { medium: { firstAction: "PT2S", resolve: "PT3S" } } });
    const watches = [1, 2, 3].map(() => new SlaWatch(t.store, { maxSleepMs: 200, batch: 7 }, quiet));
    for (const w of watches) await w.start();
    try {
      const r = await t.ingest(
        Array.from({ length: 40 }, () => alert({ device: deviceId(), severity: "medium" })),
        id,
      );
      const incidents = [...new Set<string>(r.body.value.map((v: any) => String(v.incidentId)))];
      expect(incidents).toHaveLength(40);
      await waitUntil(async () => {
        const states = await slaStates(t.store.db, id, incidents.map(Number));
        return states.size === 40 && [...states.values()].every((s) => s.resolveBreachedMs !== null);
      }, 30_000);
      // A breach's feed record commits with its clock's state but, on PostgreSQL, gets its number (and
      // is readable) only once the feed sequencer's run after that commit ends: wait for the records.
      let breaches: FeedEntry[] = [];
      await waitUntil(async () => {
        breaches = (await readFeed(t.store.db, id, 0, 10_000)).filter((e) => e.slaBreach !== null);
        return breaches.length >= 80;
      }, 10_000);
      expect(breaches).toHaveLength(80);
      for (const inc of incidents)
        expect(
          breaches
            .filter((b) => b.entityId === inc)
            .map((b) => b.slaBreach)
            .sort(),
        ).toEqual(["firstAction", "resolve"]);
    } finally {
      for (const w of watches) await w.stop();
    }
  }, 60_000);

  it("a clock that fell due while no node watched is breached, and its rule runs, when one starts again", async () => {
    const other = await startTriage({ automation: { ...FAST, run: false } });
    try {
      const tok = new TokenBox(other);
      const admin = { authorization: `Bearer ${await tok.user(other.tenantId, ["SecurityIncident.ReadWrite.All"], ["Security Administrator"])}` };
      const settings = { ...DEFAULT_AUTOMATION_SETTINGS, ...FAST };
      expect(
        (
          await other.request("POST", "/triage/automation/rules", {
            body: { displayName: "late", trigger: "slaBreached", actions: [{ type: "addTags", tags: ["breached"] }] },
            headers: admin,
          })
        ).status,
      ).toBe(201);
      expect((await other.request("PUT", "/triage/sla/policy", { body: { targets: { high: { resolve: "PT2S" } } }, headers: admin })).status).toBe(200);
      // A node keeps the clocks, then stops before the clock is due.
      let runner = new RuleRunner(other.store, settings, "node-a", quiet);
      let watch = new SlaWatch(other.store, { maxSleepMs: 200, batch: 100 }, quiet);
      await runner.start();
      await watch.start();
      const r = await other.ingest([alert({ device: deviceId(), severity: "high" })]);
      const inc = Number(r.body.value[0].incidentId);
      await waitUntil(async () => (await slaStates(other.store.db, other.tenantId, [inc])).size === 1);
      await watch.stop();
      await runner.stop();
      await new Promise((res) => setTimeout(res, 2_500));
      expect((await slaStates(other.store.db, other.tenantId, [inc])).get(inc)!.resolveBreachedMs).toBeNull();
      // Started again: the breach is found, recorded, and its rule runs.
      runner = new RuleRunner(other.store, settings, "node-b", quiet);
      watch = new SlaWatch(other.store, { maxSleepMs: 200, batch: 100 }, quiet);
      await runner.start();
      await watch.start();
      try {
        await waitUntil(async () => (await other.get(`/v1.0/security/incidents/${inc}`)).body.customTags.includes("breached"), 30_000);
        expect(watch.recorded).toBe(1);
        expect((await other.get(`/v1.0/security/incidents/${inc}`)).body[SLA].resolve.overdue).toBe(true);
      } finally {
        await watch.stop();
        await runner.stop();
      }
    } finally {
      await other.close();
    }
  }, 60_000);
});
