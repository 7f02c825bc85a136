import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { randomUUID } from "node:crypto";
import { startTriage, type Response, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { newRsaKey, nowSec, serverSigningKey, sign, startStandInIssuer, uti, type StandInIssuer, type TestKey } from "../support/jwt.js";
import { createTenant } from "../../src/store/tenants.js";
import { ENTRA_ROLES } from "../../src/permissions/entra-roles.js";
import { GRAPH_APP_ID, GRAPH_RESOURCE } from "../../src/identity/tokens.js";

/**
 * Triage trusting a real Entra tenant: a loopback stand-in for login.microsoftonline.com publishes a
 * JWKS, and tokens shaped like Entra's, signed with its key, work on the API for that tenant only.
 */

let t: TestTriage;
let entra: StandInIssuer;
let entraKey: TestKey;
/** The tenant trusted through the stand-in, and one the stand-in signs for that is not configured. */
const contoso = randomUUID();
const fabrikam = randomUUID();
const SOAR_APP = "6a0a3e5d-0a43-4b4f-9a43-2f1f3c9d7e11";
const CONSOLE_APP = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const ALICE = "9f4c1a52-7a3e-4c55-9d0e-3b2a1c0d9e8f";
/** Another Entra role Alice holds, which Triage does not map: it must be ignored, not refused. */
const EXCHANGE_ADMIN = "29232cdf-9323-42fd-ade2-1d097af3e4de";

/** An Entra v1.0 app-only access token for Graph (client credentials against the v1 endpoint). */
function v1AppClaims(tid: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSec();
  return {
    aud: GRAPH_RESOURCE,
    iss: `https://sts.windows.net/${tid}/`,
    iat: now,
    nbf: now,
    exp: now + 3599,
    aio: "E2ZgYJi8f3nX",
    app_displayname: "Contoso SOAR",
    appid: SOAR_APP,
    appidacr: "1",
    idp: `https://sts.windows.net/${tid}/`,
    idtyp: "app",
    oid: "3d1c6f0e-5b8a-4f2b-9e1a-7c6d5e4f3a2b",
    rh: "0.AAAA",
    roles: ["SecurityIncident.ReadWrite.All", "SecurityAlert.Read.All"],
    sub: "3d1c6f0e-5b8a-4f2b-9e1a-7c6d5e4f3a2b",
    tenant_region_scope: "EU",
    tid,
    uti: uti(),
    ver: "1.0",
    xms_tcdt: 1600000000,
    ...over,
  };
}

/** An Entra v2.0 delegated access token: a Security Operator signed in to a public client. */
function v2UserClaims(tid: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSec();
  return {
    aud: GRAPH_APP_ID,
    iss: `https://login.microsoftonline.com/${tid}/v2.0`,
    iat: now,
    nbf: now,
    exp: now + 4523,
    aio: "AVQAq/8XAAAA",
    azp: CONSOLE_APP,
    azpacr: "0",
    name: "Alice Analyst",
    oid: ALICE,
    preferred_username: "alice@contoso.com",
    rh: "0.AAAA",
    scp: "SecurityIncident.ReadWrite.All SecurityAlert.Read.All User.Read",
    sub: "x1Vd0m0bA7tXhGk2s9JcQm4oP8rZ",
    tid,
    uti: uti(),
    ver: "2.0",
    wids: [ENTRA_ROLES["Security Operator"], EXCHANGE_ADMIN, "b79fbf4d-3ef9-4689-8143-76b194e85509"],
    ...over,
  };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

function expect401(r: Response, reason: RegExp) {
  expect(r.status, r.text).toBe(401);
  expect(r.headers.get("www-authenticate")).toMatch(/^Bearer /);
  expect(r.body.error.code).toBe("InvalidAuthenticationToken");
  expect(r.body.error.message).toMatch(reason);
}

async function seed(tenant: string | undefined, title: string): Promise<void> {
  const r = await t.ingest([alert({ device: deviceId(), title })], tenant);
  expect(r.status, r.text).toBe(200);
}

beforeAll(async () => {
  entraKey = await newRsaKey();
  entra = await startStandInIssuer([entraKey.publicJwk]);
  t = await startTriage({ identity: { externalIssuers: [{ tenantId: contoso, jwksUri: entra.jwksUri }] } });
  await createTenant(t.store.db, contoso, "Contoso (Entra)");
  await createTenant(t.store.db, fabrikam, "Fabrikam (Entra, not trusted)");
  await seed(contoso, "Contoso: beacon on a finance laptop");
  await seed(undefined, "Home: password spray");
  await seed(fabrikam, "Fabrikam: mailbox rule");
});
afterAll(async () => {
  vi.useRealTimers();
  await t?.close();
  await entra?.close();
});

describe("Entra-shaped tokens from the trusted tenant", () => {
  it.each([
    { kind: "v1.0 app-only token", claims: () => v1AppClaims(contoso), auditActor: "Contoso SOAR" },
    { kind: "v2.0 delegated token (Security Operator)", claims: () => v2UserClaims(contoso), auditActor: "alice@contoso.com" },
  ])("a $kind works on the API, scoped to that tenant", async ({ claims, auditActor }) => {
    const headers = bearer(await sign(entraKey, claims()));
    const list = await t.get("/v1.0/security/incidents", headers);
    expect(list.status, list.text).toBe(200);
    expect(list.body.value.length).toBeGreaterThan(0);
    expect(list.body.value.every((i: any) => i.tenantId === contoso)).toBe(true);
    const titles = list.body.value.map((i: any) => i.displayName).join(" | ");
    expect(titles).toContain("Contoso:");
    expect(titles).not.toContain("Home:");
    expect(titles).not.toContain("Fabrikam:");

    const id = list.body.value[0].id;
    const patch = await t.request("PATCH", `/v1.0/security/incidents/${id}`, { headers, body: { customTags: [auditActor] } });
    expect(patch.status, patch.text).toBe(200);
    expect(patch.body).toMatchObject({ tenantId: contoso, customTags: [auditActor] });
    expect(patch.body.lastModifiedBy).toContain(auditActor);
    const audit = (await t.get(`/triage/incidents/${id}/audit`, headers)).body.value;
    expect(audit.at(-1)).toMatchObject({ actor: auditActor, property: "customTags" });
  });

  it("does not reach the home tenant's data, which the home tenant's own tokens still see", async () => {
    const home = await t.get("/v1.0/security/incidents");
    expect(home.status).toBe(200);
    expect(home.body.value.every((i: any) => i.tenantId === t.tenantId)).toBe(true);
    expect(home.body.value.map((i: any) => i.displayName).join(" | ")).not.toContain("Contoso:");
    const fromEntra = await t.get("/v1.0/security/alerts_v2", bearer(await sign(entraKey, v1AppClaims(contoso))));
    expect(fromEntra.status, fromEntra.text).toBe(200);
    expect(fromEntra.body.value.every((a: any) => a.tenantId === contoso)).toBe(true);
    expect(fromEntra.body.value.map((a: any) => a.title).join(" | ")).not.toMatch(/Home:|Fabrikam:/);
  });

  it("keeps Entra's authorization rules: a delegated Security Reader may read but not write", async () => {
    const reader = bearer(await sign(entraKey, v2UserClaims(contoso, { wids: [ENTRA_ROLES["Security Reader"]] })));
    const list = await t.get("/v1.0/security/incidents", reader);
    expect(list.status, list.text).toBe(200);
    const r = await t.request("PATCH", `/v1.0/security/incidents/${list.body.value[0].id}`, { headers: reader, body: { customTags: ["nope"] } });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: "Forbidden" });
    expect(r.body.error.message).toContain("'Security Operator, Security Administrator'");
    const app = bearer(await sign(entraKey, v1AppClaims(contoso, { roles: ["SecurityAlert.Read.All"] })));
    expect((await t.get("/v1.0/security/incidents", app)).status).toBe(403);
  });
});

