/**
 * The two profiles (docs/graph-api.md, Profiles): a table of requests with what the lenient and the
 * strict profile answer, each row citing where the contract says what the real service accepts
 * (C = /work/shared/reference/graph-security-contract.md, A = its addendum). Then how a profile is
 * chosen: the server's, the tenant's, the app's. On SQLite and on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { confidentialClient, delegatedToken, GRAPH_DEFAULT, token } from "../support/identity.js";

interface Row {
  request: string;
  lenient: number;
  strict: number;
  /** The section of the contract that says what the real service accepts. */
  source: string;
  /** What the strict profile's 400 says. */
  refusal?: RegExp;
}

const FILTER_REFUSED =
  /^The query specified in the URI is not valid\. Invalid filter clause: The property '\w+' cannot be used in the \$filter query option\.$/;
const ORDER_REFUSED = /^The query specified in the URI is not valid\. The property '\w+' cannot be used in the \$orderby query option\.$/;

/** The resource pages' old determination names and the CSDL members that replaced them (A §8.1). */
const OLD_DETERMINATIONS = [
  ["compromisedUser", "compromisedAccount"],
  ["clean", "notMalicious"],
  ["insufficientData", "notEnoughDataToValidate"],
  ["confirmedUserActivity", "confirmedActivity"],
] as const;
/** The OData validator's 400 for a literal that is no member of the enum (C §7), the same under both profiles. */
const notAConstant = (word: string) =>
  new RegExp(`^The query specified in the URI is not valid\\. The string '${word}' is not a valid enumeration type constant for 'alertDetermination'\\.$`);

const I = "/v1.0/security/incidents";
const AL = "/v1.0/security/alerts_v2";
const UPN = "adele@contoso.com";

