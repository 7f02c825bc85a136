import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRemoteJWKSet, importPKCS8, jwtVerify, SignJWT } from "jose";
import { addCertificate, addSecret, createApp, grantAdminConsent, revokeConsent } from "../../src/identity/directory.js";
import { ensureLocalTls } from "../../src/identity/tls.js";
import { grantId } from "../../src/identity/oauth/grants.js";
import { startTriage, type TestTriage } from "../support/triage.js";
import {
  claims,
  clientInfoOf,
  confidentialClient,
  expectEntraError,
  getPage,
  GRAPH_DEFAULT,
  oauthUrl,
  pageError,
  parseForm,
  pkce,
  postForm,
  publicClient,
  ropc,
  scpOf,
  submit,
  testUser,
  token,
  type HttpResult,
  type TestUser,
} from "../support/identity.js";

/**
 * The delegated flows over real HTTP, driven as MSAL, a browser and a device would drive them:
 * ROPC, authorization code with PKCE (reading and posting the sign-in form), refresh with rotation,
 * device code with the /devicelogin page, and client credentials.
 */

const READ = ["SecurityIncident.Read.All", "SecurityAlert.Read.All"];
const LOOPBACK = "http://127.0.0.1/callback";

let t: TestTriage;
let tenant: string;
let user: TestUser;
/** A consented public client with a loopback redirect URI. */
let client: string;

beforeAll(async () => {
  t = await startTriage();
  tenant = t.tenantId;
  user = await testUser(t, tenant, ["Security Reader"]);
  client = (await publicClient(t, tenant, { delegated: READ, redirectUris: [LOOPBACK], displayName: "Triage CLI <test>" })).clientId;
});
afterAll(async () => {
  await t.close();
});

async function expectApiStatus(accessToken: string, path: string, status: number) {
  const r = await t.get(path, { authorization: `Bearer ${accessToken}` });
  expect(r.status, `${path}: ${r.text}`).toBe(status);
  return r;
}

function expectDelegatedTokens(r: HttpResult, opts: { clientId: string; user: TestUser; scopes: string[]; refresh: boolean; nonce?: string }) {
  expect(r.status, r.text).toBe(200);
  expect(r.headers.get("cache-control")).toBe("no-store");
  const b = r.body;
  expect(b.token_type).toBe("Bearer");
  expect(b.expires_in).toBeGreaterThan(0);
  expect(typeof b.access_token).toBe("string");
  const at = claims(b.access_token);
  expect(at).toMatchObject({
    tid: tenant,
    oid: opts.user.id,
    azp: opts.clientId,
    idtyp: "user",
    preferred_username: opts.user.upn,
    aud: "00000003-0000-0000-c000-000000000000",
  });
  expect(scpOf(b.access_token).sort()).toEqual([...opts.scopes].sort());
  // The response's scope names the granted permissions (and `.default` when that was asked for).
  const reported = b.scope.split(" ").filter((s: string) => s.startsWith("https://graph.microsoft.com/") && s !== GRAPH_DEFAULT);
  expect(reported.sort()).toEqual(opts.scopes.map((s) => `https://graph.microsoft.com/${s}`).sort());
  const id = claims(b.id_token);
  expect(id).toMatchObject({ tid: tenant, oid: opts.user.id, preferred_username: opts.user.upn, aud: opts.clientId, iss: `${t.url}/${tenant}/v2.0` });
  if (opts.nonce !== undefined) expect(id.nonce).toBe(opts.nonce);
  else expect(id.nonce).toBeUndefined();
  expect(clientInfoOf(b.client_info)).toEqual({ uid: opts.user.id, utid: tenant });
  expect(b.client_info).toMatch(/^[A-Za-z0-9_-]+$/);
  if (opts.refresh) expect(typeof b.refresh_token).toBe("string");
  else expect(b.refresh_token).toBeUndefined();
}

// ── ROPC ────────────────────────────────────────────────────────────────────────────────────────

