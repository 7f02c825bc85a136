import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { startTriage, type TestTriage } from "../support/triage.js";
import { claims, getPage, parseForm, pkce, postForm, ropc, testUser, GRAPH_DEFAULT, type TestUser } from "../support/identity.js";
import { ensureWebClient, webClientId, WEB_REDIRECT_PATH } from "../../src/web/client.js";
import { defaultWebRoot } from "../../src/web/routes.js";
import { redirectAllowed } from "../../src/identity/oauth/issuer.js";
import { createApp, listApps, type App } from "../../src/identity/directory.js";
import { IncidentSchema } from "../../src/schema/incident.js";

/**
 * The web app's server side: the built app and its routes, the public configuration, the web client
 * of each tenant and its same-origin redirect URI, the schema endpoint, and the admin API with its
 * guard (delegated only, Security Administrator).
 */

let t: TestTriage;
let admin: TestUser;
let operator: TestUser;
let adminToken: string;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  t = await startTriage();
  await ensureWebClient(t.store.db, t.tenantId);
  admin = await testUser(t, t.tenantId, ["Security Administrator"]);
  operator = await testUser(t, t.tenantId, ["Security Operator"]);
  const r = await ropc(t, t.tenantId, webClientId(t.tenantId), admin, GRAPH_DEFAULT);
  expect(r.status, r.text).toBe(200);
  adminToken = r.body.access_token;
});
afterAll(async () => {
  await t.close();
});

const as = (token: string) => ({ authorization: `Bearer ${token}` });

describe("the web client of each tenant", () => {
  it("has a deterministic client id per tenant, and is created once", async () => {
    const id = webClientId(t.tenantId);
    expect(id).toMatch(GUID);
    expect(webClientId(t.tenantId.toUpperCase())).toBe(id);
    expect(webClientId("c7a1d2e4-5b6f-4a8c-9d0e-1f2a3b4c5d6e")).not.toBe(id);
    const again = await ensureWebClient(t.store.db, t.tenantId);
    expect(again.clientId).toBe(id);
    const apps = (await listApps(t.store.db, t.tenantId)).filter((a) => a.displayName === "Triage web app");
    expect(apps).toHaveLength(1);
    expect(apps[0]).toMatchObject({
      publicClient: true,
      redirectUris: [WEB_REDIRECT_PATH],
      delegatedPermissions: ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All", "SecurityData.Manage.All", "ThreatHunting.Read.All"],
    });
    // Its permissions are consented: a signed-in user's token carries them.
    expect(claims(adminToken).scp.split(" ").sort()).toEqual([
      "SecurityAlert.ReadWrite.All",
      "SecurityData.Manage.All",
      "SecurityIncident.ReadWrite.All",
      "ThreatHunting.Read.All",
    ]);
  });

  it("GET /web/config: public; the only tenant is the default, with its web client", async () => {
    const r = await t.get("/web/config", { authorization: "" });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      defaultTenant: { id: t.tenantId, displayName: "Test tenant", clientId: webClientId(t.tenantId) },
      redirectPath: "/signin-callback",
      scope: "https://graph.microsoft.com/.default openid profile offline_access",
    });
    const one = await t.get(`/web/config/tenants/${t.tenantId.toUpperCase()}`, { authorization: "" });
    expect(one.body).toEqual({ id: t.tenantId, displayName: "Test tenant", clientId: webClientId(t.tenantId) });
    const unknown = await t.get("/web/config/tenants/00000000-0000-0000-0000-000000000000", { authorization: "" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("NotFound");
  });
});