const ROWS: Row[] = [
  // Incidents: the seven documented $filter properties.
  { request: `${I}?$filter=severity eq 'high'`, lenient: 200, strict: 200, source: "C §6.1, A §7.2: $filter on severity" },
  { request: `${I}?$filter=status eq 'active' and severity eq 'high'`, lenient: 200, strict: 200, source: "C §6.1: the migration guide's example" },
  { request: `${I}?$filter=assignedTo eq null`, lenient: 200, strict: 200, source: "C §6.1: assignedTo eq null [O]" },
  { request: `${I}?$filter=createdDateTime ge 2025-02-07T18:28:27Z`, lenient: 200, strict: 200, source: "C §6.1: unquoted date-time literals [O]" },
  {
    request: `${I}?$filter=classification eq 'truePositive' or determination eq 'malware'`,
    lenient: 200,
    strict: 200,
    source: "C §6.1: classification, determination",
  },
  {
    request: `${I}?$filter=lastUpdateDateTime gt 2026-01-01T00:00:00Z`,
    lenient: 200,
    strict: 200,
    source: "A §7.2: lastUpdateDateTime gt, Elastic's time-boundary paging [O]",
  },
  // Incidents: Triage's extensions.
  {
    request: `${I}?$filter=displayName eq 'x'`,
    lenient: 200,
    strict: 400,
    source: "C §6.1: displayName is not a documented $filter property",
    refusal: FILTER_REFUSED,
  },
  { request: `${I}?$filter=id eq '1'`, lenient: 200, strict: 400, source: "C §6.1: id is not a documented $filter property", refusal: FILTER_REFUSED },
  {
    request: `${I}?$filter=priorityScore gt 50`,
    lenient: 200,
    strict: 400,
    source: "C §6.1: priorityScore is not a documented $filter property",
    refusal: FILTER_REFUSED,
  },
  {
    request: `${I}?$filter=customTags/any(t: t eq 'x')`,
    lenient: 200,
    strict: 400,
    source: "C §6.1: customTags is not a documented $filter property",
    refusal: FILTER_REFUSED,
  },
  {
    request: `${I}?$filter=severity eq 'high' and startswith(displayName,'x')`,
    lenient: 200,
    strict: 400,
    source: "C §6.1: a function over an undocumented property",
    refusal: FILTER_REFUSED,
  },
  {
    request: `${I}/$count?$filter=systemTags/any(t: t eq 'x')`,
    lenient: 200,
    strict: 400,
    source: "C §6.9, §6.1: $count filters as the listing does",
    refusal: FILTER_REFUSED,
  },
  // $orderby: Graph documents none; createdDateTime and lastUpdateDateTime are seen to work.
  { request: `${I}?$orderby=lastUpdateDateTime asc`, lenient: 200, strict: 200, source: "C §1.4, A §7.2: Elastic sorts by lastUpdateDateTime ascending [O]" },
  { request: `${I}?$orderby=createdDateTime desc`, lenient: 200, strict: 200, source: "C §1.4: $orderby on createdDateTime" },
  { request: `${I}?$orderby=severity desc`, lenient: 200, strict: 400, source: "C §1.4: $orderby beyond the two date-times", refusal: ORDER_REFUSED },
  { request: `${I}?$orderby=displayName`, lenient: 200, strict: 400, source: "C §1.4: $orderby beyond the two date-times", refusal: ORDER_REFUSED },
  // Paging.
  { request: `${I}?$top=50`, lenient: 200, strict: 200, source: "C §1.4: incidents $top up to 50 [O]" },
  {
    request: `${I}?$top=51`,
    lenient: 400,
    strict: 400,
    source: "C §1.4, §7: the real 400 for $top above 50 [O]",
    refusal: /The limit of '50' for Top query has been exceeded/,
  },
  { request: `${I}?$top=10&$skip=500`, lenient: 200, strict: 200, source: "A §7.2: $skip=500 answers 200 [D]" },
  {
    request: `${I}?$top=10&$skip=501`,
    lenient: 200,
    strict: 400,
    source: "A §7.2: $skip=501 answers 400 [D]",
    refusal: /The limit of '500' for Skip query has been exceeded/,
  },
  // Other options the contract says the service accepts.
  { request: `${I}?$expand=alerts&$top=5`, lenient: 200, strict: 200, source: "C §6.1: $expand=alerts" },
  { request: `${I}?$select=id,status&$count=true`, lenient: 200, strict: 200, source: "C §1.4: $select (CSDL SelectSupport) and $count" },
  { request: `${I}?$search=x`, lenient: 400, strict: 400, source: "C §1.4: no $search" },
  // Alerts.
  { request: `${AL}?$filter=serviceSource eq 'microsoftDefenderForEndpoint'`, lenient: 200, strict: 200, source: "C §6.5: serviceSource" },
  { request: `${AL}?$filter=severity eq 'high' and status eq 'new'`, lenient: 200, strict: 200, source: "C §6.5: severity, status" },
  {
    request: `${AL}?$filter=evidence/any(e: e/microsoft.graph.security.userEvidence/userAccount/userPrincipalName eq '${UPN}')`,
    lenient: 200,
    strict: 200,
    source: "A §7.2, C §5.4: the migration guide's lambda over typed evidence [D]",
  },
  { request: `${AL}?$filter=investigationState eq 'running'`, lenient: 400, strict: 400, source: "C §6.5, A §7.2: investigationState is refused with 400 [O]" },
  { request: `${AL}?$filter=title eq 'x'`, lenient: 200, strict: 400, source: "C §6.5: title is not a documented $filter property", refusal: FILTER_REFUSED },
  {
    request: `${AL}?$filter=detectionSource eq 'antivirus'`,
    lenient: 200,
    strict: 400,
    source: "C §6.5: detectionSource is not documented",
    refusal: FILTER_REFUSED,
  },
  { request: `${AL}?$filter=incidentId eq '1'`, lenient: 200, strict: 400, source: "C §6.5: incidentId is not documented", refusal: FILTER_REFUSED },
  {
    request: `${AL}?$filter=mitreTechniques/any(t: t eq 'T1059')`,
    lenient: 200,
    strict: 400,
    source: "C §6.5: mitreTechniques is not documented",
    refusal: FILTER_REFUSED,
  },
  {
    request: `${AL}?$filter=assignedTo eq null and classification eq null and determination eq null`,
    lenient: 200,
    strict: 200,
    source: "C §6.5: assignedTo, classification, determination",
  },
  {
    request: `${AL}?$filter=createdDateTime ge 2026-01-01T00:00:00Z and lastUpdateDateTime ge 2026-01-01T00:00:00Z`,
    lenient: 200,
    strict: 200,
    source: "C §6.5: createdDateTime, lastUpdateDateTime",
  },
  { request: `${AL}?$filter=id eq 'x'`, lenient: 200, strict: 400, source: "C §6.5: id is not a documented $filter property", refusal: FILTER_REFUSED },
  {
    request: `${AL}?$filter=categories/any(c: c eq 'Execution')`,
    lenient: 200,
    strict: 400,
    source: "C §6.5: categories is not documented",
    refusal: FILTER_REFUSED,
  },
  {
    request: `${AL}?$filter=firstActivityDateTime ge 2026-01-01T00:00:00Z or lastActivityDateTime le 2026-12-01T00:00:00Z`,
    lenient: 200,
    strict: 400,
    source: "C §6.5: the activity date-times are not documented",
    refusal: FILTER_REFUSED,
  },
  {
    request: `${AL}?$orderby=lastUpdateDateTime asc&$top=1000`,
    lenient: 200,
    strict: 200,
    source: "A §7.2: Elastic's alert batches of 1000, in lastUpdateDateTime order [O]",
  },
  { request: `${AL}?$top=2000`, lenient: 200, strict: 200, source: "A §7.2: a $top above 1000 is clamped, not refused [O]" },
  // The old determination names in $filter: lenient reads them as the current members, strict as any non-member.
  ...OLD_DETERMINATIONS.flatMap(([old, current]): Row[] => [
    {
      request: `${I}?$filter=determination eq '${old}'`,
      lenient: 200,
      strict: 400,
      source: `CSDL EnumType alertDetermination has no member '${old}' (A §8.1, §8.3; the strict PATCH refuses it too)`,
      refusal: notAConstant(old),
    },
    {
      request: `${AL}?$filter=determination eq '${old}'`,
      lenient: 200,
      strict: 400,
      source: `CSDL EnumType alertDetermination has no member '${old}' (A §8.1, §8.3)`,
      refusal: notAConstant(old),
    },
    {
      request: `${I}?$filter=determination eq '${current}'`,
      lenient: 200,
      strict: 200,
      source: `CSDL EnumType alertDetermination member '${current}' (A §8.3)`,
    },
  ]),
  {
    request: `${AL}?$filter=determination in ('malware', 'Clean')`,
    lenient: 200,
    strict: 400,
    source: "CSDL EnumType alertDetermination has no member 'clean', in any case (C §1.1: enum input is read case-insensitively)",
    refusal: notAConstant("Clean"),
  },
  {
    request: `${I}?$filter='insufficientData' ne determination`,
    lenient: 200,
    strict: 400,
    source: "CSDL EnumType alertDetermination has no member 'insufficientData'; the literal on the left",
    refusal: notAConstant("insufficientData"),
  },
  {
    request: `${I}?$filter=determination eq microsoft.graph.security.alertDetermination'confirmedUserActivity'`,
    lenient: 200,
    strict: 400,
    source: "CSDL EnumType alertDetermination has no member 'confirmedUserActivity'; a qualified enum literal",
    refusal: notAConstant("confirmedUserActivity"),
  },
  {
    request: `${I}?$filter=determination eq 'notAMember'`,
    lenient: 400,
    strict: 400,
    source: "CSDL EnumType alertDetermination: not a member (C §7: unknown enum literal, 400)",
    refusal: notAConstant("notAMember"),
  },
];