describe("ROPC (grant_type=password)", () => {
  it(".default: all consented permissions in scp; id token, client_info; a refresh token only with offline_access", async () => {
    const plain = await ropc(t, tenant, client, user, `${GRAPH_DEFAULT} openid profile`);
    expectDelegatedTokens(plain, { clientId: client, user, scopes: READ, refresh: false });
    const offline = await ropc(t, tenant, client, user, `${GRAPH_DEFAULT} openid profile offline_access`);
    expectDelegatedTokens(offline, { clientId: client, user, scopes: READ, refresh: true });
    // offline_access asks for a refresh token; it is not reported as a granted scope.
    expect(offline.body.scope.split(" ")).not.toContain("offline_access");
    await expectApiStatus(offline.body.access_token, "/v1.0/security/incidents", 200);
  });

  it("tokens verify against the tenant's published keys (discovery → jwks_uri)", async () => {
    const r = await ropc(t, tenant, client, user, `${GRAPH_DEFAULT} openid`);
    const disc = await getPage(`${t.url}/${tenant}/v2.0/.well-known/openid-configuration`);
    expect(disc.status).toBe(200);
    expect(disc.body.token_endpoint).toBe(oauthUrl(t, tenant, "token"));
    const jwks = createRemoteJWKSet(new URL(disc.body.jwks_uri));
    const id = await jwtVerify(r.body.id_token, jwks, { issuer: disc.body.issuer, audience: client });
    expect(id.payload.tid).toBe(tenant);
    const at = await jwtVerify(r.body.access_token, jwks, { issuer: disc.body.issuer, audience: "00000003-0000-0000-c000-000000000000" });
    expect(at.payload.scp).toBeDefined();
  });

  it("named scopes: exactly those (qualified or bare); one that is not consented is AADSTS65001", async () => {
    const one = await ropc(t, tenant, client, user, "https://graph.microsoft.com/SecurityIncident.Read.All openid");
    expectDelegatedTokens(one, { clientId: client, user, scopes: ["SecurityIncident.Read.All"], refresh: false });
    await expectApiStatus(one.body.access_token, "/v1.0/security/alerts_v2", 403);
    const bare = await ropc(t, tenant, client, user, "SecurityAlert.Read.All");
    expect(scpOf(bare.body.access_token)).toEqual(["SecurityAlert.Read.All"]);

    const r = await ropc(t, tenant, client, user, "https://graph.microsoft.com/SecurityIncident.ReadWrite.All openid");
    expectEntraError(r, "invalid_grant", 65001, 400);
    expect(r.body.error_description).toContain("SecurityIncident.ReadWrite.All");
  });

  it("a wrong password or an unknown user is invalid_grant AADSTS50126", async () => {
    expectEntraError(await ropc(t, tenant, client, { upn: user.upn, password: "not-the-password" }, GRAPH_DEFAULT), "invalid_grant", 50126, 400);
    expectEntraError(await ropc(t, tenant, client, { upn: "nobody@contoso.test", password: user.password }, GRAPH_DEFAULT), "invalid_grant", 50126, 400);
  });

  it("a user of another tenant cannot sign in here", async () => {
    const other = await t.newTenant();
    const stranger = await testUser(t, other, ["Security Administrator"]);
    expectEntraError(await ropc(t, tenant, client, stranger, GRAPH_DEFAULT), "invalid_grant", 50126, 400);
  });

  it("an unknown client, or a client of another tenant, is unauthorized_client", async () => {
    expectEntraError(await ropc(t, tenant, randomUUID(), user, GRAPH_DEFAULT), "unauthorized_client", 700016, 400);
    const other = await t.newTenant();
    const foreign = await publicClient(t, other, { delegated: READ });
    const r = await ropc(t, tenant, foreign.clientId, user, GRAPH_DEFAULT);
    expectEntraError(r, "unauthorized_client", 700016, 400);
  });

  it("ignores the extra fields MSAL sends (claims, x-client-SKU, client_info=1, client-request-id in the query)", async () => {
    const cid = randomUUID();
    const extra = {
      claims: JSON.stringify({ access_token: { xms_cc: { values: ["CP1"] } } }),
      "x-client-SKU": "MSAL.Node",
      "x-client-VER": "2.16.0",
      "x-client-OS": "linux",
      "x-ms-lib-capability": "retry-after, h429",
      client_info: "1",
    };
    const ok = await ropc(t, tenant, client, user, `${GRAPH_DEFAULT} openid profile offline_access`, extra, `?client-request-id=${cid}`);
    expectDelegatedTokens(ok, { clientId: client, user, scopes: READ, refresh: true });
    // Errors carry the client's request id as their correlation id.
    const bad = await ropc(t, tenant, client, { upn: user.upn, password: "wrong" }, GRAPH_DEFAULT, extra, `?client-request-id=${cid}`);
    expectEntraError(bad, "invalid_grant", 50126, 400);
    expect(bad.body.correlation_id).toBe(cid);
  });

  it("a confidential client must authenticate for ROPC", async () => {
    const { app, secret } = await confidentialClient(t, tenant, { delegated: READ });
    expectEntraError(await ropc(t, tenant, app.clientId, user, GRAPH_DEFAULT), "invalid_client", undefined, 401);
    const ok = await ropc(t, tenant, app.clientId, user, GRAPH_DEFAULT, { client_secret: secret });
    expectDelegatedTokens(ok, { clientId: app.clientId, user, scopes: READ, refresh: false });
  });
});

// ── token endpoint basics ───────────────────────────────────────────────────────────────────────

