/**
 * Every item of advanced hunting's documented vocabulary (docs/hunting.md), one by one, in queries of
 * the kind written for AlertInfo and AlertEvidence, on a small tenant with known answers; and what is
 * outside it answered with a 400 naming it and its position. Runs on both stores (TRIAGE_TEST_STORE).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RE2JS } from "re2js";
import { startTriage, ALL_PERMISSIONS, type TestTriage } from "../support/triage.js";
import { ALERTS, c2, deviceA, deviceB, hoursAgo, mimikatz, phish, powershell, ransomware } from "./fixtures-vocabulary.js";

let t: TestTriage;
let headers: Record<string, string>;

beforeAll(async () => {
  t = await startTriage();
  headers = await t.auth(t.tenantId, [...ALL_PERMISSIONS, "ThreatHunting.Read.All"]);
  expect((await t.ingest(ALERTS)).status).toBe(200);
});
afterAll(async () => {
  await t.close();
});

type Answer = { schema: { name: string; type: string }[]; results: Record<string, any>[] };
async function post(query: string) {
  return t.request("POST", "/v1.0/security/runHuntingQuery", { body: { Query: query }, headers });
}
async function hunt(query: string): Promise<Answer> {
  const r = await post(query);
  expect(r.status, `${query}\n${r.text}`).toBe(200);
  return r.body as Answer;
}
const rows = async (query: string) => (await hunt(query)).results;

describe("the vocabulary, item by item", () => {
  it.each<[string, string, Record<string, unknown>[]]>([
    [
      "let (scalar and tabular)",
      `let threshold = 2; let high = AlertInfo | where Severity == "High"; high | summarize N = count() | where N >= threshold`,
      [{ N: 2 }],
    ],
    ["== and !=", `AlertInfo | where Severity != "Low" and Category == "Impact" | project Title`, [{ Title: ransomware.title }]],
    ["=~ and !~", `AlertInfo | where Severity =~ "HIGH" and DetectionSource !~ "ANTIVIRUS" | project Title`, [{ Title: powershell.title }]],
    [
      "<, <=, >, >=",
      `AlertEvidence | where (FileSize >= 90112 and FileSize < 1250000) or (FileSize > 2000000 and FileSize <= 3000000) | project FileName`,
      [{ FileName: "locker.dll" }],
    ],
    [
      "between",
      `AlertInfo | where Timestamp between (ago(30h) .. ago(2h)) | order by Timestamp asc | project Title`,
      [{ Title: ransomware.title }, { Title: powershell.title }, { Title: mimikatz.title }],
    ],
    [
      "in, in~, !in",
      `AlertInfo | where Category in ("Execution", "Impact") and Severity in~ ("HIGH", "informational") and DetectionSource !in ("antivirus") | project Title | order by Title asc`,
      [{ Title: ransomware.title }, { Title: powershell.title }],
    ],
    ["has and !has", `AlertInfo | where Title has "command" and Title !has "PowerShell" | project Title`, [{ Title: c2.title }]],
    [
      "has_any and has_all",
      `AlertEvidence | where ProcessCommandLine has_any ("enc", "EncodedCommand") and ProcessCommandLine has_all ("POWERSHELL.EXE", "hidden") | project FileName`,
      [{ FileName: "powershell.exe" }],
    ],
    [
      "contains and !contains",
      `AlertEvidence | where RemoteUrl contains "EXAMPLE.com/pay" and RemoteUrl !contains "benign" | project RemoteUrl`,
      [{ RemoteUrl: "http://evil.example.com/payload?id=42" }],
    ],
    [
      "startswith and endswith",
      `AlertEvidence | where FileName startswith "MIMI" or FileName endswith ".DLL" | project FileName | order by FileName asc`,
      [{ FileName: "locker.dll" }, { FileName: "mimikatz.exe" }],
    ],
    [
      "matches regex",
      String.raw`AlertEvidence | where ProcessCommandLine matches regex @"\s-[Ee]nc(odedCommand)?\s+[A-Za-z0-9+/=]{20,}" | project FileName`,
      [{ FileName: "powershell.exe" }],
    ],
    [
      "matches regex with (?i), \\b and \\d",
      String.raw`union (AlertInfo | where Title matches regex @"(?i)^suspicious\b" | project V = Title), (AlertEvidence | where RemoteIP matches regex @"^\d{1,3}(\.\d{1,3}){3}$" | project V = RemoteIP) | order by V asc`,
      [{ V: "198.51.100.23" }, { V: powershell.title }],
    ],
    [
      "isempty and isnotempty",
      `AlertEvidence | where isnotempty(RemoteIP) or (EntityType == "User" and isempty(DeviceName)) | summarize N = count()`,
      [{ N: 4 }],
    ],
    ["and, or, not", `AlertInfo | where not(Severity in ("High", "Medium")) and (Category == "Impact" or Category == "InitialAccess") | count`, [{ Count: 2 }]],
    [
      "project, extend, project-away, project-rename, project-reorder",
      `AlertInfo | where Severity == "Low" | extend Sev = toupper(Severity) | project-away ServiceSource, DetectionSource, AttackTechniques, Timestamp, AlertId | project-rename Name = Title | project Name, Sev, Category | project-reorder Category`,
      [{ Category: "InitialAccess", Name: phish.title, Sev: "LOW" }],
    ],
    [
      "order by, sort by, take, limit",
      `AlertInfo | order by Timestamp desc | take 3 | sort by Title asc | limit 2 | project Title`,
      [{ Title: mimikatz.title }, { Title: ransomware.title }],
    ],
    ["top N by", `AlertEvidence | where EntityType == "File" | top 1 by FileSize desc | project FileName`, [{ FileName: "mimikatz.exe" }]],
    ["count", `AlertEvidence | count`, [{ Count: 12 }]],
    [
      "distinct",
      `AlertEvidence | where isnotempty(DeviceId) | distinct DeviceId | order by DeviceId asc`,
      [deviceA, deviceB].sort().map((d) => ({ DeviceId: d })),
    ],
    [
      "summarize count, countif, dcount, min, max by a column",
      `AlertInfo | summarize Alerts = count(), High = countif(Severity == "High"), Categories = dcount(Category), First = min(Timestamp), Last = max(Timestamp) by DetectionSource | order by DetectionSource asc`,
      [
        { DetectionSource: "antivirus", Alerts: 2, High: 1, Categories: 2, First: c2.createdDateTime, Last: mimikatz.createdDateTime },
        {
          DetectionSource: "microsoftDefenderForEndpoint",
          Alerts: 2,
          High: 1,
          Categories: 2,
          First: ransomware.createdDateTime,
          Last: powershell.createdDateTime,
        },
        { DetectionSource: "microsoftDefenderForOffice365", Alerts: 1, High: 0, Categories: 1, First: phish.createdDateTime, Last: phish.createdDateTime },
      ],
    ],
    [
      "sum and avg",
      `AlertEvidence | where EntityType == "File" | summarize Total = sum(FileSize), Mean = avg(FileSize)`,
      [{ Total: 1_340_112, Mean: 670_056 }],
    ],
    [
      "arg_max and arg_min",
      `AlertInfo | summarize arg_max(Timestamp, Title) by DetectionSource | join kind=inner (AlertInfo | summarize arg_min(Timestamp, *) by DetectionSource | project DetectionSource, FirstTitle = Title) on DetectionSource | project DetectionSource, Title, FirstTitle | order by DetectionSource asc`,
      [
        { DetectionSource: "antivirus", Title: mimikatz.title, FirstTitle: c2.title },
        { DetectionSource: "microsoftDefenderForEndpoint", Title: powershell.title, FirstTitle: ransomware.title },
        { DetectionSource: "microsoftDefenderForOffice365", Title: phish.title, FirstTitle: phish.title },
      ],
    ],
    [
      "join kind=inner",
      `AlertInfo | where Severity == "High" | join kind=inner (AlertEvidence | where EntityType == "User") on AlertId | project Title, AccountUpn | order by Title asc`,
      [
        { Title: mimikatz.title, AccountUpn: "alice@contoso.com" },
        { Title: powershell.title, AccountUpn: "alice@contoso.com" },
      ],
    ],
    [
      "join kind=leftouter",
      `AlertInfo | join kind=leftouter (AlertEvidence | where EntityType == "Url" | project AlertId, RemoteUrl) on AlertId | summarize Urls = countif(isnotempty(RemoteUrl)), Rows = count()`,
      [{ Urls: 1, Rows: 5 }],
    ],
    [
      "join kind=leftanti",
      `AlertInfo | join kind=leftanti (AlertEvidence | where EntityType == "Machine") on AlertId | project Title`,
      [{ Title: phish.title }],
    ],
    [
      "join kind=leftsemi",
      `AlertInfo | join kind=leftsemi (AlertEvidence | where EntityType == "File") on AlertId | project Title | order by Title asc`,
      [{ Title: mimikatz.title }, { Title: ransomware.title }],
    ],
    [
      "join on $left.A == $right.B",
      `AlertInfo | project Id = AlertId, Title | join kind=inner (AlertEvidence | where EntityType == "Ip") on $left.Id == $right.AlertId | project Title, RemoteIP`,
      [{ Title: c2.title, RemoteIP: "198.51.100.23" }],
    ],
    [
      "union",
      `union (AlertInfo | where Severity == "Low" | project Title), (AlertEvidence | where EntityType == "Url" | project Title = RemoteUrl) | order by Title asc`,
      // Ordinal order: upper case before lower case.
      [{ Title: phish.title }, { Title: "http://evil.example.com/payload?id=42" }],
    ],
    [
      "mv-expand",
      `AlertInfo | mv-expand Technique = parse_json(AttackTechniques) to typeof(string) | summarize N = count() by Technique | order by Technique asc`,
      ["T1003", "T1059", "T1059.001", "T1105", "T1486"].map((x) => ({ Technique: x, N: 1 })),
    ],
    [
      "datatable joined to the evidence, and in (table)",
      `let Iocs = datatable(Sha1:string, Family:string)["${"2".repeat(40)}", "Mimikatz", "${"f".repeat(40)}", "Unknown"];
AlertEvidence | where SHA1 in (Iocs) | join kind=inner Iocs on $left.SHA1 == $right.Sha1 | project FileName, Family`,
      [{ FileName: "mimikatz.exe", Family: "Mimikatz" }],
    ],
    [
      "datatable of every type",
      `datatable(N:long, T:datetime, D:dynamic, B:bool, R:real, S:string, Span:timespan)[1, datetime(2026-01-02 03:04:05), dynamic({"a":[1,2]}), true, 2.5, "x", 90m, 2, datetime(null), dynamic(null), false, 1, "", -1d] | extend A = D.a[1] | order by N asc`,
      [
        { N: 1, T: "2026-01-02T03:04:05.000Z", D: { a: [1, 2] }, B: true, R: 2.5, S: "x", Span: "01:30:00", A: 2 },
        { N: 2, T: null, D: null, B: false, R: 1, S: "", Span: "-1.00:00:00", A: null },
      ],
    ],
    [
      "evaluate bag_unpack with an output schema",
      `AlertEvidence | where EntityType == "Ip" | extend F = parse_json(AdditionalFields) | evaluate bag_unpack(F, "ev_") : (*, ev_verdict:string, ev_ipAddress:string, ev_roles:dynamic) | project RemoteIP, ev_verdict, ev_ipAddress, ev_roles`,
      [{ RemoteIP: "198.51.100.23", ev_verdict: "malicious", ev_ipAddress: "198.51.100.23", ev_roles: [] }],
    ],
    [
      "render is accepted",
      `AlertInfo | summarize N = count() by Severity | order by Severity asc | render columnchart`,
      ["High", "Informational", "Low", "Medium"].map((s) => ({ Severity: s, N: s === "High" ? 2 : 1 })),
    ],
    [
      "ago(), now(), datetime()",
      `AlertInfo | where Timestamp > ago(4h) and Timestamp < now() and Timestamp > datetime(2020-01-01) | project Title`,
      [{ Title: mimikatz.title }],
    ],
    [
      "tostring, todouble, round",
      `AlertEvidence | where EntityType == "File" | project FileName, MB = round(todouble(FileSize) / 1048576, 2), S = tostring(FileSize) | order by FileName asc`,
      [
        { FileName: "locker.dll", MB: 0.09, S: "90112" },
        { FileName: "mimikatz.exe", MB: 1.19, S: "1250000" },
      ],
    ],
    [
      "tolower, toupper, strlen, strcat, substring",
      `AlertInfo | where Severity == "Low" | project L = tolower(Title), U = toupper(Category), N = strlen(Title), S = strcat(Severity, ":", substring(Title, 0, 8)), Tail = substring(Title, 9)`,
      [{ L: "phishing email delivered", U: "INITIALACCESS", N: 24, S: "Low:Phishing", Tail: "email delivered" }],
    ],
    [
      "extract, with a type",
      String.raw`AlertEvidence | where EntityType == "Url" | project Host = extract(@"^https?://([^/:?]+)", 1, RemoteUrl), Id = extract(@"id=(\d+)", 1, RemoteUrl, typeof(long)), Whole = extract(@"[a-z]+\.example\.com", 0, RemoteUrl), None = extract(@"zzz(\d)", 1, RemoteUrl)`,
      [{ Host: "evil.example.com", Id: 42, Whole: "evil.example.com", None: "" }],
    ],
    ["hasprefix", `AlertInfo | where Title hasprefix "Mimi" | project Title`, [{ Title: mimikatz.title }]],
    [
      "parse_json and todynamic with property and index access on AdditionalFields, AttackTechniques, Categories; array_length",
      `AlertEvidence | where EntityType == "Process" | project Cat = tostring(parse_json(Categories)[0]), Tech = tostring(todynamic(AttackTechniques)[1]), Pid = toint(parse_json(AdditionalFields).processId), Image = tostring(parse_json(AdditionalFields).imageFile.fileName), N = array_length(parse_json(AttackTechniques))`,
      [{ Cat: "Execution", Tech: "T1105", Pid: 4242, Image: "powershell.exe", N: 2 }],
    ],
    [
      "make_set_if and take_any",
      `AlertEvidence | where EntityType in ("File", "User") | summarize Files = make_set_if(FileName, EntityType == "File"), User = take_any(AccountUpn) by AlertId | where AlertId == "${mimikatz.id as string}" | project Files, Pick = User in ("alice@contoso.com", "")`,
      [{ Files: ["mimikatz.exe"], Pick: true }],
    ],
    [
      "iff, case and dynamic()",
      `AlertInfo | extend Risk = case(Severity == "High", 3, Severity == "Medium", 2, 1), Kind = iff(Category in (dynamic(["Execution", "Impact"])), "endpoint", "other") | where Title has_any (dynamic(["Mimikatz", "Ransomware", "PowerShell", "Phishing", "command"])) | summarize R = sum(Risk) by Kind | order by Kind asc`,
      [
        { Kind: "endpoint", R: 4 },
        { Kind: "other", R: 6 },
      ],
    ],
    [
      "datetime arithmetic on columns",
      `AlertInfo | where Timestamp - ago(4h) > 0s and Timestamp + 1d > now() | project Title, Next = Timestamp + 1h, Before = Timestamp - 90m, Span = (Timestamp + 2h) - Timestamp, Hours = (Timestamp - datetime(1970-01-01)) / 1h`,
      [
        {
          Title: mimikatz.title,
          Next: hoursAgo(2),
          Before: hoursAgo(4.5),
          Span: "02:00:00",
          Hours: Date.parse(mimikatz.createdDateTime as string) / 3600_000,
        },
      ],
    ],
    [
      "credential theft within six hours of an execution alert on the same device (between column bounds, datetime arithmetic)",
      `let exec = AlertInfo
    | where Category == "Execution"
    | join kind=inner (AlertEvidence | where EntityType == "Machine" | project AlertId, DeviceId) on AlertId
    | project ExecTime = Timestamp, DeviceId;
AlertInfo
| where Category == "CredentialAccess"
| join kind=inner (AlertEvidence | where EntityType == "Machine" | project AlertId, DeviceId) on AlertId
| join kind=inner exec on DeviceId
| where Timestamp between (ExecTime .. ExecTime + 6h)
| project Title, DeviceId, Gap = Timestamp - ExecTime`,
      [{ Title: mimikatz.title, DeviceId: deviceA, Gap: "02:00:00" }],
    ],
    [
      "todatetime of a property of AdditionalFields",
      `AlertEvidence | where EntityType == "Url" | project Seen = todatetime(parse_json(AdditionalFields).createdDateTime), Lag = todatetime(parse_json(AdditionalFields).createdDateTime) - Timestamp`,
      [{ Seen: c2.createdDateTime, Lag: "00:00:00" }],
    ],
    [
      "todatetime of text that is no datetime is null",
      `AlertInfo | where Severity == "Low" | project A = todatetime("not a date"), B = todatetime("2026-03-04"), C = todatetime("2026-03-04T05:06:07+01:00")`,
      [{ A: null, B: "2026-03-04T00:00:00.000Z", C: "2026-03-04T04:06:07.000Z" }],
    ],
  ])("%s", async (_, query, expected) => {
    expect(await rows(query)).toEqual(expected);
  });

  it("summarize by bin(Timestamp, 1d), make_set and make_list", async () => {
    const r = await hunt(
      `AlertInfo | summarize N = count(), Severities = make_set(Severity), Titles = make_list(Title) by Day = bin(Timestamp, 1d) | order by Day asc`,
    );
    const days = new Map<string, string[]>();
    for (const a of ALERTS) {
      const ms = Date.parse(a.createdDateTime as string);
      const day = new Date(ms - (ms % 86_400_000)).toISOString();
      days.set(day, [...(days.get(day) ?? []), a.title as string]);
    }
    expect(r.results.map((x) => [x.Day, x.N, [...x.Titles].sort()])).toEqual([...days.entries()].sort().map(([d, ts]) => [d, ts.length, ts.sort()]));
    expect(r.schema.map((c) => c.type)).toEqual(["DateTime", "Int64", "Object", "Object"]);
  });

  it("format_datetime", async () => {
    const r = await rows(
      `AlertInfo | where AlertId == "${mimikatz.id as string}" | project A = format_datetime(Timestamp, "yyyy-MM-dd HH:mm:ss.fff"), B = format_datetime(Timestamp, "M/d/yy h:m:s tt"), C = format_datetime(datetime(2026-03-04 15:06:07.089), "yyyy_MM_dd [HH] ffff")`,
    );
    const d = new Date(mimikatz.createdDateTime as string);
    const p = (n: number) => String(n).padStart(2, "0");
    const h12 = d.getUTCHours() % 12 === 0 ? 12 : d.getUTCHours() % 12;
    expect(r).toEqual([
      {
        A: `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.000`,
        B: `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${String(d.getUTCFullYear()).slice(2)} ${h12}:${d.getUTCMinutes()}:${d.getUTCSeconds()} ${d.getUTCHours() < 12 ? "AM" : "PM"}`,
        C: "2026_03_04 [15] 0890",
      },
    ]);
  });

  it("evaluate bag_unpack without a schema: one dynamic column per property the data holds", async () => {
    const r = await hunt(
      `AlertEvidence | where EntityType == "Ip" | project AlertId, F = parse_json(AdditionalFields) | evaluate bag_unpack(F) | render table`,
    );
    expect(r.schema).toEqual([
      { name: "AlertId", type: "String" },
      ...["@odata.type", "createdDateTime", "ipAddress", "remediationStatus", "roles", "verdict"].map((name) => ({ name, type: "Object" })),
    ]);
    expect(r.results).toEqual([
      {
        AlertId: c2.id,
        "@odata.type": "#microsoft.graph.security.ipEvidence",
        createdDateTime: c2.createdDateTime,
        ipAddress: "198.51.100.23",
        remediationStatus: "none",
        roles: [],
        verdict: "malicious",
      },
    ]);
    const prefixed = await hunt(
      `AlertEvidence | where EntityType == "Ip" | project verdict = "mine", F = parse_json(AdditionalFields) | evaluate bag_unpack(F, "ev_")`,
    );
    expect(prefixed.results.map((x) => [x.verdict, x.ev_verdict, x.ev_ipAddress])).toEqual([["mine", "malicious", "198.51.100.23"]]);
    const clash = await post(`AlertEvidence | where EntityType == "Ip" | project verdict = 1, F = parse_json(AdditionalFields) | evaluate bag_unpack(F)`);
    expect(clash.status).toBe(400);
    expect(clash.body.error.message).toMatch(/property 'verdict' has the name of an existing column/);
    // The properties are those of the rows the query reads: none, no column.
    const none = await hunt(`AlertEvidence | where EntityType == "Nothing" | project AlertId, F = parse_json(AdditionalFields) | evaluate bag_unpack(F)`);
    expect(none).toMatchObject({ schema: [{ name: "AlertId", type: "String" }], results: [] });
  });
});

describe("matches regex reads the same on both stores as RE2 does", () => {
  const texts = [
    "powershell.exe -enc SQBFAFgA",
    "PowerShell -EncodedCommand",
    "line one\nline two",
    "a\tb",
    "word_boundary test",
    "été 2026 ünïcödé",
    "C:\\Windows\\System32\\cmd.exe",
    "x[1]{2}(3)",
    "",
    "٣ arabic digit",
    "10.0.0.1",
  ];
  const patterns = [
    String.raw`^power`,
    String.raw`(?i)^power`,
    String.raw`\bbound`,
    String.raw`\Bound`,
    String.raw`\d+`,
    String.raw`^\d`,
    String.raw`\w+\s\w+`,
    String.raw`one.line`,
    String.raw`(?s)one.line`,
    String.raw`(?m)^line two$`,
    String.raw`^line two$`,
    String.raw`[^a-z ]`,
    String.raw`[[:alpha:]]{5}`,
    String.raw`\\System32\\`,
    String.raw`x\[1\]\{2\}\(3\)`,
    String.raw`^$`,
    String.raw`é|ü`,
    String.raw`(a|b)\tb`,
    String.raw`\x41|\x{61}`,
    String.raw`^(\d{1,3}\.){3}\d{1,3}$`,
    String.raw`[\d.]{7,}`,
    String.raw`-(enc|EncodedCommand)\b`,
    String.raw`a*?b`,
  ];
  it("for every pattern on every text", async () => {
    const table = `datatable(I:long, S:string)[${texts.map((s, i) => `${i}, ${JSON.stringify(s)}`).join(", ")}]`;
    for (const pattern of patterns) {
      const r = await rows(`${table} | where S matches regex @"${pattern.replace(/"/g, '""')}" | order by I asc | project I`);
      const expected = texts.flatMap((s, i) => (RE2JS.compile(pattern).matcher(s).find() ? [{ I: i }] : []));
      expect(r, pattern).toEqual(expected);
    }
  });

  it("a pattern that backtracks exponentially in other engines answers at once", async () => {
    await rows("AlertInfo | take 1"); // the language service loads on the first query
    const started = Date.now();
    const r = await rows(`datatable(S:string)["${"a".repeat(5000)}!", "aaa"] | where S matches regex @"^(a+)+$" | project N = strlen(S)`);
    expect(r).toEqual([{ N: 3 }]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("extract() takes the same group as RE2", async () => {
    const cases: [string, number][] = [
      [String.raw`(\w+)\.exe`, 1],
      [String.raw`(?i)(POWER)(shell)`, 2],
      [String.raw`\d+`, 0],
      [String.raw`(\d+)\.(\d+)`, 2],
      [String.raw`(?i)encoded(command)?`, 1],
    ];
    const table = `datatable(I:long, S:string)[${texts.map((s, i) => `${i}, ${JSON.stringify(s)}`).join(", ")}]`;
    for (const [pattern, group] of cases) {
      const r = await rows(`${table} | project I, X = extract(@"${pattern}", ${group}, S) | order by I asc | project X`);
      const expected = texts.map((s) => {
        const m = RE2JS.compile(pattern).matcher(s);
        return { X: m.find() ? (m.group(group) ?? "") : "" };
      });
      expect(r, pattern).toEqual(expected);
    }
  });
});

describe("outside the vocabulary: a 400 that names it and its position", () => {
  it.each([
    ["another plugin", `AlertInfo | evaluate autocluster()`, /'evaluate autocluster\(\)' is not supported.*\[line:position=1:22\]/],
    ["a backreference", String.raw`AlertInfo | where Title matches regex @"(a)\1"`, /invalid pattern.*\[line:position=1:39\]/],
    ["lookahead", String.raw`AlertInfo | where Title matches regex "(?=a)"`, /invalid pattern/],
    ["a Unicode class", String.raw`AlertInfo | where Title matches regex @"\pL"`, /the escape '\\p'/],
    ["flags inside the pattern", String.raw`AlertInfo | where Title matches regex @"a(?i)b"`, /flags or a group kind/],
    ["a lazy quantifier in extract", String.raw`AlertInfo | project X = extract(@"a+?", 0, Title)`, /lazy quantifier in extract/],
    ["a regex that is not constant", `AlertInfo | where Title matches regex Category`, /not a constant string/],
    [
      "a capture group the pattern lacks",
      String.raw`AlertInfo | project X = extract(@"(a)", 2, Title)`,
      /capture group 2 of a pattern with 1 \[line:position=1:41\]/,
    ],
    ["a format field format_datetime lacks", `AlertInfo | project X = format_datetime(Timestamp, "yyyy-MMM")`, /'MMM' in the format of format_datetime\(\)/],
    [
      "bag_unpack without a schema followed by another operator",
      `AlertEvidence | extend F = parse_json(AdditionalFields) | evaluate bag_unpack(F) | take 1`,
      /followed by other operators without an output schema.*\[line:position=1:59\]/,
    ],
    [
      "a function",
      `AlertInfo | project X = base64_decode_tostring(Title)`,
      /The function 'base64_decode_tostring\(\)' is not supported.*\[line:position=1:25\]/,
    ],
    ["an operator", `AlertInfo | make-series count() on Timestamp step 1h`, /The 'make-series' operator is not supported.*\[line:position=1:13\]/],
  ])("%s", async (_, query, message) => {
    const r = await post(query);
    expect(r.status, r.text).toBe(400);
    expect(r.body.error.code).toBe("BadRequest");
    expect(r.body.error.message).toMatch(message);
  });
});