/** Graph documents no $orderby; the two date-times are seen to work (C §1.4, A §7.2): every other sort key is a lenient extension. */
const GRAPH_SORTS = ["createdDateTime", "lastUpdateDateTime"];
const SORTABLE = {
  [I]: ["id", "status", "displayName", "createdDateTime", "lastUpdateDateTime", "assignedTo", "classification", "determination", "severity", "priorityScore"],
  [AL]: [
    "id",
    "incidentId",
    "status",
    "severity",
    "classification",
    "determination",
    "serviceSource",
    "detectionSource",
    "title",
    "assignedTo",
    "createdDateTime",
    "lastUpdateDateTime",
    "firstActivityDateTime",
    "lastActivityDateTime",
  ],
};
for (const [base, names] of Object.entries(SORTABLE)) {
  for (const name of names) {
    const graph = GRAPH_SORTS.includes(name);
    ROWS.push({
      request: `${base}?$orderby=${name} desc`,
      lenient: 200,
      strict: graph ? 200 : 400,
      source: "C §1.4: $orderby",
      ...(graph ? {} : { refusal: ORDER_REFUSED }),
    });
  }
}

interface PatchRow {
  body: Record<string, unknown>;
  lenient: number;
  strict: number;
  /** Where the reference says which values the real service takes (CSDL = msgraph-v1.0-security.csdl.xml). */
  source: string;
  /** The value stored when accepted. */
  stored?: Record<string, unknown>;
  /** What the 400 says, when not that the word is no member. */
  refusal?: RegExp;
}