describe("token endpoint errors", () => {
  it("every error has Entra's shape", async () => {
    expectEntraError(await token(t, tenant, { client_id: client }), "invalid_request", undefined, 400);
    expectEntraError(await token(t, tenant, { grant_type: "urn:example:magic", client_id: client }), "unsupported_grant_type", 70003, 400);
    expectEntraError(await token(t, randomUUID(), { grant_type: "client_credentials", client_id: client }), "invalid_request", 90002, 400);
    expectEntraError(
      await token(t, tenant, { grant_type: "password", client_id: client, scope: "https://example.com/.default", username: user.upn, password: user.password }),
      "invalid_resource",
      500011,
      400,
    );
    expectEntraError(
      await token(t, tenant, {
        grant_type: "password",
        client_id: client,
        scope: "SecurityIncident.Read.All https://graph.microsoft.com/.default",
        username: user.upn,
        password: user.password,
      }),
      "invalid_scope",
      undefined,
      400,
    );
    const json = await fetch(oauthUrl(t, tenant, "token"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grant_type: "password" }),
    });
    expect(json.status).toBeGreaterThanOrEqual(400);
  });

  it("the tenant segment matches case-insensitively (MSAL lowercases, users paste uppercase)", async () => {
    const r = await ropc(t, tenant.toUpperCase(), client, user, GRAPH_DEFAULT);
    expect(r.status, r.text).toBe(200);
    expect(claims(r.body.access_token).tid).toBe(tenant);
  });
});

// ── authorization code + PKCE ───────────────────────────────────────────────────────────────────

interface AuthorizeParams {
  redirectUri?: string;
  scope?: string;
  state?: string;
  nonce?: string;
  challenge?: string;
  responseMode?: "query" | "fragment" | "form_post";
  clientId?: string;
}

function authorizeUrl(p: AuthorizeParams): string {
  const q = new URLSearchParams({
    client_id: p.clientId ?? client,
    response_type: "code",
    redirect_uri: p.redirectUri ?? LOOPBACK,
    scope: p.scope ?? `${GRAPH_DEFAULT} openid profile offline_access`,
    state: p.state ?? "st-1",
    nonce: p.nonce ?? "n-1",
    code_challenge_method: "S256",
    // MSAL sends these too; they are not part of the form.
    client_info: "1",
    "x-client-SKU": "msal.js.node",
    prompt: "select_account",
  });
  if (p.challenge !== undefined) q.set("code_challenge", p.challenge);
  if (p.responseMode) q.set("response_mode", p.responseMode);
  return `${oauthUrl(t, tenant, "authorize")}?${q}`;
}

/** GET /authorize, then post the sign-in form with the user's password: the browser's whole trip. */
async function signIn(p: AuthorizeParams, who: { upn: string; password: string } = user): Promise<HttpResult> {
  const url = authorizeUrl(p);
  const page = await getPage(url);
  expect(page.status, page.text).toBe(200);
  expect(page.headers.get("content-type")).toMatch(/^text\/html/);
  return submit(t.url, url, parseForm(page.text), { username: who.upn, password: who.password });
}

function codeFromLocation(r: HttpResult, redirectUri = LOOPBACK): { code: string; state: string | null; params: URLSearchParams } {
  expect(r.status, r.text).toBe(302);
  const location = r.headers.get("location")!;
  const url = new URL(location);
  expect(`${url.origin}${url.pathname}`).toBe(redirectUri.split("?")[0]);
  const params = url.hash ? new URLSearchParams(url.hash.slice(1)) : url.searchParams;
  const code = params.get("code");
  expect(code).toBeTruthy();
  return { code: code!, state: params.get("state"), params };
}

function redeem(code: string, verifier: string, redirectUri = LOOPBACK, clientId = client): Promise<HttpResult> {
  return token(t, tenant, {
    grant_type: "authorization_code",
    client_id: clientId,
    code,
    code_verifier: verifier,
    redirect_uri: redirectUri,
    scope: `${GRAPH_DEFAULT} openid profile offline_access`,
  });
}

