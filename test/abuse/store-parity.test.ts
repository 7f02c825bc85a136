import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert } from "../support/alerts.js";
import { expectGraphError } from "./support.js";
import { findAlertRow, writeAlert } from "../../src/store/alerts.js";
import { alertRecordOf } from "../../src/store/alert-rows.js";
import { GraphError } from "../../src/errors/graph-error.js";

/**
 * Inputs that one store accepted and the other answered with a 500: each must get the same answer
 * on SQLite and on PostgreSQL (this file runs on both).
 */
let t: TestTriage;
let incidentId: string;
let alertId: string;
beforeAll(async () => {
  t = await startTriage();
  const a = alert();
  const r = await t.ingest([a]);
  expect(r.status).toBe(200);
  incidentId = r.body.value[0].incidentId;
  alertId = a.id as string;
});
afterAll(async () => {
  await t.close();
});

const enc = encodeURIComponent;
const NUL = "\u0000";

describe("NUL characters are refused wherever input enters, naming where", () => {
  it("refuses a batch in which one alert holds NUL, commits none of it, and names the alert and property", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ title: `a${NUL}b` }, "value[1].title"],
      [{ id: `x${NUL}y` }, "value[1].id"],
      [{ assignedTo: `me${NUL}` }, "value[1].assignedTo"],
      [{ customDetails: { [`k${NUL}`]: "v" } }, "value[1].customDetails"],
      [{ evidence: [{ "@odata.type": "#microsoft.graph.security.ipEvidence", ipAddress: `10.0.0.1${NUL}` }] }, "value[1].evidence[0].ipAddress"],
    ];
    for (const [extra, property] of cases) {
      const good = alert();
      const r = await t.ingest([good, alert({ extra })]);
      expectGraphError(r, 400, property);
      expect((await t.get(`/v1.0/security/alerts_v2/${enc(good.id as string)}`)).status).toBe(404);
    }
  });

  it("refuses unpaired UTF-16 surrogates, which poisoned every JSON query of the tenant on PostgreSQL", async () => {
    for (const [extra, property] of [
      [{ title: "a\ud800b" }, "value[0].title"],
      [{ customDetails: { k: "\udc00" } }, "value[0].customDetails.k"],
    ] as const) {
      const r = await t.request("POST", "/ingest/alerts", {
        rawBody: JSON.stringify({ value: [alert({ device: "parity-device", extra })] }),
        headers: { "content-type": "application/json" },
      });
      expectGraphError(r, 400, property);
    }
    expect((await t.get(`/v1.0/security/alerts_v2?$filter=${enc("evidence/any(e: e/verdict eq 'suspicious')")}`)).status).toBe(200);
    expect((await t.get(`/v1.0/security/incidents?$filter=${enc("customTags/any(c: c eq 'x')")}`)).status).toBe(200);
    expect((await t.ingest([alert({ device: "parity-device" })])).status).toBe(200);
  });

  it("refuses NUL in PATCH bodies and comments", async () => {
    expectGraphError(await t.request("PATCH", `/v1.0/security/alerts_v2/${enc(alertId)}`, { body: { assignedTo: `a${NUL}b` } }), 400, "assignedTo");
    expectGraphError(await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, { body: { displayName: `a${NUL}b` } }), 400, "displayName");
    expectGraphError(await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, { body: { customTags: [`a${NUL}`] } }), 400, "customTags[0]");
    expectGraphError(await t.request("POST", `/v1.0/security/incidents/${incidentId}/comments`, { body: { comment: `a${NUL}b` } }), 400, "comment");
    const incident = await t.get(`/v1.0/security/incidents/${incidentId}`);
    expect(incident.body.comments).toEqual([]);
  });

  it("refuses NUL in $filter literals and path ids", async () => {
    for (const filter of [`title eq 'a${NUL}b'`, `assignedTo eq '${NUL}'`, `evidence/any(e: e/microsoft.graph.security.ipEvidence/ipAddress eq '${NUL}')`]) {
      expectGraphError(await t.get(`/v1.0/security/alerts_v2?$filter=${enc(filter)}`), 400, "$filter");
    }
    expectGraphError(await t.get(`/v1.0/security/incidents?$filter=${enc(`displayName eq '${NUL}'`)}`), 400, "$filter");
    for (const path of [
      "/v1.0/security/alerts_v2/a%00b",
      "/v1.0/security/incidents/1%00",
      "/triage/alerts/a%00b/audit",
      "/v1.0/security/alerts_v2/a%00b/comments",
    ]) {
      const r = path.endsWith("comments") ? await t.request("POST", path, { body: { comment: "x" } }) : await t.get(path);
      expectGraphError(r, 400, "NUL");
    }
    expectGraphError(await t.request("PATCH", "/v1.0/security/alerts_v2/a%00b", { body: { status: "resolved" } }), 400, "NUL");
  });
});

describe("NUL in the sign-in endpoints' input", () => {
  it("is a 400 naming the field, not a 500", async () => {
    const token = `/${t.tenantId}/oauth2/v2.0/token`;
    const form = new URLSearchParams({
      grant_type: "client_credentials",
      client_id: `a${NUL}b`,
      client_secret: "x",
      scope: "https://graph.microsoft.com/.default",
    });
    const r = await t.request("POST", token, { rawBody: form.toString(), headers: { "content-type": "application/x-www-form-urlencoded", authorization: "" } });
    // The token endpoint answers in Entra's OAuth shape, which MSAL and @azure/identity read.
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_request");
    expect(r.body.error_codes).toEqual([900144]);
    expect(r.body.error_description).toContain("client_id");
    const deviceLogin = await t.request("POST", "/devicelogin", {
      rawBody: new URLSearchParams({ code: `A${NUL}`, username: "u", password: "p" }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: "" },
    });
    expectGraphError(deviceLogin, 400, "code");
    const authorize = await t.request("GET", `/${t.tenantId}/oauth2/v2.0/authorize?client_id=a%00b&response_type=code&redirect_uri=http%3A%2F%2Flocalhost`, {
      headers: { authorization: "" },
    });
    expectGraphError(authorize, 400, "client_id");
  });
});

