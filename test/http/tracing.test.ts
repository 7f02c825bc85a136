import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import { startChildTriage, type ChildTriage } from "../support/child-triage.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { alert, deviceId } from "../support/alerts.js";
import { TEST_STORE } from "../support/stores.js";

/** One span as the OTLP/HTTP JSON exporter sends it, its attributes flattened. */
interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  status?: { code?: number };
}

const SERVER = 2;
const CLIENT = 3;

/**
 * A real OTLP/HTTP collector on loopback: it accepts POST /v1/traces in the JSON encoding, keeps the
 * raw bodies (to search them for secrets) and the decoded spans.
 */
interface Collector {
  url: string;
  bodies: string[];
  contentTypes: string[];
  spans: Span[];
  resources: Record<string, unknown>[];
  close(): Promise<void>;
}

function flatten(attrs: { key: string; value: Record<string, unknown> }[] = []): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of attrs) {
    const v = value.stringValue ?? value.boolValue ?? value.doubleValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined);
    if (v !== undefined) out[key] = v as string | number | boolean;
  }
  return out;
}

async function startCollector(): Promise<Collector> {
  const c: Collector = { url: "", bodies: [], contentTypes: [], spans: [], resources: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") return void res.writeHead(404).end();
      const text = Buffer.concat(chunks).toString("utf8");
      c.bodies.push(text);
      c.contentTypes.push(String(req.headers["content-type"]));
      const body = JSON.parse(text) as { resourceSpans: { resource: { attributes: any[] }; scopeSpans: { spans: any[] }[] }[] };
      for (const rs of body.resourceSpans) {
        c.resources.push(flatten(rs.resource.attributes));
        for (const ss of rs.scopeSpans) for (const s of ss.spans) c.spans.push({ ...s, attributes: flatten(s.attributes) });
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const addr = server.address() as { port: number };
  c.url = `http://127.0.0.1:${addr.port}`;
  c.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return c;
}

describe("OpenTelemetry tracing (triage serve --otel-endpoint)", () => {
  let collector: Collector;
  let rx: Receiver;
  let child: ChildTriage;
  let incidentId: string;

  beforeAll(async () => {
    collector = await startCollector();
    rx = await startReceiver();
    child = await startChildTriage(["--otel-endpoint", collector.url, "--allow-private-destinations"], {
      permissions: ["ThreatHunting.Read.All"],
      env: { OTEL_BSP_SCHEDULE_DELAY: "200" },
    });
    const post = (path: string, body: unknown) => fetch(`${child.url}${path}`, { method: "POST", headers: child.headers, body: JSON.stringify(body) });
    const sub = await post("/v1.0/subscriptions", {
      changeType: "created,updated",
      notificationUrl: rx.url,
      resource: "security/incidents",
      expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
      clientState: "client-state-value",
    });
    expect(sub.status).toBe(201);
    const ingested = await post("/ingest/alerts", [alert({ device: deviceId() }), alert({ device: deviceId() })]);
    expect(ingested.status).toBe(200);
    incidentId = ((await ingested.json()) as { value: { incidentId: string }[] }).value[0]!.incidentId;
    const list = await fetch(`${child.url}/v1.0/security/incidents?$top=5&$filter=${encodeURIComponent("severity eq 'high'")}`, { headers: child.headers });
    expect(list.status).toBe(200);
    expect((await fetch(`${child.url}/v1.0/security/incidents/${incidentId}`, { headers: child.headers })).status).toBe(200);
    const patched = await fetch(`${child.url}/v1.0/security/incidents/${incidentId}`, {
      method: "PATCH",
      headers: child.headers,
      body: JSON.stringify({ status: "inProgress" }),
    });
    expect(patched.status).toBe(200);
    const hunted = await post("/v1.0/security/runHuntingQuery", { Query: "AlertInfo | where Title has 'secret-looking-term' | take 3" });
    expect(hunted.status, await hunted.clone().text()).toBe(200);
    expect((await fetch(`${child.url}/v1.0/security/incidents`, { headers: { authorization: "Bearer not-a-token" } })).status).toBe(401);
    const batch = await post("/v1.0/$batch", { requests: [{ id: "1", method: "GET", url: `/security/incidents/${incidentId}` }] });
    expect(batch.status).toBe(200);
    await rx.waitFor(() => rx.notifications().some((n) => n.resourceData.id === incidentId));
    // The delivery's span ends once its acknowledgement is recorded, and goes out with the next batch.
    for (let i = 0; i < 150 && !collector.spans.some((s) => s.attributes["triage.notification.outcome"] === "delivered"); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    // Stopping sends the spans still buffered.
    await child.close();
  }, 120_000);
  afterAll(async () => {
    await collector?.close();
    await rx?.close();
  });

  const named = (name: string) => collector.spans.filter((s) => s.name === name);
  const childrenOf = (parent: Span) => collector.spans.filter((s) => s.parentSpanId === parent.spanId && s.traceId === parent.traceId);

  it("exports OTLP/HTTP JSON with Triage as the service", () => {
    expect(collector.bodies.length).toBeGreaterThan(0);
    expect(collector.contentTypes.every((t) => t.startsWith("application/json"))).toBe(true);
    expect(collector.resources[0]).toMatchObject({ "service.name": "triage" });
    expect(typeof collector.resources[0]!["service.version"]).toBe("string");
  });

  it("names a request's span by its route template, with its method and status, never the URL sent", () => {
    const [list] = named("GET /v1.0/security/incidents").filter((s) => s.attributes["http.response.status_code"] === 200);
    expect(list).toBeDefined();
    expect(list!.kind).toBe(SERVER);
    expect(list!.parentSpanId ?? "").toBe("");
    expect(list!.attributes).toMatchObject({ "http.request.method": "GET", "http.route": "/v1.0/security/incidents", "http.response.status_code": 200 });
    // The listing's statements are the request's children.
    expect(childrenOf(list!).map((s) => s.name)).toContain("store.query");
    const [one] = named("GET /v1.0/security/incidents/:id").filter((s) => !s.parentSpanId);
    expect(one!.attributes["http.route"]).toBe("/v1.0/security/incidents/:id");
    expect(childrenOf(one!).some((s) => s.name === "store.read" || s.name === "store.query")).toBe(true);
    // A $batch step is a request of its own, the $batch request's child.
    const [batch] = named("POST /v1.0/$batch");
    expect(named("GET /v1.0/security/incidents/:id").some((s) => s.parentSpanId === batch!.spanId)).toBe(true);
    const refused = named("GET /v1.0/security/incidents").find((s) => s.attributes["http.response.status_code"] === 401);
    expect(refused).toBeDefined();
    // Neither the query string nor the id the client sent is in any span.
    const all = collector.bodies.join("\n");
    expect(all).not.toContain("$filter");
    expect(all).not.toContain("severity eq");
    expect(all).not.toContain(`/incidents/${incidentId}`);
  });

  it("nests an ingestion batch and its transaction under the request", () => {
    const [req] = named("POST /ingest/alerts");
    expect(req).toBeDefined();
    const [batch] = childrenOf(req!).filter((s) => s.name === "ingest.batch");
    expect(batch!.attributes).toMatchObject({ "triage.ingest.alerts": 2, "triage.ingest.created": 2 });
    const [tx] = childrenOf(batch!).filter((s) => s.name === "store.transaction");
    expect(tx!.attributes["db.system.name"]).toMatch(/^(sqlite|postgresql)$/);
  });

  it("nests a PATCH's write under the request: one statement on PostgreSQL, a transaction on SQLite", () => {
    const [req] = named("PATCH /v1.0/security/incidents/:id");
    expect(req!.attributes["http.response.status_code"]).toBe(200);
    const writes = childrenOf(req!).filter((s) => s.name === "store.write_at_once" || s.name === "store.transaction");
    expect(writes.map((s) => [s.name, s.attributes["db.system.name"]])).toEqual([
      TEST_STORE === "postgres" ? ["store.write_at_once", "postgresql"] : ["store.transaction", "sqlite"],
    ]);
  });

  it("gives each hunting query a span with its outcome and rows, under the request, and its statement under it, without the query's text", () => {
    const [req] = named("POST /v1.0/security/runHuntingQuery");
    const [query] = childrenOf(req!).filter((s) => s.name === "hunting.query");
    expect(query!.attributes).toMatchObject({ "triage.hunting.outcome": "ok", "db.response.returned_rows": 0 });
    expect(childrenOf(query!).map((s) => s.name)).toEqual(["store.query"]);
    expect(collector.bodies.join("\n")).not.toContain("secret-looking-term");
  });

  it("traces each notification delivery as a trace of its own, without the receiver's URL or client state", () => {
    const delivered = named("notification.delivery").filter((s) => s.attributes["triage.notification.outcome"] === "delivered");
    expect(delivered.length).toBeGreaterThan(0);
    const d = delivered[0]!;
    expect(d.kind).toBe(CLIENT);
    expect(d.parentSpanId ?? "").toBe("");
    expect(d.attributes).toMatchObject({ "http.response.status_code": 202, "triage.notification.retry": false });
    expect(Number(d.attributes["triage.notification.count"])).toBeGreaterThan(0);
    const all = collector.bodies.join("\n");
    expect(all).not.toContain(rx.url);
    expect(all).not.toContain(new URL(rx.url).port + "/hook");
    expect(all).not.toContain("client-state-value");
  });

  it("never exports a credential: no Authorization header, token or client secret", () => {
    const all = collector.bodies.join("\n");
    expect(all.toLowerCase()).not.toContain("authorization");
    expect(all.toLowerCase()).not.toContain("bearer");
    expect(all).not.toContain(child.token);
    expect(all).not.toContain(child.token.split(".")[2]!);
    expect(all).not.toContain(child.clientSecret);
    expect(all).not.toContain("not-a-token");
    // The token request itself is traced, by its route.
    expect(named("POST /:tenant/oauth2/v2.0/token").length + named("POST /:tenantId/oauth2/v2.0/token").length).toBeGreaterThan(0);
  });
});

describe("tracing is off by default", () => {
  it("exports nothing, even with OTEL_EXPORTER_OTLP_ENDPOINT set, unless --tracing turns it on, and then honours it", async () => {
    const collector = await startCollector();
    try {
      const env = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: "100" };
      const off = await startChildTriage([], { env });
      try {
        expect((await fetch(`${off.url}/v1.0/security/incidents`, { headers: off.headers })).status).toBe(200);
        expect(off.process.output()).not.toMatch(/Tracing:/);
      } finally {
        await off.close();
      }
      expect(collector.bodies).toEqual([]);

      const on = await startChildTriage(["--tracing"], { env });
      try {
        expect(on.process.output()).toContain(`Tracing:     OTLP/HTTP to ${collector.url}/v1/traces`);
        expect((await fetch(`${on.url}/v1.0/security/incidents`, { headers: on.headers })).status).toBe(200);
      } finally {
        await on.close();
      }
      expect(collector.spans.some((s) => s.name === "GET /v1.0/security/incidents")).toBe(true);
    } finally {
      await collector.close();
    }
  }, 120_000);

  it("refuses an endpoint that is not a plain http(s) URL", async () => {
    const { runCli } = await import("../support/process.js");
    for (const bad of ["ftp://127.0.0.1:4318", "not a url", "http://user:pw@127.0.0.1:4318", "http://127.0.0.1:4318/?token=x"]) {
      const r = await runCli(["serve", "--http", "--otel-endpoint", bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/--otel-endpoint/);
    }
  });
});

describe("the cost of tracing when off", () => {
  it("loads no OpenTelemetry code: only types are imported statically, and the SDK only when tracing starts", async () => {
    const { readdirSync, readFileSync } = await import("node:fs");
    const files = (readdirSync("src", { recursive: true }) as string[]).filter((f) => f.endsWith(".ts")).map((f) => `src/${f}`);
    const offenders: string[] = [];
    for (const f of files) {
      for (const line of readFileSync(f, "utf8").split("\n")) {
        if (/^\s*import\s+(?!type\b)[^;]*["']@opentelemetry\//.test(line) || /^\s*export\s+[^;]*from\s+["']@opentelemetry\//.test(line))
          offenders.push(`${f}: ${line}`);
      }
    }
    expect(offenders).toEqual([]);
    const dynamic = files.filter((f) => /import\(\s*["']@opentelemetry\//.test(readFileSync(f, "utf8")));
    expect(dynamic).toEqual(["src/http/tracing.ts"]);
  });
});
