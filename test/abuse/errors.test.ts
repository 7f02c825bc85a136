import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { rawRequest } from "../support/raw-http.js";
import { alert } from "../support/alerts.js";

/**
 * Every refusal answers Graph's error body, whichever layer refuses: Node's HTTP parser, Fastify's
 * router, a body parser, the static file server. A browser asking for a page that does not exist gets
 * the web app (which shows its own "Page not found"), with status 404.
 */

const INDEX = `<!doctype html><html><head><title>Triage</title></head><body><div id="root" data-marker="web-app-index"></div></body></html>`;

let t: TestTriage;
let webRoot: string;
let host: string;
let auth: string;

beforeAll(async () => {
  webRoot = mkdtempSync(join(tmpdir(), "triage-web-"));
  writeFileSync(join(webRoot, "index.html"), INDEX);
  mkdirSync(join(webRoot, "assets"));
  writeFileSync(join(webRoot, "assets", "app-1234.js"), "console.log('app');");
  t = await startTriage({ webRoot });
  host = new URL(t.url).host;
  auth = `Bearer ${await t.tokenFor(t.tenantId)}`;
});
afterAll(async () => {
  await t.close();
  rmSync(webRoot, { recursive: true, force: true });
});

interface Answer {
  status: number;
  contentType: string | null;
  requestId: string | null;
  body: string;
}

