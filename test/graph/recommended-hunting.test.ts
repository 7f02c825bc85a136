/**
 * Beta incidents' recommendedHuntingQueries: every query of seeded incidents runs on runHuntingQuery
 * and finds the incident's own alerts; hosts and accounts with quotes and backslashes are searched for
 * exactly; the property is not served under /v1.0.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, ALL_PERMISSIONS, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { generateAlerts } from "../../src/seed/generate.js";

let t: TestTriage;
let headers: Record<string, string>;

/** A window wider than any alert here, so the queries' own windows are what is tested. */
const TIMESPAN = "2020-01-01T00:00:00Z/2035-01-01T00:00:00Z";
const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();

const quotedHost = deviceId();
const quoted = alert({ title: "Tool \"nc.exe\" ran on O'Brien's host", at: hoursAgo(30), detectionSource: "antivirus" });
(quoted.evidence as Record<string, unknown>[]).push(
  {
    "@odata.type": "#microsoft.graph.security.deviceEvidence",
    createdDateTime: quoted.createdDateTime,
    verdict: "suspicious",
    remediationStatus: "none",
    roles: [],
    mdeDeviceId: quotedHost,
    deviceDnsName: 'ws-"o\'brien"\\01.contoso.com',
  },
  {
    "@odata.type": "#microsoft.graph.security.userEvidence",
    createdDateTime: quoted.createdDateTime,
    verdict: "unknown",
    remediationStatus: "none",
    roles: ["compromised"],
    userAccount: { accountName: 'o"brien', domainName: "CONTOSO", userPrincipalName: 'o"brien\\admin@contoso.com' },
  },
);
// The same names without their quotes and backslashes, on another device, a day later: an escaping
// mistake that dropped or doubled a character would find (or miss) the wrong one.
const lookalike = alert({ title: "Unrelated lookalike", at: hoursAgo(6), detectionSource: "microsoftDefenderForEndpoint" });
(lookalike.evidence as Record<string, unknown>[]).push(
  {
    "@odata.type": "#microsoft.graph.security.deviceEvidence",
    createdDateTime: lookalike.createdDateTime,
    verdict: "suspicious",
    remediationStatus: "none",
    roles: [],
    mdeDeviceId: deviceId(),
    deviceDnsName: "ws-obrien01.contoso.com",
  },
  {
    "@odata.type": "#microsoft.graph.security.userEvidence",
    createdDateTime: lookalike.createdDateTime,
    verdict: "unknown",
    remediationStatus: "none",
    roles: ["compromised"],
    userAccount: { accountName: "obrien", domainName: "CONTOSO", userPrincipalName: "obrien\\admin@contoso.com" },
  },
);

beforeAll(async () => {
  t = await startTriage();
  headers = await t.auth(t.tenantId, [...ALL_PERMISSIONS, "ThreatHunting.Read.All"]);
  for (const batch of generateAlerts({ seed: "recommended-hunting", tenantId: t.tenantId, incidents: 6, end: new Date(), spanDays: 20 })) {
    expect((await t.ingest(batch)).status).toBe(200);
  }
  expect((await t.ingest([quoted])).status).toBe(200);
  expect((await t.ingest([lookalike])).status).toBe(200);
}, 60_000);
afterAll(async () => {
  await t.close();
});

interface Incident {
  id: string;
  recommendedHuntingQueries?: { kqlText: string }[];
  alerts: { id: string }[];
}

async function hunt(query: string): Promise<Record<string, unknown>[]> {
  const r = await t.request("POST", "/beta/security/runHuntingQuery", { body: { Query: query, Timespan: TIMESPAN }, headers });
  expect(r.status, `${query}\n${r.text}`).toBe(200);
  return r.body.results as Record<string, unknown>[];
}

async function incidentOf(alertId: string): Promise<Incident> {
  const a = await t.get(`/beta/security/alerts_v2/${encodeURIComponent(alertId)}`, headers);
  expect(a.status).toBe(200);
  const r = await t.get(`/beta/security/incidents/${a.body.incidentId}?$expand=alerts`, headers);
  expect(r.status).toBe(200);
  return r.body as Incident;
}

