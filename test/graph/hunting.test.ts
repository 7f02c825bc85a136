import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, ALL_PERMISSIONS, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { appToken, delegatedToken, GRAPH_DEFAULT, token } from "../support/identity.js";
import { runCli } from "../support/process.js";
import { translateKql } from "../../src/hunting/translate.js";
import { MAX_HUNTING_ROWS, runHuntingPlan } from "../../src/store/hunting-sql.js";

const HUNT = "ThreatHunting.Read.All";
let t: TestTriage;
let hunt: Record<string, string>;
const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();

/** The alerts of the default tenant, ingested once. */
const device = deviceId();
const fileAlert = alert({
  device,
  user: "alice@contoso.com",
  title: "Suspicious PowerShell download",
  severity: "high",
  category: "Execution",
  at: hoursAgo(2),
  extra: {
    mitreTechniques: ["T1059.001", "T1105"],
    threatFamilyName: "Emotet",
  },
});
(fileAlert.evidence as unknown[]).push({
  "@odata.type": "#microsoft.graph.security.fileEvidence",
  createdDateTime: hoursAgo(2),
  verdict: "malicious",
  remediationStatus: "none",
  roles: [],
  fileDetails: { fileName: "invoice.ps1", filePath: "C:\\Users\\alice\\Downloads", sha1: "a".repeat(40), sha256: "b".repeat(64), fileSize: 4096 },
  mdeDeviceId: device,
});
const ipAlert = alert({ ip: "203.0.113.7", title: "Connection to a known C2 address", severity: "medium", category: "CommandAndControl", at: hoursAgo(30) });
const oldAlert = alert({ device: deviceId(), title: "Old low alert", severity: "low", at: hoursAgo(24 * 40) });

beforeAll(async () => {
  t = await startTriage();
  hunt = await t.auth(t.tenantId, [...ALL_PERMISSIONS, HUNT]);
  const r = await t.ingest([fileAlert, ipAlert, oldAlert]);
  expect(r.status).toBe(200);
});
afterAll(async () => {
  await t.close();
});

function run(body: unknown, headers = hunt, version = "v1.0", name = "runHuntingQuery") {
  return t.request("POST", `/${version}/security/${name}`, { body, headers });
}
const rows = async (query: string, timespan?: string) => {
  const r = await run(timespan === undefined ? { Query: query } : { Query: query, Timespan: timespan });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.results as Record<string, unknown>[];
};

