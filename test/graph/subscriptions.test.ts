import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { resetTenantData } from "../../src/store/reset.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let t: TestTriage;
let rx: Receiver;

const FAST = {
  allowPrivateDestinations: true,
  batchWindowMs: 200,
  pollIntervalMs: 300,
  retryBaseMs: 300,
  maxRetryDelayMs: 1000,
  handshakeTimeoutMs: 1500,
};

beforeAll(async () => {
  t = await startTriage({ notifications: FAST });
  rx = await startReceiver();
});
afterAll(async () => {
  await t.close();
  await rx.close();
});

const inHours = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();

function subscribe(body: Record<string, unknown>, headers?: Record<string, string>, version = "v1.0") {
  return t.request("POST", `/${version}/subscriptions`, {
    body: { changeType: "created,updated", notificationUrl: rx.url, expirationDateTime: inHours(1), clientState: "s3cret", ...body },
    headers,
  });
}

describe("POST /subscriptions", () => {
  it("validates the endpoint, answers 201 in Graph's shape, and delivers created and updated incidents", async () => {
    const before = rx.handshakes;
    const r = await subscribe({ resource: "security/incidents" });
    expect(r.status).toBe(201);
    expect(rx.handshakes).toBe(before + 1);
    expect(r.body).toMatchObject({
      "@odata.context": `${t.url}/v1.0/$metadata#subscriptions/$entity`,
      resource: "security/incidents",
      changeType: "created,updated",
      clientState: "s3cret",
      notificationUrl: rx.url,
      includeResourceData: false,
      latestSupportedTlsVersion: "v1_2",
    });
    const subId = r.body.id as string;

    const ing = await t.ingest([alert({ device: deviceId() })]);
    const incidentId = ing.body.value[0].incidentId as string;
    await rx.waitFor(() => rx.notifications().some((n) => n.subscriptionId === subId && n.resourceData.id === incidentId));
    const n = rx.notifications().find((x) => x.subscriptionId === subId && x.resourceData.id === incidentId)!;
    expect(n).toMatchObject({
      subscriptionId: subId,
      changeType: "created",
      clientState: "s3cret",
      tenantId: t.tenantId,
      resource: `security/incidents/${incidentId}`,
      subscriptionExpirationDateTime: r.body.expirationDateTime,
      resourceData: { "@odata.type": "#microsoft.graph.security.incident", "@odata.id": `security/incidents/${incidentId}`, id: incidentId },
    });
    expect(n.id).toMatch(/^[0-9a-f-]{36}$/);
    // Alerts are not incidents: the alert created with it is not announced to this subscription.
    expect(
      rx
        .notifications()
        .filter((x) => x.subscriptionId === subId)
        .every((x) => x.resource.startsWith("security/incidents/")),
    ).toBe(true);

    expect((await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, { body: { status: "inProgress" } })).status).toBe(200);
    await rx.waitFor(() => rx.notifications().some((x) => x.subscriptionId === subId && x.changeType === "updated" && x.resourceData.id === incidentId));
    expect((await t.request("DELETE", `/v1.0/subscriptions/${subId}`)).status).toBe(204);
  });

  it("refuses an endpoint that fails the handshake, changing nothing", async () => {
    for (const mode of ["wrong", "error", "html", "hang"] as const) {
      rx.handshake = mode;
      const r = await subscribe({ resource: "security/alerts_v2" });
      expect(r.status, mode).toBe(400);
      expect(r.body.error.message).toMatch(/validation request failed/i);
    }
    rx.handshake = "echo";
    const list = await t.get("/v1.0/subscriptions");
    expect(list.body.value).toEqual([]);
  });

  it("refuses what it cannot serve with Graph's 400", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ resource: "security/alerts" }, /not supported/],
      [{ resource: "me/messages" }, /not supported/],
      [{ resource: "security/incidents?$filter=nosuch eq 1" }, /nosuch/],
      [{ resource: "security/incidents?$top=5" }, /only \$filter/],
      [{ resource: "security/incidents", changeType: "deleted" }, /deleted/],
      [{ resource: "security/incidents", expirationDateTime: inHours(24 * 31) }, /43200 minutes/],
      [{ resource: "security/incidents", expirationDateTime: inHours(-1) }, /future/],
      [{ resource: "security/incidents", clientState: "x".repeat(129) }, /128/],
      [{ resource: "security/incidents", includeResourceData: true }, /encryptionCertificate is required/],
      [{ resource: "security/incidents", notificationUrl: "ftp://example.com/x" }, /https/],
    ];
    for (const [body, msg] of cases) {
      const r = await subscribe(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.message).toMatch(msg);
    }
  });

  it("needs the resource's read permission, and keeps each app's and tenant's subscriptions to themselves", async () => {
    const alertsOnly = await t.auth(t.tenantId, ["SecurityAlert.Read.All"]);
    const incidentsOnly = await t.auth(t.tenantId, ["SecurityIncident.Read.All"]);
    const none = await t.auth(t.tenantId, ["SecurityData.Manage.All"]);
    expect((await subscribe({ resource: "security/incidents" }, alertsOnly)).status).toBe(403);
    expect((await subscribe({ resource: "security/alerts_v2" }, none)).status).toBe(403);
    const ok = await subscribe({ resource: "security/alerts_v2" }, alertsOnly);
    expect(ok.status).toBe(201);
    const id = ok.body.id as string;
    // Another app of the tenant does not see it.
    expect((await t.get(`/v1.0/subscriptions/${id}`, incidentsOnly)).status).toBe(404);
    expect((await t.get("/v1.0/subscriptions", incidentsOnly)).body.value).toEqual([]);
    const mine = await t.get("/v1.0/subscriptions", alertsOnly);
    expect(mine.body.value.map((s: any) => s.id)).toEqual([id]);
    expect(mine.body.value[0].clientState).toBeNull();
    // Nor another tenant.
    const other = await t.newTenant();
    const foreign = await t.auth(other);
    expect((await t.get(`/v1.0/subscriptions/${id}`, foreign)).status).toBe(404);
    expect((await t.request("DELETE", `/v1.0/subscriptions/${id}`, { headers: foreign })).status).toBe(404);
    // Renew, reauthorize, delete.
    const renewed = await t.request("PATCH", `/v1.0/subscriptions/${id}`, { body: { expirationDateTime: inHours(48) }, headers: alertsOnly });
    expect(renewed.status).toBe(200);
    expect(Date.parse(renewed.body.expirationDateTime)).toBeGreaterThan(Date.now() + 47 * 3600_000);
    expect((await t.request("POST", `/v1.0/subscriptions/${id}/reauthorize`, { headers: alertsOnly })).status).toBe(204);
    expect((await t.request("DELETE", `/v1.0/subscriptions/${id}`, { headers: alertsOnly })).status).toBe(204);
    expect((await t.get(`/v1.0/subscriptions/${id}`, alertsOnly)).status).toBe(404);
  });

  it("announces only the changes a filtered subscription matches, and one entity's for a subscription by id", async () => {
    const high = await subscribe({ resource: "security/alerts_v2?$filter=severity eq 'high'", changeType: "created" }, undefined, "beta");
    expect(high.status).toBe(201);
    const d = deviceId();
    const [h, l] = [alert({ device: d, severity: "high" }), alert({ device: d, severity: "low" })];
    expect((await t.ingest([h, l])).status).toBe(200);
    await rx.waitFor(() => rx.notifications().some((n) => n.subscriptionId === high.body.id));
    // The low one came in the same commit, so it has been considered too.
    await new Promise((res) => setTimeout(res, 500));
    const got = rx.notifications().filter((n) => n.subscriptionId === high.body.id);
    expect(got.map((n) => n.resourceData.id)).toEqual([h.id]);
    expect(got[0]!.resourceData["@odata.type"]).toBe("#microsoft.graph.security.alert");

    const one = await subscribe({ resource: `security/alerts_v2/${l.id}`, changeType: "updated" });
    expect(one.status).toBe(201);
    expect((await t.request("PATCH", `/v1.0/security/alerts_v2/${h.id}`, { body: { status: "inProgress" } })).status).toBe(200);
    expect((await t.request("PATCH", `/v1.0/security/alerts_v2/${l.id}`, { body: { status: "inProgress" } })).status).toBe(200);
    await rx.waitFor(() => rx.notifications().some((n) => n.subscriptionId === one.body.id));
    await new Promise((res) => setTimeout(res, 500));
    expect(
      rx
        .notifications()
        .filter((n) => n.subscriptionId === one.body.id)
        .map((n) => n.resourceData.id),
    ).toEqual([l.id]);
    for (const id of [high.body.id, one.body.id]) await t.request("DELETE", `/v1.0/subscriptions/${id}`);
  });

  it("batches changes committed close together into one POST", async () => {
    const sub = await subscribe({ resource: "security/alerts_v2", changeType: "created" });
    const start = rx.deliveries.length;
    const alerts = Array.from({ length: 5 }, () => alert({ device: deviceId() }));
    for (const a of alerts) expect((await t.ingest([a])).status).toBe(200);
    await rx.waitFor(() => rx.notifications().filter((n) => n.subscriptionId === sub.body.id).length === 5);
    const posts = rx.deliveries.slice(start).filter((d) => d.body.value.some((n) => n.subscriptionId === sub.body.id));
    expect(posts.length).toBeLessThan(5);
    const ids = rx
      .notifications()
      .filter((n) => n.subscriptionId === sub.body.id)
      .map((n) => n.resourceData.id);
    expect(ids).toEqual(alerts.map((a) => a.id));
    await t.request("DELETE", `/v1.0/subscriptions/${sub.body.id}`);
  });

  it("retries after receiver errors, with the same notification ids, until acknowledged", async () => {
    const sub = await subscribe({ resource: "security/alerts_v2", changeType: "created" });
    rx.statuses.push(500, 503, 404);
    const a = alert({ device: deviceId() });
    const started = Date.now();
    expect((await t.ingest([a])).status).toBe(200);
    await rx.waitFor(() => rx.notifications().some((n) => n.subscriptionId === sub.body.id), 20_000);
    expect(rx.statuses).toEqual([]);
    // Three failures with backoff (300, 600, 1000 ms) came before the acknowledged one.
    expect(Date.now() - started).toBeGreaterThan(1500);
    const got = rx.notifications().filter((n) => n.subscriptionId === sub.body.id);
    expect(got).toHaveLength(1);
    expect(got[0]!.resourceData.id).toBe(a.id);
    const tries = rx.refused.flatMap((d) => d.body.value).filter((n) => n.subscriptionId === sub.body.id);
    expect(tries.map((n) => n.id)).toEqual([got[0]!.id, got[0]!.id, got[0]!.id]);
    await t.request("DELETE", `/v1.0/subscriptions/${sub.body.id}`);
  });
});

