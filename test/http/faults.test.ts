/**
 * Fault injection over real HTTP (docs/testing-faults.md): each fault kind with Graph's body, the
 * targeting by method, route and app, the seeded sequence, the presets, and what is recorded (the
 * events, the counters, the Prometheus counter), on SQLite and on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Server } from "node:http";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { confidentialClient, delegatedToken, GRAPH_DEFAULT, token } from "../support/identity.js";
import { listenMetrics, Metrics } from "../../src/http/metrics.js";
import { draw } from "../../src/http/fault-decision.js";

let t: TestTriage;
let metrics: Metrics;
let listener: { server: Server; url: string };
let admin: Record<string, string>;
/** Two apps of the tenant, each with its own token. */
let a: { clientId: string; h: Record<string, string> };
let b: { clientId: string; h: Record<string, string> };
let incidentId: string;

async function newApp(): Promise<{ clientId: string; h: Record<string, string> }> {
  const { app, secret } = await confidentialClient(t, t.tenantId, { application: ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"] });
  const r = await token(t, t.tenantId, { grant_type: "client_credentials", client_id: app.clientId, client_secret: secret, scope: GRAPH_DEFAULT });
  return { clientId: app.clientId, h: { authorization: `Bearer ${r.body.access_token as string}` } };
}

beforeAll(async () => {
  metrics = new Metrics();
  // Settings are read again at once: each test sees the configuration it has just set.
  t = await startTriage({ metrics, settingsTtlMs: 1 });
  listener = await listenMetrics(metrics, "127.0.0.1", 0);
  admin = { authorization: `Bearer ${await delegatedToken(t, t.tenantId, ["SecurityIncident.ReadWrite.All"], ["Security Administrator"])}` };
  a = await newApp();
  b = await newApp();
  const res = await t.ingest([alert({ device: deviceId() }), alert({ device: deviceId() })]);
  expect(res.status).toBe(200);
  incidentId = String(res.body.value[0].incidentId);
});

afterAll(async () => {
  await new Promise((r) => listener?.server.close(r));
  await t?.close();
});

async function setFaults(body: unknown, clientId?: string) {
  const path = clientId ? `/triage/admin/apps/${clientId}/faults` : "/triage/admin/faults";
  const r = await t.request("PUT", path, { body, headers: admin });
  expect(r.status, r.text).toBe(200);
  return r.body;
}

async function clearAll() {
  for (const c of (await t.request("GET", "/triage/admin/faults", { headers: admin })).body.value) {
    await t.request("DELETE", c.clientId ? `/triage/admin/apps/${c.clientId}/faults` : "/triage/admin/faults", { headers: admin });
  }
}

async function events(after = 0): Promise<any[]> {
  const r = await t.request("GET", `/triage/admin/faults/events?after=${after}`, { headers: admin });
  expect(r.status).toBe(200);
  return r.body.value;
}

async function lastSeq(): Promise<number> {
  const all = await events();
  return all.length ? all[all.length - 1].seq : 0;
}

const list = (h: Record<string, string>) => t.get("/v1.0/security/incidents?$top=1", h);

describe("configuring faults", () => {
  it("is for administrators only, and refuses a bad configuration with a Graph 400 naming the problem", async () => {
    const appOnly = await t.request("PUT", "/triage/admin/faults", { body: { rules: [{ fault: 500 }] }, headers: a.h });
    expect(appOnly.status).toBe(403);
    const reader = { authorization: `Bearer ${await delegatedToken(t, t.tenantId, ["SecurityIncident.ReadWrite.All"], ["Security Operator"])}` };
    expect((await t.request("GET", "/triage/admin/faults", { headers: reader })).status).toBe(403);

    const bad: [unknown, RegExp][] = [
      [{ rules: [] }, /'rules' must be an array of 1 to 20/],
      [{ rules: [{ fault: 418 }] }, /fault must be one of 429, 500, 502, 503, 504, latency or drop/],
      [{ rules: [{ fault: 500, share: 1.5 }] }, /share must be a number from 0 to 1/],
      [{ rules: [{ fault: 500, retryAfter: 3 }] }, /retryAfter applies to 429 and 503 only/],
      [{ rules: [{ fault: 503, route: "/security/nothing/{id}" }] }, /not a Graph route Triage serves/],
      [{ rules: [{ fault: 503, methods: ["TRACE"] }] }, /'TRACE' is not one of GET/],
      [{ rules: [{ fault: "latency" }] }, /needs 'ms' or 'jitterMs'/],
      [{ rules: [{ fault: "latency", ms: 60_000 }] }, /ms' must be a whole number from 0 to 30000/],
      [{ rules: [{ preset: "graph-throttle", share: 0.5 }] }, /'share' does not apply to graph-throttle/],
      [{ rules: [{ fault: 500, preset: "graph-throttle" }] }, /either 'fault' or 'preset'/],
    ];
    for (const [body, message] of bad) {
      const r = await t.request("PUT", "/triage/admin/faults", { body, headers: admin });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe("BadRequest");
      expect(r.body.error.message).toMatch(message);
    }
    expect((await t.request("GET", "/triage/admin/faults", { headers: admin })).body.value).toEqual([]);
    expect((await list(a.h)).status).toBe(200);
  });

  it("keeps the configuration with its seed (a random one when none is given), and clears it", async () => {
    const saved = await setFaults({ rules: [{ fault: 500, share: 0, route: "/v1.0/security/incidents" }] });
    expect(saved).toMatchObject({ scope: "tenant", clientId: null, rules: [{ fault: 500, share: 0, route: "/security/incidents", methods: [], limit: null }] });
    expect(saved.seed).toMatch(/^[0-9a-f]{16}$/);
    expect((await t.request("DELETE", "/triage/admin/faults", { headers: admin })).status).toBe(204);
    expect((await t.request("DELETE", "/triage/admin/faults", { headers: admin })).status).toBe(404);
    const other = await t.request("PUT", "/triage/admin/apps/00000000-0000-0000-0000-000000000000/faults", {
      body: { rules: [{ fault: 500 }] },
      headers: admin,
    });
    expect(other.status).toBe(404);
  });
});

describe("each fault kind", () => {
  it.each([
    [429, "TooManyRequests", "1"],
    [500, "InternalServerError", null],
    [502, "BadGateway", null],
    [503, "ServiceUnavailable", "7"],
    [504, "GatewayTimeout", null],
  ])("%i: Graph's error body, Retry-After where Graph sends it, and the fault recorded", async (status, code, retryAfter) => {
    await clearAll();
    const before = await lastSeq();
    await setFaults({ seed: "kinds", rules: [{ fault: status, ...(status === 503 ? { retryAfter: 7 } : {}) }] }, a.clientId);
    const r = await list(a.h);
    expect(r.status).toBe(status);
    expect(r.headers.get("retry-after")).toBe(retryAfter);
    expect(r.body.error).toMatchObject({ code, innerError: { "request-id": r.headers.get("request-id") } });
    expect(typeof r.body.error.message).toBe("string");
    // Another app of the tenant is not touched by this app's rules.
    expect((await list(b.h)).status).toBe(200);
    const recorded = (await events(before)).filter((e) => e.requestId === r.headers.get("request-id"));
    expect(recorded).toEqual([
      expect.objectContaining({
        clientId: a.clientId,
        scope: "app",
        rule: 0,
        fault: String(status),
        status,
        method: "GET",
        route: "/security/incidents",
        delayMs: null,
      }),
    ]);
  });

  it("latency: fixed, and jittered within its bound as the seed draws it", async () => {
    await clearAll();
    const before = await lastSeq();
    await setFaults({ seed: "slow", rules: [{ fault: "latency", ms: 250, jitterMs: 200 }] }, a.clientId);
    for (let i = 1; i <= 3; i++) {
      const started = Date.now();
      const r = await list(a.h);
      const took = Date.now() - started;
      expect(r.status).toBe(200);
      const delay = 250 + Math.floor(draw("slow", 0, i, "jitter") * 201);
      expect(took).toBeGreaterThanOrEqual(delay - 5);
      const [e] = (await events(before)).filter((x) => x.requestId === r.headers.get("request-id"));
      expect(e).toMatchObject({ fault: "latency", delayMs: delay, status: null });
    }
  });

  it("drop: the connection closes without an answer; in a $batch, the step gets a 504", async () => {
    await clearAll();
    await setFaults({ rules: [{ fault: "drop", route: "/security/incidents" }] }, a.clientId);
    await expect(list(a.h)).rejects.toThrow();
    // Nothing else on the server is affected.
    expect((await list(b.h)).status).toBe(200);
    const batch = await t.request("POST", "/v1.0/$batch", {
      body: {
        requests: [
          { id: "1", method: "GET", url: "/security/incidents?$top=1" },
          { id: "2", method: "GET", url: `/security/incidents/${incidentId}` },
        ],
      },
      headers: a.h,
    });
    expect(batch.status).toBe(200);
    const byId = Object.fromEntries(batch.body.responses.map((s: any) => [s.id, s]));
    expect(byId["1"].status).toBe(504);
    expect(byId["1"].body.error.code).toBe("GatewayTimeout");
    expect(byId["2"].status).toBe(200);
  });
});

describe("targeting", () => {
  it("narrowed to PATCH /security/incidents/{id}: reads and other routes pass, the PATCH fails", async () => {
    await clearAll();
    await setFaults({ rules: [{ fault: 503, retryAfter: 2, methods: ["patch"], route: "/security/incidents/{id}" }] });
    expect((await t.get(`/v1.0/security/incidents/${incidentId}`, a.h)).status).toBe(200);
    expect((await list(a.h)).status).toBe(200);
    const patch = await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, { body: { assignedTo: "x@contoso.com" }, headers: b.h });
    expect(patch.status).toBe(503);
    expect(patch.headers.get("retry-after")).toBe("2");
    // The same route under /beta is the same template.
    expect((await t.request("PATCH", `/beta/security/incidents/${incidentId}`, { body: { assignedTo: "x@contoso.com" }, headers: a.h })).status).toBe(503);
    // The write did not happen.
    expect((await t.get(`/v1.0/security/incidents/${incidentId}`, a.h)).body.assignedTo).toBeNull();
  });

  it("a prefix with *; an app's own rules replace the tenant's for that app; Triage's own API is never affected", async () => {
    await clearAll();
    await setFaults({ rules: [{ fault: 500, route: "/security/alerts_v2*" }] });
    await setFaults({ rules: [{ fault: 502, route: "/security/incidents" }] }, b.clientId);
    expect((await t.get("/v1.0/security/alerts_v2?$top=1", a.h)).status).toBe(500);
    expect((await t.get("/v1.0/security/alerts_v2/$count", a.h)).status).toBe(500);
    expect((await list(a.h)).status).toBe(200);
    expect((await t.get("/v1.0/security/alerts_v2?$top=1", b.h)).status).toBe(200);
    expect((await list(b.h)).status).toBe(502);
    expect((await t.get(`/triage/incidents/${incidentId}/audit`, a.h)).status).toBe(200);
  });

  it("limit: a rule fires that many times, then stays quiet; the counters say so", async () => {
    await clearAll();
    await setFaults({ rules: [{ fault: 429, limit: 2, retryAfter: 0 }] }, a.clientId);
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await list(a.h)).status);
    expect(statuses).toEqual([429, 429, 200, 200]);
    const [config] = (await t.request("GET", "/triage/admin/faults", { headers: admin })).body.value;
    expect(config.counters).toEqual([{ matched: 4, fired: 2 }]);
  });
});