describe("authorization code with PKCE", () => {
  it("GET /authorize shows a sign-in form carrying the request; a wrong password shows it again with an error; the right one redirects with code and state", async () => {
    const { verifier, challenge } = pkce();
    const url = authorizeUrl({ challenge, state: "state-<&>\"'", nonce: "nonce-42" });
    const page = await getPage(url);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.text).toContain("Triage CLI &lt;test&gt;"); // the app name, escaped
    expect(page.text).not.toContain("Triage CLI <test>");
    const form = parseForm(page.text);
    expect(form.hidden).toMatchObject({
      client_id: client,
      response_type: "code",
      redirect_uri: LOOPBACK,
      state: "state-<&>\"'",
      nonce: "nonce-42",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    expect(form.visible).toEqual(expect.arrayContaining(["username", "password"]));
    expect(form.hidden.client_info).toBeUndefined();

    const wrong = await submit(t.url, url, form, { username: user.upn, password: "wrong password" });
    expect(wrong.status).toBe(200);
    expect(wrong.headers.get("location")).toBeNull();
    expect(pageError(wrong.text)).toMatch(/user name or password is incorrect/i);
    const again = parseForm(wrong.text);
    expect(again.hidden).toEqual(form.hidden);
    expect(again.fields.username).toBe(user.upn);

    const ok = await submit(t.url, url, again, { username: user.upn, password: user.password });
    const { code, state } = codeFromLocation(ok);
    expect(state).toBe("state-<&>\"'");

    const tokens = await redeem(code, verifier);
    expectDelegatedTokens(tokens, { clientId: client, user, scopes: READ, refresh: true, nonce: "nonce-42" });
    await expectApiStatus(tokens.body.access_token, "/beta/security/alerts_v2", 200);

    // A code is good once.
    const replay = await redeem(code, verifier);
    expectEntraError(replay, "invalid_grant", undefined, 400);
  });

  it("a redeemed code presented again is refused and revokes the refresh token it issued (RFC 6749 §4.1.2, RFC 9700)", async () => {
    const { verifier, challenge } = pkce();
    const { code } = codeFromLocation(await signIn({ challenge }));
    const tokens = await redeem(code, verifier);
    expect(tokens.status, tokens.text).toBe(200);
    const rt = tokens.body.refresh_token as string;
    const replay = await redeem(code, verifier);
    expectEntraError(replay, "invalid_grant", 54005, 400);
    const refreshed = await token(t, tenant, { grant_type: "refresh_token", client_id: client, refresh_token: rt, scope: `${GRAPH_DEFAULT} offline_access` });
    expectEntraError(refreshed, "invalid_grant", 9002313, 400);
  });

  it("the wrong code_verifier, a missing one, another redirect URI or another client is invalid_grant", async () => {
    const { verifier, challenge } = pkce();
    const { code } = codeFromLocation(await signIn({ challenge }));
    expectEntraError(await redeem(code, pkce().verifier), "invalid_grant", 501481, 400);
    expectEntraError(
      await token(t, tenant, { grant_type: "authorization_code", client_id: client, code, redirect_uri: LOOPBACK }),
      "invalid_grant",
      undefined,
      400,
    );
    expectEntraError(await redeem(code, verifier, "http://127.0.0.1/elsewhere"), "invalid_grant", undefined, 400);
    const other = await publicClient(t, tenant, { delegated: READ, redirectUris: [LOOPBACK] });
    expectEntraError(await redeem(code, verifier, LOOPBACK, other.clientId), "invalid_grant", undefined, 400);
    expectEntraError(await redeem("made-up-code", verifier), "invalid_grant", undefined, 400);
  });

  it("a loopback redirect URI matches on any port (RFC 8252)", async () => {
    const { verifier, challenge } = pkce();
    const withPort = "http://127.0.0.1:53117/callback";
    const { code } = codeFromLocation(await signIn({ challenge, redirectUri: withPort }), withPort);
    expect((await redeem(code, verifier, withPort)).status).toBe(200);
  });

  it("an unregistered redirect URI gets an error page, never a redirect", async () => {
    const { challenge } = pkce();
    for (const redirectUri of ["http://127.0.0.1/other", "https://evil.example/callback", "http://evil.example/callback"]) {
      const r = await getPage(authorizeUrl({ challenge, redirectUri }));
      expect(r.status, redirectUri).toBe(400);
      expect(r.headers.get("location")).toBeNull();
      expect(r.headers.get("content-type")).toMatch(/^text\/html/);
      expect(pageError(r.text)).toMatch(/redirect URI/);
      expect(r.text).not.toMatch(/<form/);
    }
    // Posting the form directly with an unregistered redirect URI does not redirect either.
    const posted = await postForm(oauthUrl(t, tenant, "authorize"), {
      client_id: client,
      response_type: "code",
      redirect_uri: "https://evil.example/cb",
      scope: GRAPH_DEFAULT,
      code_challenge: challenge,
      code_challenge_method: "S256",
      username: user.upn,
      password: user.password,
    });
    expect(posted.status).toBe(400);
    expect(posted.headers.get("location")).toBeNull();
  });

  it("a public client must send a code_challenge; only S256; an unknown client gets an error page", async () => {
    const noPkce = await getPage(authorizeUrl({}));
    expect(noPkce.status).toBe(400);
    expect(pageError(noPkce.text)).toMatch(/code_challenge/);
    const plain = await getPage(authorizeUrl({ challenge: "x".repeat(43) }).replace("code_challenge_method=S256", "code_challenge_method=plain"));
    expect(plain.status).toBe(400);
    const unknown = await getPage(authorizeUrl({ challenge: "x".repeat(43), clientId: randomUUID() }));
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get("location")).toBeNull();
  });

  it("response_mode=fragment puts code and state in the fragment", async () => {
    const { verifier, challenge } = pkce();
    const r = await signIn({ challenge, responseMode: "fragment", state: "frag-state" });
    const { code, state } = codeFromLocation(r);
    expect(new URL(r.headers.get("location")!).search).toBe("");
    expect(state).toBe("frag-state");
    expect((await redeem(code, verifier)).status).toBe(200);
  });

  it("response_mode=form_post answers a page that posts code and state to the redirect URI", async () => {
    const { verifier, challenge } = pkce();
    const r = await signIn({ challenge, responseMode: "form_post", state: "post-state", nonce: "post-nonce" });
    expect(r.status).toBe(200);
    expect(r.headers.get("location")).toBeNull();
    const form = parseForm(r.text);
    expect(form.method).toBe("post");
    expect(form.action).toBe(LOOPBACK);
    expect(form.hidden.state).toBe("post-state");
    const tokens = await redeem(form.hidden.code!, verifier);
    expectDelegatedTokens(tokens, { clientId: client, user, scopes: READ, refresh: true, nonce: "post-nonce" });
  });

  it("scopes asked at /authorize bound the code; a scope that is not consented is refused up front", async () => {
    const { verifier, challenge } = pkce();
    const { code } = codeFromLocation(await signIn({ challenge, scope: "https://graph.microsoft.com/SecurityAlert.Read.All openid" }));
    const tokens = await redeem(code, verifier);
    expect(tokens.status).toBe(200);
    expect(scpOf(tokens.body.access_token)).toEqual(["SecurityAlert.Read.All"]);
    expect(tokens.body.refresh_token).toBeUndefined();
    const refused = await getPage(authorizeUrl({ challenge, scope: "https://graph.microsoft.com/SecurityAlert.ReadWrite.All" }));
    expect(refused.status).toBe(400);
    expect(refused.headers.get("location")).toBeNull();
  });
});