describe("ids beyond the id column are not found, as on SQLite", () => {
  it("answers 404 for an incident id past 32 bits on every route", async () => {
    const big = "92912465527";
    expectGraphError(await t.get(`/v1.0/security/incidents/${big}`), 404, big);
    expectGraphError(await t.get(`/beta/security/incidents/${big}`), 404, big);
    expectGraphError(await t.get(`/v1.0/security/incidents/${big}/alerts`), 404, big);
    expectGraphError(await t.request("PATCH", `/v1.0/security/incidents/${big}`, { body: { status: "active" } }), 404, big);
    expectGraphError(await t.request("POST", `/v1.0/security/incidents/${big}/comments`, { body: { comment: "x" } }), 404, big);
    expectGraphError(await t.get(`/triage/incidents/${big}/audit`), 404, big);
    expectGraphError(await t.get(`/triage/incidents/${big}/correlation`), 404, big);
  });

  it("filters on ids past 32 bits without an error", async () => {
    const incidents = (await t.get("/v1.0/security/incidents")).body.value.length as number;
    const alerts = (await t.get("/v1.0/security/alerts_v2")).body.value.length as number;
    expect(incidents).toBeGreaterThan(0);
    const cases: [string, string, number][] = [
      ["incidents", "id eq '92912465527'", 0],
      ["incidents", "id eq 92912465527", 0],
      ["incidents", "id lt 92912465527", incidents],
      ["incidents", "id gt -92912465527", incidents],
      ["incidents", "id in ('92912465527', '1')", 1],
      ["alerts_v2", "incidentId eq '92912465527'", 0],
      ["alerts_v2", "incidentId ne '92912465527'", alerts],
      ["alerts_v2", "incidentId ge 92912465527", 0],
    ];
    for (const [set, filter, count] of cases) {
      const r = await t.get(`/v1.0/security/${set}?$filter=${enc(filter)}`);
      expect(r.status, `${filter}: ${r.text.slice(0, 300)}`).toBe(200);
      expect(r.body.value, filter).toHaveLength(count);
    }
  });
});

describe("a forged $skiptoken is a 400", () => {
  function token(o: string, a: unknown[], b: unknown): string {
    return Buffer.from(JSON.stringify({ o, a, b })).toString("base64url");
  }
  it("refuses values of the wrong type for their sort column, and follows a genuine one", async () => {
    const forged: [string, string][] = [
      ["incidents", token("created_at:desc,id:desc", ["x", "y"], 5)],
      ["incidents", token("created_at:desc,id:desc", ["2026-01-01T00:00:00.000Z", 1e12], 5)],
      ["incidents", token("created_at:desc,id:desc", ["2026-01-01T00:00:00.000Z", 1], 1e12)],
      ["incidents", token("created_at:desc,id:desc", ["2026-01-01T00:00:00.000Z", 1.5], 5)],
      ["incidents", token("created_at:desc,id:desc", [null, 1], 5)],
      ["alerts_v2", token("created_at:desc,id:desc", [7, "a"], 5)],
      ["alerts_v2", token("created_at:desc,id:desc", ["2026-01-01T00:00:00.000Z", 7], 5)],
      ["alerts_v2", token("created_at:desc,id:desc", ["2026-01-01T00:00:00.000Z", `a${NUL}`], 5)],
    ];
    for (const [set, tok] of forged) {
      const r = await t.get(`/v1.0/security/${set}?$skiptoken=${tok}`);
      expectGraphError(r, 400, "$skiptoken");
    }
    // A genuine nextLink is still followed.
    expect((await t.ingest([alert(), alert()])).status).toBe(200);
    const first = await t.get("/v1.0/security/alerts_v2?$top=1");
    const next = new URL(first.body["@odata.nextLink"] as string);
    const second = await t.get(`${next.pathname}${next.search}`);
    expect(second.status).toBe(200);
    expect(second.body.value).toHaveLength(1);
  });
});

describe("a version conflict between writers", () => {
  it("is a Graph 409 that writes nothing, not a 500", async () => {
    const stale = await findAlertRow(t.store.db, t.tenantId, alertId);
    expect(stale).toBeDefined();
    // Another writer moves the row on after `stale` was read.
    expect((await t.request("PATCH", `/v1.0/security/alerts_v2/${enc(alertId)}`, { body: { assignedTo: "first@contoso.com" } })).status).toBe(200);
    const record = alertRecordOf(stale!);
    const next = { ...record, doc: { ...record.doc, assignedTo: "second@contoso.com" } };
    const err = await t.store.db
      .transaction()
      .execute((trx) => writeAlert(trx, stale!, next))
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(GraphError);
    expect((err as GraphError).status).toBe(409);
    expect((err as GraphError).code).toBe("Conflict");
    expect((await t.get(`/v1.0/security/alerts_v2/${enc(alertId)}`)).body.assignedTo).toBe("first@contoso.com");
  });
});
