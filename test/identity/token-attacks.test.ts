import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPublicKey, randomUUID, type KeyObject } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, exportJWK } from "jose";
import { ALL_PERMISSIONS, startTriage, type Response, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { newRsaKey, nowSec, serverSigningKey, sign, tamper, tokenEndpoint, unsigned, uti, type TestKey } from "../support/jwt.js";
import { addSecret, createApp, createUser, grantAdminConsent } from "../../src/identity/directory.js";
import { ENTRA_ROLES } from "../../src/permissions/entra-roles.js";
import { GRAPH_APP_ID, GRAPH_RESOURCE } from "../../src/identity/tokens.js";

/**
 * Every way a bearer token can be wrong is a 401 with Graph's error body and a Bearer challenge, and
 * changes nothing; every missing permission is a 403 that names what was needed. Control cases, minted
 * the same way as the attacks, succeed: a rejection is for the flaw under test, not for the minting.
 */

let t: TestTriage;
let otherTid: string;
/** The incident every attack tries to change; `control` is the one valid tokens change. */
let target: string;
let control: string;
let targetBefore: any;
let auditBefore: any;
let serverKey: { kid: string; privateKey: KeyObject };
let attackerKey: TestKey;
/** A real token from the token endpoint, with only SecurityIncident.Read.All. */
let readOnlyToken: string;
let delegated: { clientId: string; reader: Tokens; operator: Tokens; noRole: Tokens };
let alertsOnly: Tokens;
let unconsentedToken: string;

interface Tokens {
  access: string;
  id: string;
}

const PASSWORD = "Correct-Horse-9";
const FORGER = "0b1e3f6a-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
const PATCH_BODY = { assignedTo: "mallory@evil.example", customTags: ["pwned"] };
const WWW_AUTHENTICATE =
  /^Bearer realm="", authorization_uri="http:\/\/127\.0\.0\.1:\d+\/common\/oauth2\/authorize", client_id="00000003-0000-0000-c000-000000000000"$/;

/** Claims of a well-formed app-only token for Triage, as its token endpoint would issue them. */
function appClaims(over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSec();
  const tid = (over.tid as string | undefined) ?? t.tenantId;
  return {
    aud: GRAPH_APP_ID,
    iss: `${t.url}/${tid}/v2.0`,
    iat: now,
    nbf: now,
    exp: now + 3600,
    tid,
    azp: FORGER,
    azpacr: "1",
    app_displayname: "forger",
    idtyp: "app",
    oid: FORGER,
    sub: FORGER,
    roles: ALL_PERMISSIONS,
    ver: "2.0",
    uti: uti(),
    ...over,
  };
}

/** Signed with the server's real key: only the claims can be wrong. */
const withServerKey = (over: Record<string, unknown> = {}) => sign(serverKey, appClaims(over));

async function ropc(clientId: string, username: string): Promise<Tokens> {
  const r = await tokenEndpoint(t.url, t.tenantId, {
    grant_type: "password",
    client_id: clientId,
    username,
    password: PASSWORD,
    scope: `${GRAPH_RESOURCE}/.default openid profile`,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return { access: r.body.access_token, id: r.body.id_token };
}

async function ingestOne(title: string): Promise<string> {
  const r = await t.ingest([alert({ device: deviceId(), title })]);
  expect(r.status).toBe(200);
  return String(r.body.value[0].incidentId);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const getIncident = (id: string, headers: Record<string, string> = {}) => t.get(`/v1.0/security/incidents/${id}`, headers);
const patchIncident = (id: string, headers: Record<string, string>) => t.request("PATCH", `/v1.0/security/incidents/${id}`, { body: PATCH_BODY, headers });

beforeAll(async () => {
  t = await startTriage();
  otherTid = await t.newTenant();
  target = await ingestOne("Target of the attacks");
  control = await ingestOne("Changed by valid tokens");
  targetBefore = (await getIncident(target)).body;
  auditBefore = (await t.get(`/triage/incidents/${target}/audit`)).body;
  readOnlyToken = await t.tokenFor(t.tenantId, ["SecurityIncident.Read.All"]);
  serverKey = await serverSigningKey(t.store.db, t.keyEncryption);
  expect(decodeProtectedHeader(readOnlyToken).kid).toBe(serverKey.kid);
  attackerKey = await newRsaKey();

  // A public client with delegated access, consented, and three users.
  const cli = await createApp(t.store.db, {
    tenantId: t.tenantId,
    displayName: "Triage console",
    publicClient: true,
    delegatedPermissions: ["SecurityIncident.ReadWrite.All"],
  });
  await grantAdminConsent(t.store.db, cli.clientId);
  await createUser(t.store.db, { tenantId: t.tenantId, upn: "reader@contoso.example", password: PASSWORD, roles: ["Security Reader"] });
  await createUser(t.store.db, { tenantId: t.tenantId, upn: "operator@contoso.example", password: PASSWORD, roles: ["Security Operator"] });
  await createUser(t.store.db, { tenantId: t.tenantId, upn: "nobody@contoso.example", password: PASSWORD, roles: [] });
  delegated = {
    clientId: cli.clientId,
    reader: await ropc(cli.clientId, "reader@contoso.example"),
    operator: await ropc(cli.clientId, "operator@contoso.example"),
    noRole: await ropc(cli.clientId, "nobody@contoso.example"),
  };

  // A public client consented for alerts only: a Security Operator through it has no incident scope.
  const alertsApp = await createApp(t.store.db, {
    tenantId: t.tenantId,
    displayName: "Alert viewer",
    publicClient: true,
    delegatedPermissions: ["SecurityAlert.Read.All"],
  });
  await grantAdminConsent(t.store.db, alertsApp.clientId);
  alertsOnly = await ropc(alertsApp.clientId, "operator@contoso.example");

  // An app that requests a permission nobody ever consented to.
  const pending = await createApp(t.store.db, { tenantId: t.tenantId, displayName: "Awaiting consent", appPermissions: ["SecurityIncident.ReadWrite.All"] });
  const { secret } = await addSecret(t.store.db, pending.clientId);
  const cc = await tokenEndpoint(t.url, t.tenantId, {
    grant_type: "client_credentials",
    client_id: pending.clientId,
    client_secret: secret,
    scope: `${GRAPH_RESOURCE}/.default`,
  });
  expect(cc.status, JSON.stringify(cc.body)).toBe(200);
  unconsentedToken = cc.body.access_token;
});
afterAll(async () => {
  await t?.close();
});

function expect401(r: Response, reason: RegExp) {
  expect(r.status, r.text).toBe(401);
  expect(r.headers.get("content-type")).toMatch(/^application\/json/);
  expect(r.headers.get("www-authenticate")).toMatch(WWW_AUTHENTICATE);
  expect(r.body.error.code).toBe("InvalidAuthenticationToken");
  expect(r.body.error.message).toMatch(reason);
  expect(r.body.error.innerError["request-id"]).toMatch(/^[0-9a-f-]{36}$/);
}

interface Attack {
  name: string;
  /** The whole Authorization header ("" sends none). */
  authorization: () => Promise<string>;
  reason: RegExp;
}

const token = (make: () => Promise<string> | string) => async () => `Bearer ${await make()}`;

const attacks: Attack[] = [
  // ── not a bearer token at all ──
  { name: "no Authorization header", authorization: async () => "", reason: /^Access token is empty\.$/ },
  { name: "'Bearer' without a token", authorization: async () => "Bearer", reason: /must be 'Bearer <access token>'/ },
  {
    name: "a Basic credential",
    authorization: async () => `Basic ${Buffer.from("admin:admin").toString("base64")}`,
    reason: /must be 'Bearer <access token>'/,
  },
  { name: "two tokens", authorization: async () => `Bearer ${readOnlyToken} ${readOnlyToken}`, reason: /must be 'Bearer <access token>'/ },
  { name: "garbage", authorization: token(() => "not-a-jwt"), reason: /not a well-formed JWT/ },
  { name: "three segments that are not base64url JSON", authorization: token(() => "abc.def.ghi"), reason: /not a well-formed JWT/ },

  // ── algorithm attacks ──
  { name: "alg 'none', unsigned", authorization: token(() => unsigned({ alg: "none", typ: "JWT" }, appClaims())), reason: /algorithm 'none' is not accepted/ },
  { name: "alg 'None', unsigned", authorization: token(() => unsigned({ alg: "None", typ: "JWT" }, appClaims())), reason: /algorithm 'None' is not accepted/ },
  {
    name: "alg 'none' with the server's kid and a real token's signature",
    authorization: token(() => `${unsigned({ alg: "none", typ: "JWT", kid: serverKey.kid }, appClaims()).slice(0, -1)}.${readOnlyToken.split(".")[2]}`),
    reason: /algorithm 'none' is not accepted/,
  },
  {
    name: "no alg header",
    authorization: token(() => unsigned({ typ: "JWT", kid: serverKey.kid }, appClaims())),
    reason: /algorithm 'undefined' is not accepted/,
  },
  {
    name: "HS256 keyed with the published modulus (n) of the server's key",
    authorization: token(async () => {
      const jwk = await exportJWK(createPublicKey(serverKey.privateKey));
      return sign({ kid: serverKey.kid, privateKey: Buffer.from(jwk.n!, "base64url") }, appClaims(), { alg: "HS256" });
    }),
    reason: /algorithm 'HS256' is not accepted/,
  },
  {
    name: "HS256 keyed with the server's public key PEM",
    authorization: token(() => {
      const pem = createPublicKey(serverKey.privateKey).export({ type: "spki", format: "pem" });
      return sign({ kid: serverKey.kid, privateKey: Buffer.from(pem) }, appClaims(), { alg: "HS256" });
    }),
    reason: /algorithm 'HS256' is not accepted/,
  },
  {
    name: "HS256 keyed with the server's published JWK JSON",
    authorization: token(async () => {
      const jwk = await exportJWK(createPublicKey(serverKey.privateKey));
      return sign({ kid: serverKey.kid, privateKey: Buffer.from(JSON.stringify(jwk)) }, appClaims(), { alg: "HS256" });
    }),
    reason: /algorithm 'HS256' is not accepted/,
  },
  // The signature verifies with the server's own key; only the allow-list stops it.
  {
    name: "PS256 signed with the server's real key",
    authorization: token(() => sign(serverKey, appClaims(), { alg: "PS256" })),
    reason: /algorithm 'PS256' is not accepted/,
  },
  {
    name: "RS512 signed with the server's real key",
    authorization: token(() => sign(serverKey, appClaims(), { alg: "RS512" })),
    reason: /algorithm 'RS512' is not accepted/,
  },

  // ── time ──
  {
    name: "expired beyond the clock skew",
    authorization: token(() => withServerKey({ iat: nowSec() - 7200, nbf: nowSec() - 7200, exp: nowSec() - 120 })),
    reason: /has expired/,
  },
  { name: "not yet valid beyond the clock skew", authorization: token(() => withServerKey({ nbf: nowSec() + 300 })), reason: /not yet valid/ },
  { name: "exp missing (right signature)", authorization: token(() => withServerKey({ exp: undefined })), reason: /'exp' claim is not valid/ },
  { name: "iat missing (right signature)", authorization: token(() => withServerKey({ iat: undefined })), reason: /'iat' claim is not valid/ },
  {
    name: "exp not a number (right signature)",
    authorization: token(() => withServerKey({ exp: String(nowSec() + 3600) })),
    reason: /'exp' claim is not valid/,
  },

  // ── audience ──
  {
    name: "wrong audience (another API)",
    authorization: token(() => withServerKey({ aud: "api://11111111-2222-3333-4444-555555555555" })),
    reason: /audience is not accepted/,
  },
  {
    name: "wrong audience (Graph's host without the scheme)",
    authorization: token(() => withServerKey({ aud: "graph.microsoft.com" })),
    reason: /audience is not accepted/,
  },
  { name: "missing audience", authorization: token(() => withServerKey({ aud: undefined })), reason: /audience is not accepted/ },
  { name: "an id token (aud = the client) used as an access token", authorization: token(() => delegated.operator.id), reason: /audience is not accepted/ },

  // ── issuer and tenant ──
  {
    name: "wrong issuer (real Entra, tenant not trusted)",
    authorization: token(() => withServerKey({ iss: `https://login.microsoftonline.com/${t.tenantId}/v2.0` })),
    reason: /issuer '.*' is not trusted/,
  },
  {
    name: "wrong issuer (v1.0 form of Triage's)",
    authorization: token(() => withServerKey({ iss: `${t.url}/${t.tenantId}/` })),
    reason: /issuer '.*' is not trusted/,
  },
  {
    name: "wrong issuer (another host)",
    authorization: token(() => withServerKey({ iss: `http://evil.example/${t.tenantId}/v2.0` })),
    reason: /issuer '.*' is not trusted/,
  },
  { name: "missing issuer", authorization: token(() => withServerKey({ iss: undefined })), reason: /issuer '' is not trusted/ },
  {
    name: "issuer of another tenant, tid of this one",
    authorization: token(() => sign(serverKey, { ...appClaims(), iss: `${t.url}/${otherTid}/v2.0` })),
    reason: /issuer '.*' is not trusted/,
  },
  {
    name: "issuer of this tenant, tid of another",
    authorization: token(() => sign(serverKey, { ...appClaims(), tid: otherTid })),
    reason: /issuer '.*' is not trusted/,
  },
  { name: "tid not a GUID", authorization: token(() => withServerKey({ tid: "contoso.onmicrosoft.com" })), reason: /no valid tenant id/ },
  { name: "tid missing", authorization: token(() => sign(serverKey, { ...appClaims(), tid: undefined })), reason: /no valid tenant id/ },
  {
    name: "a tenant this Triage does not serve (right signature)",
    authorization: token(() => withServerKey({ tid: randomUUID() })),
    reason: /^Tenant '[0-9a-f-]{36}' is not served by this Triage\.$/,
  },

  // ── keys and signatures ──
  { name: "unknown kid (a key the server never published)", authorization: token(() => sign(attackerKey, appClaims())), reason: /signed by an unknown key/ },
  {
    name: "a fresh RSA key claiming the server's real kid",
    authorization: token(() => sign({ kid: serverKey.kid, privateKey: attackerKey.privateKey }, appClaims())),
    reason: /signature is not valid/,
  },
  {
    name: "the attacker's key embedded in the header (jwk), no kid",
    authorization: token(() => sign({ privateKey: attackerKey.privateKey }, appClaims(), { jwk: attackerKey.publicJwk })),
    reason: /signature is not valid|unknown key/,
  },
  {
    name: "the attacker's JWKS referenced in the header (jku)",
    authorization: token(() => sign(attackerKey, appClaims(), { jku: "http://127.0.0.1:9/keys" })),
    reason: /signed by an unknown key/,
  },
  {
    name: "a tampered payload (roles raised after signing)",
    authorization: token(() =>
      tamper(readOnlyToken, (p) => {
        p.roles = ALL_PERMISSIONS;
      }),
    ),
    reason: /signature is not valid/,
  },
  {
    name: "a tampered payload (tid moved to another tenant)",
    authorization: token(() =>
      tamper(readOnlyToken, (p) => {
        p.tid = otherTid;
        p.iss = `${t.url}/${otherTid}/v2.0`;
      }),
    ),
    reason: /signature is not valid/,
  },
  {
    name: "a real token with its signature stripped",
    authorization: token(() => `${readOnlyToken.split(".").slice(0, 2).join(".")}.`),
    reason: /signature is not valid/,
  },
  {
    name: "a real token's signature on another payload",
    authorization: token(async () => `${(await withServerKey()).split(".").slice(0, 2).join(".")}.${readOnlyToken.split(".")[2]}`),
    reason: /signature is not valid/,
  },
];

describe("token attacks: 401 InvalidAuthenticationToken with a Bearer challenge, nothing changed", () => {
  it.each(attacks)("$name", async ({ authorization, reason }) => {
    const headers = { authorization: await authorization() };
    expect401(await t.get("/v1.0/security/incidents", headers), reason);
    expect401(await getIncident(target, headers), reason);
    expect401(await patchIncident(target, headers), reason);
    expect401(
      await t.request("POST", `/v1.0/security/incidents/${target}/comments`, {
        body: { "@odata.type": "microsoft.graph.security.alertComment", comment: "pwned" },
        headers,
      }),
      reason,
    );
  });

  it("left the attacked incident and its audit trail exactly as they were", async () => {
    expect((await getIncident(target)).body).toEqual(targetBefore);
    expect((await t.get(`/triage/incidents/${target}/audit`)).body).toEqual(auditBefore);
    expect(targetBefore.assignedTo).not.toBe(PATCH_BODY.assignedTo);
  });
});

interface Control {
  name: string;
  token: () => Promise<string>;
}

const controls: Control[] = [
  { name: "a token from the server's token endpoint", token: () => t.tokenFor(t.tenantId) },
  { name: "the test's own mint with the server's key (what the attacks start from)", token: () => withServerKey() },
  { name: "audience Graph's resource URI", token: () => withServerKey({ aud: GRAPH_RESOURCE }) },
  { name: "audience as an array that contains Graph", token: () => withServerKey({ aud: ["api://other", GRAPH_APP_ID] }) },
  { name: "expired, but within the clock skew", token: () => withServerKey({ iat: nowSec() - 3600, nbf: nowSec() - 3600, exp: nowSec() - 20 }) },
  { name: "not yet valid, but within the clock skew", token: () => withServerKey({ nbf: nowSec() + 20 }) },
  { name: "a token from the token endpoint, after attacks with its tampered copies", token: async () => readOnlyToken },
];

describe("controls: valid tokens minted the same way are accepted", () => {
  it.each(controls)("$name", async ({ token: make }) => {
    const r = await getIncident(target, bearer(await make()));
    expect(r.status, r.text).toBe(200);
    expect(r.body.id).toBe(target);
  });

  it("a minted token with write access changes the control incident (so the attacks' PATCH would have)", async () => {
    const r = await patchIncident(control, bearer(await withServerKey()));
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject(PATCH_BODY);
    expect(r.body.lastModifiedBy).toBe("API-App:forger");
  });
});

interface Denial {
  name: string;
  token: () => string;
  method: "GET" | "PATCH";
  /** The incident path under /v1.0/security; PATCHes go to the attacked incident. */
  path: () => string;
  message: string;
}

const incidents = () => "/v1.0/security/incidents";
const targetPath = () => `/v1.0/security/incidents/${target}`;

const denials: Denial[] = [
  {
    name: "app token of an app that was never consented (no roles) lists incidents",
    token: () => unconsentedToken,
    method: "GET",
    path: incidents,
    message: "Missing application roles. API required roles: SecurityIncident.Read.All,SecurityIncident.ReadWrite.All, application roles: .",
  },
  {
    name: "read-only app PATCHes an incident",
    token: () => readOnlyToken,
    method: "PATCH",
    path: targetPath,
    message: "Missing application roles. API required roles: SecurityIncident.ReadWrite.All, application roles: SecurityIncident.Read.All.",
  },
  {
    name: "delegated Security Reader PATCHes an incident",
    token: () => delegated.reader.access,
    method: "PATCH",
    path: targetPath,
    message:
      "The signed-in user is not allowed to perform this operation. It requires one of the roles 'Security Operator, Security Administrator'; the user has 'Security Reader'.",
  },
  {
    name: "delegated user with no role lists incidents",
    token: () => delegated.noRole.access,
    method: "GET",
    path: incidents,
    message:
      "The signed-in user is not allowed to perform this operation. It requires one of the roles 'Security Reader, Global Reader, Security Operator, Security Administrator'; the user has ''.",
  },
  {
    name: "delegated Security Operator through an app consented only for alerts PATCHes an incident",
    token: () => alertsOnly.access,
    method: "PATCH",
    path: targetPath,
    message: "Missing scope permissions on the request. API requires one of 'SecurityIncident.ReadWrite.All'. Scopes on the request 'SecurityAlert.Read.All'.",
  },
];

describe("authorization: 403 Forbidden naming what the operation needs", () => {
  it("the tokens carry what the directory granted, and nothing more", () => {
    expect(decodeJwt(unconsentedToken)).toMatchObject({ roles: [], idtyp: "app" });
    expect(decodeJwt(readOnlyToken).roles).toEqual(["SecurityIncident.Read.All"]);
    expect(decodeJwt(delegated.reader.access)).toMatchObject({ idtyp: "user", scp: "SecurityIncident.ReadWrite.All", wids: [ENTRA_ROLES["Security Reader"]] });
    expect(decodeJwt(delegated.operator.access)).toMatchObject({
      idtyp: "user",
      scp: "SecurityIncident.ReadWrite.All",
      wids: [ENTRA_ROLES["Security Operator"]],
    });
    expect(decodeJwt(alertsOnly.access).scp).toBe("SecurityAlert.Read.All");
  });

  it.each(denials)("$name", async ({ token: tok, method, path, message }) => {
    const r = await t.request(method, path(), { headers: bearer(tok()), ...(method === "PATCH" ? { body: PATCH_BODY } : {}) });
    expect(r.status, r.text).toBe(403);
    expect(r.headers.get("www-authenticate")).toBeNull();
    expect(r.body.error.code).toBe("Forbidden");
    expect(r.body.error.message).toBe(message);
  });

  it("left the attacked incident unchanged", async () => {
    expect((await getIncident(target)).body).toEqual(targetBefore);
  });

  const allowed: { name: string; token: () => string; method: "GET" | "PATCH" }[] = [
    { name: "read-only app reads", token: () => readOnlyToken, method: "GET" },
    { name: "delegated Security Reader reads", token: () => delegated.reader.access, method: "GET" },
    { name: "delegated Security Operator reads", token: () => delegated.operator.access, method: "GET" },
  ];
  it.each(allowed)("control: $name", async ({ token: tok, method }) => {
    const r = await t.request(method, `/v1.0/security/incidents/${control}`, { headers: bearer(tok()) });
    expect(r.status, r.text).toBe(200);
  });

  it("control: delegated Security Operator PATCHes, recorded under the user's name", async () => {
    const r = await t.request("PATCH", `/v1.0/security/incidents/${control}`, {
      headers: bearer(delegated.operator.access),
      body: { assignedTo: "operator@contoso.example" },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.assignedTo).toBe("operator@contoso.example");
    expect(r.body.lastModifiedBy).toContain("operator@contoso.example");
    const audit = (await t.get(`/triage/incidents/${control}/audit`)).body.value;
    expect(audit.at(-1)).toMatchObject({ actor: "operator@contoso.example", property: "assignedTo", after: "operator@contoso.example" });
  });
});
