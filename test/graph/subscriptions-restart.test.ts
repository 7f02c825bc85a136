import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { buildServer } from "../../src/server.js";
import { ingestAlerts } from "../../src/features/ingest/index.js";
import { normalizeAlert } from "../../src/domain/normalize-alert.js";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { startReceiver, type Receiver } from "../support/receiver.js";

/**
 * A subscription's pending notifications live in the store, not in memory: changes committed while
 * the receiver fails, and changes committed while no server runs, are all delivered once a server
 * runs again on the same store, each once.
 */
const FAST = { allowPrivateDestinations: true, batchWindowMs: 100, pollIntervalMs: 200, retryBaseMs: 200, maxRetryDelayMs: 400 };

let t: TestTriage;
let rx: Receiver;
let second: FastifyInstance | undefined;

beforeAll(async () => {
  t = await startTriage({ notifications: FAST });
  rx = await startReceiver();
});
afterAll(async () => {
  await second?.close();
  await t.close();
  await rx.close();
});

describe("delivery across a restart", () => {
  it("delivers, after the restart, every change committed before it, each once", async () => {
    const sub = await t.request("POST", "/v1.0/subscriptions", {
      body: {
        changeType: "created",
        notificationUrl: rx.url,
        resource: "security/alerts_v2",
        expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
      },
    });
    expect(sub.status).toBe(201);
    // The receiver fails everything while the first server runs.
    rx.statuses.push(...Array<number>(1000).fill(503));
    const before = Array.from({ length: 3 }, () => alert({ device: deviceId() }));
    for (const a of before) expect((await t.ingest([a])).status).toBe(200);
    await rx.waitFor((r) => r.refused.length >= 2);
    await t.app.close();

    // Committed with no server running.
    const during = Array.from({ length: 2 }, () => alert({ device: deviceId() }));
    await ingestAlerts(
      t.store.db,
      t.tenantId,
      during.map((a, i) => normalizeAlert(a, `value[${i}]`, t.tenantId, new Date().toISOString())),
      { windowMs: 86_400_000, actor: "offline", requestId: null },
    );
    expect(rx.deliveries).toHaveLength(0);

    rx.statuses.length = 0;
    second = await buildServer({ store: t.store, keyEncryption: t.keyEncryption, notifications: { ...FAST, retryBaseMs: 100 } });
    await second.listen({ host: "127.0.0.1", port: 0 });
    const expected = [...before, ...during].map((a) => a.id as string);
    await rx.waitFor((r) => r.notifications().length >= expected.length, 20_000);
    await new Promise((res) => setTimeout(res, 600));
    const got = rx.notifications().filter((n) => n.subscriptionId === sub.body.id);
    expect(got.map((n) => n.resourceData.id)).toEqual(expected);
    expect(new Set(got.map((n) => n.id)).size).toBe(expected.length);
    // The ids are those the failed attempts carried.
    const tried = new Set(rx.refused.flatMap((d) => d.body.value.map((n) => n.id as string)));
    for (const n of got.slice(0, 3)) expect(tried.has(n.id)).toBe(true);
  });
});
