import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";

let t: TestTriage;
let incidentId: string;
let mdeAlert: string;
let otherAlert: string;
let sentinelAlert: string;

const JSON_TYPE = { "Content-Type": "application/json" };

function batch(requests: unknown[], opts: { version?: string; headers?: Record<string, string> } = {}) {
  return t.request("POST", `/${opts.version ?? "v1.0"}/$batch`, { body: { requests }, headers: opts.headers });
}

/** The responses of a batch, by id. */
function byId(body: any): Record<string, any> {
  return Object.fromEntries(body.responses.map((r: any) => [r.id, r]));
}

beforeAll(async () => {
  t = await startTriage();
  const d = deviceId();
  const a1 = alert({ device: d, severity: "medium", title: "Suspicious PowerShell command line" });
  const a2 = alert({ device: d, severity: "high", title: "Credential dumping from LSASS", category: "CredentialAccess" });
  const sentinel = alert({ device: deviceId(), serviceSource: "microsoftSentinel", detectionSource: "scheduledAlerts", severity: "low" });
  const r = await t.ingest([a1, a2, sentinel]);
  expect(r.status).toBe(200);
  incidentId = r.body.value[0].incidentId;
  mdeAlert = a1.id as string;
  otherAlert = a2.id as string;
  sentinelAlert = sentinel.id as string;
});
afterAll(async () => {
  await t.close();
});

