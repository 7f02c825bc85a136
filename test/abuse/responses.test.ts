import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { startChildTriage, type ChildTriage } from "../support/child-triage.js";
import { alert, deviceId } from "../support/alerts.js";

/**
 * Answers are bounded whatever the store holds: an expanded incident serves a bounded number of its
 * alerts and links to the rest, an incident's alerts page, and a $batch answer has a byte budget —
 * so a read-only app cannot make the server build (and hold) hundreds of megabytes.
 */

const EXPAND_LIMIT = 5;
const BATCH_LIMIT = 64 * 1024;

let t: TestTriage;
let big: string;
let small: string;
/** The big incident's alert ids in the order the server lists them oldest first. */
let bigOrder: string[];

/** Follows nextLinks (absolute, on this server) to the end; every page's items. */
async function follow(link: string | undefined): Promise<any[]> {
  const items: any[] = [];
  for (let pages = 0; link && pages < 50; pages++) {
    expect(link.startsWith(t.url)).toBe(true);
    const r = await t.get(link.slice(t.url.length));
    expect(r.status, r.text).toBe(200);
    items.push(...r.body.value);
    link = r.body["@odata.nextLink"];
  }
  expect(link).toBeUndefined();
  return items;
}

beforeAll(async () => {
  t = await startTriage({ expandAlertsLimit: EXPAND_LIMIT, batchResponseLimit: BATCH_LIMIT });
  const d = deviceId();
  // Twelve alerts on one device, two pairs of them created at the same instant (the id breaks the tie).
  const times = ["01", "02", "02", "03", "04", "05", "05", "06", "07", "08", "09", "10"];
  const r = await t.ingest(times.map((m) => alert({ device: d, at: `2026-11-01T10:${m}:00Z` })));
  expect(r.status).toBe(200);
  big = r.body.value[0].incidentId;
  expect(new Set(r.body.value.map((a: any) => a.incidentId))).toEqual(new Set([big]));
  const sd = deviceId();
  const s = await t.ingest([alert({ device: sd }), alert({ device: sd })]);
  small = s.body.value[0].incidentId;
  expect(s.body.value[1].incidentId).toBe(small);
  // Many more alerts, for listings large enough to overrun the batch budget.
  const many = await t.ingest(Array.from({ length: 120 }, () => alert({ device: deviceId() })));
  expect(many.status).toBe(200);
  const all = await t.get(`/v1.0/security/incidents/${big}/alerts?$orderby=createdDateTime asc&$top=2000`);
  bigOrder = all.body.value.map((a: any) => a.id);
  expect(bigOrder).toHaveLength(12);
});
afterAll(async () => {
  await t?.close();
});

describe("$expand=alerts", () => {
  it("serves at most the limit inline, oldest first, and links to the rest of the incident's alerts", async () => {
    const r = await t.get(`/v1.0/security/incidents/${big}?$expand=alerts`);
    expect(r.status).toBe(200);
    expect(r.body.alerts.map((a: any) => a.id)).toEqual(bigOrder.slice(0, EXPAND_LIMIT));
    const link = r.body["alerts@odata.nextLink"] as string;
    expect(link.startsWith(`${t.url}/v1.0/security/incidents/${big}/alerts?`)).toBe(true);
    const rest = await follow(link);
    expect(rest.map((a) => a.id)).toEqual(bigOrder.slice(EXPAND_LIMIT));
    expect(rest[0].evidence[0]["@odata.type"]).toBe("#microsoft.graph.security.deviceEvidence");
  });

  it("does the same on listings, keeps the nested $select in the link, and adds no link where all fit", async () => {
    const filter = encodeURIComponent(`id eq '${big}' or id eq '${small}'`);
    const r = await t.get(`/v1.0/security/incidents?$filter=${filter}&$expand=alerts($select=id,title)`);
    expect(r.status).toBe(200);
    const byId = Object.fromEntries(r.body.value.map((i: any) => [i.id, i]));
    expect(byId[big].alerts).toHaveLength(EXPAND_LIMIT);
    for (const a of byId[big].alerts) expect(Object.keys(a)).toEqual(["id", "title"]);
    const rest = await follow(byId[big]["alerts@odata.nextLink"]);
    expect(rest.map((a) => a.id)).toEqual(bigOrder.slice(EXPAND_LIMIT));
    for (const a of rest) expect(Object.keys(a)).toEqual(["id", "title"]);
    expect(byId[small].alerts).toHaveLength(2);
    expect(byId[small]).not.toHaveProperty("alerts@odata.nextLink");
  });

  it("links within the API version asked for, and the link sees only the alerts that existed when it was made", async () => {
    const r = await t.get(`/beta/security/incidents/${big}?$expand=alerts`);
    const link = r.body["alerts@odata.nextLink"] as string;
    expect(link.startsWith(`${t.url}/beta/security/incidents/${big}/alerts?`)).toBe(true);
    // An alert that joins the incident afterwards (and sorts last) is not in this listing.
    const device = r.body.alerts[0].evidence[0].mdeDeviceId as string;
    const late = alert({ device, at: "2026-11-01T10:30:00Z" });
    expect((await t.ingest([late])).body.value[0].incidentId).toBe(big);
    const rest = await follow(link);
    expect(rest.map((a) => a.id)).toEqual(bigOrder.slice(EXPAND_LIMIT));
    const now = await t.get(`/v1.0/security/incidents/${big}?$expand=alerts`);
    expect((await follow(now.body["alerts@odata.nextLink"])).map((a) => a.id)).toContain(late.id);
  });
});