describe("tokens the trust does not extend to", () => {
  const cases: { name: string; token: () => Promise<string>; reason: RegExp }[] = [
    {
      name: "the stand-in signing for a tenant that is served but not configured",
      token: () => sign(entraKey, v1AppClaims(fabrikam)),
      reason: /issuer '.*' is not trusted/,
    },
    {
      name: "the stand-in signing for a tenant that is neither",
      token: () => sign(entraKey, v2UserClaims(randomUUID())),
      reason: /issuer '.*' is not trusted/,
    },
    {
      name: "a v1.0 token with the v2.0 issuer",
      token: () => sign(entraKey, v1AppClaims(contoso, { iss: `https://login.microsoftonline.com/${contoso}/v2.0` })),
      reason: /issuer '.*' is not trusted/,
    },
    {
      name: "a v2.0 token with the v1.0 issuer",
      token: () => sign(entraKey, v2UserClaims(contoso, { iss: `https://sts.windows.net/${contoso}/` })),
      reason: /issuer '.*' is not trusted/,
    },
    {
      name: "the issuer of another tenant",
      token: () => sign(entraKey, v1AppClaims(contoso, { iss: `https://sts.windows.net/${fabrikam}/` })),
      reason: /issuer '.*' is not trusted/,
    },
    {
      name: "wrong audience (another resource)",
      token: () => sign(entraKey, v1AppClaims(contoso, { aud: "https://management.azure.com" })),
      reason: /audience is not accepted/,
    },
    {
      name: "wrong audience (the client's own id)",
      token: () => sign(entraKey, v2UserClaims(contoso, { aud: CONSOLE_APP })),
      reason: /audience is not accepted/,
    },
    { name: "missing audience", token: () => sign(entraKey, v2UserClaims(contoso, { aud: undefined })), reason: /audience is not accepted/ },
    { name: "expired", token: () => sign(entraKey, v1AppClaims(contoso, { exp: nowSec() - 600 })), reason: /has expired/ },
    {
      name: "HS256",
      token: () => sign({ kid: entraKey.kid, privateKey: Buffer.from(entraKey.publicJwk.n!, "base64url") }, v1AppClaims(contoso), { alg: "HS256" }),
      reason: /'HS256' is not accepted/,
    },
    {
      name: "signed by a key the stand-in never published (unknown kid)",
      token: async () => sign(await newRsaKey(), v1AppClaims(contoso)),
      reason: /unknown key/,
    },
    {
      name: "another key claiming the stand-in's kid",
      token: async () => sign({ kid: entraKey.kid, privateKey: (await newRsaKey()).privateKey }, v1AppClaims(contoso)),
      reason: /signature is not valid/,
    },
    {
      name: "the stand-in claiming to be Triage's own issuer for the tenant",
      token: () => sign(entraKey, { ...v2UserClaims(contoso), iss: `${t.url}/${contoso}/v2.0` }),
      reason: /unknown key/,
    },
    {
      name: "Triage's own key claiming to be the trusted Entra tenant",
      token: async () => sign(await serverSigningKey(t.store.db, t.keyEncryption), v1AppClaims(contoso)),
      reason: /unknown key/,
    },
  ];
  it.each(cases)("$name", async ({ token, reason }) => {
    expect401(await t.get("/v1.0/security/incidents", bearer(await token())), reason);
  });

  it("a flood of unknown kids does not make Triage hammer the issuer's JWKS", async () => {
    const before = entra.fetches();
    expect(before).toBeGreaterThanOrEqual(1);
    const stranger = await newRsaKey();
    for (let i = 0; i < 15; i++) {
      const forged = await sign({ kid: `unknown-${i}`, privateKey: stranger.privateKey }, v1AppClaims(contoso));
      expect401(await t.get("/v1.0/security/incidents", bearer(forged)), /unknown key/);
    }
    // The cooldown allows at most one refresh in a burst this short.
    expect(entra.fetches() - before).toBeLessThanOrEqual(1);
  });
});