/** Graph's envelope and nothing else: {"error":{"code","message",["details",]"innerError":{date, request-id, client-request-id}}}. */
function expectGraphError(r: Answer, status: number, code: string): { code: string; message: string; details?: unknown[] } {
  expect(r.status, r.body).toBe(status);
  expect(r.contentType).toMatch(/^application\/json/);
  const parsed = JSON.parse(r.body) as Record<string, any>;
  expect(Object.keys(parsed)).toEqual(["error"]);
  const error = parsed.error as Record<string, any>;
  expect(error.code).toBe(code);
  expect(typeof error.message).toBe("string");
  expect(error.message.length).toBeGreaterThan(0);
  expect(Object.keys(error).filter((k) => k !== "details")).toEqual(["code", "message", "innerError"]);
  expect(error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  expect(error.innerError["request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  expect(error.innerError["request-id"]).toBe(r.requestId);
  expect(typeof error.innerError["client-request-id"]).toBe("string");
  return error as { code: string; message: string; details?: unknown[] };
}

async function raw(data: string, opts: { end?: boolean } = {}): Promise<Answer> {
  const r = await rawRequest(t.url, data, opts);
  return { status: r.status, contentType: r.headers["content-type"] ?? null, requestId: r.headers["request-id"] ?? null, body: r.body };
}

async function get(path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Answer> {
  const res = await fetch(t.url + path, { method, headers: { authorization: auth, ...headers } });
  return { status: res.status, contentType: res.headers.get("content-type"), requestId: res.headers.get("request-id"), body: await res.text() };
}

async function send(method: string, path: string, body: string): Promise<Answer> {
  const res = await fetch(t.url + path, { method, headers: { authorization: auth, "content-type": "application/json" }, body });
  return { status: res.status, contentType: res.headers.get("content-type"), requestId: res.headers.get("request-id"), body: await res.text() };
}

describe("refusals by Node's HTTP parser", () => {
  it("431 in Graph's body for a URL or headers over the parser's limit", async () => {
    const longUrl = await raw(`GET /v1.0/security/incidents?$filter=${"a".repeat(20_000)} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    expectGraphError(longUrl, 431, "RequestHeaderFieldsTooLarge");
    const longHeader = await raw(`GET /v1.0/security/incidents HTTP/1.1\r\nHost: ${host}\r\nX-Padding: ${"a".repeat(20_000)}\r\n\r\n`);
    expectGraphError(longHeader, 431, "RequestHeaderFieldsTooLarge");
  });

  it("400 in Graph's body when Content-Length disagrees with the body or the rest of the request", async () => {
    const head = (extra: string) =>
      `PATCH /v1.0/security/incidents/1 HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\n${extra}`;
    // Fewer bytes announced than sent: the rest is read as a next request, which is not HTTP.
    expectGraphError(await raw(`${head("Content-Length: 2\r\n")}\r\n{"status":"active"}`), 400, "BadRequest");
    // More announced than sent before the client stops sending.
    const short = await raw(`${head("Content-Length: 50\r\n")}\r\n{"status":"active"}`, { end: true });
    expect(expectGraphError(short, 400, "BadRequest").message).toMatch(/Content-Length/);
    // Not a number; sent twice with different values; sent with Transfer-Encoding (request smuggling).
    expect(expectGraphError(await raw(`${head("Content-Length: abc\r\n")}\r\n{}`), 400, "BadRequest").message).toMatch(/Content-Length/);
    expect(expectGraphError(await raw(`${head("Content-Length: 2\r\nContent-Length: 3\r\n")}\r\n{}`), 400, "BadRequest").message).toMatch(/Content-Length/);
    expect(expectGraphError(await raw(`${head("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")}\r\n0\r\n\r\n`), 400, "BadRequest").message).toMatch(
      /Transfer-Encoding.*Content-Length/,
    );
  });

  it("400 in Graph's body for bytes that are not HTTP", async () => {
    expectGraphError(await raw("HELLO\r\n\r\n"), 400, "BadRequest");
    expectGraphError(await raw(`GET v1.0/security/incidents HTTP/1.1\r\nHost: ${host}\r\n\r\n`), 400, "BadRequest");
  });
});

describe("refusals by the router", () => {
  it("400 in Graph's body for a malformed percent-encoding, wherever it is", async () => {
    for (const path of ["/v1.0/security/incidents/%ZZ", "/v1.0/security/alerts_v2/%E0%A4", "/v1.0/nothing%ZZ", "/no/such/%ZZ"]) {
      const r = await get(path, { "client-request-id": "trace-bad-url" });
      const error = expectGraphError(r, 400, "BadRequest");
      expect(error.message, path).toMatch(/URL/);
      expect(JSON.parse(r.body).error.innerError["client-request-id"]).toBe("trace-bad-url");
    }
  });

  it("414 in Graph's body for a path segment longer than the router accepts", async () => {
    const r = await get(`/v1.0/security/incidents/${"1".repeat(2000)}`);
    expectGraphError(r, 414, "RequestUriTooLong");
    expect(r.body).not.toContain("1".repeat(2000));
  });
});

describe("the web app's static assets", () => {
  it("serves a built asset, and answers 404 in Graph's body for a path that climbs out of the folder", async () => {
    const ok = await get("/assets/app-1234.js");
    expect(ok.status).toBe(200);
    expect(ok.body).toContain("console.log");
    for (const path of [
      "/assets/..%2f..",
      "/assets/..%2f..%2fpackage.json",
      "/assets/%2e%2e%2f%2e%2e%2fpackage.json",
      "/assets/x/..%2f..%2f..%2fetc%2fpasswd",
      "/assets/..%2findex.html",
      "/assets/.%2fapp-1234.js",
    ]) {
      expectGraphError(await get(path), 404, "NotFound");
    }
  });
});

describe("JSON bodies nested too deep", () => {
  const nested = (depth: number, open: string, close: string, leaf = "1") => open.repeat(depth) + leaf + close.repeat(depth);

  it("400 in Graph's body on every JSON route, before any handler sees the document", async () => {
    const a = alert({ device: "deep-device" });
    expect((await t.ingest([a])).status).toBe(200);
    for (const depth of [150, 5000, 200_000]) {
      for (const doc of [nested(depth, "[", "]"), nested(depth, '{"a":', "}")]) {
        const patch = await send("PATCH", `/v1.0/security/alerts_v2/${a.id as string}`, `{"customDetails":{"x":${doc}}}`);
        expect(expectGraphError(patch, 400, "BadRequest").message).toMatch(/levels deep/);
        const ingest = await send(
          "POST",
          "/ingest/alerts",
          JSON.stringify({ value: [{ ...a, id: `deep-${depth}`, additionalData: { x: "@" } }] }).replace('"@"', doc),
        );
        expect(expectGraphError(ingest, 400, "BadRequest").message).toMatch(/levels deep/);
        const batch = await send(
          "POST",
          "/v1.0/$batch",
          `{"requests":[{"id":"1","method":"PATCH","url":"/security/alerts_v2/${a.id as string}","headers":{"content-type":"application/json"},"body":${doc}}]}`,
        );
        expect(expectGraphError(batch, 400, "BadRequest").message).toMatch(/levels deep/);
      }
    }
    // Nothing was stored by the refused requests.
    expect((await t.get(`/v1.0/security/alerts_v2/deep-5000`)).status).toBe(404);
    const stored = await t.get(`/v1.0/security/alerts_v2/${a.id as string}`);
    expect(stored.body.customDetails ?? {}).not.toHaveProperty("x");
    // Brackets inside strings are text, not nesting.
    const text = await send(
      "POST",
      "/ingest/alerts",
      JSON.stringify({ value: [{ ...alert({ device: "bracket-device" }), title: `${"[{".repeat(300)} \\" ${"[".repeat(300)}` }] }),
    );
    expect(text.status, text.body).toBe(200);
  });
});

describe("query-option errors", () => {
  it("carry Graph's empty details array, as the OData validator sends them; other errors do not", async () => {
    for (const query of ["$top=100", "$filter=status%20eq", "$select=nope", "$foo=1"]) {
      const error = expectGraphError(await get(`/v1.0/security/incidents?${query}`), 400, "");
      expect(error.details, query).toEqual([]);
      expect(Object.keys(error)).toEqual(["code", "message", "details", "innerError"]);
    }
    expect(expectGraphError(await get("/v1.0/security/incidents/424242"), 404, "NotFound")).not.toHaveProperty("details");
  });
});

describe("unknown addresses", () => {
  const browser = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };

  it("a browser asking for an unknown page gets the web app with 404, not JSON; an API caller gets Graph's body", async () => {
    for (const path of ["/no/such/page", "/incidentz", "/settings?tab=1"]) {
      for (const accept of [browser.accept, "text/html"]) {
        const r = await get(path, { accept, authorization: "" });
        expect(r.status, `${path} ${accept}`).toBe(404);
        expect(r.contentType).toMatch(/^text\/html/);
        expect(r.body).toBe(INDEX);
      }
    }
    const head = await get("/no/such/page", { ...browser, authorization: "" }, "HEAD");
    expect(head.status).toBe(404);
    expect(head.contentType).toMatch(/^text\/html/);
    // An API client, or any caller of an API path, still gets Graph's body.
    expectGraphError(await get("/no/such/page"), 404, "NotFound");
    expectGraphError(await get("/no/such/page", { accept: "application/json" }), 404, "NotFound");
    for (const path of [
      "/triage/nothing",
      "/ingest/nothing",
      "/web/nothing",
      "/assets/missing.js",
      `/${t.tenantId}/oauth2/v2.0/nothing`,
      `/${t.tenantId}/v2.0/nothing`,
    ]) {
      expectGraphError(await get(path, browser), 404, "NotFound");
    }
    expectGraphError(await get("/v1.0/security/nothing", browser), 400, "BadRequest");
    expectGraphError(await get("/beta/security/nothing", browser), 400, "BadRequest");
  });

  it("a small HTML page says not found when the web app has not been built", async () => {
    const bare = mkdtempSync(join(tmpdir(), "triage-web-bare-"));
    const other = await startTriage({ webRoot: bare });
    try {
      const res = await fetch(`${other.url}/no/such/page`, { headers: browser });
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await res.text()).toContain("Page not found");
    } finally {
      await other.close();
      rmSync(bare, { recursive: true, force: true });
    }
  });
});