describe("POST /security/runHuntingQuery", () => {
  it("answers huntingQueryResults: Graph type names in schema, flat rows in results", async () => {
    const r = await run({ Query: `AlertInfo | where AlertId == "${fileAlert.id}" | project Timestamp, AlertId, Title, Severity, AttackTechniques` });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body["@odata.context"]).toBe(`${t.url}/v1.0/$metadata#microsoft.graph.security.huntingQueryResults`);
    expect(r.body.schema).toEqual([
      { name: "Timestamp", type: "DateTime" },
      { name: "AlertId", type: "String" },
      { name: "Title", type: "String" },
      { name: "Severity", type: "String" },
      { name: "AttackTechniques", type: "String" },
    ]);
    expect(r.body.results).toEqual([
      {
        Timestamp: fileAlert.createdDateTime,
        AlertId: fileAlert.id,
        Title: "Suspicious PowerShell download",
        Severity: "High",
        AttackTechniques: '["T1059.001","T1105"]',
      },
    ]);
  });

  it("reads the last 30 days by default, and the window a timespan names", async () => {
    const ids = (rs: Record<string, unknown>[]) => rs.map((x) => x.AlertId).sort();
    expect(ids(await rows("AlertInfo | project AlertId"))).toEqual([fileAlert.id, ipAlert.id].sort());
    expect(ids(await rows("AlertInfo | project AlertId", "P1D"))).toEqual([fileAlert.id]);
    expect(ids(await rows("AlertInfo | project AlertId", "P90D"))).toEqual([fileAlert.id, ipAlert.id, oldAlert.id].sort());
    expect(ids(await rows("AlertInfo | project AlertId", `${hoursAgo(24 * 41)}/${hoursAgo(24 * 39)}`))).toEqual([oldAlert.id]);
    expect(ids(await rows("AlertInfo | project AlertId", `P2D/${new Date().toISOString()}`))).toEqual([fileAlert.id, ipAlert.id].sort());
    expect(ids(await rows("AlertInfo | project AlertId", `${hoursAgo(31)}/PT2H`))).toEqual([ipAlert.id]);
    expect(ids(await rows("AlertInfo | project AlertId", hoursAgo(3)))).toEqual([fileAlert.id]);
  });

  it("matches parameter names case-insensitively", async () => {
    for (const body of [{ query: "AlertInfo | count" }, { Query: "AlertInfo | count", timespan: "P30D" }, { QUERY: "AlertInfo | count", TimeSpan: "P30D" }]) {
      const r = await run(body);
      expect(r.status).toBe(200);
      expect(r.body.results).toEqual([{ Count: 2 }]);
    }
  });

  it("derives AlertEvidence from the alerts' evidence, joined to AlertInfo on AlertId", async () => {
    const ev = await rows(
      `AlertEvidence | where AlertId == "${fileAlert.id}" | project EntityType, EvidenceRole, DeviceId, AccountUpn, FileName, SHA1, FileSize, ThreatFamily, Severity | sort by EntityType asc`,
    );
    expect(ev).toEqual([
      {
        EntityType: "File",
        EvidenceRole: "Related",
        DeviceId: device,
        AccountUpn: "",
        FileName: "invoice.ps1",
        SHA1: "a".repeat(40),
        FileSize: 4096,
        ThreatFamily: "Emotet",
        Severity: "High",
      },
      {
        EntityType: "Machine",
        EvidenceRole: "Related",
        DeviceId: device,
        AccountUpn: "",
        FileName: "",
        SHA1: "",
        FileSize: null,
        ThreatFamily: "",
        Severity: "High",
      },
      {
        EntityType: "User",
        EvidenceRole: "Impacted",
        DeviceId: "",
        AccountUpn: "alice@contoso.com",
        FileName: "",
        SHA1: "",
        FileSize: null,
        ThreatFamily: "",
        Severity: "High",
      },
    ]);
    const joined = await rows(
      `AlertInfo | where Severity == "High" | join kind=inner (AlertEvidence | where EntityType == "File") on AlertId | project Title, FileName, AlertId, AlertId1`,
    );
    expect(joined).toEqual([{ Title: "Suspicious PowerShell download", FileName: "invoice.ps1", AlertId: fileAlert.id, AlertId1: fileAlert.id }]);
  });

  it("summarizes by a column and by bin(Timestamp, 1d)", async () => {
    const bySeverity = await rows("AlertInfo | summarize Alerts = count(), Titles = make_set(Title) by Severity | order by Severity asc");
    expect(bySeverity).toEqual([
      { Severity: "High", Alerts: 1, Titles: ["Suspicious PowerShell download"] },
      { Severity: "Medium", Alerts: 1, Titles: ["Connection to a known C2 address"] },
    ]);
    const byDay = await rows("AlertEvidence | summarize Entities = dcount(EntityType) by bin(Timestamp, 1d)");
    expect(byDay.reduce((n, r) => n + (r.Entities as number), 0)).toBeGreaterThanOrEqual(4);
    for (const r of byDay) expect(r.Timestamp).toMatch(/T00:00:00\.000Z$/);
  });

  it("answers a syntax error and a semantic error with 400, the message naming the position", async () => {
    const syntax = await run({ Query: "AlertInfo | where" });
    expect(syntax.status).toBe(400);
    expect(syntax.body.error.code).toBe("BadRequest");
    expect(syntax.body.error.message).toMatch(/^Syntax error: .*\[line:position=1:\d+\]$/);
    const semantic = await run({ Query: "AlertInfo\n| where NoSuchColumn == 1" });
    expect(semantic.status).toBe(400);
    expect(semantic.body.error.message).toMatch(/^Semantic error: .*NoSuchColumn.*\[line:position=2:9\]$/);
    const table = await run({ Query: "DeviceProcessEvents | take 1" });
    expect(table.status).toBe(400);
    expect(table.body.error.message).toMatch(/DeviceProcessEvents/);
  });

  it("answers an unsupported operator or function with 400 naming it and its position, never 500", async () => {
    const op = await run({ Query: "AlertInfo | sample 3" });
    expect(op.status).toBe(400);
    expect(op.body.error.message).toMatch(/'sample' operator is not supported .*\[line:position=1:13\]/);
    const fn = await run({ Query: "AlertInfo | extend h = hash_sha256(Title)" });
    expect(fn.status).toBe(400);
    expect(fn.body.error.message).toMatch(/'hash_sha256\(\)' is not supported .*\[line:position=1:24\]/);
  });

  it("refuses a timespan that is not ISO 8601 and unknown parameters", async () => {
    for (const timespan of ["7", "last week", "P", "2024-13-45T00:00:00Z", "P1D/P2D"]) {
      const r = await run({ Query: "AlertInfo | take 1", Timespan: timespan });
      expect(r.status, timespan).toBe(400);
    }
    expect((await run({ Query: "AlertInfo", Limit: 5 })).status).toBe(400);
    expect((await run({ Timespan: "P1D" })).status).toBe(400);
  });

  it("is reachable by its qualified name and under beta", async () => {
    for (const [version, name] of [
      ["v1.0", "microsoft.graph.security.runHuntingQuery"],
      ["beta", "runHuntingQuery"],
    ] as const) {
      const r = await run({ Query: "AlertInfo | count" }, hunt, version, name);
      expect(r.status).toBe(200);
      expect(r.body.results).toEqual([{ Count: 2 }]);
    }
  });
});