// ── refresh ─────────────────────────────────────────────────────────────────────────────────────

describe("refresh tokens", () => {
  function refresh(refreshToken: string, clientId = client, scope = `${GRAPH_DEFAULT} openid profile offline_access`): Promise<HttpResult> {
    return token(t, tenant, { grant_type: "refresh_token", client_id: clientId, refresh_token: refreshToken, scope });
  }

  it("yield new tokens and a new refresh token; the old one then fails (rotation)", async () => {
    const first = await ropc(t, tenant, client, user, `${GRAPH_DEFAULT} openid offline_access`);
    const rt1 = first.body.refresh_token as string;
    const second = await refresh(rt1);
    expectDelegatedTokens(second, { clientId: client, user, scopes: READ, refresh: true });
    const rt2 = second.body.refresh_token as string;
    expect(rt2).not.toBe(rt1);
    expect(second.body.access_token).not.toBe(first.body.access_token);
    const third = await refresh(rt2);
    expect(third.status).toBe(200);
    const rt3 = third.body.refresh_token as string;
    expect((await refresh(rt3)).status).toBe(200);
    expectEntraError(await refresh("not-a-refresh-token"), "invalid_grant", undefined, 400);
  });

  it("a spent refresh token presented again is refused and revokes its whole family (RFC 9700 §4.14.2)", async () => {
    const first = await ropc(t, tenant, client, user, `${GRAPH_DEFAULT} openid offline_access`);
    const rt1 = first.body.refresh_token as string;
    const second = await refresh(rt1);
    expect(second.status).toBe(200);
    const rt2 = second.body.refresh_token as string;
    // Whoever replays rt1 (the client or a thief), the live descendant rt2 stops working too.
    expectEntraError(await refresh(rt1), "invalid_grant", undefined, 400);
    expectEntraError(await refresh(rt2), "invalid_grant", undefined, 400);
    // Another sign-in's family is untouched.
    const other = await ropc(t, tenant, client, user, `${GRAPH_DEFAULT} openid offline_access`);
    expect((await refresh(other.body.refresh_token as string)).status).toBe(200);
  });

  it("a refresh token is bound to its client", async () => {
    const first = await ropc(t, tenant, client, user, `${GRAPH_DEFAULT} offline_access`);
    const other = await publicClient(t, tenant, { delegated: READ });
    expectEntraError(await refresh(first.body.refresh_token, other.clientId), "invalid_grant", undefined, 400);
    // The failed attempt by another client did not use it up.
    expect((await refresh(first.body.refresh_token)).status).toBe(200);
  });

  it("can narrow the scopes, never widen them", async () => {
    const first = await ropc(t, tenant, client, user, `https://graph.microsoft.com/SecurityIncident.Read.All offline_access`);
    const narrowed = await refresh(
      first.body.refresh_token,
      client,
      "https://graph.microsoft.com/SecurityIncident.Read.All https://graph.microsoft.com/SecurityAlert.Read.All offline_access",
    );
    expect(narrowed.status).toBe(200);
    expect(scpOf(narrowed.body.access_token)).toEqual(["SecurityIncident.Read.All"]);
  });

  it("after consent is revoked, a refreshed token carries no revoked permission", async () => {
    const app = await publicClient(t, tenant, { delegated: READ });
    const first = await ropc(t, tenant, app.clientId, user, `${GRAPH_DEFAULT} offline_access`);
    expect(scpOf(first.body.access_token).sort()).toEqual([...READ].sort());

    // One permission's consent withdrawn.
    await t.store.db.deleteFrom("consents").where("client_id", "=", app.clientId).where("permission", "=", "SecurityAlert.Read.All").execute();
    const partial = await refresh(first.body.refresh_token, app.clientId);
    expect(partial.status, partial.text).toBe(200);
    expect(scpOf(partial.body.access_token)).toEqual(["SecurityIncident.Read.All"]);
    await expectApiStatus(partial.body.access_token, "/v1.0/security/incidents", 200);
    await expectApiStatus(partial.body.access_token, "/v1.0/security/alerts_v2", 403);

    // All consent withdrawn.
    await revokeConsent(t.store.db, app.clientId);
    const none = await refresh(partial.body.refresh_token, app.clientId);
    if (none.status === 200) {
      expect(scpOf(none.body.access_token)).toEqual([]);
      await expectApiStatus(none.body.access_token, "/v1.0/security/incidents", 403);
    } else {
      expectEntraError(none, "invalid_grant", undefined, 400);
    }
    // Consent granted again: the same refresh chain cannot regain more than it was issued with.
    await grantAdminConsent(t.store.db, app.clientId);
    const fresh = await ropc(t, tenant, app.clientId, user, GRAPH_DEFAULT);
    expect(scpOf(fresh.body.access_token).sort()).toEqual([...READ].sort());
  });
});

