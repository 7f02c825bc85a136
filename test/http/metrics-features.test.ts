import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Server } from "node:http";
import { listenMetrics, Metrics } from "../../src/http/metrics.js";
import { huntingOutcome } from "../../src/graph/hunting.js";
import { translateKql } from "../../src/hunting/translate.js";
import { runHuntingPlan } from "../../src/store/hunting-sql.js";
import { startTriage, ALL_PERMISSIONS, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { FeedPruner } from "../../src/features/notifications/retention.js";
import { DEFAULT_NOTIFICATION_SETTINGS } from "../../src/features/notifications/settings.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { parse, total } from "../support/prometheus.js";

const HUNTING_TIMEOUT_MS = 300;
const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();

/** The series of advanced hunting and change notifications, under a real load: queries over HTTP, deliveries to a real receiver on loopback. */
describe("hunting and change-notification metrics", () => {
  let t: TestTriage;
  let rx: Receiver;
  let listener: { server: Server; url: string };
  let hunt: Record<string, string>;

  beforeAll(async () => {
    const metrics = new Metrics();
    t = await startTriage({
      metrics,
      huntingTimeoutMs: HUNTING_TIMEOUT_MS,
      notifications: { allowPrivateDestinations: true, batchWindowMs: 100, pollIntervalMs: 200, retryBaseMs: 400, maxRetryDelayMs: 1000 },
    });
    listener = await listenMetrics(metrics, "127.0.0.1", 0);
    rx = await startReceiver();
    hunt = await t.auth(t.tenantId, [...ALL_PERMISSIONS, "ThreatHunting.Read.All"]);
  });
  afterAll(async () => {
    await new Promise((r) => listener?.server.close(r));
    await t?.close();
    await rx?.close();
  });

  async function scrape(): Promise<Map<string, number>> {
    const res = await fetch(listener.url);
    expect(res.status).toBe(200);
    return parse(await res.text());
  }
  const value = (s: Map<string, number>, name: string, ...labels: string[]) => {
    const v = total(s, name, ...labels);
    return Number.isNaN(v) ? 0 : v;
  };
  const huntQuery = (Query: string) => t.request("POST", "/v1.0/security/runHuntingQuery", { body: { Query }, headers: hunt });
  /** A subscription to the receiver for an hour, created (201) or the test fails. */
  async function subscribe(body: { changeType: string; resource: string; lifecycleNotificationUrl?: string }): Promise<string> {
    const r = await t.request("POST", "/v1.0/subscriptions", {
      body: { notificationUrl: rx.url, expirationDateTime: new Date(Date.now() + 3600_000).toISOString(), ...body },
    });
    expect(r.status, r.text).toBe(201);
    return r.body.id as string;
  }

  it("times hunting queries by outcome and counts the rows answered", async () => {
    const batch = Array.from({ length: 200 }, (_, i) =>
      alert({ user: `user${i % 7}@contoso.com`, ip: `198.51.100.${i % 50}`, severity: "high", at: hoursAgo(1 + (i % 48)) }),
    );
    expect((await t.ingest(batch)).status).toBe(200);
    // The language service loads on the first query.
    expect((await huntQuery("AlertInfo | take 1")).status).toBe(200);
    const before = await scrape();

    const ok = await huntQuery("AlertInfo | take 5");
    expect(ok.status).toBe(200);
    expect(ok.body.results).toHaveLength(5);
    expect((await huntQuery("AlertInfo | nosuchoperator")).status).toBe(400);
    const slow = await huntQuery("AlertEvidence | join kind=inner (AlertEvidence) on Severity | join kind=inner (AlertEvidence) on Severity | count");
    expect(slow.status, slow.text).toBe(504);

    const after = await scrape();
    const moved = (name: string, by: number, ...labels: string[]) =>
      expect(value(after, name, ...labels) - value(before, name, ...labels), `${name} ${labels.join(",")}`).toBe(by);
    moved("triage_hunting_query_duration_seconds_count", 1, 'outcome="ok"');
    moved("triage_hunting_query_duration_seconds_count", 1, 'outcome="invalid"');
    moved("triage_hunting_query_duration_seconds_count", 1, 'outcome="timeout"');
    // The timed-out query ran at least to the time limit.
    expect(value(after, "triage_hunting_query_duration_seconds_sum", 'outcome="timeout"')).toBeGreaterThanOrEqual(HUNTING_TIMEOUT_MS / 1000);
    moved("triage_hunting_rows_returned_count", 1);
    moved("triage_hunting_rows_returned_sum", 5);
    // 5 rows: in the bucket up to 10, not in the one up to 1.
    moved("triage_hunting_rows_returned_bucket", 1, 'le="10"');
    moved("triage_hunting_rows_returned_bucket", 0, 'le="1"');
  });

  it("tells a query over the row limit apart from the others", async () => {
    const plan = translateKql("AlertInfo | project AlertId", { now: new Date() });
    const window = { from: hoursAgo(24 * 30), to: new Date(Date.now() + 1000).toISOString() };
    const over = await runHuntingPlan(t.store, plan, t.tenantId, window, 5000, 1).catch((e: unknown) => e);
    expect(huntingOutcome(over)).toBe("too_many_rows");
    expect(huntingOutcome(new Error("connection reset"))).toBe("failed");
  });

  it("counts deliveries by outcome, retries, the lag from commit to acknowledgement, subscriptions and the backlog", async () => {
    const before = await scrape();
    const subId = await subscribe({ changeType: "created,updated", resource: "security/incidents" });
    const subscribed = await scrape();
    expect(value(subscribed, "triage_notification_subscriptions") - value(before, "triage_notification_subscriptions")).toBe(1);

    // A delivery acknowledged at once.
    const first = await t.ingest([alert({ device: deviceId() })]);
    const firstId = first.body.value[0].incidentId as string;
    await rx.waitFor(() => rx.notifications().some((n) => n.resourceData.id === firstId));
    await expect.poll(async () => value(await scrape(), "triage_notification_deliveries_total", 'outcome="delivered"')).toBeGreaterThan(0);
    const delivered = await scrape();
    expect(value(delivered, "triage_notification_delivery_lag_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(value(delivered, "triage_notification_backlog")).toBe(0);

    // A receiver that fails twice: the backlog and its age grow while it retries, then the retry delivers.
    rx.statuses = [500, 500];
    const second = await t.ingest([alert({ device: deviceId() })]);
    const secondId = second.body.value[0].incidentId as string;
    await expect.poll(async () => value(await scrape(), "triage_notification_deliveries_total", 'outcome="failed"'), { timeout: 10_000 }).toBeGreaterThan(0);
    const failing = await scrape();
    expect(value(failing, "triage_notification_backlog")).toBeGreaterThanOrEqual(1);
    expect(value(failing, "triage_notification_backlog_age_seconds")).toBeGreaterThan(0);
    expect(value(failing, "triage_notification_subscriptions_failing")).toBe(1);
    await rx.waitFor(() => rx.notifications().some((n) => n.resourceData.id === secondId));
    await expect
      .poll(async () => value(await scrape(), "triage_notification_deliveries_total", 'outcome="delivered"'), { timeout: 10_000 })
      .toBeGreaterThan(value(delivered, "triage_notification_deliveries_total", 'outcome="delivered"'));
    const after = await scrape();
    expect(value(after, "triage_notification_deliveries_total", 'outcome="failed"')).toBe(2);
    // The second failure and the delivery were retries.
    expect(value(after, "triage_notification_retries_total")).toBe(2);
    expect(value(after, "triage_notification_backlog")).toBe(0);
    expect(value(after, "triage_notification_backlog_age_seconds")).toBe(0);
    expect(value(after, "triage_notification_subscriptions_failing")).toBe(0);
    // The retried notification waited for the retries: at least the two backoff delays since its commit.
    expect(value(after, "triage_notification_delivery_lag_seconds_sum") - value(delivered, "triage_notification_delivery_lag_seconds_sum")).toBeGreaterThan(
      0.4,
    );
    expect(value(after, "triage_notification_delivery_lag_seconds_bucket", 'le="+Inf"')).toBe(value(after, "triage_notification_delivery_lag_seconds_count"));
    // No subscription id, tenant or URL is a label.
    const keys = [...after.keys()].join("\n");
    for (const secret of [subId, t.tenantId, rx.url, "127.0.0.1"]) expect(keys).not.toContain(secret);

    expect((await t.request("DELETE", `/v1.0/subscriptions/${subId}`)).status).toBe(204);
    expect(value(await scrape(), "triage_notification_subscriptions")).toBe(value(before, "triage_notification_subscriptions"));
  });

  it("shows the deliveries in flight and the bytes their bodies hold while a receiver takes its time", async () => {
    const idle = await scrape();
    expect(value(idle, "triage_notification_deliveries_in_flight")).toBe(0);
    expect(value(idle, "triage_notification_body_bytes_in_flight")).toBe(0);
    expect(value(idle, "triage_notification_deliveries_waiting_for_memory")).toBe(0);
    const subId = await subscribe({ changeType: "created", resource: "security/alerts_v2" });
    try {
      rx.delays = [2_000];
      const ingested = await t.ingest([alert({ device: deviceId() })]);
      const alertId = ingested.body.value[0].id as string;
      // While the receiver holds the POST (2 s): one delivery in flight, holding its body's bytes (while
      // it builds the body it holds maxPostBytes).
      const bodyHeld = (s: Map<string, number>) => {
        const bytes = value(s, "triage_notification_body_bytes_in_flight");
        return bytes > 100 && bytes < DEFAULT_NOTIFICATION_SETTINGS.maxPostBytes;
      };
      await expect.poll(async () => bodyHeld(await scrape()), { timeout: 10_000 }).toBe(true);
      expect(value(await scrape(), "triage_notification_deliveries_in_flight")).toBe(1);
      await rx.waitFor(() => rx.notifications().some((n) => n.resourceData.id === alertId));
      // The bytes go when the POST ends; the delivery when its outcome is written.
      await expect.poll(async () => value(await scrape(), "triage_notification_body_bytes_in_flight"), { timeout: 10_000 }).toBe(0);
      await expect.poll(async () => value(await scrape(), "triage_notification_deliveries_in_flight"), { timeout: 10_000 }).toBe(0);
    } finally {
      expect((await t.request("DELETE", `/v1.0/subscriptions/${subId}`)).status).toBe(204);
    }
  });

  it("counts the lifecycle notifications waiting to be sent", async () => {
    const lc = await startReceiver("/lifecycle");
    try {
      const subId = await subscribe({ changeType: "created", resource: "security/incidents", lifecycleNotificationUrl: lc.url });
      expect(value(await scrape(), "triage_notification_lifecycle_pending")).toBe(0);
      // The receiver's changes are past the retention limit before it got them: it is owed a missed,
      // which its lifecycle receiver refuses for now.
      lc.statuses.push(...Array<number>(100).fill(503));
      rx.statuses = Array<number>(100).fill(503);
      await t.ingest([alert({ device: deviceId() })]);
      await rx.waitFor(() => rx.refused.length > 0);
      const run = await new FeedPruner(t.store, { ...DEFAULT_NOTIFICATION_SETTINGS, feedRetentionMs: 0 }, { warn: () => undefined }).run();
      expect(run.missed).toBe(1);
      expect(value(await scrape(), "triage_notification_lifecycle_pending")).toBe(1);
      await lc.waitFor(() => lc.refused.length > 0);
      lc.statuses.length = 0;
      rx.statuses = [];
      await lc.waitFor(() => lc.notifications().some((n) => n.lifecycleEvent === "missed"), 20_000);
      await expect.poll(async () => value(await scrape(), "triage_notification_lifecycle_pending"), { timeout: 10_000 }).toBe(0);
      expect((await t.request("DELETE", `/v1.0/subscriptions/${subId}`)).status).toBe(204);
    } finally {
      await lc.close();
    }
  });
});
