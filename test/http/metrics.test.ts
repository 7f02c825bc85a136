import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Server } from "node:http";
import { listenMetrics, Metrics } from "../../src/http/metrics.js";
import { startTriage, type TestTriage } from "../support/triage.js";
import { startChildTriage } from "../support/child-triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { TEST_STORE } from "../support/stores.js";
import { clearFaultConfig, setFaultConfig } from "../../src/store/faults.js";
import { parseFaultConfig } from "../../src/schema/faults.js";
import { graphRouteTemplates } from "../../src/permissions/catalog.js";
import { parse, total } from "../support/prometheus.js";

const MAX_ALERTS = 3;

describe("Prometheus metrics on a listener of their own", () => {
  let t: TestTriage;
  let listener: { server: Server; url: string };

  beforeAll(async () => {
    const metrics = new Metrics();
    t = await startTriage({ metrics, maxAlertsPerIncident: MAX_ALERTS, settingsTtlMs: 1 });
    listener = await listenMetrics(metrics, "127.0.0.1", 0);
  });
  afterAll(async () => {
    await new Promise((r) => listener?.server.close(r));
    await t?.close();
  });

  async function scrape(): Promise<Map<string, number>> {
    const res = await fetch(listener.url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    return parse(await res.text());
  }

  /** Lists, a PATCH, ingestion batches that create, join, merge and are refused by the limit, 404s and a 403. */
  async function load(): Promise<string> {
    const d1 = deviceId();
    const d2 = deviceId();
    const at = "2026-11-01T10:00:00Z";
    // d1's incident fills to the limit; d2's is separate; then one alert carrying both devices.
    const first = await t.ingest([alert({ device: d1, at }), alert({ device: d1, at }), alert({ device: d2, at })]);
    expect(first.status).toBe(200);
    const both = (a: string, b: string) => ({
      ...alert({ device: a, at }),
      evidence: [...(alert({ device: a }).evidence as any[]), ...(alert({ device: b }).evidence as any[])],
    });
    // Joining d1's full incident is refused (it holds MAX_ALERTS already with this one), and so is merging d2's into it.
    const tie = await t.ingest([both(d1, d2)]);
    expect(tie.status).toBe(200);
    // Two one-alert incidents, then an alert on both devices: it joins one and merges the other into it.
    const d3 = deviceId();
    const d4 = deviceId();
    expect((await t.ingest([alert({ device: d3, at }), alert({ device: d4, at })])).status).toBe(200);
    const merge = await t.ingest([both(d3, d4)]);
    expect(merge.body.value[0].merged).toHaveLength(1);
    const overflow = await t.ingest([alert({ device: d1, at }), alert({ device: d1, at }), alert({ device: d1, at })]);
    expect(overflow.status).toBe(200);
    const id = first.body.value[0].incidentId as string;
    for (let i = 0; i < 3; i++) expect((await t.get("/v1.0/security/incidents?$top=5")).status).toBe(200);
    expect((await t.get(`/v1.0/security/incidents/${id}`)).status).toBe(200);
    // One injected fault: a millisecond of latency on one read.
    const faults = parseFaultConfig(
      { seed: "metrics", rules: [{ fault: "latency", ms: 1, methods: ["GET"], route: "/security/incidents/{id}" }] },
      graphRouteTemplates(),
    );
    await setFaultConfig(t.store.db, t.tenantId, "", faults, "test");
    expect((await t.get(`/v1.0/security/incidents/${id}`)).status).toBe(200);
    await clearFaultConfig(t.store.db, t.tenantId, "");
    expect((await t.request("PATCH", `/v1.0/security/incidents/${id}`, { body: { customTags: ["watched"] } })).status).toBe(200);
    expect((await t.get("/v1.0/security/incidents/no-such-incident")).status).toBe(404);
    expect((await t.get("/nothing-here", { authorization: "" })).status).toBe(404);
    const readOnly = await t.auth(t.tenantId, ["SecurityIncident.Read.All"]);
    expect((await t.request("PATCH", `/v1.0/security/incidents/${id}`, { body: { customTags: ["x"] }, headers: readOnly })).status).toBe(403);
    return id;
  }

  it("serves each named series, and each moves under load", async () => {
    await load();
    const before = await scrape();
    const id = await load();
    const after = await scrape();

    const moved = (name: string, ...labels: string[]) => {
      const a = total(after, name, ...labels);
      const b = total(before, name, ...labels);
      expect(a, `${name} ${labels.join(",")} present`).not.toBeNaN();
      expect(a, `${name} ${labels.join(",")} moved`).toBeGreaterThan(Number.isNaN(b) ? 0 : b);
    };
    const list = 'route="/v1.0/security/incidents"';
    const one = 'route="/v1.0/security/incidents/:id"';
    moved("triage_http_request_duration_seconds_count", list, 'method="GET"', 'status="200"');
    moved("triage_http_request_duration_seconds_bucket", list, 'le="+Inf"');
    moved("triage_http_request_duration_seconds_count", one, 'method="PATCH"', 'status="200"');
    moved("triage_http_request_duration_seconds_count", 'route="/ingest/alerts"', 'status="200"');
    moved("triage_http_errors_total", one, 'method="GET"', 'status="404"');
    moved("triage_http_errors_total", one, 'method="PATCH"', 'status="403"');
    moved("triage_http_errors_total", 'route="(unmatched)"', 'status="404"');
    moved("triage_ingest_alerts_total", 'outcome="created"');
    moved("triage_faults_injected_total", 'fault="latency"', 'source="rule"');
    moved("triage_ingest_batch_duration_seconds_count");
    for (const decision of ["new", "joined", "merged", "refused"]) moved("triage_correlation_decisions_total", `decision="${decision}"`);
    moved("triage_store_statement_duration_seconds_count", 'path="builder"');
    moved("triage_store_statement_duration_seconds_count", 'path="read"');
    moved("triage_store_statement_duration_seconds_count", 'path="bounded"');
    moved("triage_process_cpu_seconds_total");
    expect(total(after, "triage_nodejs_eventloop_lag_p99_seconds")).not.toBeNaN();
    for (const name of ["triage_nodejs_heap_size_used_bytes", "triage_process_resident_memory_bytes"]) expect(total(after, name), name).toBeGreaterThan(0);
    // Route templates only: the raw URL, with its id, is never a label.
    expect([...after.keys()].some((k) => k.includes(`/incidents/${id}`) || k.includes("no-such-incident") || k.includes("nothing-here"))).toBe(false);
    // Pool gauges: PostgreSQL's two pools, or SQLite's read workers.
    const pool = TEST_STORE === "postgres" ? 'pool="postgres_read"' : 'pool="sqlite_read_workers"';
    if (TEST_STORE === "postgres") expect(total(after, "triage_store_pool_total", pool)).toBeGreaterThan(0);
    for (const field of ["total", "idle", "waiting"]) expect(total(after, `triage_store_pool_${field}`, pool), field).toBeGreaterThanOrEqual(0);
  });

  it("answers nothing but GET /metrics, and is not on the API's port", async () => {
    const base = listener.url.replace(/\/metrics$/, "");
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/v1.0/security/incidents`)).status).toBe(404);
    expect((await fetch(listener.url, { method: "POST" })).status).toBe(405);
    const onApi = await t.get("/metrics", { authorization: "" });
    expect(onApi.status).toBe(404);
    expect(onApi.text).not.toContain("triage_http_request_duration_seconds");
  });
});

describe("triage serve --metrics-port", () => {
  it("is off by default: no listener, and /metrics is not served on the API port", async () => {
    const child = await startChildTriage();
    try {
      expect(child.process.output()).not.toMatch(/Metrics:/);
      const res = await fetch(`${child.url}/metrics`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain("triage_");
    } finally {
      await child.close();
    }
  });

  it("serves /metrics on loopback, on its own port, when asked", async () => {
    const child = await startChildTriage(["--metrics-port", "0"]);
    try {
      const url = /Metrics:\s+(\S+)/.exec(child.process.output())?.[1];
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      expect(new URL(url!).port).not.toBe(new URL(child.url).port);
      const list = await fetch(`${child.url}/v1.0/security/incidents`, { headers: child.headers });
      expect(list.status).toBe(200);
      const text = await (await fetch(url!)).text();
      expect(total(parse(text), "triage_http_request_duration_seconds_count", 'route="/v1.0/security/incidents"', 'status="200"')).toBeGreaterThanOrEqual(1);
      expect((await fetch(`${child.url}/metrics`)).status).toBe(404);
    } finally {
      await child.close();
    }
  });
});