describe("POST /v1.0/$batch", () => {
  it("answers every step like a direct call, in request order", async () => {
    const r = await batch([
      { id: "list", method: "GET", url: "/security/incidents?$top=1" },
      { id: "one", method: "GET", url: `/security/incidents/${incidentId}` },
      { id: "patch", method: "PATCH", url: `/security/alerts_v2/${otherAlert}`, headers: JSON_TYPE, body: { status: "inProgress" } },
      { id: "comment", method: "POST", url: `/security/incidents/${incidentId}/comments`, headers: JSON_TYPE, body: { comment: "Batched triage note" } },
      { id: "count", method: "GET", url: "/security/alerts_v2/$count" },
      { id: "missing", method: "GET", url: "/security/incidents/999999" },
    ]);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/json;/);
    expect(r.body.responses.map((s: any) => [s.id, s.status])).toEqual([
      ["list", 200],
      ["one", 200],
      ["patch", 200],
      ["comment", 200],
      ["count", 200],
      ["missing", 404],
    ]);
    const s = byId(r.body);

    expect(s.list.headers["Content-Type"]).toMatch(/^application\/json;/);
    expect(s.list.body.value).toHaveLength(1);
    expect(s.list.body["@odata.nextLink"]).toMatch(new RegExp(`^${t.url}/v1\\.0/security/incidents\\?`));

    expect(s.one.body).toMatchObject({ id: incidentId, "@odata.context": `${t.url}/v1.0/$metadata#security/incidents/$entity` });
    expect(s.patch.body).toMatchObject({ id: otherAlert, status: "inProgress" });
    expect(s.comment.body.value.map((c: any) => c.comment)).toContain("Batched triage note");

    expect(s.count.headers["Content-Type"]).toMatch(/^text\/plain/);
    expect(s.count.body).toBe("3");

    expect(s.missing.headers["Content-Type"]).toMatch(/^application\/json/);
    expect(s.missing.body.error).toMatchObject({ code: "NotFound", message: "Incident with id '999999' was not found." });
    expect(s.missing.body.error.innerError).toHaveProperty("request-id");

    // The writes really happened.
    expect((await t.get(`/v1.0/security/alerts_v2/${otherAlert}`)).body.status).toBe("inProgress");
  });

  it("writes header keys as Graph does, with Content-Type spelled exactly", async () => {
    const r = await batch([{ id: "1", method: "GET", url: `/security/alerts_v2/${mdeAlert}` }]);
    const headers = r.body.responses[0].headers;
    expect(Object.keys(headers)).toContain("Content-Type");
    expect(Object.keys(headers)).not.toContain("content-type");
    expect(typeof r.body.responses[0].body).toBe("object");
  });

  it("runs a step after the steps it depends on, whatever their order in the batch", async () => {
    const r = await batch([
      { id: "read", method: "GET", url: `/security/alerts_v2/${mdeAlert}?$select=status,classification`, dependsOn: ["resolve"] },
      {
        id: "resolve",
        method: "PATCH",
        url: `/security/alerts_v2/${mdeAlert}`,
        headers: JSON_TYPE,
        body: { status: "resolved", classification: "falsePositive" },
      },
    ]);
    expect(r.body.responses.map((s: any) => s.id)).toEqual(["read", "resolve"]);
    const s = byId(r.body);
    expect(s.resolve.status).toBe(200);
    expect(s.read.body).toMatchObject({ status: "resolved", classification: "falsePositive" });
  });

  it("answers 424 to the steps whose dependency failed, down the chain", async () => {
    const r = await batch([
      { id: "bad", method: "PATCH", url: "/security/alerts_v2/no-such-alert", headers: JSON_TYPE, body: { status: "resolved" } },
      { id: "after", method: "GET", url: `/security/alerts_v2/${mdeAlert}`, dependsOn: ["bad"] },
      { id: "later", method: "GET", url: "/security/incidents", dependsOn: ["after"] },
      { id: "free", method: "GET", url: "/security/incidents" },
    ]);
    const s = byId(r.body);
    expect(s.bad.status).toBe(404);
    expect(s.after.status).toBe(424);
    expect(s.after.headers["Content-Type"]).toBe("application/json");
    expect(s.after.body.error.code).toBe("FailedDependency");
    expect(s.after.body.error.message).toContain("'bad'");
    expect(s.later.status).toBe(424);
    expect(s.free.status).toBe(200);
  });

  it("rejects a step with a body but no Content-Type, and runs the others", async () => {
    const r = await batch([
      { id: "1", method: "PATCH", url: `/security/alerts_v2/${mdeAlert}`, body: { status: "new" } },
      { id: "2", method: "GET", url: `/security/alerts_v2/${mdeAlert}` },
    ]);
    const s = byId(r.body);
    expect(s["1"].status).toBe(400);
    expect(s["1"].body.error).toMatchObject({ code: "BadRequest", message: "Write request id : 1 does not contain Content-Type header or body." });
    expect(s["2"].status).toBe(200);
    expect(s["2"].body.status).toBe("resolved");
  });

  it("tolerates a leading /v1.0, a url without a leading slash and an unencoded $filter", async () => {
    const r = await batch([
      { id: "versioned", method: "GET", url: `/v1.0/security/incidents/${incidentId}` },
      { id: "bare", method: "GET", url: `security/incidents/${incidentId}` },
      { id: "raw-filter", method: "GET", url: "/security/alerts_v2?$filter=severity eq 'high'&$select=id,severity" },
    ]);
    const s = byId(r.body);
    expect(s.versioned.status).toBe(200);
    expect(s.versioned.body.id).toBe(incidentId);
    expect(s.bare.status).toBe(200);
    expect(s.bare.body.id).toBe(incidentId);
    expect(s["raw-filter"].body.value).toEqual([{ id: otherAlert, severity: "high" }]);
  });

  it("rejects, per step, URLs that are absolute, leave the version, name the other version or batch again", async () => {
    const r = await batch([
      { id: "absolute", method: "GET", url: `${t.url}/v1.0/security/incidents` },
      { id: "escape", method: "GET", url: "/security/../../healthz" },
      { id: "other", method: "GET", url: "/beta/security/incidents" },
      { id: "nested", method: "POST", url: "/$batch", headers: JSON_TYPE, body: { requests: [] } },
      { id: "nested-encoded", method: "POST", url: "/%24batch", headers: JSON_TYPE, body: { requests: [] } },
      { id: "no-method", url: "/security/incidents" },
      { id: "ok", method: "get", url: "/security/incidents" },
    ]);
    const s = byId(r.body);
    for (const id of ["absolute", "escape", "other", "nested", "nested-encoded", "no-method"]) {
      expect(s[id].status, id).toBe(400);
      expect(s[id].body.error.code, id).toBe("BadRequest");
    }
    expect(s.absolute.body.error.message).toContain("absolute");
    expect(s.nested.body.error.message).toContain("$batch");
    expect(s.ok.status).toBe(200);
  });

  it("forwards the outer Prefer header to every step", async () => {
    const plain = await batch([{ id: "1", method: "GET", url: `/security/alerts_v2/${sentinelAlert}` }]);
    expect(plain.body.responses[0].body.serviceSource).toBe("unknownFutureValue");
    expect(plain.body.responses[0].headers).not.toHaveProperty("Preference-Applied");

    const opted = await batch([{ id: "1", method: "GET", url: `/security/alerts_v2/${sentinelAlert}` }], {
      headers: { prefer: "include-unknown-enum-members" },
    });
    expect(opted.body.responses[0].body.serviceSource).toBe("microsoftSentinel");
    expect(opted.body.responses[0].headers["Preference-Applied"]).toBe("include-unknown-enum-members");
  });

  it("lets step headers override the forwarded ones", async () => {
    const r = await batch([{ id: "1", method: "GET", url: `/security/alerts_v2/${sentinelAlert}`, headers: { Prefer: "return=minimal" } }], {
      headers: { prefer: "include-unknown-enum-members" },
    });
    expect(r.body.responses[0].body.serviceSource).toBe("unknownFutureValue");
  });

  it("runs every step as the outer request's caller", async () => {
    const other = await t.newTenant();
    const theirs = await batch([{ id: "1", method: "GET", url: "/security/incidents" }], { headers: await t.auth(other) });
    expect(theirs.body.responses[0].body.value).toEqual([]);

    const unknown = await batch([{ id: "1", method: "GET", url: "/security/incidents" }], { headers: { authorization: "" } });
    expect(unknown.status).toBe(200);
    expect(unknown.body.responses[0].status).toBe(401);
    expect(unknown.body.responses[0].headers["WWW-Authenticate"]).toContain("Bearer");
    expect(unknown.body.responses[0].body.error.code).toBe("InvalidAuthenticationToken");
  });

  it("reports the step's useful headers, such as Allow on a 405", async () => {
    const r = await batch([{ id: "1", method: "DELETE", url: `/security/incidents/${incidentId}` }]);
    const step = r.body.responses[0];
    expect(step.status).toBe(405);
    expect(step.headers.Allow).toBe("GET, PATCH");
    expect(step.body.error.code).toBe("MethodNotAllowed");
  });
});

