import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";

let t: TestTriage;
let arrivals = 0;

/** A new incident whose creation time lands anywhere on the timeline, not only at its end. */
function arrival() {
  arrivals++;
  const day = 1 + ((arrivals * 7) % 28);
  return alert({ device: deviceId(), at: `2026-10-${String(day).padStart(2, "0")}T${String(arrivals % 24).padStart(2, "0")}:00:00Z` });
}

beforeAll(async () => {
  t = await startTriage();
  const batch = Array.from({ length: 60 }, arrival);
  expect((await t.ingest(batch)).status).toBe(200);
});
afterAll(async () => {
  await t.close();
});

async function followToEnd(path: string, between: () => Promise<void>) {
  const ids: string[] = [];
  let link: string | undefined = path;
  let pages = 0;
  while (link && pages < 100) {
    const r: { status: number; body: any } = await t.get(link.startsWith("http") ? link.slice(t.url.length) : link);
    expect(r.status).toBe(200);
    ids.push(...r.body.value.map((i: any) => i.id));
    link = r.body["@odata.nextLink"];
    pages++;
    await between();
  }
  return ids;
}

describe("following @odata.nextLink while incidents arrive", () => {
  it.each([
    ["default order", "/v1.0/security/incidents?$top=7"],
    ["oldest first", "/v1.0/security/incidents?$top=7&$orderby=createdDateTime asc"],
    ["by severity", "/v1.0/security/incidents?$top=5&$orderby=severity desc,displayName"],
    ["filtered", `/v1.0/security/incidents?$top=4&$filter=${encodeURIComponent("status eq 'active'")}&$count=true`],
  ])("%s: every incident that existed at the first page, exactly once", async (_name, path) => {
    const before = await followToEnd(path, async () => {});
    const during = await followToEnd(path, async () => {
      expect((await t.ingest([arrival(), arrival()])).status).toBe(200);
    });
    expect(new Set(during).size).toBe(during.length);
    expect([...during].sort()).toEqual([...before].sort());
    expect(during).toEqual(before);
  });

  it("alerts page the same way", async () => {
    const path = "/v1.0/security/alerts_v2?$top=9&$orderby=createdDateTime asc";
    const before = await followToEnd(path, async () => {});
    const during = await followToEnd(path, async () => {
      await t.ingest([arrival()]);
    });
    expect(during).toEqual(before);
  });

  it("rejects a skiptoken used with another $orderby", async () => {
    const first = await t.get("/v1.0/security/incidents?$top=3");
    const token = new URL(first.body["@odata.nextLink"]).searchParams.get("$skiptoken")!;
    const r = await t.get(`/v1.0/security/incidents?$top=3&$orderby=severity&$skiptoken=${token}`);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain("$skiptoken");
  });
});

describe("ready JSON in listings", () => {
  it("serves exactly what rendering each entity would", async () => {
    const fast = await t.get("/v1.0/security/incidents?$top=50");
    const rendered = await t.get("/v1.0/security/incidents?$top=50&$select=*");
    expect(fast.body.value.length).toBeGreaterThan(10);
    expect(fast.body.value).toEqual(rendered.body.value);
    const alertsFast = await t.get("/v1.0/security/alerts_v2?$top=100");
    const alertsRendered = await t.get("/v1.0/security/alerts_v2?$top=100&$select=*");
    expect(alertsFast.body.value).toEqual(alertsRendered.body.value);
  });

  it("still hides gated enum members from clients that did not opt in", async () => {
    const a = arrival();
    a.serviceSource = "microsoftSentinel";
    await t.ingest([a]);
    const plain = await t.get(`/v1.0/security/alerts_v2?$top=2000`);
    expect(plain.body.value.find((x: any) => x.id === a.id).serviceSource).toBe("unknownFutureValue");
    const opted = await t.get(`/v1.0/security/alerts_v2?$top=2000`, { prefer: "include-unknown-enum-members" });
    expect(opted.body.value.find((x: any) => x.id === a.id).serviceSource).toBe("microsoftSentinel");
  });
});

describe("alerts_v2 page size", () => {
  it("serves a $top above 1000 as 1000 with a link to the rest, as Graph clamps it; incidents still refuse $top above 50", async () => {
    const tenant = await t.newTenant();
    const headers = await t.auth(tenant);
    const device = deviceId();
    // One tenant of its own: 1,003 alerts in batches (each incident holds at most 150 alerts, so several devices).
    for (let i = 0; i < 1003; i += 250) {
      const batch = Array.from({ length: Math.min(250, 1003 - i) }, (_, j) =>
        alert({ device: `${device}-${Math.floor((i + j) / 100)}`, at: `2026-10-01T10:00:00Z` }),
      );
      expect((await t.ingest(batch, tenant)).status).toBe(200);
    }
    for (const top of [1001, 2000, 5000]) {
      const first = await t.get(`/v1.0/security/alerts_v2?$top=${top}&$select=id`, headers);
      expect(first.status, `$top=${top}`).toBe(200);
      expect(first.body.value).toHaveLength(1000);
      const next: string = first.body["@odata.nextLink"];
      expect(new URL(next).searchParams.get("$top")).toBe(String(top));
      const rest = await t.get(next.slice(t.url.length), headers);
      expect(rest.status).toBe(200);
      expect(rest.body.value).toHaveLength(3);
      expect(rest.body["@odata.nextLink"]).toBeUndefined();
      const ids = new Set([...first.body.value, ...rest.body.value].map((a: any) => a.id));
      expect(ids.size).toBe(1003);
    }
    const exactly = await t.get(`/v1.0/security/alerts_v2?$top=1000&$select=id`, headers);
    expect(exactly.body.value).toHaveLength(1000);
    const incidents = await t.get(`/v1.0/security/incidents?$top=51`, headers);
    expect(incidents.status).toBe(400);
    expect(incidents.body.error.message).toContain("The limit of '50' for Top query has been exceeded");
  });
});