describe("key rotation at the issuer", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("picks up a new kid on the first refresh the cooldown allows, and drops a withdrawn key once its cached set is re-read", async () => {
    // Only the clock is faked (for Triage, jose and the tokens alike); timers and sockets are real.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const tick = (ms: number) => vi.setSystemTime(Date.now() + ms);
    const call = async (key: TestKey) => t.get("/v1.0/security/incidents", bearer(await sign(key, v1AppClaims(contoso))));

    // Past any cooldown: an unknown kid refreshes the JWKS once.
    tick(11_000);
    const start = entra.fetches();
    expect401(await call(await newRsaKey()), /unknown key/);
    expect(entra.fetches()).toBe(start + 1);

    // The issuer rotates: the new key is published beside the old one.
    const next = await newRsaKey();
    entra.publish([entraKey.publicJwk, next.publicJwk]);
    // Within the cooldown the set is not re-read, however many unknown kids arrive.
    for (let i = 0; i < 5; i++) expect401(await call(next), /unknown key/);
    expect(entra.fetches()).toBe(start + 1);

    // Once the cooldown has passed, the first token with the new kid refreshes the set and is accepted.
    tick(10_500);
    expect((await call(next)).status).toBe(200);
    expect(entra.fetches()).toBe(start + 2);
    // Both keys are trusted now, with no further fetch.
    expect((await call(entraKey)).status).toBe(200);
    expect((await call(next)).status).toBe(200);
    expect(entra.fetches()).toBe(start + 2);

    // The issuer withdraws the old key. The cached set still trusts it until it is re-read, which
    // happens when it is an hour old; from then on tokens signed with the old key fail.
    entra.publish([next.publicJwk]);
    tick(10_500);
    expect((await call(entraKey)).status).toBe(200);
    expect(entra.fetches()).toBe(start + 2);
    tick(3_600_000);
    expect401(await call(entraKey), /unknown key/);
    expect(entra.fetches()).toBe(start + 3);
    expect((await call(next)).status).toBe(200);
    expect(entra.fetches()).toBe(start + 3);
  });
});