describe("beta getRunHuntingQuery and getHuntingSchema", () => {
  it("runs a query given in the URL", async () => {
    // A quote inside an OData string literal is doubled.
    const q = encodeURIComponent(`AlertInfo | where Title has 'PowerShell' | project Timestamp, Title | take 2`.replace(/'/g, "''"));
    const r = await t.get(`/beta/security/getRunHuntingQuery(query='${q}',timespan='P1D')`, hunt);
    expect(r.status, r.text).toBe(200);
    expect(r.body.results).toEqual([{ Timestamp: fileAlert.createdDateTime, Title: "Suspicious PowerShell download" }]);
    // A beta function: v1.0 answers as Graph does for a segment it does not know.
    const v1 = await t.get(`/v1.0/security/getRunHuntingQuery(query='${q}')`, hunt);
    expect(v1.status).toBe(400);
    expect(v1.body.error.message).toMatch(/getRunHuntingQuery/);
  });

  it("describes the tables", async () => {
    const r = await t.get("/beta/security/getHuntingSchema", hunt);
    expect(r.status).toBe(200);
    expect(r.body.tables.map((x: any) => x.name)).toEqual(["AlertInfo", "AlertEvidence"]);
    expect(r.body.tables[1].columns.find((c: any) => c.name === "FileSize")).toMatchObject({ dataType: "Int64" });
    expect(r.body.tables[0].columns.find((c: any) => c.name === "Timestamp")).toMatchObject({ dataType: "DateTime" });
  });
});

describe("ThreatHunting.Read.All", () => {
  it("is required: an app without it gets 403, an app with only it gets rows", async () => {
    const without = await run({ Query: "AlertInfo | count" }, { authorization: `Bearer ${await appToken(t, t.tenantId, ALL_PERMISSIONS)}` });
    expect(without.status).toBe(403);
    const only = await run({ Query: "AlertInfo | count" }, { authorization: `Bearer ${await appToken(t, t.tenantId, [HUNT])}` });
    expect(only.status).toBe(200);
  });

  it("delegated: needs a reading role", async () => {
    const reader = await delegatedToken(t, t.tenantId, [HUNT], ["Security Reader"]);
    expect((await run({ Query: "AlertInfo | count" }, { authorization: `Bearer ${reader}` })).status).toBe(200);
    const nobody = await delegatedToken(t, t.tenantId, [HUNT], []);
    expect((await run({ Query: "AlertInfo | count" }, { authorization: `Bearer ${nobody}` })).status).toBe(403);
  });

  it("never shows another tenant's alerts", async () => {
    const other = await t.newTenant();
    const theirs = alert({ device: deviceId(), title: "Other tenant alert", at: hoursAgo(1) });
    expect((await t.ingest([theirs], other)).status).toBe(200);
    const mine = await rows(`union AlertInfo, (AlertEvidence | project AlertId) | where AlertId == "${theirs.id}" | count`);
    expect(mine).toEqual([{ Count: 0 }]);
    const headers = await t.auth(other, [...ALL_PERMISSIONS, HUNT]);
    const r = await run({ Query: "AlertInfo | project AlertId" }, headers);
    expect(r.body.results).toEqual([{ AlertId: theirs.id }]);
  });

  it("is granted with `triage apps create --permission ThreatHunting.Read.All`", async () => {
    const made = await runCli([
      "apps",
      "create",
      ...t.storeArgs,
      "--tenant",
      t.tenantId,
      "--name",
      "hunter",
      "--permission",
      HUNT,
      "--admin-consent",
      "--json",
    ]);
    expect(made.code, made.stderr).toBe(0);
    const { clientId, clientSecret } = JSON.parse(made.stdout) as { clientId: string; clientSecret: string };
    const r = await token(t, t.tenantId, { grant_type: "client_credentials", client_id: clientId, client_secret: clientSecret, scope: GRAPH_DEFAULT });
    expect(r.status).toBe(200);
    const hunted = await run({ Query: "AlertInfo | count" }, { authorization: `Bearer ${r.body.access_token}` });
    expect(hunted.status).toBe(200);
    expect(hunted.body.results).toEqual([{ Count: 2 }]);
  });
});

describe("the hunting time limit", () => {
  it("stops a query that runs past it with a 504 that says so, and the next query runs", async () => {
    const limited = await startTriage({ huntingTimeoutMs: 300 });
    try {
      const headers = await limited.auth(limited.tenantId, [...ALL_PERMISSIONS, HUNT]);
      const batch = Array.from({ length: 200 }, (_, i) =>
        alert({ user: `user${i % 7}@contoso.com`, ip: `198.51.100.${i % 50}`, severity: "high", at: hoursAgo(1 + (i % 48)) }),
      );
      expect((await limited.ingest(batch)).status).toBe(200);
      // The language service loads on the first query; time the slow one without that.
      expect((await limited.request("POST", "/v1.0/security/runHuntingQuery", { body: { Query: "AlertInfo | take 1" }, headers })).status).toBe(200);
      const started = performance.now();
      const slow = await limited.request("POST", "/v1.0/security/runHuntingQuery", {
        body: { Query: "AlertEvidence | join kind=inner (AlertEvidence) on Severity | join kind=inner (AlertEvidence) on Severity | count" },
        headers,
      });
      expect(slow.status, slow.text).toBe(504);
      expect(slow.body.error.code).toBe("GatewayTimeout");
      expect(slow.body.error.message).toMatch(/hunting query ran longer than its time limit of 300 ms/);
      expect(performance.now() - started).toBeLessThan(2000);
      const quick = await limited.request("POST", "/v1.0/security/runHuntingQuery", { body: { Query: "AlertInfo | count" }, headers });
      expect(quick.body.results).toEqual([{ Count: 200 }]);
    } finally {
      await limited.close();
    }
  });
});

describe("throttling", () => {
  it("counts hunting queries against the app's budget in the tenant, with 429 and Retry-After beyond it", async () => {
    const throttled = await startTriage({ rateLimit: { max: 3, windowMs: 60_000 } });
    try {
      const headers = await throttled.auth(throttled.tenantId, [...ALL_PERMISSIONS, HUNT]);
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 4; i++) {
        last = await throttled.request("POST", "/v1.0/security/runHuntingQuery", { body: { Query: "AlertInfo | count" }, headers });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(last!.body.error.code).toBe("TooManyRequests");
      expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      await throttled.close();
    }
  });
});

describe("the row limit", () => {
  it("refuses an answer with more rows than the limit, with a 400 that says how to narrow it", async () => {
    const plan = translateKql("AlertInfo | project AlertId", { now: new Date() });
    const window = { from: hoursAgo(24 * 30), to: new Date(Date.now() + 1000).toISOString() };
    const within = await runHuntingPlan(t.store, plan, t.tenantId, window, 5000, 2);
    expect(within.rows).toHaveLength(2);
    const beyond = runHuntingPlan(t.store, plan, t.tenantId, window, 5000, 1);
    await expect(beyond).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/more than 1 rows, the most a hunting query may return/) });
    expect(MAX_HUNTING_ROWS).toBe(100_000);
  });
});