describe("a tenant's reset", () => {
  it("announces the feed as it is after a reset, not the changes read before it (which took the same numbers)", async () => {
    // From an empty feed, so the changes before and after the second reset take the same numbers.
    await resetTenantData(t.store.db, t.tenantId);
    const before = await subscribe({ resource: "security/alerts_v2", changeType: "created" });
    const old = Array.from({ length: 3 }, () => alert({ device: deviceId() }));
    expect((await t.ingest(old)).status).toBe(200);
    await rx.waitFor(() => rx.notifications().filter((n) => n.subscriptionId === before.body.id).length === 3);
    // The feed numbers from 1 again, and the subscription is gone with the rest of the tenant's data.
    await resetTenantData(t.store.db, t.tenantId);
    const after = await subscribe({ resource: "security/alerts_v2", changeType: "created" });
    expect(after.status).toBe(201);
    const fresh = alert({ device: deviceId() });
    expect((await t.ingest([fresh])).status).toBe(200);
    await rx.waitFor(() => rx.notifications().some((n) => n.subscriptionId === after.body.id));
    await sleep(500);
    expect(
      rx
        .notifications()
        .filter((n) => n.subscriptionId === after.body.id)
        .map((n) => n.resourceData.id),
    ).toEqual([fresh.id]);
    await t.request("DELETE", `/v1.0/subscriptions/${after.body.id}`);
  });
});

describe("outbound safety", () => {
  it("refuses loopback destinations unless the server allows private destinations", async () => {
    const strict = await startTriage();
    try {
      const r = await strict.request("POST", "/v1.0/subscriptions", {
        body: { changeType: "created", notificationUrl: rx.url.replace("http:", "https:"), resource: "security/incidents", expirationDateTime: inHours(1) },
      });
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(/not a public address/);
      const plain = await strict.request("POST", "/v1.0/subscriptions", {
        body: { changeType: "created", notificationUrl: rx.url, resource: "security/incidents", expirationDateTime: inHours(1) },
      });
      expect(plain.status).toBe(400);
      expect(plain.body.error.message).toMatch(/https/);
    } finally {
      await strict.close();
    }
  });
});
