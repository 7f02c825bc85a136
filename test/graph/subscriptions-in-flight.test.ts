/**
 * Many deliveries in flight, their bodies' memory bounded together: subscriptions with a backlog on a
 * slow receiver are sent at once, as many as `concurrency` allows, until the bodies in flight would
 * pass `maxInFlightBytes`; then the next waits for one to end. Nothing is lost either way. Real
 * servers (scaled down: 4 KiB bodies, an 8 KiB budget), a real receiver on loopback that answers
 * after 400 ms and counts what it holds unanswered.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { startReceiver, type Receiver } from "../support/receiver.js";

const SUBSCRIPTIONS = 8;
const ALERTS = 40;
const SETTINGS = {
  allowPrivateDestinations: true,
  batchWindowMs: 20,
  pollIntervalMs: 100,
  concurrency: 64,
  maxPostBytes: 4096,
};

let t: TestTriage | undefined;
let rx: Receiver | undefined;
afterEach(async () => {
  await t?.close();
  await rx?.close();
  t = rx = undefined;
});

/** SUBSCRIPTIONS subscriptions of a new tenant, each at its own URL, told of ALERTS alerts ingested at once. */
async function backlog(maxInFlightBytes: number): Promise<{ ids: string[]; alerts: string[]; rx: Receiver }> {
  t = await startTriage({ notifications: { ...SETTINGS, maxInFlightBytes } });
  rx = await startReceiver("/notify");
  const tenant = await t.newTenant();
  const ids: string[] = [];
  for (let i = 0; i < SUBSCRIPTIONS; i++) {
    const r = await t.request("POST", "/v1.0/subscriptions", {
      headers: await t.auth(tenant),
      body: {
        changeType: "created",
        notificationUrl: `${rx.url}?s=${i}`,
        resource: "security/alerts_v2",
        expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
      },
    });
    expect(r.status, r.text).toBe(201);
    ids.push(r.body.id as string);
  }
  rx.delay = 400;
  const alerts = Array.from({ length: ALERTS }, () => alert({ device: deviceId() }));
  expect((await t.ingest(alerts, tenant)).status).toBe(200);
  return { ids, alerts: alerts.map((a) => a.id as string), rx };
}

/** Every subscription was told of every alert, in order, each once. */
async function expectAllDelivered({ ids, alerts, rx }: { ids: string[]; alerts: string[]; rx: Receiver }): Promise<void> {
  await rx.waitFor(() => rx.notifications().length >= SUBSCRIPTIONS * ALERTS, 60_000);
  for (const id of ids) {
    const told = rx.notifications().filter((n) => n.subscriptionId === id);
    expect(told.map((n) => n.resourceData.id)).toEqual(alerts);
  }
  expect(rx.deliveries.every((d) => Buffer.byteLength(JSON.stringify(d.body)) <= SETTINGS.maxPostBytes)).toBe(true);
}

describe("deliveries in flight", () => {
  it("with room for every body, the subscriptions' POSTs are in flight together", async () => {
    const run = await backlog(16 * 1024 * 1024);
    await expectAllDelivered(run);
    // Several POSTs at once (the budget never made one wait), more bytes than the next test allows.
    expect(run.rx.peak.requests).toBeGreaterThan(2);
    expect(run.rx.peak.bytes).toBeGreaterThan(8192);
  }, 90_000);

  it("holds the bodies in flight within maxInFlightBytes: the next POST waits for one to end, and nothing is lost", async () => {
    const run = await backlog(8192);
    await expectAllDelivered(run);
    expect(run.rx.peak.bytes).toBeLessThanOrEqual(8192);
    expect(run.rx.peak.requests).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
