/**
 * The change feed's retention, on a real server and store with real receivers on loopback: entries
 * every reader has passed are pruned; entries a subscription or the automation cursor still needs are
 * kept until they are past the retention limit (rows or time); then they go, the subscription jumps
 * past them and its lifecycleNotificationUrl gets `missed` (retried until acknowledged), and delivery
 * goes on with what is left. Two pruners at once (two nodes) delete each entry once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { FeedPruner } from "../../src/features/notifications/retention.js";
import { DEFAULT_NOTIFICATION_SETTINGS, type NotificationSettings } from "../../src/features/notifications/settings.js";
import { ensureCursor } from "../../src/store/automation.js";
import { lastFeedSeq } from "../../src/store/feed.js";
import { waitUntil } from "../support/hooks.js";

const FAST = {
  allowPrivateDestinations: true,
  batchWindowMs: 100,
  pollIntervalMs: 200,
  retryBaseMs: 200,
  maxRetryDelayMs: 400,
  handshakeTimeoutMs: 3000,
};

let t: TestTriage;
let rx: Receiver;
let lc: Receiver;
const warnings: string[] = [];
const log = { warn: (_o: object, msg: string) => void warnings.push(msg) };

beforeAll(async () => {
  // The rules runner stays off: the automation cursor stays where the test puts it.
  t = await startTriage({ notifications: FAST, automation: { run: false } });
  rx = await startReceiver("/notify");
  lc = await startReceiver("/lifecycle");
});
afterAll(async () => {
  await t.close();
  await rx.close();
  await lc.close();
});

function pruner(settings: Partial<NotificationSettings>): FeedPruner {
  return new FeedPruner(t.store, { ...DEFAULT_NOTIFICATION_SETTINGS, ...FAST, ...settings }, log);
}
const feedSeqs = async (tenant: string) =>
  (await t.store.db.selectFrom("change_feed").select("seq").where("tenant_id", "=", tenant).orderBy("seq").execute()).map((r) => Number(r.seq));

async function subscribe(tenant: string, clientState: string) {
  const r = await t.request("POST", "/v1.0/subscriptions", {
    headers: await t.auth(tenant),
    body: {
      changeType: "created,updated",
      notificationUrl: `${rx.url}?tenant=${tenant}`,
      lifecycleNotificationUrl: lc.url,
      resource: "security/alerts_v2",
      expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
      clientState,
    },
  });
  expect(r.status, r.text).toBe(201);
  return r.body as { id: string; expirationDateTime: string };
}

describe("change-feed retention", () => {
  it("keeps what the automation cursor still needs, and prunes what every reader has passed", async () => {
    const tenant = await t.newTenant();
    await t.store.db.transaction().execute((tx) => ensureCursor(tx, tenant));
    const sub = await subscribe(tenant, "kept");
    const alerts = Array.from({ length: 3 }, () => alert({ device: deviceId() }));
    expect((await t.ingest(alerts, tenant)).status).toBe(200);
    await rx.waitFor(() => rx.notifications().filter((n) => n.subscriptionId === sub.id).length === 3);
    const last = await lastFeedSeq(t.store.db, tenant);
    expect(await feedSeqs(tenant)).toHaveLength(last);
    // The subscription's cursor is written once the receiver has answered, a moment after it has them.
    const cursor = async () =>
      Number((await t.store.db.selectFrom("subscriptions").select("cursor").where("id", "=", sub.id).executeTakeFirstOrThrow()).cursor);
    await waitUntil(async () => (await cursor()) >= last);

    // The subscription has everything; the rules have not run on any of it.
    expect((await pruner({}).run()).deleted).toBe(0);
    expect(await feedSeqs(tenant)).toHaveLength(last);

    // The rules catch up: nobody needs the feed any more.
    await t.store.db.updateTable("automation_cursors").set({ cursor: last }).where("tenant_id", "=", tenant).execute();
    const run = await pruner({}).run();
    expect(run.deleted).toBeGreaterThanOrEqual(last);
    expect(run.missed).toBe(0);
    expect(await feedSeqs(tenant)).toEqual([]);
    expect(lc.notifications().some((n) => n.subscriptionId === sub.id)).toBe(false);

    // Numbering goes on after the pruned entries; delivery too.
    const next = alert({ device: deviceId() });
    expect((await t.ingest([next], tenant)).status).toBe(200);
    await rx.waitFor(() => rx.notifications().some((n) => n.subscriptionId === sub.id && n.resourceData.id === next.id));
    expect((await feedSeqs(tenant))[0]).toBe(last + 1);
  });

  it("past the row limit, a lagging subscription jumps ahead, is sent missed (retried), and gets what is left", async () => {
    const tenant = await t.newTenant();
    const sub = await subscribe(tenant, "lagging");
    // The receiver fails everything for now; so does the lifecycle receiver, twice.
    rx.statuses.push(...Array<number>(10_000).fill(503));
    lc.statuses.push(503, 503);
    const alerts = Array.from({ length: 4 }, () => alert({ device: deviceId() }));
    for (const a of alerts) expect((await t.ingest([a], tenant)).status).toBe(200);
    await rx.waitFor(() => rx.refused.some((d) => d.url.includes(tenant)));
    const last = await lastFeedSeq(t.store.db, tenant);
    expect(last).toBe(8); // an incident and an alert each

    // Within the limit: kept for the subscription.
    expect((await pruner({ feedRetentionRows: 100 }).run()).deleted).toBe(0);
    // Past it (keep 2 rows), in bounded batches of 3.
    const run = await pruner({ feedRetentionRows: 2, pruneBatchRows: 3 }).run();
    expect(run).toEqual({ deleted: 6, missed: 1 });
    expect(await feedSeqs(tenant)).toEqual([7, 8]);
    expect(warnings.some((w) => w.includes("retention limit"))).toBe(true);

    // missed reaches the lifecycle receiver, after two refusals.
    await lc.waitFor(() => lc.notifications().some((n) => n.subscriptionId === sub.id && n.lifecycleEvent === "missed"), 20_000);
    expect(lc.refused.filter((d) => d.body.value.some((n) => n.subscriptionId === sub.id))).toHaveLength(2);
    expect(lc.notifications().filter((n) => n.subscriptionId === sub.id)).toEqual([
      { subscriptionId: sub.id, subscriptionExpirationDateTime: sub.expirationDateTime, tenantId: tenant, clientState: "lagging", lifecycleEvent: "missed" },
    ]);

    // The receiver recovers: it gets the last alert, not those before the jump.
    rx.statuses.length = 0;
    await rx.waitFor(() => rx.notifications().some((n) => n.subscriptionId === sub.id && n.resourceData.id === alerts[3]!.id), 20_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(
      rx
        .notifications()
        .filter((n) => n.subscriptionId === sub.id)
        .map((n) => n.resourceData.id),
    ).toEqual([alerts[3]!.id]);
  });

  it("past the time limit, entries go even though a subscription still needs them", async () => {
    const tenant = await t.newTenant();
    const sub = await subscribe(tenant, "old");
    rx.statuses.push(...Array<number>(10_000).fill(503));
    expect((await t.ingest([alert({ device: deviceId() })], tenant)).status).toBe(200);
    await pruner({ feedRetentionMs: 3600_000 }).run();
    expect(await feedSeqs(tenant)).toHaveLength(2);
    const run = await pruner({ feedRetentionMs: 0 }).run();
    expect(run.deleted).toBeGreaterThanOrEqual(2);
    expect(await feedSeqs(tenant)).toEqual([]);
    await lc.waitFor(() => lc.notifications().some((n) => n.subscriptionId === sub.id && n.lifecycleEvent === "missed"), 20_000);
    const row = await t.store.db.selectFrom("subscriptions").select(["cursor", "attempts"]).where("id", "=", sub.id).executeTakeFirstOrThrow();
    expect(Number(row.cursor)).toBe(await lastFeedSeq(t.store.db, tenant));
    rx.statuses.length = 0;
  });

  it("two pruners at once (two nodes) delete each entry once, in bounded batches", async () => {
    const tenant = await t.newTenant();
    const batch = Array.from({ length: 600 }, () => alert({ device: deviceId() }));
    expect((await t.ingest(batch, tenant)).status).toBe(200);
    const last = await lastFeedSeq(t.store.db, tenant);
    expect(last).toBe(1200);
    const settings = { pruneBatchRows: 50, pruneBatchesPerRun: 10 };
    // No reader: everything may go, but each run deletes at most 10 batches of 50.
    const [a, b] = await Promise.all([pruner(settings).run(), pruner(settings).run()]);
    expect(a.deleted).toBeLessThanOrEqual(500);
    expect(b.deleted).toBeLessThanOrEqual(500);
    const left = await feedSeqs(tenant);
    expect(left.length).toBe(last - a.deleted - b.deleted);
    if (left.length > 0) expect(left[0]).toBeGreaterThan(0);
    for (let i = 0; i < 10 && (await feedSeqs(tenant)).length > 0; i++) await pruner({ pruneBatchRows: 500 }).run();
    expect(await feedSeqs(tenant)).toEqual([]);
  });
});