// ── device code ─────────────────────────────────────────────────────────────────────────────────

describe("device code", () => {
  async function start(clientId = client, scope = `${GRAPH_DEFAULT} openid profile offline_access`) {
    const r = await postForm(oauthUrl(t, tenant, "devicecode"), { client_id: clientId, scope });
    expect(r.status, r.text).toBe(200);
    return r.body as { user_code: string; device_code: string; verification_uri: string; interval: number; expires_in: number; message: string };
  }
  const poll = (deviceCode: string, clientId = client) =>
    token(t, tenant, { grant_type: "urn:ietf:params:oauth:grant-type:device_code", client_id: clientId, device_code: deviceCode });

  /** The user opens verification_uri, reads the form, and types the code and their credentials. */
  async function approve(verificationUri: string, typed: { code: string; username: string; password: string }): Promise<HttpResult> {
    const page = await getPage(verificationUri);
    expect(page.status).toBe(200);
    const form = parseForm(page.text);
    expect(form.visible).toEqual(["code", "username", "password"]);
    return submit(t.url, verificationUri, form, typed);
  }

  it("devicecode → pending → sign-in on /devicelogin → tokens, once", async () => {
    const dc = await start();
    expect(dc.user_code).toMatch(/^[A-Z0-9]{6,}$/);
    expect(dc.device_code.length).toBeGreaterThan(20);
    expect(dc.verification_uri).toBe(`${t.url}/devicelogin`);
    expect(dc.interval).toBeGreaterThan(0);
    expect(dc.expires_in).toBeGreaterThan(0);
    expect(dc.message).toContain(dc.user_code);
    expect(dc.message).toContain(dc.verification_uri);

    const pending = await poll(dc.device_code);
    expectEntraError(pending, "authorization_pending", undefined, 400);

    const done = await approve(dc.verification_uri, { code: dc.user_code, username: user.upn, password: user.password });
    expect(done.status, done.text).toBe(200);
    expect(done.text).toMatch(/signed in/i);
    expect(done.text).toContain("Triage CLI &lt;test&gt;");
    expect(pageError(done.text)).toBeNull();

    const tokens = await poll(dc.device_code);
    expectDelegatedTokens(tokens, { clientId: client, user, scopes: READ, refresh: true });
    await expectApiStatus(tokens.body.access_token, "/v1.0/security/incidents/$count", 200);

    expectEntraError(await poll(dc.device_code), "invalid_grant", undefined, 400);
    // The code cannot be approved a second time either.
    const reuse = await approve(dc.verification_uri, { code: dc.user_code, username: user.upn, password: user.password });
    expect(reuse.status).toBe(400);
    expect(pageError(reuse.text)).toBeTruthy();
  });

  it("the user code may be typed in lower case with separators", async () => {
    const dc = await start();
    const typed = `${dc.user_code.slice(0, 3)}-${dc.user_code.slice(3, 6)} ${dc.user_code.slice(6)}`.toLowerCase();
    const done = await approve(dc.verification_uri, { code: typed, username: user.upn, password: user.password });
    expect(done.status, done.text).toBe(200);
    expect((await poll(dc.device_code)).status).toBe(200);
  });

  it("a wrong code, a wrong password or a user of another tenant shows an error on the page and approves nothing", async () => {
    const dc = await start();
    const badCode = await approve(dc.verification_uri, { code: "ZZZZZZZZZ", username: user.upn, password: user.password });
    expect(badCode.status).toBe(400);
    expect(pageError(badCode.text)).toMatch(/code/i);
    expect(parseForm(badCode.text).fields.code).toBe("ZZZZZZZZZ");

    const badPassword = await approve(dc.verification_uri, { code: dc.user_code, username: user.upn, password: "wrong" });
    expect(badPassword.status).toBe(400);
    expect(pageError(badPassword.text)).toMatch(/password/i);

    const other = await t.newTenant();
    const stranger = await testUser(t, other, ["Security Administrator"]);
    const foreign = await approve(dc.verification_uri, { code: dc.user_code, username: stranger.upn, password: stranger.password });
    expect(foreign.status).toBe(400);

    expectEntraError(await poll(dc.device_code), "authorization_pending", undefined, 400);
    // Still usable by the right user.
    expect((await approve(dc.verification_uri, { code: dc.user_code, username: user.upn, password: user.password })).status).toBe(200);
    expect((await poll(dc.device_code)).status).toBe(200);
  });

  it("/devicelogin?code= pre-fills the code", async () => {
    const dc = await start();
    const page = await getPage(`${dc.verification_uri}?code=${dc.user_code}`);
    expect(parseForm(page.text).fields.code).toBe(dc.user_code);
  });

  it("a device code is bound to its client; unknown device codes and unconsented scopes are refused", async () => {
    const dc = await start();
    const other = await publicClient(t, tenant, { delegated: READ });
    expectEntraError(await poll(dc.device_code, other.clientId), "invalid_grant", undefined, 400);
    expectEntraError(await poll("no-such-device-code"), "invalid_grant", undefined, 400);
    const refused = await postForm(oauthUrl(t, tenant, "devicecode"), {
      client_id: client,
      scope: "https://graph.microsoft.com/SecurityIncident.ReadWrite.All",
    });
    expectEntraError(refused, "invalid_grant", 65001, 400);
    expectEntraError(await postForm(oauthUrl(t, tenant, "devicecode"), { client_id: randomUUID(), scope: GRAPH_DEFAULT }), "unauthorized_client", 700016, 400);
  });
});

