/**
 * Rich notifications (includeResourceData) against a real receiver on loopback: the receiver decrypts
 * each encryptedContent by Graph's documented procedure with its private key and gets the entity a
 * GET answers; a tampered signature or data fails verification; and a create without a usable
 * certificate is Graph's 400 and creates nothing. Each POST with resource data carries Graph's
 * validationTokens, which the receiver validates with jose against Triage's published keys.
 */
import { createHash, X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { startReceiver, type Receiver } from "../support/receiver.js";
import { decryptContent, receiverCertificate, type EncryptedContent, type ReceiverCertificate } from "../support/encryption-certificate.js";

let t: TestTriage;
let rx: Receiver;
let cert: ReceiverCertificate;

beforeAll(async () => {
  t = await startTriage({ notifications: { allowPrivateDestinations: true, batchWindowMs: 200, pollIntervalMs: 300, handshakeTimeoutMs: 1500 } });
  rx = await startReceiver();
  cert = receiverCertificate();
});
afterAll(async () => {
  await t.close();
  await rx.close();
});

const inHours = (h: number) => new Date(Date.now() + h * 3600_000).toISOString();

function subscribe(body: Record<string, unknown>, headers?: Record<string, string>) {
  return t.request("POST", "/v1.0/subscriptions", {
    body: { changeType: "created,updated", notificationUrl: rx.url, expirationDateTime: inHours(1), clientState: "s3cret", ...body },
    headers,
  });
}

/** What GET answers for the entity, less @odata.context (which names the server). */
async function getEntity(path: string, headers?: Record<string, string>): Promise<Record<string, unknown>> {
  const r = await t.request("GET", `/v1.0/${path}`, { headers });
  expect(r.status).toBe(200);
  const { "@odata.context": _, ...entity } = r.body as Record<string, unknown>;
  return entity;
}

/** The last notification the subscription delivered for `resource`, once deliveries for it have settled. */
async function lastFor(subId: string, resource: string): Promise<Record<string, any>> {
  const mine = () => rx.notifications().filter((n) => n.subscriptionId === subId && n.resource === resource);
  await rx.waitFor(() => mine().length > 0);
  let seen = -1;
  for (let i = 0; i < 20 && mine().length !== seen; i++) {
    seen = mine().length;
    await new Promise((r) => setTimeout(r, 700));
  }
  return mine().at(-1)!;
}

describe("rich notifications", () => {
  it("encrypts each incident and alert for the receiver's certificate, decrypting to what GET answers", async () => {
    const inc = await subscribe({
      resource: "security/incidents",
      includeResourceData: true,
      encryptionCertificate: cert.base64,
      encryptionCertificateId: "rx-cert-1",
    });
    expect(inc.status, JSON.stringify(inc.body)).toBe(201);
    expect(inc.body).toMatchObject({ includeResourceData: true, encryptionCertificate: cert.base64, encryptionCertificateId: "rx-cert-1" });
    const alerts = await subscribe({
      resource: "security/alerts_v2",
      includeResourceData: true,
      encryptionCertificate: cert.base64,
      encryptionCertificateId: "rx-cert-1",
    });
    expect(alerts.status).toBe(201);
    const plain = await subscribe({ resource: "security/alerts_v2" });
    expect(plain.body.includeResourceData).toBe(false);
    // The subscription reads back as created; listings carry the certificate too.
    expect((await t.get(`/v1.0/subscriptions/${inc.body.id}`)).body).toMatchObject({ includeResourceData: true, encryptionCertificateId: "rx-cert-1" });

    const ing = await t.ingest([alert({ device: deviceId(), severity: "high" })]);
    expect(ing.status).toBe(200);
    const incidentId = ing.body.value[0].incidentId as string;
    const alertId = ing.body.value[0].id as string;
    expect((await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, { body: { status: "inProgress" } })).status).toBe(200);

    const thumbprint = createHash("sha1")
      .update(new X509Certificate(Buffer.from(cert.base64, "base64")).raw)
      .digest("hex")
      .toUpperCase();
    for (const [subId, path] of [
      [inc.body.id as string, `security/incidents/${incidentId}`],
      [alerts.body.id as string, `security/alerts_v2/${alertId}`],
    ] as const) {
      const n = await lastFor(subId, path);
      expect(n.resourceData).toMatchObject({ "@odata.id": path });
      const c = n.encryptedContent as EncryptedContent;
      expect(c).toMatchObject({ encryptionCertificateId: "rx-cert-1", encryptionCertificateThumbprint: thumbprint });
      const decrypted = decryptContent(c, cert.privateKey) as Record<string, unknown>;
      expect(decrypted).toEqual(await getEntity(path));
      if (path.startsWith("security/incidents/")) expect(decrypted.status).toBe("inProgress");
    }
    // Every notification has a key of its own.
    const keys = rx.notifications().flatMap((n) => (n.encryptedContent ? [n.encryptedContent.dataKey] : []));
    expect(new Set(keys).size).toBe(keys.length);
    // The subscription without resource data gets none.
    const bare = await lastFor(plain.body.id as string, `security/alerts_v2/${alertId}`);
    expect(bare.encryptedContent).toBeUndefined();
  });

  it("fails verification when the signature or the data was tampered with", async () => {
    const n = rx.notifications().find((x) => x.encryptedContent)!;
    const c = n.encryptedContent as EncryptedContent;
    expect(() => decryptContent(c, cert.privateKey)).not.toThrow();
    const sig = Buffer.from(c.dataSignature, "base64");
    sig[0]! ^= 1;
    expect(() => decryptContent({ ...c, dataSignature: sig.toString("base64") }, cert.privateKey)).toThrow(/signature/);
    const data = Buffer.from(c.data, "base64");
    data[data.length - 1]! ^= 1;
    expect(() => decryptContent({ ...c, data: data.toString("base64") }, cert.privateKey)).toThrow(/signature/);
    // Another receiver's key cannot read it.
    expect(() => decryptContent(c, receiverCertificate().privateKey)).toThrow();
  });

  it("carries Graph's validationTokens with resource data: one JWT a receiver validates against Triage's JWKS", async () => {
    const withData = rx.deliveries.filter((d) => d.body.value.some((n) => n.encryptedContent));
    expect(withData.length).toBeGreaterThan(0);
    const jwks = createRemoteJWKSet(new URL(`${t.url}/${t.tenantId}/discovery/v2.0/keys`));
    const issuer = `${t.url}/${t.tenantId}/v2.0`;
    // The issuer's OpenID configuration names the same key set.
    expect((await t.get(`/${t.tenantId}/v2.0/.well-known/openid-configuration`, { authorization: "" })).body.jwks_uri).toBe(
      `${t.url}/${t.tenantId}/discovery/v2.0/keys`,
    );
    for (const d of withData) {
      const tokens = (d.body as { validationTokens?: string[] }).validationTokens;
      expect(tokens).toHaveLength(1);
      const sub = (await t.get(`/v1.0/subscriptions/${d.body.value[0]!.subscriptionId}`)).body;
      const { payload, protectedHeader } = await jwtVerify(tokens![0]!, jwks, { issuer, audience: sub.applicationId as string, algorithms: ["RS256"] });
      expect(protectedHeader.kid).toBeTruthy();
      expect(payload).toMatchObject({ azp: "0bf30f3b-4a52-48df-9a82-234910c4a086", tid: t.tenantId });
      expect(payload.exp! - payload.iat!).toBe(3600);
      // Another app, another issuer, or a changed token is refused.
      await expect(jwtVerify(tokens![0]!, jwks, { issuer, audience: "00000000-0000-0000-0000-000000000001" })).rejects.toThrow();
      await expect(jwtVerify(tokens![0]!, jwks, { issuer: `${t.url}/other/v2.0`, audience: sub.applicationId as string })).rejects.toThrow();
      const [h, , sig] = tokens![0]!.split(".");
      const forged = Buffer.from(JSON.stringify({ ...payload, tid: "someone-else" })).toString("base64url");
      await expect(jwtVerify(`${h}.${forged}.${sig}`, jwks, { issuer, audience: sub.applicationId as string })).rejects.toThrow();
    }
    // Without resource data, no tokens (as in Graph).
    const plain = rx.deliveries.filter((d) => d.body.value.every((n) => !n.encryptedContent));
    expect(plain.length).toBeGreaterThan(0);
    for (const d of plain) expect((d.body as { validationTokens?: string[] }).validationTokens).toBeUndefined();
  });

  it("refuses a missing or unusable certificate with Graph's 400, creating nothing", async () => {
    const before = (await t.get("/v1.0/subscriptions")).body.value.length as number;
    const handshakes = rx.handshakes;
    const rich = (extra: Record<string, unknown>) => ({ resource: "security/incidents", includeResourceData: true, encryptionCertificateId: "c1", ...extra });
    const cases: [Record<string, unknown>, RegExp][] = [
      [rich({}), /encryptionCertificate is required/],
      [rich({ encryptionCertificate: cert.base64, encryptionCertificateId: undefined }), /encryptionCertificateId is required/],
      [rich({ encryptionCertificate: cert.base64, encryptionCertificateId: "x".repeat(129) }), /128/],
      [rich({ encryptionCertificate: "not base64!" }), /base64/],
      [rich({ encryptionCertificate: Buffer.from("hello").toString("base64") }), /not a valid X\.509/],
      [rich({ encryptionCertificate: "A".repeat(20_000) }), /longer than/],
      [rich({ encryptionCertificate: receiverCertificate({ bits: 1024 }).base64 }), /2048 to 8192 bits/],
      [
        rich({
          encryptionCertificate: receiverCertificate({ notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) }).base64,
        }),
        /expired/,
      ],
      [rich({ encryptionCertificate: receiverCertificate({ notBefore: new Date(Date.now() + 86_400_000) }).base64 }), /not valid yet/],
      [rich({ encryptionCertificate: 42 }), /must be a string/],
      [{ resource: "security/incidents", includeResourceData: "yes" }, /boolean/],
      [
        { resource: "security/incidents", encryptionCertificate: cert.base64, encryptionCertificateId: "c1" },
        /only to a subscription with includeResourceData/,
      ],
    ];
    for (const [body, msg] of cases) {
      const r = await subscribe(body);
      expect(r.status, JSON.stringify(body).slice(0, 200)).toBe(400);
      expect(r.body.error.message).toMatch(msg);
    }
    expect(rx.handshakes).toBe(handshakes);
    expect((await t.get("/v1.0/subscriptions")).body.value.length).toBe(before);
  });
});