describe("recommendedHuntingQueries on beta incidents", () => {
  it("every query of every seeded incident runs, and together they find each of the incident's alerts", async () => {
    const r = await t.get("/beta/security/incidents?$expand=alerts&$top=50", headers);
    expect(r.status).toBe(200);
    const incidents = (r.body.value as Incident[]).filter((i) => i.alerts.length > 0);
    expect(incidents.length).toBeGreaterThanOrEqual(5);
    let queries = 0;
    for (const incident of incidents) {
      const recommended = incident.recommendedHuntingQueries!;
      expect(recommended.length, incident.id).toBeGreaterThan(0);
      const own = new Set(incident.alerts.map((a) => a.id));
      const found = new Set<string>();
      for (const { kqlText } of recommended) {
        expect(kqlText).toMatch(/^(let [^\n]*;\n)*(AlertInfo|AlertEvidence)\n/);
        const ids = (await hunt(kqlText)).map((row) => String(row.AlertId));
        expect(
          ids.some((id) => own.has(id)),
          `${kqlText}\nfinds none of incident ${incident.id}'s alerts`,
        ).toBe(true);
        for (const id of ids) if (own.has(id)) found.add(id);
        queries++;
      }
      expect(
        [...own].filter((id) => !found.has(id)),
        `incident ${incident.id}`,
      ).toEqual([]);
    }
    expect(queries).toBeGreaterThanOrEqual(incidents.length * 2);
  }, 120_000);

  it("searches for a host and an account with quotes and backslashes exactly", async () => {
    const incident = await incidentOf(quoted.id as string);
    const other = await incidentOf(lookalike.id as string);
    expect(other.id).not.toBe(incident.id);
    const texts = incident.recommendedHuntingQueries!.map((q) => q.kqlText);
    const device = texts.find((q) => q.includes("DeviceName"))!;
    const account = texts.find((q) => q.includes("AccountUpn"))!;
    const title = texts.find((q) => q.startsWith("let titles"))!;
    expect(device).toContain(String.raw`"ws-\"o'brien\"\\01.contoso.com"`);
    expect(account).toContain(String.raw`"o\"brien\\admin@contoso.com"`);
    expect(title).toContain(String.raw`"Tool \"nc.exe\" ran on O'Brien's host"`);
    for (const q of [device, account, title]) {
      const ids = (await hunt(q)).map((row) => row.AlertId);
      expect(ids, q).toContain(quoted.id);
      expect(ids, q).not.toContain(lookalike.id);
    }
    // The lookalike's own queries find it and not the quoted one.
    for (const { kqlText } of other.recommendedHuntingQueries!) {
      const ids = (await hunt(kqlText)).map((row) => row.AlertId);
      expect(ids, kqlText).toContain(lookalike.id);
      expect(ids, kqlText).not.toContain(quoted.id);
    }
  });

  it("is served under /beta only, and follows $select there", async () => {
    const incident = await incidentOf(quoted.id as string);
    const v1 = await t.get(`/v1.0/security/incidents/${incident.id}`, headers);
    expect(v1.status).toBe(200);
    expect(v1.body).not.toHaveProperty("recommendedHuntingQueries");
    expect((await t.get(`/v1.0/security/incidents/${incident.id}?$select=recommendedHuntingQueries`, headers)).status).toBe(400);
    const selected = await t.get(`/beta/security/incidents/${incident.id}?$select=id,recommendedHuntingQueries`, headers);
    expect(selected.status).toBe(200);
    expect(Object.keys(selected.body).filter((k) => !k.startsWith("@"))).toEqual(["id", "recommendedHuntingQueries"]);
    expect(selected.body.recommendedHuntingQueries).toEqual(incident.recommendedHuntingQueries);
    const list = await t.get(`/beta/security/incidents?$select=id,displayName&$top=5`, headers);
    expect(list.status).toBe(200);
    for (const i of list.body.value) expect(i).not.toHaveProperty("recommendedHuntingQueries");
    // A PATCH's answer under /beta carries them too.
    const patched = await t.request("PATCH", `/beta/security/incidents/${incident.id}`, { body: { customTags: ["hunt"] }, headers });
    expect(patched.status).toBe(200);
    expect(patched.body.recommendedHuntingQueries).toEqual(incident.recommendedHuntingQueries);
  });
});