// ── lifetimes ───────────────────────────────────────────────────────────────────────────────────

describe("expired grants", () => {
  /** Moves a stored code, device code or refresh token into the past. */
  async function expire(secret: string) {
    const res = await t.store.db
      .updateTable("grants")
      .set({ expires_at: new Date(Date.now() - 60_000).toISOString() })
      .where("id", "=", grantId(secret))
      .executeTakeFirst();
    expect(Number(res.numUpdatedRows)).toBe(1);
  }

  it("an expired authorization code, device code or refresh token is refused", async () => {
    const { verifier, challenge } = pkce();
    const { code } = codeFromLocation(await signIn({ challenge }));
    await expire(code);
    expectEntraError(await redeem(code, verifier), "invalid_grant", 70008, 400);

    const dc = (await postForm(oauthUrl(t, tenant, "devicecode"), { client_id: client, scope: GRAPH_DEFAULT })).body;
    await expire(dc.device_code);
    const approve = await postForm(`${t.url}/devicelogin`, { code: dc.user_code, username: user.upn, password: user.password });
    expect(approve.status).toBe(400);
    expect(pageError(approve.text)).toMatch(/expired/);
    expectEntraError(
      await token(t, tenant, { grant_type: "urn:ietf:params:oauth:grant-type:device_code", client_id: client, device_code: dc.device_code }),
      "expired_token",
      70020,
      400,
    );

    const rt = (await ropc(t, tenant, client, user, `${GRAPH_DEFAULT} offline_access`)).body.refresh_token as string;
    await expire(rt);
    expectEntraError(await token(t, tenant, { grant_type: "refresh_token", client_id: client, refresh_token: rt }), "invalid_grant", 700082, 400);
  });

  it("login_hint pre-fills the user name on the sign-in form", async () => {
    const page = await getPage(`${authorizeUrl({ challenge: pkce().challenge })}&login_hint=${encodeURIComponent(user.upn)}`);
    expect(parseForm(page.text).fields.username).toBe(user.upn);
  });
});

// ── client credentials ──────────────────────────────────────────────────────────────────────────

