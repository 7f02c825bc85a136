import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createPrivateKey, randomUUID } from "node:crypto";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWK } from "jose";
import { startTriage, type TestTriage } from "../support/triage.js";
import { runCli } from "../support/process.js";
import { nowSec, sign, tokenEndpoint } from "../support/jwt.js";
import { KeyRing } from "../../src/identity/keys.js";
import { accessToken, GRAPH_APP_ID, GRAPH_RESOURCE } from "../../src/identity/tokens.js";
import { addSecret, createApp, createUser, grantAdminConsent } from "../../src/identity/directory.js";
import { ENTRA_ROLES } from "../../src/permissions/entra-roles.js";

const LIFETIME = 3599;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A new consented confidential app in the tenant; `token()` asks the token endpoint afresh each time. */
async function confidentialApp(t: TestTriage, tenant = t.tenantId, permissions = ["SecurityIncident.ReadWrite.All"]) {
  const app = await createApp(t.store.db, { tenantId: tenant, displayName: "Key test app", appPermissions: permissions });
  await grantAdminConsent(t.store.db, app.clientId);
  const { secret } = await addSecret(t.store.db, app.clientId);
  return {
    clientId: app.clientId,
    async token(tenantSegment: string = tenant): Promise<string> {
      const r = await tokenEndpoint(t.url, tenantSegment, {
        grant_type: "client_credentials",
        client_id: app.clientId,
        client_secret: secret,
        scope: `${GRAPH_RESOURCE}/.default`,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body.access_token as string;
    },
  };
}

async function jwks(t: TestTriage, tenant = t.tenantId): Promise<JWK[]> {
  const r = await t.get(`/${tenant}/discovery/v2.0/keys`, { authorization: "" });
  expect(r.status, r.text).toBe(200);
  return r.body.keys as JWK[];
}

const kids = (keys: JWK[]) => keys.map((k) => k.kid).sort();
const kidOf = (token: string) => decodeProtectedHeader(token).kid;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const incidents = (t: TestTriage, token: string) => t.get("/v1.0/security/incidents", bearer(token));

describe("discovery and the JWKS", () => {
  let t: TestTriage;
  beforeAll(async () => {
    t = await startTriage();
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each(["/v2.0/.well-known/openid-configuration", "/.well-known/openid-configuration"])("%s describes the tenant's authority", async (suffix) => {
    const r = await t.get(`/${t.tenantId}${suffix}`, { authorization: "" });
    expect(r.status, r.text).toBe(200);
    const base = `${t.url}/${t.tenantId}`;
    expect(r.body).toMatchObject({
      issuer: `${base}/v2.0`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      id_token_signing_alg_values_supported: ["RS256"],
      response_types_supported: ["code"],
      code_challenge_methods_supported: ["S256"],
    });
    expect(r.body.grant_types_supported).toEqual(expect.arrayContaining(["client_credentials", "password", "authorization_code", "refresh_token"]));
    expect(r.body.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(["client_secret_post", "private_key_jwt"]));
  });

  it("publishes RS256 public keys only", async () => {
    const keys = await jwks(t);
    expect(keys.length).toBeGreaterThanOrEqual(1);
    for (const k of keys) {
      expect(Object.keys(k).sort()).toEqual(["alg", "e", "kid", "kty", "n", "use"]);
      expect(k).toMatchObject({ kty: "RSA", use: "sig", alg: "RS256" });
      expect(Buffer.from(k.n!, "base64url").length).toBeGreaterThanOrEqual(256);
    }
  });

  it("matches the tenant segment case-insensitively, and the token issued there is for the lowercase tenant", async () => {
    const upper = t.tenantId.toUpperCase();
    const d = await t.get(`/${upper}/v2.0/.well-known/openid-configuration`, { authorization: "" });
    expect(d.status, d.text).toBe(200);
    expect(d.body.issuer).toBe(`${t.url}/${t.tenantId}/v2.0`);
    expect(kids(await jwks(t, upper))).toEqual(kids(await jwks(t)));
    const app = await confidentialApp(t);
    const token = await app.token(upper);
    expect(decodeJwt(token)).toMatchObject({ tid: t.tenantId, iss: `${t.url}/${t.tenantId}/v2.0` });
    expect((await incidents(t, token)).status).toBe(200);
  });

  it.each([
    { what: "an unknown tenant id", tenant: () => randomUUID() },
    { what: "a tenant that is not a GUID", tenant: () => "contoso.onmicrosoft.com" },
  ])("answers $what with an Entra error body on every endpoint", async ({ tenant }) => {
    const id = tenant();
    const correlation = randomUUID();
    const requests = [
      fetch(`${t.url}/${id}/v2.0/.well-known/openid-configuration`, { headers: { "client-request-id": correlation } }),
      fetch(`${t.url}/${id}/discovery/v2.0/keys`, { headers: { "client-request-id": correlation } }),
      fetch(`${t.url}/${id}/oauth2/v2.0/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "client-request-id": correlation },
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: randomUUID(), client_secret: "x", scope: `${GRAPH_RESOURCE}/.default` }),
      }),
    ];
    for (const res of await Promise.all(requests)) {
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const body = (await res.json()) as any;
      expect(body).toMatchObject({ error: "invalid_request", error_codes: [90002], correlation_id: correlation });
      expect(body.error_description).toMatch(/^AADSTS90002: Tenant '.+' not found\./);
      expect(body.error_description).toContain(`Trace ID: ${body.trace_id}`);
      expect(body.error_description).toContain(`Correlation ID: ${correlation}`);
      expect(body.error_description).toContain(`Timestamp: ${body.timestamp}`);
      expect(body.trace_id).toMatch(GUID);
      expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    }
  });
});

describe("access tokens look like Entra v2.0 tokens for Microsoft Graph", () => {
  let t: TestTriage;
  let discovery: any;
  beforeAll(async () => {
    t = await startTriage();
    discovery = (await t.get(`/${t.tenantId}/v2.0/.well-known/openid-configuration`, { authorization: "" })).body;
  });
  afterAll(async () => {
    await t?.close();
  });

  /** What a resource server does with discovery alone: verify against the published keys and issuer. */
  async function verifyAsAResourceServer(token: string) {
    const r = await fetch(discovery.jwks_uri);
    const set = createLocalJWKSet((await r.json()) as { keys: JWK[] });
    return jwtVerify(token, set, { issuer: discovery.issuer, audience: GRAPH_APP_ID, algorithms: ["RS256"], requiredClaims: ["exp", "iat", "nbf", "tid"] });
  }

  function expectCommonClaims(claims: Record<string, unknown>, clientId: string) {
    expect(claims).toMatchObject({ aud: GRAPH_APP_ID, iss: `${t.url}/${t.tenantId}/v2.0`, tid: t.tenantId, azp: clientId, ver: "2.0" });
    expect(claims.oid).toMatch(GUID);
    expect(claims.uti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(claims.nbf).toBe(claims.iat);
    expect(claims.exp).toBe((claims.iat as number) + LIFETIME);
    expect(Math.abs((claims.iat as number) - nowSec())).toBeLessThanOrEqual(5);
  }

  it("app-only (client credentials): header kid + RS256, roles, idtyp app, no scp", async () => {
    const app = await confidentialApp(t, t.tenantId, ["SecurityIncident.Read.All", "SecurityAlert.ReadWrite.All"]);
    const token = await app.token();
    const header = decodeProtectedHeader(token);
    expect(header).toEqual({ alg: "RS256", typ: "JWT", kid: expect.any(String) });
    expect(kids(await jwks(t))).toContain(header.kid);
    const { payload } = await verifyAsAResourceServer(token);
    expectCommonClaims(payload, app.clientId);
    expect(payload).toMatchObject({ idtyp: "app", oid: app.clientId, sub: app.clientId, roles: ["SecurityAlert.ReadWrite.All", "SecurityIncident.Read.All"] });
    expect(payload).not.toHaveProperty("scp");
    expect(payload).not.toHaveProperty("wids");
  });

  it("delegated (password grant): scp, wids, the user's oid and names, idtyp user, no roles", async () => {
    const app = await createApp(t.store.db, {
      tenantId: t.tenantId,
      displayName: "Console",
      publicClient: true,
      delegatedPermissions: ["SecurityIncident.ReadWrite.All", "SecurityAlert.Read.All"],
    });
    await grantAdminConsent(t.store.db, app.clientId);
    const user = await createUser(t.store.db, {
      tenantId: t.tenantId,
      upn: "ops@contoso.example",
      displayName: "Ops Person",
      password: "Pass-w0rd-Ops",
      roles: ["Security Operator"],
    });
    const r = await tokenEndpoint(t.url, t.tenantId, {
      grant_type: "password",
      client_id: app.clientId,
      username: user.upn,
      password: "Pass-w0rd-Ops",
      scope: `${GRAPH_RESOURCE}/.default openid profile`,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const token = r.body.access_token as string;
    expect(decodeProtectedHeader(token)).toEqual({ alg: "RS256", typ: "JWT", kid: expect.any(String) });
    const { payload } = await verifyAsAResourceServer(token);
    expectCommonClaims(payload, app.clientId);
    expect(payload).toMatchObject({
      idtyp: "user",
      oid: user.id,
      sub: user.id,
      name: "Ops Person",
      preferred_username: "ops@contoso.example",
      wids: [ENTRA_ROLES["Security Operator"]],
    });
    expect((payload.scp as string).split(" ").sort()).toEqual(["SecurityAlert.Read.All", "SecurityIncident.ReadWrite.All"]);
    expect(payload).not.toHaveProperty("roles");
    expect((await incidents(t, token)).status).toBe(200);
  });
});

describe("signing-key rotation", () => {
  let t: TestTriage;
  beforeAll(async () => {
    t = await startTriage();
  });
  afterAll(async () => {
    vi.useRealTimers();
    await t?.close();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("`triage keys rotate` on the data dir: old tokens still validate, new ones carry the new kid, both keys are published; the old key goes once its tokens have expired", async () => {
    const app = await confidentialApp(t);
    const before = await app.token();
    const oldKid = kidOf(before);
    expect(kids(await jwks(t))).toEqual([oldKid]);
    const sealed = (await t.store.db.selectFrom("signing_keys").select("private_pem").where("kid", "=", oldKid!).executeTakeFirstOrThrow()).private_pem;
    const oldPem = t.keyEncryption.open(sealed, `signing_keys:${oldKid}`);

    const cli = await runCli(["keys", "rotate", ...t.storeArgs, "--json"]);
    expect(cli.code, cli.stderr).toBe(0);
    const newKid = (JSON.parse(cli.stdout) as { kid: string }).kid;
    expect(newKid).not.toBe(oldKid);

    // The running server re-reads its key set within 30 s; move its clock past that.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    vi.setSystemTime(Date.now() + 31_000);

    expect(kids(await jwks(t))).toEqual([oldKid, newKid].sort());
    const after = await app.token();
    expect(kidOf(after)).toBe(newKid);
    // `before` was never presented before the rotation, so this is a real validation, not a cache hit.
    expect((await incidents(t, before)).status).toBe(200);
    expect((await incidents(t, after)).status).toBe(200);

    // Past the old key's last token's lifetime (plus margin), it is no longer published or trusted.
    vi.setSystemTime(Date.now() + (LIFETIME + 301) * 1000);
    expect(kids(await jwks(t))).toEqual([newKid]);
    const lateWithOldKey = await sign(
      { kid: oldKid!, privateKey: createPrivateKey(oldPem) },
      { ...decodeJwt(after), iat: nowSec(), nbf: nowSec(), exp: nowSec() + 600 },
    );
    const r = await incidents(t, lateWithOldKey);
    expect(r.status).toBe(401);
    expect(r.body.error.message).toMatch(/unknown key/);
    const fresh = await app.token();
    expect(kidOf(fresh)).toBe(newKid);
    expect((await incidents(t, fresh)).status).toBe(200);
  });
});

describe("signing-key rotation on another node", () => {
  // A server of its own: the test above leaves its server's clock-based caches in the future.
  let t: TestTriage;
  beforeAll(async () => {
    t = await startTriage();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("KeyRing.rotate() on another node: its first token is accepted at once (an unknown kid re-reads the keys), and this node then signs with the new key", async () => {
    const app = await confidentialApp(t);
    const before = await app.token();
    const otherNode = new KeyRing(t.store.db, LIFETIME, 0, t.keyEncryption);
    const newKid = await otherNode.rotate();
    expect(kidOf(before)).not.toBe(newKid);

    const claims = decodeJwt(before);
    const fromOtherNode = await accessToken(
      otherNode,
      t.url,
      { kind: "app", tenantId: t.tenantId, clientId: app.clientId, appName: "Key test app", roles: claims.roles as string[] },
      LIFETIME,
    );
    expect(kidOf(fromOtherNode)).toBe(newKid);
    expect((await incidents(t, fromOtherNode)).status).toBe(200);

    expect(kids(await jwks(t))).toContain(newKid);
    expect(kids(await jwks(t))).toContain(kidOf(before));
    expect(kidOf(await app.token())).toBe(newKid);
    expect((await incidents(t, before)).status).toBe(200);
  });
});
