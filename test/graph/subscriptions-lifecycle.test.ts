/**
 * Lifecycle notifications to a real receiver on loopback: reauthorizationRequired once per expiry
 * within the window (with two nodes on one store), again after a renewal; and subscriptionRemoved when
 * the subscribing app's consent is revoked, the app is deleted, or a signed-in subscriber loses their
 * reader role (each through the admin API), after which the subscription delivers nothing more.
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer } from "../../src/server.js";
import { ensureWebClient, webClientId } from "../../src/web/client.js";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { ropc, testUser, GRAPH_DEFAULT } from "../support/identity.js";

const FAST = {
  allowPrivateDestinations: true,
  batchWindowMs: 200,
  pollIntervalMs: 300,
  handshakeTimeoutMs: 1500,
  lifecycleSweepMs: 200,
  reauthorizationWindowMs: 2 * 3600_000,
};

let t: TestTriage;
let second: FastifyInstance;
let rx: Receiver;
let lc: Receiver;
let admin: Record<string, string>;

beforeAll(async () => {
  t = await startTriage({ notifications: FAST });
  // A second node on the same store: lifecycle notifications must still go out once.
  second = await buildServer({ store: t.store, keyEncryption: t.keyEncryption, notifications: FAST });
  await second.listen({ host: "127.0.0.1", port: 0 });
  rx = await startReceiver("/notify");
  lc = await startReceiver("/lifecycle");
  await ensureWebClient(t.store.db, t.tenantId);
  const user = await testUser(t, t.tenantId, ["Security Administrator"]);
  const r = await ropc(t, t.tenantId, webClientId(t.tenantId), user, GRAPH_DEFAULT);
  admin = { authorization: `Bearer ${r.body.access_token}` };
});
afterAll(async () => {
  await second?.close();
  await t.close();
  await rx.close();
  await lc.close();
});

const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function subscribe(body: Record<string, unknown>, headers?: Record<string, string>) {
  return t.request("POST", "/v1.0/subscriptions", {
    body: {
      changeType: "created,updated",
      notificationUrl: rx.url,
      lifecycleNotificationUrl: lc.url,
      resource: "security/alerts_v2",
      expirationDateTime: inMinutes(300),
      clientState: "s3cret",
      ...body,
    },
    headers,
  });
}

const events = (subId: string, event: string) => lc.notifications().filter((n) => n.subscriptionId === subId && n.lifecycleEvent === event);

describe("lifecycle notifications", () => {
  it("sends reauthorizationRequired once per expiry within the window, and again after a renewal", async () => {
    const soon = await subscribe({ expirationDateTime: inMinutes(60) });
    expect(soon.status, JSON.stringify(soon.body)).toBe(201);
    const later = await subscribe({ expirationDateTime: inMinutes(300) });
    const id = soon.body.id as string;
    await lc.waitFor(() => events(id, "reauthorizationRequired").length > 0);
    expect(events(id, "reauthorizationRequired")[0]).toEqual({
      subscriptionId: id,
      subscriptionExpirationDateTime: soon.body.expirationDateTime,
      tenantId: t.tenantId,
      clientState: "s3cret",
      lifecycleEvent: "reauthorizationRequired",
    });
    await sleep(1500); // several sweeps on both nodes
    expect(events(id, "reauthorizationRequired")).toHaveLength(1);
    expect(events(later.body.id as string, "reauthorizationRequired")).toHaveLength(0);
    // Nothing went to the notificationUrl for it.
    expect(rx.notifications().some((n) => n.lifecycleEvent !== undefined)).toBe(false);

    const renewed = await t.request("PATCH", `/v1.0/subscriptions/${id}`, { body: { expirationDateTime: inMinutes(90) } });
    expect(renewed.status).toBe(200);
    await lc.waitFor(() => events(id, "reauthorizationRequired").length === 2);
    expect(events(id, "reauthorizationRequired")[1]!.subscriptionExpirationDateTime).toBe(renewed.body.expirationDateTime);
    await sleep(800);
    expect(events(id, "reauthorizationRequired")).toHaveLength(2);
  });

  for (const how of ["consent revoked", "app deleted"] as const) {
    it(`sends subscriptionRemoved and delivers nothing more once the app is ${how === "consent revoked" ? "no longer consented" : "deleted"}`, async () => {
      const perms = how === "consent revoked" ? ["SecurityAlert.Read.All"] : ["SecurityAlert.ReadWrite.All"];
      const own = await t.auth(t.tenantId, perms);
      const sub = await subscribe({}, own);
      expect(sub.status).toBe(201);
      const id = sub.body.id as string;
      const appId = sub.body.applicationId as string;
      const witness = await subscribe({});
      // It delivers while the app may read.
      const first = alert({ device: deviceId() });
      await t.ingest([first]);
      await rx.waitFor(() => rx.notifications().some((n) => n.subscriptionId === id && n.resourceData.id === first.id));

      const r =
        how === "consent revoked"
          ? await t.request("DELETE", `/triage/admin/apps/${appId}/consent`, { headers: admin })
          : await t.request("DELETE", `/triage/admin/apps/${appId}`, { headers: admin });
      expect(r.status, r.text).toBe(how === "consent revoked" ? 200 : 204);

      const next = alert({ device: deviceId() });
      await t.ingest([next]);
      await rx.waitFor(() => rx.notifications().some((n) => n.subscriptionId === witness.body.id && n.resourceData.id === next.id));
      await lc.waitFor(() => events(id, "subscriptionRemoved").length > 0);
      expect(events(id, "subscriptionRemoved")[0]).toMatchObject({ subscriptionId: id, tenantId: t.tenantId, clientState: "s3cret" });
      await sleep(800);
      expect(events(id, "subscriptionRemoved")).toHaveLength(1);
      expect(rx.notifications().some((n) => n.subscriptionId === id && n.resourceData.id === next.id)).toBe(false);
      // The subscription is gone.
      const rows = await t.store.db.selectFrom("subscriptions").select("id").where("id", "=", id).execute();
      expect(rows).toEqual([]);
      expect((await t.request("DELETE", `/v1.0/subscriptions/${witness.body.id}`)).status).toBe(204);
    });
  }

  it("removes a signed-in user's subscription once the user has no reader role, and keeps it while they do", async () => {
    const reader = await testUser(t, t.tenantId, ["Security Reader"]);
    const signIn = await ropc(t, t.tenantId, webClientId(t.tenantId), reader, GRAPH_DEFAULT);
    expect(signIn.status, signIn.text).toBe(200);
    const sub = await subscribe({}, { authorization: `Bearer ${signIn.body.access_token}` });
    expect(sub.status, JSON.stringify(sub.body)).toBe(201);
    const id = sub.body.id as string;
    expect(sub.body.creatorId).toBe(reader.id);
    const first = alert({ device: deviceId() });
    await t.ingest([first]);
    await rx.waitFor(() => rx.notifications().some((n) => n.subscriptionId === id && n.resourceData.id === first.id));

    const r = await t.request("PATCH", `/triage/admin/users/${reader.id}`, { body: { roles: [] }, headers: admin });
    expect(r.status, r.text).toBe(200);
    const next = alert({ device: deviceId() });
    await t.ingest([next]);
    await lc.waitFor(() => events(id, "subscriptionRemoved").length > 0);
    expect(rx.notifications().some((n) => n.subscriptionId === id && n.resourceData.id === next.id)).toBe(false);
  });
});