describe("POST /beta/$batch", () => {
  it("reaches the beta properties", async () => {
    const beta = await batch([{ id: "1", method: "GET", url: `/security/incidents/${incidentId}` }], { version: "beta" });
    expect(beta.body.responses[0].body["@odata.context"]).toBe(`${t.url}/beta/$metadata#security/incidents/$entity`);
    expect(beta.body.responses[0].body).toHaveProperty("recommendedActions");

    const tolerated = await batch([{ id: "1", method: "GET", url: `/beta/security/incidents/${incidentId}` }], { version: "beta" });
    expect(tolerated.body.responses[0].body).toHaveProperty("recommendedActions");

    const v1 = await batch([{ id: "1", method: "GET", url: `/security/incidents/${incidentId}` }]);
    expect(v1.body.responses[0].body).not.toHaveProperty("recommendedActions");
  });
});

describe("invalid batches", () => {
  function expectBadRequest(r: { status: number; body: any }, message: string | RegExp) {
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("BadRequest");
    expect(r.body.error.message).toMatch(message);
    expect(r.body.error.innerError).toHaveProperty("request-id");
  }

  it("rejects more than 20 requests", async () => {
    const requests = Array.from({ length: 21 }, (_, i) => ({ id: String(i + 1), method: "GET", url: "/security/incidents" }));
    expectBadRequest(await batch(requests), "at most 20");
    expect((await batch(requests.slice(0, 20))).status).toBe(200);
  });

  it("rejects duplicate ids", async () => {
    const r = await batch([
      { id: "1", method: "GET", url: "/security/incidents" },
      { id: "1", method: "GET", url: "/security/alerts_v2" },
    ]);
    expectBadRequest(r, "'1' is used by more than one request");
  });

  it("rejects a dependency cycle and an unknown dependency", async () => {
    const cycle = await batch([
      { id: "a", method: "GET", url: "/security/incidents", dependsOn: ["c"] },
      { id: "b", method: "GET", url: "/security/incidents", dependsOn: ["a"] },
      { id: "c", method: "GET", url: "/security/incidents", dependsOn: ["b"] },
    ]);
    expectBadRequest(cycle, "cycle");
    const self = await batch([{ id: "a", method: "GET", url: "/security/incidents", dependsOn: ["a"] }]);
    expectBadRequest(self, "cycle");
    const unknown = await batch([{ id: "a", method: "GET", url: "/security/incidents", dependsOn: ["zz"] }]);
    expectBadRequest(unknown, "'zz', which is not a request of this batch");
  });

  it("rejects bodies that are not a batch", async () => {
    expectBadRequest(await t.request("POST", "/v1.0/$batch", { rawBody: "{not json", headers: JSON_TYPE }), "not valid JSON");
    expectBadRequest(await t.request("POST", "/v1.0/$batch", { body: [1, 2] }), "must be a JSON object");
    expectBadRequest(await t.request("POST", "/v1.0/$batch", { body: { value: [] } }), "'requests' array");
    expectBadRequest(await t.request("POST", "/v1.0/$batch", { body: { requests: [{ method: "GET", url: "/security/incidents" }] } }), "needs an 'id'");
  });

  it("allows only POST", async () => {
    const r = await t.get("/v1.0/$batch");
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("POST");
  });
});