describe("reproducibility", () => {
  async function run(seed: string, n: number): Promise<number[]> {
    await setFaults({ seed, rules: [{ fault: 500, share: 0.5, route: "/security/incidents" }] }, a.clientId);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await list(a.h)).status);
    return out;
  }

  it("the same seed gives the same sequence, the one its draws predict; another seed another", async () => {
    await clearAll();
    const first = await run("replay-1", 24);
    const again = await run("replay-1", 24);
    const other = await run("replay-2", 24);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    const predicted = Array.from({ length: 24 }, (_, i) => (draw("replay-1", 0, i + 1, "share") < 0.5 ? 500 : 200));
    expect(first).toEqual(predicted);
    expect(first).toContain(500);
    expect(first).toContain(200);
  });

  it("requests the rules do not match do not advance the sequence", async () => {
    await clearAll();
    await setFaults({ seed: "replay-1", rules: [{ fault: 500, share: 0.5, route: "/security/incidents" }] }, a.clientId);
    const out: number[] = [];
    for (let i = 0; i < 24; i++) {
      // An unmatched request between every matched one.
      expect((await t.get("/v1.0/security/alerts_v2?$top=1", a.h)).status).toBe(200);
      out.push((await list(a.h)).status);
    }
    expect(out).toEqual(Array.from({ length: 24 }, (_, i) => (draw("replay-1", 0, i + 1, "share") < 0.5 ? 500 : 200)));
  });
});