const NOT_A_MEMBER = /^The value '\w+' is not valid for '(determination|classification)'\. Valid values: /;

/** PATCH of an incident and of an alert under each profile: the strict one takes the CSDL's enum members only. */
const PATCH_ROWS: PatchRow[] = [
  ...["compromisedUser", "clean", "insufficientData", "confirmedUserActivity"].map((old): PatchRow => ({
    body: { determination: old },
    lenient: 200,
    strict: 400,
    source: `CSDL EnumType alertDetermination has no member '${old}' (A §8.1: the resource page's old name, "Follow CSDL"; A §8.3: the CSDL's members)`,
  })),
  ...["compromisedAccount", "notMalicious", "notEnoughDataToValidate", "confirmedActivity", "malware", "lineOfBusinessApplication"].map((member): PatchRow => ({
    body: { determination: member },
    lenient: 200,
    strict: 200,
    source: `CSDL EnumType alertDetermination member '${member}' (A §8.3)`,
    stored: { determination: member },
  })),
  {
    body: { determination: "MultiStagedAttack", classification: "TruePositive" },
    lenient: 200,
    strict: 200,
    source: 'C §1.1: the docs send PascalCase ("TruePositive", "MultiStagedAttack"); input in any case, camelCase out',
    stored: { determination: "multiStagedAttack", classification: "truePositive" },
  },
  {
    body: { determination: "unknownFutureValue" },
    lenient: 400,
    strict: 400,
    source: "C §1.3: the sentinel is not a value to set",
    refusal: /^The value 'unknownFutureValue' cannot be set on 'determination'\.$/,
  },
  { body: { determination: "notAMember" }, lenient: 400, strict: 400, source: "CSDL EnumType alertDetermination: not a member" },
];

let t: TestTriage;
let admin: Record<string, string>;
let lenientApp: { clientId: string; h: Record<string, string> };
let strictApp: { clientId: string; h: Record<string, string> };

