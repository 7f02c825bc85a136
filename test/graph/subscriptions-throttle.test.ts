/**
 * Graph's throttling of slow endpoints, against slow receivers on loopback (the thresholds scaled
 * down: 10 notifications instead of 100, 300 ms instead of 2,900, a 2.5 s wait instead of 10 minutes):
 * a URL with 10 % slow answers is throttled (the next POST waits), one with 15 % or more has its
 * notifications dropped and its subscriptions sent `missed`, and the counts start again with the next
 * window.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { lastFeedSeq } from "../../src/store/feed.js";

const WINDOW_MS = 12_000;
const DELAY_MS = 2_500;
const SETTINGS = {
  allowPrivateDestinations: true,
  batchWindowMs: 50,
  pollIntervalMs: 100,
  ackTimeoutMs: 2_000,
  maxNotificationsPerPost: 1,
  slowResponseMs: 300,
  throttleMinNotifications: 10,
  throttleWindowMs: WINDOW_MS,
  throttleDelayMs: DELAY_MS,
};

let t: TestTriage;
let rx: Receiver;
let lc: Receiver;
beforeAll(async () => {
  t = await startTriage({ notifications: SETTINGS });
  rx = await startReceiver("/notify");
  lc = await startReceiver("/lifecycle");
});
afterAll(async () => {
  await t.close();
  await rx.close();
  await lc.close();
});

async function subscribe(tenant: string, ep: string) {
  const r = await t.request("POST", "/v1.0/subscriptions", {
    headers: await t.auth(tenant),
    body: {
      changeType: "created",
      notificationUrl: `${rx.url}?ep=${ep}`,
      lifecycleNotificationUrl: lc.url,
      resource: "security/alerts_v2",
      expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
      clientState: ep,
    },
  });
  expect(r.status, r.text).toBe(201);
  return r.body.id as string;
}
const posts = (ep: string) => rx.deliveries.filter((d) => d.url.endsWith(`?ep=${ep}`));

describe("slow endpoints", () => {
  it("throttles a URL with 10 % slow answers: the next POST waits, and nothing is lost", async () => {
    const tenant = await t.newTenant();
    const id = await subscribe(tenant, "throttle");
    // The 9th of the first 10 POSTs is slow (1 in 10); the rest are quick.
    rx.delays.push(0, 0, 0, 0, 0, 0, 0, 0, 500, 0);
    const alerts = Array.from({ length: 13 }, () => alert({ device: deviceId() }));
    expect((await t.ingest(alerts, tenant)).status).toBe(200);
    await rx.waitFor(() => posts("throttle").length === 13, 30_000);
    const got = posts("throttle");
    expect(got.map((d) => d.body.value[0]!.resourceData.id)).toEqual(alerts.map((a) => a.id));
    expect(got.every((d) => d.body.value[0]!.subscriptionId === id)).toBe(true);
    // Throttled after the 10th answer: the 11th waited; with 1 slow in 11 it is no longer throttled.
    expect(got[10]!.at - got[9]!.at).toBeGreaterThanOrEqual(DELAY_MS - 50);
    expect(lc.notifications().some((n) => n.subscriptionId === id)).toBe(false);
  });

  it("drops notifications to a URL with 15 % or more slow answers, sends missed once, and starts again with the next window", async () => {
    const tenant = await t.newTenant();
    const id = await subscribe(tenant, "drop");
    rx.delay = 350; // every answer slow
    const alerts = Array.from({ length: 15 }, () => alert({ device: deviceId() }));
    expect((await t.ingest(alerts, tenant)).status).toBe(200);
    await lc.waitFor(() => lc.notifications().some((n) => n.subscriptionId === id && n.lifecycleEvent === "missed"), 30_000);
    rx.delay = 0;
    await new Promise((r) => setTimeout(r, 1000));
    // The first 10 were sent (slowly); the other 5 were dropped, with one missed.
    expect(posts("drop").map((d) => d.body.value[0]!.resourceData.id)).toEqual(alerts.slice(0, 10).map((a) => a.id));
    expect(lc.notifications().filter((n) => n.subscriptionId === id)).toEqual([
      { subscriptionId: id, subscriptionExpirationDateTime: expect.any(String), tenantId: tenant, clientState: "drop", lifecycleEvent: "missed" },
    ]);
    const row = await t.store.db.selectFrom("subscriptions").select("cursor").where("id", "=", id).executeTakeFirstOrThrow();
    expect(Number(row.cursor)).toBe(await lastFeedSeq(t.store.db, tenant));

    // Once the window has ended, the counts start again and delivery resumes.
    const windowEnds = Date.now() + WINDOW_MS;
    const later = alert({ device: deviceId() });
    await new Promise((r) => setTimeout(r, Math.max(0, windowEnds - Date.now())));
    expect((await t.ingest([later], tenant)).status).toBe(200);
    await rx.waitFor(() => posts("drop").some((d) => d.body.value[0]!.resourceData.id === later.id), 30_000);
  });
});