describe("the sign-in redirect on Triage's own origin", () => {
  function authorizeUrl(base: string, redirectUri: string, challenge: string): string {
    const q = new URLSearchParams({
      client_id: webClientId(t.tenantId),
      response_type: "code",
      redirect_uri: redirectUri,
      scope: "https://graph.microsoft.com/.default openid offline_access",
      state: "s1",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    return `${base}/${t.tenantId}/oauth2/v2.0/authorize?${q}`;
  }

  it("accepts /signin-callback on the origin the request came to, and nothing else", async () => {
    const { verifier, challenge } = pkce();
    const good = `${t.url}/signin-callback`;
    const page = await getPage(authorizeUrl(t.url, good, challenge));
    expect(page.status, page.text).toBe(200);
    for (const bad of [
      "http://evil.example/signin-callback",
      `${t.url}/other-callback`,
      `${t.url}/signin-callback/x`,
      "/signin-callback",
      `${t.url.replace("127.0.0.1", "localhost")}/signin-callback`,
    ]) {
      const r = await getPage(authorizeUrl(t.url, bad, challenge));
      expect(r.status, bad).toBe(400);
    }
    // The whole flow: sign in, come back with a code, redeem it with the verifier.
    const form = parseForm(page.text);
    const signedIn = await postForm(new URL(form.action, t.url).toString(), { ...form.fields, username: operator.upn, password: operator.password });
    expect(signedIn.status, signedIn.text).toBe(302);
    const back = new URL(signedIn.headers.get("location")!);
    expect(`${back.origin}${back.pathname}`).toBe(good);
    expect(back.searchParams.get("state")).toBe("s1");
    const token = await postForm(`${t.url}/${t.tenantId}/oauth2/v2.0/token`, {
      grant_type: "authorization_code",
      client_id: webClientId(t.tenantId),
      code: back.searchParams.get("code")!,
      redirect_uri: good,
      code_verifier: verifier,
    });
    expect(token.status, token.text).toBe(200);
    expect(claims(token.body.access_token)).toMatchObject({ azp: webClientId(t.tenantId), preferred_username: operator.upn });
    expect(token.body.refresh_token).toBeTruthy();
  });

  it("follows the Host the browser used when it names the server (an allowed host name); any other Host is refused", async () => {
    const named = await startTriage({ allowedHosts: ["triage.example:9000"] });
    try {
      await ensureWebClient(named.store.db, named.tenantId);
      const { challenge } = pkce();
      const path = (redirect: string) => {
        const u = new URL(
          authorizeUrl("http://x", redirect, challenge).replace(t.tenantId, named.tenantId).replace(webClientId(t.tenantId), webClientId(named.tenantId)),
        );
        return u.pathname + u.search;
      };
      const ok = await named.app.inject({ method: "GET", url: path("http://triage.example:9000/signin-callback"), headers: { host: "triage.example:9000" } });
      expect(ok.statusCode, ok.body).toBe(200);
      const other = await named.app.inject({ method: "GET", url: path(`${named.url}/signin-callback`), headers: { host: "triage.example:9000" } });
      expect(other.statusCode).toBe(400);
      const stranger = await named.app.inject({ method: "GET", url: path("http://evil.example:9000/signin-callback"), headers: { host: "evil.example:9000" } });
      expect(stranger.statusCode).toBe(421);
      expect(JSON.parse(stranger.body).error.code).toBe("MisdirectedRequest");
    } finally {
      await named.close();
    }
  });

  it("redirectAllowed: a registered path matches only on the given origin; absolute URIs and loopback rules as before", () => {
    const app = (uris: string[], publicClient = true): App => ({
      clientId: "c",
      tenantId: "t",
      displayName: "x",
      createdAt: "",
      publicClient,
      redirectUris: uris,
      appPermissions: [],
      delegatedPermissions: [],
    });
    const web = app(["/signin-callback"]);
    expect(redirectAllowed(web, "https://triage.example/signin-callback", "https://triage.example")).toBe(true);
    expect(redirectAllowed(web, "https://evil.example/signin-callback", "https://triage.example")).toBe(false);
    expect(redirectAllowed(web, "https://triage.example/signin-callback")).toBe(false);
    expect(redirectAllowed(app(["//evil.example/cb"]), "https://triage.example//evil.example/cb", "https://triage.example")).toBe(false);
    expect(redirectAllowed(app(["/cb"], false), "https://triage.example/cb", "https://triage.example")).toBe(true);
    const loopback = app(["http://localhost", "/signin-callback"]);
    expect(redirectAllowed(loopback, "http://localhost:51234", "https://triage.example")).toBe(true);
    expect(redirectAllowed(loopback, "http://localhost:51234/other", "https://triage.example")).toBe(false);
  });
});

describe("serving the app", () => {
  it("answers index.html on the app's routes, with a strict content security policy", async () => {
    expect(defaultWebRoot(), "the web app is built (npm run build)").toBeDefined();
    for (const path of [
      "/",
      "/incidents",
      "/incidents/12",
      "/dashboard",
      "/hunting?query=AlertInfo%20%7C%20take%201&timespan=P7D",
      "/explorer",
      "/explorer/SecurityIncident.Read.All",
      "/admin/users",
      "/signin-callback?code=x&state=y",
    ]) {
      // What Chromium sends for a navigation (every browser lists */* too: an Accept without it and without JSON is a 406 here, as everywhere in Triage).
      const r = await fetch(t.url + path, {
        headers: { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8" },
      });
      expect(r.status, path).toBe(200);
      expect(r.headers.get("content-type"), path).toMatch(/^text\/html/);
      expect(r.headers.get("content-security-policy")).toContain("script-src 'self'");
      expect(r.headers.get("referrer-policy")).toBe("no-referrer");
      expect(await r.text()).toContain('<div id="root"></div>');
    }
    const unknown = await t.get("/no-such-page", { authorization: "" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("NotFound");
    expect((await fetch(`${t.url}/favicon.ico`)).status).toBe(200);
  });

  it("serves the hashed assets for a year, and nothing outside them", async () => {
    const assets = readdirSync(join(defaultWebRoot()!, "assets")).filter((f) => f.endsWith(".js"));
    expect(assets.length).toBeGreaterThan(0);
    const r = await fetch(`${t.url}/assets/${assets[0]}`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/javascript/);
    expect(r.headers.get("cache-control")).toContain("immutable");
    for (const bad of ["/assets/..%2F..%2F..%2Fpackage.json", "/assets/%2e%2e/%2e%2e/routes.js", "/assets/missing.js"]) {
      const x = await fetch(t.url + bad);
      expect(x.status, bad).toBeGreaterThanOrEqual(400);
    }
  });

  it("GET /web/schema: the resources the explorer shows, from the same schemas as docs/resources.md", async () => {
    const r = await t.get("/web/schema", { authorization: "" });
    expect(r.status).toBe(200);
    expect(r.body.resources.map((x: any) => x.name)).toEqual(["incident", "alert", "alertComment"]);
    const incident = r.body.resources[0];
    expect(incident.properties.map((p: any) => p.name)).toEqual(Object.keys(IncidentSchema.properties));
    expect(incident.properties.find((p: any) => p.name === "status")).toMatchObject({
      type: "microsoft.graph.security.incidentStatus",
      updatable: true,
      filterable: true,
      sortable: true,
      enumMembers: expect.arrayContaining(["active", "resolved"]),
    });
    expect(incident.properties.find((p: any) => p.name === "recommendedActions").betaOnly).toBe(true);
    expect(r.body.evidence).toHaveLength(48);
  });
});

describe("the admin API", () => {
  it("is in the permissions reference: delegated only, for Security Administrators", async () => {
    const ref = (await t.get("/permissions", { authorization: "" })).body;
    const write = ref.permissions.find((p: any) => p.name === "SecurityIncident.ReadWrite.All");
    const create = write.methods.triage.find((m: any) => m.operation === "POST /triage/admin/apps");
    expect(create).toMatchObject({ entraRoles: ["Security Administrator"], leastPrivileged: { delegated: true, application: null }, implemented: true });
    expect(create.notes.join(" ")).toMatch(/delegated only/);
    const audit = write.methods.triage.find((m: any) => m.operation === "GET /triage/incidents/{id}/audit");
    expect(audit.notes).toEqual(["Triage's own API, not Microsoft Graph: it takes the permissions of GET /security/incidents/{id}."]);
    const alertWrite = ref.permissions.find((p: any) => p.name === "SecurityAlert.ReadWrite.All");
    expect(alertWrite.methods.triage.find((m: any) => m.operation === "GET /triage/admin/users").leastPrivileged).toEqual({
      delegated: true,
      application: null,
    });
    // Reading incidents or alerts does not reach the directory.
    for (const name of ["SecurityIncident.Read.All", "SecurityAlert.Read.All", "SecurityAlert.Create.All"]) {
      const p = ref.permissions.find((x: any) => x.name === name);
      expect(
        p.methods.triage.filter((m: any) => m.path.startsWith("/triage/admin/")),
        name,
      ).toEqual([]);
    }
  });

  it("refuses app-only tokens and users who are not Security Administrators", async () => {
    const appOnly = await t.get("/triage/admin/apps");
    expect(appOnly.status).toBe(403);
    expect(appOnly.body.error.message).toMatch(/No application roles grant this operation/);
    const op = await ropc(t, t.tenantId, webClientId(t.tenantId), operator, GRAPH_DEFAULT);
    const r = await t.request("POST", "/triage/admin/apps", { body: { displayName: "x" }, headers: as(op.body.access_token) });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toContain("Security Administrator");
    expect((await t.get("/triage/admin/users", { authorization: "" })).status).toBe(401);
  });

  it("registers an app, requests permissions, consents, issues a secret that works, revokes and deletes", async () => {
    const h = as(adminToken);
    const list = await t.request("GET", "/triage/admin/apps", { headers: h });
    expect(list.status).toBe(200);
    expect(list.body.value.find((a: any) => a.clientId === webClientId(t.tenantId))).toMatchObject({
      firstParty: true,
      consented: { delegated: ["SecurityAlert.ReadWrite.All", "SecurityData.Manage.All", "SecurityIncident.ReadWrite.All", "ThreatHunting.Read.All"] },
    });

    expect(
      (await t.request("POST", "/triage/admin/apps", { body: { displayName: "bad", applicationPermissions: ["User.Read.All"] }, headers: h })).status,
    ).toBe(400);
    expect((await t.request("POST", "/triage/admin/apps", { body: { displayName: "" }, headers: h })).status).toBe(400);
    const created = await t.request("POST", "/triage/admin/apps", {
      body: { displayName: "Reporting", applicationPermissions: ["securityincident.read.all"] },
      headers: h,
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.clientId;
    expect(created.body).toMatchObject({
      displayName: "Reporting",
      publicClient: false,
      firstParty: false,
      requested: { application: ["SecurityIncident.Read.All"], delegated: [] },
      consented: { application: [], delegated: [] },
      secrets: [],
    });

    const more = await t.request("POST", `/triage/admin/apps/${id}/permissions`, { body: { application: ["SecurityAlert.Read.All"] }, headers: h });
    expect(more.body.requested.application).toEqual(["SecurityIncident.Read.All", "SecurityAlert.Read.All"]);
    const consented = await t.request("POST", `/triage/admin/apps/${id}/consent`, { headers: h });
    expect(consented.body.consented.application).toEqual(["SecurityAlert.Read.All", "SecurityIncident.Read.All"]);
    const secret = await t.request("POST", `/triage/admin/apps/${id}/secrets`, { body: { days: 30 }, headers: h });
    expect(secret.status).toBe(201);
    expect(secret.body.secretText).toMatch(/^.{3}8Q~.{34}$/);
    expect(secret.body.hint).toBe(secret.body.secretText.slice(0, 3));

    const token = async () =>
      postForm(`${t.url}/${t.tenantId}/oauth2/v2.0/token`, {
        grant_type: "client_credentials",
        client_id: id,
        client_secret: secret.body.secretText,
        scope: GRAPH_DEFAULT,
      });
    expect(claims((await token()).body.access_token).roles.sort()).toEqual(["SecurityAlert.Read.All", "SecurityIncident.Read.All"]);
    const listed = (await t.request("GET", "/triage/admin/apps", { headers: h })).body.value.find((a: any) => a.clientId === id);
    expect(listed.secrets).toEqual([expect.objectContaining({ hint: secret.body.hint })]);
    expect(JSON.stringify(listed)).not.toContain(secret.body.secretText);

    const revoked = await t.request("DELETE", `/triage/admin/apps/${id}/consent`, { headers: h });
    expect(revoked.body.consented).toEqual({ application: [], delegated: [] });
    expect(claims((await token()).body.access_token).roles).toEqual([]);

    expect((await t.request("DELETE", `/triage/admin/apps/${id}`, { headers: h })).status).toBe(204);
    expect((await token()).status).toBe(400);
    expect((await t.request("DELETE", `/triage/admin/apps/${id}`, { headers: h })).status).toBe(404);
  });

  it("protects the web app's own registration and other tenants' apps", async () => {
    const h = as(adminToken);
    const web = webClientId(t.tenantId);
    expect((await t.request("DELETE", `/triage/admin/apps/${web}`, { headers: h })).status).toBe(400);
    expect((await t.request("DELETE", `/triage/admin/apps/${web}/consent`, { headers: h })).status).toBe(400);
    const other = await t.newTenant();
    const foreign = await createApp(t.store.db, { tenantId: other, displayName: "Foreign" });
    for (const [method, path] of [
      ["DELETE", ""],
      ["POST", "/consent"],
      ["POST", "/secrets"],
      ["DELETE", "/consent"],
    ] as const) {
      expect((await t.request(method, `/triage/admin/apps/${foreign.clientId}${path}`, { headers: h })).status, `${method} ${path}`).toBe(404);
    }
    expect((await t.request("GET", "/triage/admin/apps", { headers: h })).body.value.some((a: any) => a.clientId === foreign.clientId)).toBe(false);
  });

  it("lists users, adds one, changes roles; refuses unknown roles, duplicates and removing one's own admin role", async () => {
    const h = as(adminToken);
    const users = await t.request("GET", "/triage/admin/users", { headers: h });
    expect(users.body.value.find((u: any) => u.userPrincipalName === admin.upn)).toMatchObject({ roles: ["Security Administrator"], hasPassword: true });
    const created = await t.request("POST", "/triage/admin/users", {
      body: { userPrincipalName: "New.Reader@Contoso.test", password: "Reader-Pass-1", roles: ["Security Reader"] },
      headers: h,
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      userPrincipalName: "new.reader@contoso.test",
      displayName: "new.reader",
      roles: ["Security Reader"],
      hasPassword: true,
    });
    expect((await t.request("POST", "/triage/admin/users", { body: { userPrincipalName: "new.reader@contoso.test" }, headers: h })).status).toBe(400);
    expect(
      (await t.request("POST", "/triage/admin/users", { body: { userPrincipalName: "x@contoso.test", roles: ["Global Admin"] }, headers: h })).status,
    ).toBe(400);
    const patched = await t.request("PATCH", `/triage/admin/users/${created.body.id}`, { body: { roles: ["security operator"] }, headers: h });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.roles).toEqual(["Security Operator"]);
    const signIn = await ropc(t, t.tenantId, webClientId(t.tenantId), { upn: "new.reader@contoso.test", password: "Reader-Pass-1" }, GRAPH_DEFAULT);
    expect(signIn.status).toBe(200);
    expect((await t.request("PATCH", `/triage/admin/users/${created.body.id}`, { body: { roles: ["Nope"] }, headers: h })).status).toBe(400);
    expect((await t.request("PATCH", `/triage/admin/users/${created.body.id}`, { body: { displayName: "x" }, headers: h })).status).toBe(400);
    const self = users.body.value.find((u: any) => u.userPrincipalName === admin.upn);
    const demote = await t.request("PATCH", `/triage/admin/users/${self.id}`, { body: { roles: ["Security Reader"] }, headers: h });
    expect(demote.status).toBe(400);
    expect(demote.body.error.message).toMatch(/own Security Administrator role/);
    expect((await t.request("PATCH", "/triage/admin/users/00000000-0000-0000-0000-000000000000", { body: { roles: [] }, headers: h })).status).toBe(404);
  });
});
