import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";

let t: TestTriage;
beforeAll(async () => {
  t = await startTriage({ bodyLimit: 2048 });
});
afterAll(async () => {
  await t.close();
});

function expectGraphError(r: { status: number; body: any; headers: Headers }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.headers.get("content-type")).toMatch(/^application\/json/);
  expect(r.body.error.code).toBe(code);
  expect(typeof r.body.error.message).toBe("string");
  expect(r.body.error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  expect(r.body.error.innerError["request-id"]).toBe(r.headers.get("request-id"));
  expect(r.body.error.innerError["client-request-id"]).toBe(r.headers.get("client-request-id"));
}

describe("Graph error bodies", () => {
  it("puts a request-id on every response and echoes client-request-id", async () => {
    const ok = await t.get("/v1.0/security/incidents", { "client-request-id": "my-trace-1" });
    expect(ok.headers.get("request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(ok.headers.get("client-request-id")).toBe("my-trace-1");
    const err = await t.get("/v1.0/security/incidents/42", { "client-request-id": "my-trace-2" });
    expect(err.body.error.innerError["client-request-id"]).toBe("my-trace-2");
    const none = await t.get("/healthz");
    expect(none.headers.get("request-id")).toBeTruthy();
    expect(none.headers.get("client-request-id")).toBe(none.headers.get("request-id"));
  });

  it("400 for malformed or unsupported query options, naming the problem", async () => {
    const cases: [string, string][] = [
      ["$filter=status eq", "expected"],
      ["$filter=description eq 'x'", "description"],
      ["$filter=status eq 'nope'", "nope"],
      ["$filter=createdDateTime ge '2026-01-01'", "incompatible"],
      ["$top=-1", "$top"],
      ["$skip=abc", "$skip"],
      ["$count=maybe", "maybe"],
      ["$select=nope", "nope"],
      ["$expand=comments", "comments"],
      ["$search=foo", "$search"],
      ["$foo=1", "$foo"],
      ["$top=1&$top=2", "more than once"],
      ["$skiptoken=garbage", "skiptoken"],
    ];
    for (const [query, fragment] of cases) {
      const r = await t.get(`/v1.0/security/incidents?${query.replace(/ /g, "%20")}`);
      expectGraphError(r, 400, "");
      expect(r.body.error.message, query).toContain(fragment);
    }
  });

  it("400 for a segment Graph does not have", async () => {
    expectGraphError(await t.get("/v1.0/security/nothing"), 400, "BadRequest");
  });

  it("404 for an unknown entity", async () => {
    expectGraphError(await t.get("/v1.0/security/alerts_v2/unknown"), 404, "NotFound");
  });

  it("405 with Allow for a method the resource does not support", async () => {
    const r = await t.request("DELETE", "/v1.0/security/incidents/1");
    expectGraphError(r, 405, "MethodNotAllowed");
    expect(r.headers.get("allow")).toBe("GET, PATCH");
    expectGraphError(await t.request("POST", "/v1.0/security/incidents", { body: {} }), 405, "MethodNotAllowed");
  });

  it("406 when the client accepts nothing the service can send", async () => {
    expectGraphError(await t.get("/v1.0/security/incidents", { accept: "application/xml" }), 406, "NotAcceptable");
    expect((await t.get("/v1.0/security/incidents", { accept: "application/json;odata.metadata=minimal" })).status).toBe(200);
  });

  it("413 for a body over the limit, 415 for one that is not JSON", async () => {
    const big = await t.request("PATCH", "/v1.0/security/incidents/1", { body: { description: "x".repeat(5000) } });
    expectGraphError(big, 413, "RequestEntityTooLarge");
    const form = await t.request("PATCH", "/v1.0/security/incidents/1", { rawBody: "a=b", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expectGraphError(form, 415, "UnsupportedMediaType");
  });

  it("401 with WWW-Authenticate for a missing or malformed token", async () => {
    for (const authorization of ["", "Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz"]) {
      const r = await t.get("/v1.0/security/incidents", { authorization });
      expectGraphError(r, 401, "InvalidAuthenticationToken");
      expect(r.headers.get("www-authenticate")).toMatch(
        /^Bearer realm="", authorization_uri="http:\/\/127\.0\.0\.1:\d+\/common\/oauth2\/authorize", client_id="00000003-0000-0000-c000-000000000000"$/,
      );
    }
  });
});

describe("500", () => {
  it("says nothing about the internals", async () => {
    const broken = await startTriage();
    await broken.tokenFor(broken.tenantId);
    await broken.store.close(); // the database goes away under the server
    const r = await broken.get("/v1.0/security/incidents");
    expectGraphError(r, 500, "InternalServerError");
    expect(r.text).not.toMatch(/sqlite|kysely|driver|stack|at /i);
    await broken.app.close();
  });
});

describe("429", () => {
  it("throttles per tenant with Retry-After and Graph's error body", async () => {
    const limited = await startTriage({ rateLimit: { max: 3, windowMs: 60_000 } });
    try {
      for (let i = 0; i < 3; i++) expect((await limited.get("/v1.0/security/incidents")).status).toBe(200);
      const r = await limited.get("/v1.0/security/incidents");
      expectGraphError(r, 429, "TooManyRequests");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
      // Another tenant has its own budget; health checks are never throttled.
      const other = await limited.newTenant();
      expect((await limited.get("/v1.0/security/incidents", await limited.auth(other))).status).toBe(200);
      expect((await limited.get("/healthz")).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
