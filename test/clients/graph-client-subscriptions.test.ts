/**
 * The Graph JavaScript client's subscription calls, unmodified, against Triage over HTTPS: create
 * (with the validation handshake to a real receiver), list, get, renew, reauthorize and delete, and a
 * notification arriving at the receiver for an alert ingested afterwards; and a rich subscription, whose
 * encrypted resource data the receiver decrypts to the alert the client reads.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientSecretCredential } from "@azure/identity";
import { Client, GraphError } from "@microsoft/microsoft-graph-client";
import { TokenCredentialAuthenticationProvider } from "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js";
import { alert, deviceId } from "../support/alerts.js";
import { GRAPH_SCOPE, startHttpsTriage, type HttpsTriage } from "../support/https-triage.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { decryptContent, receiverCertificate, type EncryptedContent } from "../support/encryption-certificate.js";

let triage: HttpsTriage;
let client: Client;
let token: string;
let rx: Receiver;

beforeAll(async () => {
  triage = await startHttpsTriage({ notifications: { allowPrivateDestinations: true, batchWindowMs: 100, pollIntervalMs: 300 } });
  rx = await startReceiver("/graph/notifications");
  const { clientId, secret } = await triage.registerApp();
  const credential = new ClientSecretCredential(triage.tenantId, clientId, secret!, { authorityHost: triage.url, disableInstanceDiscovery: true });
  client = Client.initWithMiddleware({
    baseUrl: triage.url,
    customHosts: new Set([triage.hostname]),
    authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: [GRAPH_SCOPE] }),
  });
  token = (await credential.getToken(GRAPH_SCOPE)).token;
});
afterAll(async () => {
  await triage?.close();
  await rx?.close();
});

describe("subscriptions through the Graph JavaScript client", () => {
  it("creates, lists, reads, renews, reauthorizes and deletes, and the receiver is notified", async () => {
    const expirationDateTime = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const created = await client.api("/subscriptions").post({
      changeType: "created",
      notificationUrl: rx.url,
      resource: "security/alerts_v2?$filter=severity eq 'high'",
      expirationDateTime,
      clientState: "secretClientValue",
      latestSupportedTlsVersion: "v1_2",
    });
    expect(rx.handshakes).toBe(1);
    expect(created).toMatchObject({ resource: "security/alerts_v2?$filter=severity eq 'high'", changeType: "created", clientState: "secretClientValue" });

    const list = await client.api("/subscriptions").get();
    expect(list.value.map((s: { id: string }) => s.id)).toEqual([created.id]);
    const one = await client.api(`/subscriptions/${created.id}`).get();
    expect(one.notificationUrl).toBe(rx.url);

    const high = alert({ device: deviceId(), severity: "high" });
    await triage.ingest([alert({ device: deviceId(), severity: "low" }), high], token);
    await rx.waitFor((r) => r.notifications().length >= 1);
    expect(rx.notifications()).toEqual([
      expect.objectContaining({
        subscriptionId: created.id,
        clientState: "secretClientValue",
        changeType: "created",
        resource: `security/alerts_v2/${high.id}`,
      }),
    ]);

    const later = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const renewed = await client.api(`/subscriptions/${created.id}`).update({ expirationDateTime: later });
    expect(Date.parse(renewed.expirationDateTime)).toBe(Date.parse(later));
    await client.api(`/subscriptions/${created.id}/reauthorize`).post({});
    await client.api(`/subscriptions/${created.id}`).delete();
    const gone = await client
      .api(`/subscriptions/${created.id}`)
      .get()
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(gone).toBeInstanceOf(GraphError);
    expect((gone as GraphError).statusCode).toBe(404);
  });

  it("creates a rich subscription whose notifications decrypt to the alert the client reads", async () => {
    const cert = receiverCertificate();
    const created = await client.api("/subscriptions").post({
      changeType: "created",
      notificationUrl: rx.url,
      resource: "security/alerts_v2?$filter=severity eq 'medium'",
      expirationDateTime: new Date(Date.now() + 86_400_000).toISOString(),
      clientState: "secretClientValue",
      includeResourceData: true,
      encryptionCertificate: cert.base64,
      encryptionCertificateId: "graph-client-cert",
    });
    expect(created).toMatchObject({ includeResourceData: true, encryptionCertificateId: "graph-client-cert" });
    const medium = alert({ device: deviceId(), severity: "medium" });
    await triage.ingest([medium], token);
    await rx.waitFor((r) => r.notifications().some((n) => n.subscriptionId === created.id));
    const n = rx.notifications().find((x) => x.subscriptionId === created.id)!;
    const decrypted = decryptContent(n.encryptedContent as EncryptedContent, cert.privateKey) as Record<string, unknown>;
    const { "@odata.context": _, ...read } = (await client.api(`/security/alerts_v2/${medium.id}`).get()) as Record<string, unknown>;
    expect(decrypted).toEqual(read);
    await client.api(`/subscriptions/${created.id}`).delete();
  });

  it("surfaces a failed handshake as Graph's 400", async () => {
    rx.handshake = "wrong";
    const err = await client
      .api("/subscriptions")
      .post({
        changeType: "updated",
        notificationUrl: rx.url,
        resource: "security/incidents",
        expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    rx.handshake = "echo";
    expect(err).toBeInstanceOf(GraphError);
    expect((err as GraphError).statusCode).toBe(400);
    expect((err as GraphError).message).toMatch(/validation request failed/i);
  });
});