describe("client credentials", () => {
  it("with .default: the consented application permissions in roles", async () => {
    const { app, secret } = await confidentialClient(t, tenant, { application: READ });
    const r = await token(t, tenant, { grant_type: "client_credentials", client_id: app.clientId, client_secret: secret, scope: GRAPH_DEFAULT });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ token_type: "Bearer", scope: GRAPH_DEFAULT });
    expect(r.body.expires_in).toBeGreaterThan(0);
    expect(r.body.refresh_token).toBeUndefined();
    expect(r.body.id_token).toBeUndefined();
    const c = claims(r.body.access_token);
    expect(c).toMatchObject({ tid: tenant, azp: app.clientId, idtyp: "app" });
    expect([...c.roles].sort()).toEqual([...READ].sort());
    expect(c.scp).toBeUndefined();
    await expectApiStatus(r.body.access_token, "/v1.0/security/incidents", 200);
  });

  it("requires .default: an explicit scope is invalid_scope AADSTS1002012", async () => {
    const { app, secret } = await confidentialClient(t, tenant, { application: READ });
    for (const scope of ["https://graph.microsoft.com/SecurityIncident.Read.All", "SecurityIncident.Read.All", ""]) {
      const r = await token(t, tenant, { grant_type: "client_credentials", client_id: app.clientId, client_secret: secret, scope });
      expectEntraError(r, "invalid_scope", 1002012, 400);
    }
  });

  it("a wrong, missing or expired secret is 401 invalid_client", async () => {
    const { app, secret } = await confidentialClient(t, tenant, { application: READ });
    const wrong = `${secret.slice(0, -4)}abcd`;
    expectEntraError(
      await token(t, tenant, { grant_type: "client_credentials", client_id: app.clientId, client_secret: wrong, scope: GRAPH_DEFAULT }),
      "invalid_client",
      7000215,
      401,
    );
    expectEntraError(
      await token(t, tenant, { grant_type: "client_credentials", client_id: app.clientId, client_secret: "x", scope: GRAPH_DEFAULT }),
      "invalid_client",
      undefined,
      401,
    );
    expectEntraError(
      await token(t, tenant, { grant_type: "client_credentials", client_id: app.clientId, scope: GRAPH_DEFAULT }),
      "invalid_client",
      undefined,
      401,
    );

    const expired = await addSecret(t.store.db, app.clientId, 30, new Date(Date.now() - 60 * 86_400_000));
    expect(Date.parse(expired.expiresAt)).toBeLessThan(Date.now());
    expectEntraError(
      await token(t, tenant, { grant_type: "client_credentials", client_id: app.clientId, client_secret: expired.secret, scope: GRAPH_DEFAULT }),
      "invalid_client",
      undefined,
      401,
    );
    // The unexpired one still works.
    expect((await token(t, tenant, { grant_type: "client_credentials", client_id: app.clientId, client_secret: secret, scope: GRAPH_DEFAULT })).status).toBe(
      200,
    );
  });

  it("another app's secret does not authenticate this app", async () => {
    const a = await confidentialClient(t, tenant, { application: READ });
    const b = await confidentialClient(t, tenant, { application: READ });
    expectEntraError(
      await token(t, tenant, { grant_type: "client_credentials", client_id: a.app.clientId, client_secret: b.secret, scope: GRAPH_DEFAULT }),
      "invalid_client",
      undefined,
      401,
    );
  });

  it("a public client cannot use client credentials", async () => {
    expectEntraError(await token(t, tenant, { grant_type: "client_credentials", client_id: client, scope: GRAPH_DEFAULT }), "invalid_client", undefined, 401);
  });

  it("with a certificate: a signed client assertion, usable once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "triage-cert-"));
    try {
      const tls = await ensureLocalTls(dir, []);
      const app = await createApp(t.store.db, { tenantId: tenant, displayName: "cert app", appPermissions: READ });
      await grantAdminConsent(t.store.db, app.clientId);
      const { thumbprint } = await addCertificate(t.store.db, app.clientId, tls.cert);
      const key = await importPKCS8(tls.key, "RS256");
      const aud = oauthUrl(t, tenant, "token");
      const assertion = (jti: string, audience = aud, x5t = thumbprint) =>
        new SignJWT({ jti })
          .setProtectedHeader({ alg: "RS256", typ: "JWT", x5t })
          .setIssuer(app.clientId)
          .setSubject(app.clientId)
          .setAudience(audience)
          .setIssuedAt()
          .setNotBefore("0s")
          .setExpirationTime("5m")
          .sign(key);
      const form = (a: string) => ({
        grant_type: "client_credentials",
        client_id: app.clientId,
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: a,
        scope: GRAPH_DEFAULT,
      });
      const a1 = await assertion(randomUUID());
      const ok = await token(t, tenant, form(a1));
      expect(ok.status, ok.text).toBe(200);
      expect([...claims(ok.body.access_token).roles].sort()).toEqual([...READ].sort());
      expectEntraError(await token(t, tenant, form(a1)), "invalid_client", undefined, 401);
      expectEntraError(await token(t, tenant, form(await assertion(randomUUID(), "https://login.example/token"))), "invalid_client", undefined, 401);
      expectEntraError(await token(t, tenant, form("not.a.jwt")), "invalid_client", undefined, 401);
      // The thumbprint with base64's padding, as MSAL for Python sends it (the Azure CLI's certificate
      // sign-in); anything else around it is another thumbprint.
      expect(thumbprint).toMatch(/^[A-Za-z0-9_-]{27}$/);
      const padded = await token(t, tenant, form(await assertion(randomUUID(), aud, `${thumbprint}=`)));
      expect(padded.status, padded.text).toBe(200);
      for (const other of [`${thumbprint}==`, ` ${thumbprint}`, `${thumbprint.slice(0, -1)}=`, `${thumbprint}=x`]) {
        expectEntraError(await token(t, tenant, form(await assertion(randomUUID(), aud, other))), "invalid_client", undefined, 401);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