describe("presets", () => {
  it("graph-throttle: 429 with Retry-After beyond the limit per app per minute, on /security only", async () => {
    await clearAll();
    await setFaults({ rules: [{ preset: "graph-throttle", perMinute: 5 }] });
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push(await list(a.h));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const retry = Number(statuses[5]!.headers.get("retry-after"));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(60);
    expect(statuses[5]!.body.error.code).toBe("TooManyRequests");
    // Per app: the other app has its own budget; subscriptions are not /security.
    expect((await list(b.h)).status).toBe(200);
    expect((await t.get("/v1.0/subscriptions", a.h)).status).toBe(200);
  });

  it("expand-alerts-failure: $expand=alerts on a page above the threshold is a 500; smaller pages and no $expand succeed", async () => {
    await clearAll();
    await setFaults({ rules: [{ preset: "expand-alerts-failure" }] });
    const big = await t.get("/v1.0/security/incidents?$expand=alerts&$top=25", a.h);
    expect(big.status).toBe(500);
    expect(big.body.error.code).toBe("InternalServerError");
    expect((await t.get("/v1.0/security/incidents?$expand=alerts", a.h)).status).toBe(500);
    expect((await t.get("/v1.0/security/incidents?$EXPAND=alerts($select=id)&$Top=11", a.h)).status).toBe(500);
    expect((await t.get("/v1.0/security/incidents?$expand=alerts&$top=10", a.h)).status).toBe(200);
    expect((await t.get("/v1.0/security/incidents?$top=25", a.h)).status).toBe(200);
    expect((await t.get(`/v1.0/security/incidents/${incidentId}?$expand=alerts`, a.h)).status).toBe(200);
  });
});

