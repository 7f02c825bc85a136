/**
 * No request monopolises the event loop: an expensive $filter is refused up front when its shape is
 * beyond the static cost limits, stopped at the time limit (504) when it gets past them, and while
 * such queries run, /healthz and cheap listings keep answering.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { DEFAULT_FILTER_LIMITS } from "../../src/odata/filter-cost.js";

/** Small, so the test is quick; the heavy filter below takes several times longer over this data. */
const LIMIT_MS = 200;
const ALERTS = 2000;
const EVIDENCE_PER_ALERT = 12;
/** How long /healthz may take while heavy queries run: generous, far below what they cost unbounded. */
const RESPONSIVE_MS = 1000;

/** An alert whose evidence names no correlation entity, so each alert makes an incident of its own. */
function bulkyAlert(i: number): Record<string, unknown> {
  const at = new Date(Date.parse("2026-10-01T00:00:00Z") + i * 1000).toISOString();
  return {
    id: `ql-${i}`,
    title: `Bulk alert ${i}`,
    severity: i % 10 === 0 ? "high" : "medium",
    status: "new",
    category: "Execution",
    serviceSource: "microsoftDefenderForEndpoint",
    detectionSource: "microsoftDefenderForEndpoint",
    createdDateTime: at,
    firstActivityDateTime: at,
    lastActivityDateTime: at,
    evidence: Array.from({ length: EVIDENCE_PER_ALERT }, (_, k) => ({
      "@odata.type": "#microsoft.graph.security.securityGroupEvidence",
      createdDateTime: at,
      verdict: "unknown",
      remediationStatus: "none",
      remediationStatusDetails: `group ${k} of alert ${i}, reviewed by the access policy`,
      roles: [],
      displayName: `Group ${k}`,
      securityGroupId: `sg-${i}-${k}`,
    })),
  };
}

/** As many any/all lambdas as the static limit allows, each scanning every alert's evidence. */
function heavyFilter(lambdas = DEFAULT_FILTER_LIMITS.maxLambdas): string {
  return Array.from({ length: lambdas }, (_, i) => `evidence/any(e: contains(e/remediationStatusDetails, 'absent ${i}'))`).join(" or ");
}

function alertsWhere(filter: string): string {
  return `/v1.0/security/alerts_v2?$filter=${encodeURIComponent(filter)}`;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

describe("query limits", () => {
  let t: TestTriage;

  beforeAll(async () => {
    t = await startTriage({ queryTimeoutMs: LIMIT_MS });
    for (let from = 0; from < ALERTS; from += 1000) {
      const batch = Array.from({ length: Math.min(1000, ALERTS - from) }, (_, k) => bulkyAlert(from + k));
      expect((await t.ingest(batch)).status).toBe(200);
    }
  });

  afterAll(async () => {
    await t?.close();
  });

  it("refuses a $filter beyond the static cost limits with a 400 naming the limit", async () => {
    const tooManyLambdas = await t.get(alertsWhere(heavyFilter(DEFAULT_FILTER_LIMITS.maxLambdas + 1)));
    expect(tooManyLambdas.status).toBe(400);
    expect(tooManyLambdas.body.error.code).toBe("");
    expect(tooManyLambdas.body.error.message).toContain(`at most ${DEFAULT_FILTER_LIMITS.maxLambdas} are allowed`);

    // Cheap conditions, but too many of them: 3 nodes each, joined by or.
    const terms = Math.ceil(DEFAULT_FILTER_LIMITS.maxNodes / 3) + 1;
    const tooManyNodes = await t.get(alertsWhere(Array.from({ length: terms }, (_, i) => `title eq 't${i}'`).join(" or ")));
    expect(tooManyNodes.status).toBe(400);
    expect(tooManyNodes.body.error.message).toContain(`node count limit of '${DEFAULT_FILTER_LIMITS.maxNodes}'`);

    // As many lambdas as allowed are accepted (the first matches every alert, so the page fills at once).
    const allowed = `evidence/any(e: contains(e/remediationStatusDetails, 'group 0')) or ${heavyFilter(DEFAULT_FILTER_LIMITS.maxLambdas - 1)}`;
    const within = await t.get(`${alertsWhere(allowed)}&$top=2`);
    expect(within.status).toBe(200);
    expect(within.body.value).toHaveLength(2);
  });

  it("stops a filter that runs past the time limit with a 504 GatewayTimeout", async () => {
    const { ms, value: res } = await timed(() => t.get(alertsWhere(heavyFilter())));
    expect(res.status).toBe(504);
    expect(res.body.error.code).toBe("GatewayTimeout");
    expect(res.body.error.message).toContain(`time limit of ${LIMIT_MS} ms`);
    expect(res.body.error.innerError["request-id"]).toBeTruthy();
    // Stopped near the limit, not when the statement would have finished.
    expect(ms).toBeLessThan(LIMIT_MS + 1500);

    // $count and /$count run the same filter within the same limit.
    expect((await t.get(`${alertsWhere(heavyFilter())}&$count=true&$top=1`)).status).toBe(504);
    expect((await t.get(`/v1.0/security/alerts_v2/$count?$filter=${encodeURIComponent(heavyFilter())}`)).status).toBe(504);

    // The store is none the worse: cheap filtered listings still answer.
    const cheap = await t.get(`${alertsWhere("severity eq 'high'")}&$top=5`);
    expect(cheap.status).toBe(200);
    expect(cheap.body.value).toHaveLength(5);
  });

  it("keeps /healthz and cheap listings answering while heavy queries run", async () => {
    const heavy: Promise<number>[] = [];
    const latencies: number[] = [];
    const until = performance.now() + 1500;
    // Four heavy queries in flight at any time, for a bounded while; /healthz and a cheap page
    // polled meanwhile.
    for (let i = 0; i < 4; i++) heavy.push(t.get(alertsWhere(heavyFilter())).then((r) => r.status));
    for (let round = 0; round < 30 && performance.now() < until; round++) {
      heavy.push(t.get(alertsWhere(heavyFilter())).then((r) => r.status));
      const health = await timed(() => fetch(`${t.url}/healthz`));
      expect(health.value.status).toBe(200);
      latencies.push(health.ms);
      const page = await timed(() => t.get("/v1.0/security/incidents?$top=1"));
      expect(page.value.status).toBe(200);
      latencies.push(page.ms);
      await new Promise((r) => setTimeout(r, 50));
    }
    const statuses = await Promise.all(heavy);
    expect(Math.max(...latencies)).toBeLessThan(RESPONSIVE_MS);
    expect(latencies.length).toBeGreaterThanOrEqual(4);
    // Every heavy query got an answer: stopped (504), or refused while too many waited (503).
    for (const s of statuses) expect([503, 504]).toContain(s);
  });
});