async function newApp(tenant: string): Promise<{ clientId: string; h: Record<string, string> }> {
  const { app, secret } = await confidentialClient(t, tenant, { application: ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"] });
  const r = await token(t, tenant, { grant_type: "client_credentials", client_id: app.clientId, client_secret: secret, scope: GRAPH_DEFAULT });
  return { clientId: app.clientId, h: { authorization: `Bearer ${r.body.access_token as string}` } };
}

async function setProfile(profile: string | null, clientId?: string): Promise<void> {
  const r = await t.request("PUT", clientId ? `/triage/admin/apps/${clientId}/profile` : "/triage/admin/profile", { body: { profile }, headers: admin });
  expect(r.status, r.text).toBe(204);
}

beforeAll(async () => {
  t = await startTriage({ settingsTtlMs: 1 });
  admin = { authorization: `Bearer ${await delegatedToken(t, t.tenantId, ["SecurityIncident.ReadWrite.All"], ["Security Administrator"])}` };
  lenientApp = await newApp(t.tenantId);
  strictApp = await newApp(t.tenantId);
  const res = await t.ingest([alert({ device: deviceId(), user: UPN }), alert({ device: deviceId() })]);
  expect(res.status).toBe(200);
  await setProfile("strict", strictApp.clientId);
});

afterAll(async () => {
  await t?.close();
});

describe("what each profile accepts", () => {
  it.each(ROWS)("$request → lenient $lenient, strict $strict ($source)", async (row) => {
    const lenient = await t.get(row.request, lenientApp.h);
    expect(lenient.status, lenient.text).toBe(row.lenient);
    // The same query string, just read under the other profile: a plan accepted for one caller is not reused for another.
    const strict = await t.get(row.request, strictApp.h);
    expect(strict.status, strict.text).toBe(row.strict);
    if (row.strict === 400) {
      expect(strict.body.error.code).toBe("");
      expect(strict.body.error.details).toEqual([]);
      if (row.refusal) expect(strict.body.error.message).toMatch(row.refusal);
    }
    if (row.lenient === 200 && row.strict === 200 && !row.request.includes("/$count")) {
      // Where both accept, both answer the same.
      expect(strict.body.value).toEqual(lenient.body.value);
    }
  });

  it("the table covers every filterable and sortable property of both resources", async () => {
    const { properties } = await import("../../src/schema/meta.js");
    const { incidentResource } = await import("../../src/schema/incident.js");
    const { alertResource } = await import("../../src/schema/alert.js");
    for (const [r, base] of [
      [incidentResource, I],
      [alertResource, AL],
    ] as const) {
      const rows = ROWS.filter((row) => row.request.startsWith(base));
      for (const p of properties(r.schema).values()) {
        if (p.meta.filterable) {
          const named = rows.filter((row) => new RegExp(`\\$filter=[^&]*\\b${p.name}\\b`).test(row.request));
          expect(named.length, `${r.entitySet} ${p.name} in $filter`).toBeGreaterThan(0);
          expect(
            named.some((row) => row.strict === (p.meta.graphFilterable ? 200 : 400)),
            `${r.entitySet} ${p.name}`,
          ).toBe(true);
        }
        if (p.meta.sortable)
          expect(
            rows.some((row) => row.request.includes(`$orderby=${p.name} `)),
            `${r.entitySet} ${p.name} in $orderby`,
          ).toBe(true);
      }
    }
  });
});

describe("what each profile accepts in a PATCH", () => {
  const targets = async () => {
    const incidents = await t.get(`${I}?$top=1&$expand=alerts`, lenientApp.h);
    const incident = incidents.body.value[0] as { id: string; alerts: { id: string }[] };
    return [`${I}/${incident.id}`, `${AL}/${incident.alerts[0]!.id}`];
  };

  it.each(PATCH_ROWS)("PATCH $body → lenient $lenient, strict $strict ($source)", async (row) => {
    for (const path of await targets()) {
      const strict = await t.request("PATCH", path, { body: row.body, headers: strictApp.h });
      expect(strict.status, `${path} ${strict.text}`).toBe(row.strict);
      if (row.strict === 400) {
        // The real service's answer to a word that is not a member of the enum, and nothing changed.
        expect(strict.body.error.code).toBe("BadRequest");
        expect(strict.body.error.message).toMatch(row.refusal ?? NOT_A_MEMBER);
        // The values it lists are the CSDL's members, none of the old names.
        const listed = /Valid values: (.*)\.$/.exec(strict.body.error.message as string)?.[1] ?? "";
        expect(listed).not.toMatch(/compromisedUser|insufficientData|confirmedUserActivity|\bclean\b/);
      } else if (row.stored) {
        expect(strict.body).toMatchObject(row.stored);
      }
      const lenient = await t.request("PATCH", path, { body: row.body, headers: lenientApp.h });
      expect(lenient.status, `${path} ${lenient.text}`).toBe(row.lenient);
      if (row.lenient === 400) expect(lenient.body.error.code).toBe("BadRequest");
    }
  });

  it("the lenient profile stores an old determination name as the CSDL's member; the strict one leaves the value as it was", async () => {
    const [incident] = await targets();
    expect((await t.request("PATCH", incident!, { body: { determination: "malware" }, headers: strictApp.h })).status).toBe(200);
    const refused = await t.request("PATCH", incident!, { body: { determination: "clean" }, headers: strictApp.h });
    expect(refused.status).toBe(400);
    expect((await t.get(incident!, strictApp.h)).body.determination).toBe("malware");
    const accepted = await t.request("PATCH", incident!, { body: { determination: "clean" }, headers: lenientApp.h });
    expect(accepted.status).toBe(200);
    expect(accepted.body.determination).toBe("notMalicious");
  });

  it("every value the strict profile takes for determination is a member in Graph's v1.0 CSDL, and every member is taken", async () => {
    const { readFileSync } = await import("node:fs");
    const csdl = readFileSync(new URL("./fixtures/msgraph-v1.0-security.csdl.xml", import.meta.url), "utf8");
    const block = /<EnumType Name="alertDetermination">([\s\S]*?)<\/EnumType>/.exec(csdl)?.[1] ?? "";
    const members = [...block.matchAll(/<Member Name="(\w+)"/g)].map((m) => m[1]!);
    expect(members.length).toBeGreaterThan(10);
    const { alertDetermination, parseEnum } = await import("../../src/schema/enums.js");
    expect([...alertDetermination.memberLookup.values()].sort()).toEqual([...members].sort());
    for (const old of ["compromisedUser", "clean", "insufficientData", "confirmedUserActivity"]) {
      expect(members).not.toContain(old);
      expect(parseEnum(alertDetermination, old, true)).toBeUndefined();
    }
  });
});

describe("which profile applies", () => {
  it("the app's, else the tenant's, else the server's; null inherits again", async () => {
    const refused = `${I}?$filter=displayName eq 'x'`;
    expect((await t.get(refused, lenientApp.h)).status).toBe(200);
    await setProfile("strict");
    expect((await t.get(refused, lenientApp.h)).status).toBe(400);
    await setProfile("lenient", lenientApp.clientId);
    expect((await t.get(refused, lenientApp.h)).status).toBe(200);
    const view = await t.request("GET", "/triage/admin/profiles", { headers: admin });
    expect(view.body).toEqual({
      server: "lenient",
      tenant: "strict",
      apps: expect.arrayContaining([
        { clientId: lenientApp.clientId, profile: "lenient" },
        { clientId: strictApp.clientId, profile: "strict" },
      ]),
    });
    await setProfile(null, lenientApp.clientId);
    await setProfile(null);
    expect((await t.get(refused, lenientApp.h)).status).toBe(200);
    expect((await t.request("GET", "/triage/admin/profiles", { headers: admin })).body.tenant).toBeNull();
  });

  it("refuses a profile that is not one, and a caller who is not an administrator", async () => {
    const bad = await t.request("PUT", "/triage/admin/profile", { body: { profile: "pedantic" }, headers: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/'profile' must be lenient or strict, or null/);
    expect((await t.request("PUT", "/triage/admin/profile", { body: { profile: "strict" }, headers: lenientApp.h })).status).toBe(403);
    expect((await t.get(`${I}?$filter=displayName eq 'x'`, lenientApp.h)).status).toBe(200);
  });

  it("a server started strict (triage serve --profile strict) reads every caller strictly unless its tenant or app says otherwise", async () => {
    const strictServer = await startTriage({ profile: "strict", settingsTtlMs: 1 });
    try {
      const h = await strictServer.auth(strictServer.tenantId);
      expect((await strictServer.get(`${I}?$filter=displayName eq 'x'`, h)).status).toBe(400);
      expect((await strictServer.get(`${I}?$filter=severity eq 'high'`, h)).status).toBe(200);
      const { setProfile: store } = await import("../../src/store/profiles.js");
      await store(strictServer.store.db, strictServer.tenantId, "", "lenient");
      expect((await strictServer.get(`${I}?$filter=displayName eq 'x'`, h)).status).toBe(200);
    } finally {
      await strictServer.close();
    }
  });
});