describe("what is recorded", () => {
  it("events page with after and top; the Prometheus counter counts by fault and source", async () => {
    const all = await events();
    expect(all.length).toBeGreaterThan(10);
    const page = await t.request("GET", "/triage/admin/faults/events?top=3", { headers: admin });
    expect(page.body.value).toEqual(all.slice(0, 3));
    expect(page.body.nextLink).toBe(`/triage/admin/faults/events?after=${all[2].seq}&top=3`);
    const next = await t.request("GET", page.body.nextLink, { headers: admin });
    expect(next.body.value).toEqual(all.slice(3, 6));
    expect((await t.request("GET", "/triage/admin/faults/events?top=0", { headers: admin })).status).toBe(400);

    const text = await (await fetch(listener.url)).text();
    const count = (labels: string) =>
      Number(/\s(\d+)$/.exec(text.split("\n").find((l) => l.startsWith(`triage_faults_injected_total{${labels}}`)) ?? "")?.[1] ?? NaN);
    expect(count('fault="429",source="graph-throttle"')).toBe(2);
    expect(count('fault="429",source="rule"')).toBe(all.filter((e) => e.fault === "429").length - 2);
    expect(count('fault="500",source="expand-alerts-failure"')).toBe(3);
    expect(count('fault="latency",source="rule"')).toBe(all.filter((e) => e.fault === "latency").length);
  });
});
