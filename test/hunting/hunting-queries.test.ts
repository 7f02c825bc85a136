/**
 * Hunting queries in the style of the public queries written for AlertInfo and AlertEvidence (lets,
 * joins on AlertId, summaries by detection source, by time bin and by entity, arg_max, parse_json of
 * AdditionalFields, render), run through runHuntingQuery on a small known tenant, answers checked.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, ALL_PERMISSIONS, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";

let t: TestTriage;
let headers: Record<string, string>;
const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();

const deviceA = deviceId();
const deviceB = deviceId();
function withFile(a: Record<string, unknown>, fileName: string, sha1: string, at: string) {
  (a.evidence as unknown[]).push({
    "@odata.type": "#microsoft.graph.security.fileEvidence",
    createdDateTime: at,
    verdict: "malicious",
    remediationStatus: "none",
    roles: [],
    fileDetails: { fileName, sha1, fileSize: 1024 },
  });
  return a;
}
const ps = withFile(
  alert({
    device: deviceA,
    user: "alice@contoso.com",
    title: "Suspicious PowerShell command line",
    severity: "high",
    detectionSource: "microsoftDefenderForEndpoint",
    at: hoursAgo(5),
    extra: { mitreTechniques: ["T1059.001"] },
  }),
  "dropper.ps1",
  "1".repeat(40),
  hoursAgo(5),
);
const mimi = withFile(
  alert({
    device: deviceA,
    user: "alice@contoso.com",
    title: "Mimikatz credential theft tool",
    severity: "high",
    category: "CredentialAccess",
    detectionSource: "antivirus",
    at: hoursAgo(3),
    extra: { mitreTechniques: ["T1003", "T1059"] },
  }),
  "mimikatz.exe",
  "2".repeat(40),
  hoursAgo(3),
);
const c2 = alert({
  device: deviceB,
  ip: "198.51.100.23",
  title: "Communication with a command and control server",
  severity: "medium",
  category: "CommandAndControl",
  detectionSource: "antivirus",
  at: hoursAgo(50),
});
const phish = alert({
  user: "bob@contoso.com",
  title: "Phishing email delivered",
  severity: "low",
  category: "InitialAccess",
  serviceSource: "microsoftDefenderForOffice365",
  detectionSource: "microsoftDefenderForOffice365",
  at: hoursAgo(100),
});

beforeAll(async () => {
  t = await startTriage();
  headers = await t.auth(t.tenantId, [...ALL_PERMISSIONS, "ThreatHunting.Read.All"]);
  expect((await t.ingest([ps, mimi, c2, phish])).status).toBe(200);
});
afterAll(async () => {
  await t.close();
});

async function hunt(query: string): Promise<{ schema: { name: string; type: string }[]; results: Record<string, any>[] }> {
  const r = await t.request("POST", "/v1.0/security/runHuntingQuery", { body: { Query: query }, headers });
  expect(r.status, `${query}\n${r.text}`).toBe(200);
  return r.body;
}

describe("hunting queries over AlertInfo and AlertEvidence", () => {
  it("alerts of the last week by detection source, high and medium only", async () => {
    const r = await hunt(`AlertInfo
| where Timestamp > ago(7d)
| where Severity in ("High", "Medium")
| summarize Alerts = count() by DetectionSource
| sort by Alerts desc, DetectionSource asc`);
    expect(r.results).toEqual([
      { DetectionSource: "antivirus", Alerts: 2 },
      { DetectionSource: "microsoftDefenderForEndpoint", Alerts: 1 },
    ]);
    expect(r.schema).toEqual([
      { name: "DetectionSource", type: "String" },
      { name: "Alerts", type: "Int64" },
    ]);
  });

  it("files seen in alerts, with the first and last time", async () => {
    const r = await hunt(`AlertEvidence
| where EntityType == "File"
| summarize Alerts = dcount(AlertId), FirstSeen = min(Timestamp), LastSeen = max(Timestamp) by SHA1, FileName
| top 10 by FileName asc`);
    expect(r.results).toEqual([
      { SHA1: "1".repeat(40), FileName: "dropper.ps1", Alerts: 1, FirstSeen: ps.createdDateTime, LastSeen: ps.createdDateTime },
      { SHA1: "2".repeat(40), FileName: "mimikatz.exe", Alerts: 1, FirstSeen: mimi.createdDateTime, LastSeen: mimi.createdDateTime },
    ]);
  });

  it("accounts behind suspicious titles: a let, a join on AlertId, make_set", async () => {
    const r = await hunt(`let suspicious = AlertInfo
    | where Title has_any ("PowerShell", "Mimikatz")
    | project AlertId, Title;
suspicious
| join kind=inner (AlertEvidence | where EntityType == "User" | project AlertId, AccountUpn) on AlertId
| summarize Titles = make_set(Title) by AccountUpn`);
    expect(r.results).toHaveLength(1);
    expect(r.results[0]!.AccountUpn).toBe("alice@contoso.com");
    expect([...r.results[0]!.Titles].sort()).toEqual(["Mimikatz credential theft tool", "Suspicious PowerShell command line"]);
    expect(r.schema[1]).toEqual({ name: "Titles", type: "Object" });
  });

  it("latest alert per device: join without kind (innerunique) and arg_max", async () => {
    const r = await hunt(`AlertInfo
| join AlertEvidence on AlertId
| where isnotempty(DeviceId)
| summarize arg_max(Timestamp, Title, Severity) by DeviceId
| order by DeviceId asc`);
    const expected = [
      { DeviceId: deviceA, Timestamp: mimi.createdDateTime, Title: "Mimikatz credential theft tool", Severity: "High" },
      { DeviceId: deviceB, Timestamp: c2.createdDateTime, Title: "Communication with a command and control server", Severity: "Medium" },
    ].sort((a, b) => (a.DeviceId < b.DeviceId ? -1 : 1));
    expect(r.results).toEqual(expected);
  });

  it("fields out of AdditionalFields with parse_json", async () => {
    const r = await hunt(`AlertEvidence
| where EntityType == "Ip"
| extend Fields = parse_json(AdditionalFields)
| project RemoteIP, Type = tostring(Fields["@odata.type"]), Verdict = tostring(Fields.verdict), Roles = array_length(Fields.roles)`);
    expect(r.results).toEqual([{ RemoteIP: "198.51.100.23", Type: "#microsoft.graph.security.ipEvidence", Verdict: "malicious", Roles: 0 }]);
  });

  it("alerts per hour and severity for a chart (render is accepted)", async () => {
    const r = await hunt(`AlertInfo
| summarize count() by bin(Timestamp, 1h), Severity
| render timechart`);
    expect(r.schema).toEqual([
      { name: "Timestamp", type: "DateTime" },
      { name: "Severity", type: "String" },
      { name: "count_", type: "Int64" },
    ]);
    expect(r.results.reduce((n, x) => n + x.count_, 0)).toBe(4);
    for (const x of r.results) expect(x.Timestamp).toMatch(/:00:00\.000Z$/);
  });

  it("techniques, scores and devices", async () => {
    const techniques = await hunt(
      `AlertInfo | where AttackTechniques has "T1059" | extend Techniques = array_length(parse_json(AttackTechniques)) | project Title, Techniques | order by Techniques asc`,
    );
    // "T1059.001" holds the term T1059: a dot ends a term.
    expect(techniques.results).toEqual([
      { Title: "Suspicious PowerShell command line", Techniques: 1 },
      { Title: "Mimikatz credential theft tool", Techniques: 2 },
    ]);
    const scores = await hunt(
      `AlertInfo | extend Sev = case(Severity == "High", 3, Severity == "Medium", 2, 1) | summarize Score = sum(Sev) by Category | order by Score desc`,
    );
    expect(scores.results).toEqual(
      [
        { Category: "CredentialAccess", Score: 3 },
        { Category: "Execution", Score: 3 },
        { Category: "CommandAndControl", Score: 2 },
        { Category: "InitialAccess", Score: 1 },
      ]
        .sort((a, b) => b.Score - a.Score || (a.Category < b.Category ? -1 : 1))
        .map((x) => x),
    );
    const devices = await hunt(`AlertEvidence
| where EntityType == "Machine"
| summarize Alerts = dcount(AlertId), HighAlerts = countif(Severity == "High") by DeviceName
| where Alerts > 0
| order by Alerts desc, DeviceName asc`);
    expect(devices.results.map((x) => [x.Alerts, x.HighAlerts])).toEqual([
      [2, 2],
      [1, 0],
    ]);
  });

  it("alerts without file evidence, accounts by domain, a window with between", async () => {
    const noFile = await hunt(`AlertInfo | join kind=leftanti (AlertEvidence | where EntityType == "File") on AlertId | project Title | order by Title asc`);
    expect(noFile.results.map((x) => x.Title)).toEqual(["Communication with a command and control server", "Phishing email delivered"]);
    const accounts = await hunt(`AlertEvidence | where AccountUpn endswith "@contoso.com" | distinct AccountUpn | order by AccountUpn asc`);
    expect(accounts.results).toEqual([{ AccountUpn: "alice@contoso.com" }, { AccountUpn: "bob@contoso.com" }]);
    const recent = await hunt(`AlertInfo | where Timestamp between (ago(3d) .. now()) | count`);
    expect(recent.results).toEqual([{ Count: 3 }]);
    const latest = await hunt(`AlertInfo | project Timestamp, AlertId, Title | order by Timestamp desc | take 2`);
    expect(latest.results.map((x) => x.AlertId)).toEqual([mimi.id, ps.id]);
    const both = await hunt(`union AlertInfo, AlertEvidence | summarize Rows = count()`);
    expect(both.results[0]!.Rows).toBeGreaterThan(4);
  });

  it("one row per technique with mv-expand, and conditional aggregates", async () => {
    const r = await hunt(`AlertInfo
| mv-expand Technique = parse_json(AttackTechniques) to typeof(string)
| summarize Alerts = dcount(AlertId) by Technique
| order by Technique asc`);
    expect(r.results).toEqual([
      { Technique: "T1003", Alerts: 1 },
      { Technique: "T1059", Alerts: 1 },
      { Technique: "T1059.001", Alerts: 1 },
    ]);
    const dyn = await hunt(`AlertInfo | where Title has "Mimikatz" | mv-expand T = parse_json(AttackTechniques) | project T`);
    expect(dyn.results).toEqual([{ T: "T1003" }, { T: "T1059" }]);
    expect(dyn.schema).toEqual([{ name: "T", type: "Object" }]);
    const conditional = await hunt(`AlertEvidence
| summarize Files = make_set_if(FileName, EntityType == "File"), Users = dcountif(AccountUpn, EntityType == "User"), Big = sumif(FileSize, FileSize > 100)`);
    expect([...conditional.results[0]!.Files].sort()).toEqual(["dropper.ps1", "mimikatz.exe"]);
    expect(conditional.results[0]!.Users).toBe(2);
    expect(conditional.results[0]!.Big).toBe(2048);
  });
});

describe("the documented vocabulary", () => {
  it.each([
    ["filter", `AlertInfo | filter Severity == "High" | count`, [{ Count: 2 }]],
    ["limit", `AlertInfo | limit 1 | count`, [{ Count: 1 }]],
    [
      "project-keep and project-reorder",
      `AlertInfo | where Severity == "Low" | project-keep Title, Severity | project-reorder Severity`,
      [{ Severity: "Low", Title: "Phishing email delivered" }],
    ],
    [
      "project-away and project-rename",
      `AlertInfo | where Severity == "Low" | project Title, Severity | project-away Severity | project-rename Name = Title`,
      [{ Name: "Phishing email delivered" }],
    ],
    [
      "nulls first",
      `AlertEvidence | where EntityType in ("File", "User") | summarize by FileSize | order by FileSize asc nulls first`,
      [{ FileSize: null }, { FileSize: 1024 }],
    ],
    [
      "!between and !in~",
      `AlertInfo | where Timestamp !between (ago(4d) .. now()) and Severity !in~ ("high", "MEDIUM") | project Title`,
      [{ Title: "Phishing email delivered" }],
    ],
    ["hasprefix and hassuffix", `AlertInfo | where Title hasprefix "Mimi" and Title hassuffix "heft" | count`, [{ Count: 1 }]],
    [
      "iif, tobool, coalesce, round, substring, todouble",
      `AlertInfo | where Severity == "Low" | project A = iif(Severity == "Low", "l", "x"), B = tobool("true"), C = coalesce(Title, "none"), D = round(todouble("2.567"), 2), E = substring(Title, 0, 8)`,
      [{ A: "l", B: true, C: "Phishing email delivered", D: 2.57, E: "Phishing" }],
    ],
    ["scalar let and datetime arithmetic", `let since = now() - 4d; AlertInfo | where Timestamp >= since | count`, [{ Count: 3 }]],
    [
      "strlen, strcat, toupper",
      `AlertInfo | where Severity == "Low" | project L = strlen(Severity), S = strcat(toupper(Severity), "/", Category)`,
      [{ L: 3, S: "LOW/InitialAccess" }],
    ],
  ])("%s", async (_, query, expected) => {
    expect((await hunt(query)).results).toEqual(expected);
  });
});

describe("docs/hunting.md", () => {
  it("every example query in it runs", async () => {
    const doc = readFileSync("docs/hunting.md", "utf8");
    const queries: string[] = [];
    for (const m of doc.matchAll(/```kql\n([\s\S]*?)```/g)) queries.push(m[1]!.trim());
    for (const m of doc.matchAll(/"Query": ("(?:[^"\\]|\\.)*")/g)) queries.push(JSON.parse(m[1]!) as string);
    for (const m of doc.matchAll(/Query: "((?:[^"\\]|\\.)*)"/g)) queries.push(m[1]!);
    for (const m of doc.matchAll(/getRunHuntingQuery\(query='([^']*)'/g)) queries.push(decodeURIComponent(m[1]!));
    for (const m of doc.matchAll(/-Query "([^"]*)"/g)) queries.push(m[1]!);
    // Placeholders ("…") in the description of the parameters are not queries.
    const runnable = queries.filter((q) => !q.includes("…"));
    expect(runnable.length).toBeGreaterThanOrEqual(6);
    for (const q of runnable) await hunt(q);
  });
});
