import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../support/cluster.js";
import { alert, deviceId } from "../support/alerts.js";
import { startReceiver, type Receiver } from "../support/receiver.js";

/**
 * Two real nodes on one PostgreSQL database, both delivering: alerts ingested through both, three
 * subscriptions, and every change reaches each subscription exactly once — no loss, no duplicate.
 */
let c: Cluster;
let rx: Receiver;
beforeAll(async () => {
  c = await startCluster(2, ["--allow-private-destinations"]);
  c.token = await c.tokenFrom(0);
  rx = await startReceiver();
});
afterAll(async () => {
  await c?.close();
  await rx?.close();
});

describe("change notifications on two nodes", () => {
  it("delivers each change once per subscription, however many nodes run", async () => {
    const subs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await c.call(i % 2, "POST", "/v1.0/subscriptions", {
        changeType: "created,updated",
        notificationUrl: `${rx.url}?n=${i}`,
        resource: "security/alerts_v2",
        expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
        clientState: `state-${i}`,
      });
      expect(r.status, r.text).toBe(201);
      subs.push(r.body.id);
    }
    const ids: string[] = [];
    const sends: Promise<void>[] = [];
    for (let b = 0; b < 16; b++) {
      const batch = Array.from({ length: 5 }, () => alert({ device: deviceId() }));
      ids.push(...batch.map((a) => a.id as string));
      sends.push(
        c.call(b % 2, "POST", "/ingest/alerts", { value: batch }).then((r) => {
          expect(r.status, r.text).toBe(200);
        }),
      );
    }
    await Promise.all(sends);
    const expected = ids.length * subs.length;
    await rx.waitFor((r) => r.notifications().length >= expected, 30_000);
    // Long enough for a duplicate to show up if one were coming.
    await new Promise((res) => setTimeout(res, 3000));
    const got = rx.notifications();
    expect(got).toHaveLength(expected);
    expect(new Set(got.map((n) => n.id)).size).toBe(expected);
    for (const [i, sub] of subs.entries()) {
      const mine = got.filter((n) => n.subscriptionId === sub);
      expect(mine.every((n) => n.clientState === `state-${i}`)).toBe(true);
      expect(new Set(mine.map((n) => n.resourceData.id))).toEqual(new Set(ids));
      // Query-string parameters on the notificationUrl come back on every delivery.
      expect(rx.deliveries.filter((d) => d.body.value.some((n) => n.subscriptionId === sub)).every((d) => d.url.endsWith(`?n=${i}`))).toBe(true);
    }
  });
});