describe("GET /security/incidents/{id}/alerts", () => {
  it("pages with a nextLink that leads to the next page", async () => {
    const first = await t.get(`/v1.0/security/incidents/${small}/alerts?$top=1`);
    expect(first.body.value).toHaveLength(1);
    const rest = await follow(first.body["@odata.nextLink"]);
    expect([...first.body.value, ...rest].map((a: any) => a.id).sort()).toHaveLength(2);
    const bigFirst = await t.get(`/v1.0/security/incidents/${big}/alerts?$top=4&$orderby=createdDateTime asc`);
    const bigRest = await follow(bigFirst.body["@odata.nextLink"]);
    const ids = [...bigFirst.body.value, ...bigRest].map((a: any) => a.id);
    expect(ids.slice(0, 12)).toEqual(bigOrder);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("$batch answer budget", () => {
  it("answers the reads that fit, a Graph 507 for those that do not, and every write in full", async () => {
    // Preconditions on sizes, so that the budget really is what decides.
    const page = await t.get("/v1.0/security/alerts_v2?$top=30");
    const pageBytes = Buffer.byteLength(page.text);
    expect(pageBytes).toBeGreaterThan(BATCH_LIMIT / 2);
    expect(pageBytes).toBeLessThan(BATCH_LIMIT * 0.9);
    expect(Buffer.byteLength((await t.get("/v1.0/security/alerts_v2?$top=120")).text)).toBeGreaterThan(BATCH_LIMIT);

    const target = bigOrder[0]!;
    const r = await t.request("POST", "/v1.0/$batch", {
      body: {
        requests: [
          { id: "page1", method: "GET", url: "/security/alerts_v2?$top=30" },
          { id: "page2", method: "GET", url: "/security/alerts_v2?$top=30" },
          { id: "huge", method: "GET", url: "/security/alerts_v2?$top=120" },
          {
            id: "patch",
            method: "PATCH",
            url: `/security/alerts_v2/${target}`,
            headers: { "Content-Type": "application/json" },
            body: { assignedTo: "budget@contoso.com" },
          },
          { id: "after", method: "GET", url: `/security/alerts_v2/${target}?$select=id,assignedTo`, dependsOn: ["patch"] },
          { id: "page3", method: "GET", url: "/security/alerts_v2?$top=30" },
        ],
      },
    });
    expect(r.status).toBe(200);
    const s = Object.fromEntries(r.body.responses.map((x: any) => [x.id, x]));
    expect(r.body.responses.map((x: any) => x.id)).toEqual(["page1", "page2", "huge", "patch", "after", "page3"]);

    expect(s.page1.status).toBe(200);
    expect(s.page1.body.value).toHaveLength(30);
    expect(s.page1.headers["Content-Type"]).toMatch(/^application\/json;/);

    for (const id of ["page2", "page3"]) {
      expect(s[id].status).toBe(507);
      expect(s[id].headers["Content-Type"]).toBe("application/json");
      expect(s[id].body.error.code).toBe("ResponseTooLarge");
      expect(s[id].body.error.message).toContain(`request '${id}'`);
      expect(s[id].body.error.innerError).toHaveProperty("request-id");
    }
    expect(s.huge.status).toBe(507);
    expect(s.huge.body.error.message).toContain("on its own, outside $batch");

    // The write happened and says so, budget or not; a small read still fits.
    expect(s.patch.status).toBe(200);
    expect(s.patch.body.assignedTo).toBe("budget@contoso.com");
    expect(s.after.status).toBe(200);
    expect(s.after.body.assignedTo).toBe("budget@contoso.com");

    // What the reads took stays within the budget.
    const readBytes = ["page1", "after"].reduce((n, id) => n + Buffer.byteLength(JSON.stringify(s[id])), 0);
    expect(readBytes).toBeLessThanOrEqual(BATCH_LIMIT);
    expect(Buffer.byteLength(r.text)).toBeLessThan(BATCH_LIMIT + 16 * 1024);
  });
});

describe("the $batch attack on a large incident", () => {
  const ALERTS = 3000;
  let child: ChildTriage;
  let incident: string;

  beforeAll(async () => {
    // The attack needs one incident of 3,000 alerts: above the default correlation limit.
    child = await startChildTriage(["--max-incident-alerts", "10000"]);
    const device = deviceId();
    const incidents = new Set<string>();
    for (let i = 0; i < ALERTS; i += 500) {
      const batch = Array.from({ length: 500 }, (_, j) =>
        alert({ device, at: `2026-11-01T10:${String(Math.floor((i + j) / 60) % 60).padStart(2, "0")}:${String((i + j) % 60).padStart(2, "0")}Z` }),
      );
      const r = await fetch(`${child.url}/ingest/alerts`, { method: "POST", headers: child.headers, body: JSON.stringify({ value: batch }) });
      const body = (await r.json()) as any;
      expect(r.status, JSON.stringify(body).slice(0, 500)).toBe(200);
      for (const a of body.value) incidents.add(a.incidentId);
    }
    // One incident of every alert: if correlation has a size limit, the server must be started with it raised.
    expect(incidents.size).toBe(1);
    incident = [...incidents][0]!;
  }, 120_000);
  afterAll(async () => {
    await child?.close();
  });

  it("keeps memory bounded and /healthz responsive under three batches of twenty expanded reads", async () => {
    const before = child.peakRssMb();
    let worst = 0;
    let probes = 0;
    let stop = false;
    const prober = (async () => {
      for (let i = 0; i < 600 && !stop; i++) {
        const started = performance.now();
        const r = await fetch(`${child.url}/healthz`);
        await r.text();
        expect(r.status).toBe(200);
        worst = Math.max(worst, performance.now() - started);
        probes++;
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    const body = JSON.stringify({
      requests: Array.from({ length: 20 }, (_, i) => ({ id: String(i + 1), method: "GET", url: `/security/incidents/${incident}?$expand=alerts` })),
    });
    const answers = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const r = await fetch(`${child.url}/v1.0/$batch`, { method: "POST", headers: child.headers, body });
        return { status: r.status, text: await r.text() };
      }),
    );
    stop = true;
    await prober;

    expect(probes).toBeGreaterThan(0);
    expect(worst, `slowest /healthz during the attack: ${Math.round(worst)} ms`).toBeLessThan(2000);
    const peak = child.peakRssMb();
    expect(peak, `peak RSS ${Math.round(peak)} MB (before the attack ${Math.round(before)} MB)`).toBeLessThan(450);
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(Buffer.byteLength(a.text)).toBeLessThanOrEqual(16 * 1024 * 1024 + 64 * 1024);
      const steps = JSON.parse(a.text).responses as any[];
      expect(steps).toHaveLength(20);
      for (const s of steps) {
        expect(s.status).toBe(200);
        expect(s.body.alerts).toHaveLength(100);
        expect(s.body["alerts@odata.nextLink"]).toContain(`/security/incidents/${incident}/alerts?`);
      }
    }
  }, 60_000);
});
