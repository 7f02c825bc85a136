import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addSecret, createApp, createUser, grantAdminConsent, requestPermissions } from "../../src/identity/directory.js";
import { registeredRoutes } from "../../src/web/permission-routes.js";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { claims, expectEntraError, GRAPH_DEFAULT, ROLES, ropc, scpOf, token, TokenBox } from "../support/identity.js";

/**
 * The permissions reference (GET /permissions) and the enforcement agree, route by route, with real
 * tokens from the token endpoint: client_credentials for app-only calls, ROPC through a public client
 * for delegated ones. Every registered route that declares a catalog operation is exercised in both
 * schemes, with each permission the reference lists for it (passes), with every permission it does not
 * list (403 naming the required ones), and — delegated — with each Entra role.
 */

type SchemeName = "delegated" | "application";
const SCHEME_NAMES: SchemeName[] = ["delegated", "application"];
const PARAM = /:[A-Za-z_]\w*/g;

let t: TestTriage;
let tokens: TokenBox;
let ref: any;
let allPermissions: string[];
let cases: RouteCase[];
/** A real incident and alert of the tenant, for the write checks. */
let incidentId: string;
let alertId: string;

interface RouteCase {
  method: string;
  /** The registered URL, with :params. */
  url: string;
  /** A concrete path to call (made-up ids: authorization comes before the lookup). */
  path: string;
  api: "v1.0" | "beta" | "triage";
  operation: string;
  /** Per scheme: the permissions the reference lists for this method. */
  listed: Record<SchemeName, string[]>;
  entraRoles: string[];
  body?: unknown;
}

function concretePath(url: string): string {
  // Made-up ids: the handler answers 404 (or 400 for the batch checks), which is past authorization.
  return url.replace(PARAM, url.includes("/alerts_v2/") || url.includes("/triage/alerts/") ? "no-such-alert" : "987654321");
}

function bodyFor(method: string, url: string): unknown {
  if (method === "PATCH") return { status: "active" };
  if (url.endsWith("/comments")) return { "@odata.type": "microsoft.graph.security.alertComment", comment: "enforcement check" };
  if (url === "/ingest/alerts") return { value: [] }; // 400 (empty batch) once authorized: nothing is written
  return undefined;
}

async function call(c: Pick<RouteCase, "method" | "path" | "body">, accessToken: string) {
  // The live change stream stays open; from a position past the feed's end it answers a reset and ends.
  const resume: Record<string, string> = c.path === "/triage/changes" ? { "last-event-id": "999999999999" } : {};
  return t.request(c.method, c.path, { body: c.body, headers: { authorization: `Bearer ${accessToken}`, ...resume } });
}

function expectPassed(r: { status: number; text: string }, what: string) {
  expect(r.status, `${what} should get past authorization: ${r.text}`).not.toBe(401);
  expect(r.status, `${what} should get past authorization: ${r.text}`).not.toBe(403);
  // The handler ran: a listing (200), a made-up id (404), an empty ingestion batch (400).
  expect([200, 400, 404], `${what}: ${r.text}`).toContain(r.status);
}

function expectForbidden(r: { status: number; body: any; text: string }, what: string, required: string[] = []) {
  expect(r.status, `${what} should be refused: ${r.text}`).toBe(403);
  expect(r.body.error.code).toBe("Forbidden");
  for (const p of required) expect(r.body.error.message, what).toContain(p);
}

beforeAll(async () => {
  t = await startTriage();
  tokens = new TokenBox(t);
  const r = await t.get("/permissions", { authorization: "" });
  expect(r.status).toBe(200);
  ref = r.body;
  allPermissions = ref.permissions.map((p: any) => p.name);

  const ingested = await t.ingest([alert({ device: deviceId(), severity: "high", title: "Enforcement fixture" })]);
  expect(ingested.status).toBe(200);
  incidentId = ingested.body.value[0].incidentId;
  alertId = ingested.body.value[0].id;

  cases = [];
  for (const route of registeredRoutes(t.app)) {
    if (!route.operation) continue;
    const m = /^\/(v1\.0|beta)(\/.*)$/.exec(route.url);
    const api = (m ? m[1] : "triage") as RouteCase["api"];
    for (const method of route.methods) {
      if (method === "HEAD") continue; // Fastify's twin of the GET, with the GET's config
      const listed = { delegated: [] as string[], application: [] as string[] };
      let entraRoles: string[] | null = null;
      for (const p of ref.permissions) {
        const entry = p.methods[api].find((x: any) => x.operation === route.operation!.key);
        if (!entry) continue;
        expect(entry.implemented, `${api} ${entry.operation}`).toBe(true);
        for (const s of SCHEME_NAMES) if (entry.leastPrivileged[s] !== null) listed[s].push(p.name);
        entraRoles ??= entry.entraRoles;
        expect(entry.entraRoles).toEqual(entraRoles);
      }
      // Triage's directory administration is delegated only: no application permission grants it.
      expect(listed.application.length + listed.delegated.length, `${method} ${route.url} is in the reference`).toBeGreaterThan(0);
      cases.push({
        method,
        url: route.url,
        path: concretePath(route.url),
        api,
        operation: route.operation.key,
        listed,
        entraRoles: entraRoles ?? [],
        body: bodyFor(method, route.url),
      });
    }
  }
});
afterAll(async () => {
  await t.close();
});

describe("every route with a catalog operation, with real tokens", () => {
  it("covers every implemented method of the reference, in every API", () => {
    const implemented = new Set<string>();
    for (const p of ref.permissions)
      for (const api of ["v1.0", "beta", "triage"]) for (const m of p.methods[api]) if (m.implemented) implemented.add(`${api} ${m.operation}`);
    expect(new Set(cases.map((c) => `${c.api} ${c.operation}`))).toEqual(implemented);
    expect(cases.length).toBeGreaterThanOrEqual(implemented.size);
    // Both Graph versions and Triage's own API are there.
    expect(new Set(cases.map((c) => c.api))).toEqual(new Set(["v1.0", "beta", "triage"]));
  });

  it("application: each listed permission alone passes; each unlisted one, alone or all together, is 403 naming the listed ones", async () => {
    for (const c of cases) {
      const what = `app ${c.method} ${c.path}`;
      for (const p of c.listed.application) expectPassed(await call(c, await tokens.app(t.tenantId, [p])), `${what} with ${p}`);
      const unlisted = allPermissions.filter((p) => !c.listed.application.includes(p));
      expect(unlisted.length).toBeGreaterThan(0);
      for (const p of unlisted) expectForbidden(await call(c, await tokens.app(t.tenantId, [p])), `${what} with ${p}`, c.listed.application);
      const r = await call(c, await tokens.app(t.tenantId, unlisted));
      expectForbidden(r, `${what} with ${unlisted.join(",")}`, c.listed.application);
      expect(r.body.error.message).toMatch(/application roles/);
    }
  });

  it("delegated: each listed permission alone passes (for a user holding a listed role); each unlisted one is 403 naming the listed ones", async () => {
    for (const c of cases) {
      const what = `delegated ${c.method} ${c.path}`;
      const role = c.entraRoles[0]!;
      for (const p of c.listed.delegated) expectPassed(await call(c, await tokens.user(t.tenantId, [p], [role])), `${what} with ${p} as ${role}`);
      const unlisted = allPermissions.filter((p) => !c.listed.delegated.includes(p));
      for (const p of unlisted) expectForbidden(await call(c, await tokens.user(t.tenantId, [p], [...ROLES])), `${what} with ${p}`, c.listed.delegated);
      const r = await call(c, await tokens.user(t.tenantId, unlisted, [...ROLES]));
      expectForbidden(r, `${what} with ${unlisted.join(",")}`, c.listed.delegated);
      expect(r.body.error.message).toMatch(/scope/i);
    }
  });

  it("delegated: each listed Entra role passes; a user with only unlisted roles, or none, is 403 naming the roles", async () => {
    for (const c of cases) {
      const what = `delegated ${c.method} ${c.path}`;
      expect(c.entraRoles.length).toBeGreaterThan(0);
      for (const role of c.entraRoles) expectPassed(await call(c, await tokens.user(t.tenantId, c.listed.delegated, [role])), `${what} as ${role}`);
      const unlistedRoles = ROLES.filter((r) => !c.entraRoles.includes(r));
      for (const role of unlistedRoles)
        expectForbidden(await call(c, await tokens.user(t.tenantId, c.listed.delegated, [role])), `${what} as ${role}`, c.entraRoles);
      if (unlistedRoles.length > 1)
        expectForbidden(await call(c, await tokens.user(t.tenantId, c.listed.delegated, unlistedRoles)), `${what} as ${unlistedRoles.join("+")}`, c.entraRoles);
      const none = await call(c, await tokens.user(t.tenantId, c.listed.delegated, []));
      expectForbidden(none, `${what} with no role`, c.entraRoles);
      expect(none.body.error.message).toMatch(/role/);
    }
  });

  it("HEAD twins of GET routes are guarded like the GET", async () => {
    for (const c of cases.filter((x) => x.method === "GET")) {
      const denied = await t.request("HEAD", c.path, {
        headers: { authorization: `Bearer ${await tokens.app(t.tenantId, ["SecurityEvents.ReadWrite.All"])}` },
      });
      expect(denied.status, `HEAD ${c.path}`).toBe(403);
      const anonymous = await t.request("HEAD", c.path, { headers: { authorization: "" } });
      expect(anonymous.status, `HEAD ${c.path}`).toBe(401);
    }
  });

  it("no token, or a malformed one, is 401 on every route", async () => {
    for (const c of cases) {
      expect((await t.request(c.method, c.path, { body: c.body, headers: { authorization: "" } })).status, `${c.method} ${c.path}`).toBe(401);
      expect((await call(c, "not-a-jwt")).status, `${c.method} ${c.path}`).toBe(401);
    }
  });
});

// ── what the permissions mean, end to end ───────────────────────────────────────────────────────

const READ_ONLY = ["SecurityIncident.Read.All", "SecurityAlert.Read.All"];
const READ_WRITE = ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"];

interface Probe {
  name: string;
  write: boolean;
  method: string;
  path: () => string;
  body?: () => unknown;
}

const PROBES: Probe[] = [
  { name: "list incidents", write: false, method: "GET", path: () => "/v1.0/security/incidents" },
  { name: "get incident", write: false, method: "GET", path: () => `/beta/security/incidents/${incidentId}?$expand=alerts` },
  { name: "incident alerts", write: false, method: "GET", path: () => `/v1.0/security/incidents/${incidentId}/alerts` },
  { name: "count alerts", write: false, method: "GET", path: () => "/v1.0/security/alerts_v2/$count" },
  { name: "get alert", write: false, method: "GET", path: () => `/v1.0/security/alerts_v2/${alertId}` },
  { name: "incident audit", write: false, method: "GET", path: () => `/triage/incidents/${incidentId}/audit` },
  { name: "correlation", write: false, method: "GET", path: () => `/triage/incidents/${incidentId}/correlation` },
  { name: "alert audit", write: false, method: "GET", path: () => `/triage/alerts/${alertId}/audit` },
  { name: "patch incident", write: true, method: "PATCH", path: () => `/v1.0/security/incidents/${incidentId}`, body: () => ({ customTags: ["enforcement"] }) },
  {
    name: "comment incident",
    write: true,
    method: "POST",
    path: () => `/beta/security/incidents/${incidentId}/comments`,
    body: () => ({ comment: "from enforcement" }),
  },
  { name: "patch alert", write: true, method: "PATCH", path: () => `/v1.0/security/alerts_v2/${alertId}`, body: () => ({ status: "inProgress" }) },
  {
    name: "comment alert",
    write: true,
    method: "POST",
    path: () => `/v1.0/security/alerts_v2/${alertId}/comments`,
    body: () => ({ comment: "from enforcement" }),
  },
  {
    name: "ingest",
    write: true,
    method: "POST",
    path: () => "/ingest/alerts",
    body: () => ({ value: [alert({ device: deviceId(), title: "Enforcement ingest" })] }),
  },
];

async function probe(p: Probe, accessToken: string) {
  return t.request(p.method, p.path(), { body: p.body?.(), headers: { authorization: `Bearer ${accessToken}` } });
}

describe("read and write, by permission, role and consent", () => {
  it("a read-only app reads and cannot write", async () => {
    const tok = await tokens.app(t.tenantId, READ_ONLY);
    for (const p of PROBES) {
      const r = await probe(p, tok);
      if (p.write) expectForbidden(r, p.name);
      else expect(r.status, `${p.name}: ${r.text}`).toBe(200);
    }
  });

  it("a Security Reader user reads and cannot write, even with ReadWrite permissions", async () => {
    const tok = await tokens.user(t.tenantId, READ_WRITE, ["Security Reader"]);
    for (const p of PROBES) {
      const r = await probe(p, tok);
      if (p.write) {
        expectForbidden(r, p.name, ["Security Operator", "Security Administrator"]);
        expect(r.body.error.message).toMatch(/role/);
      } else expect(r.status, `${p.name}: ${r.text}`).toBe(200);
    }
  });

  it("a Security Operator with read-only permissions cannot write either", async () => {
    const tok = await tokens.user(t.tenantId, READ_ONLY, ["Security Operator"]);
    for (const p of PROBES) {
      const r = await probe(p, tok);
      if (p.write) expectForbidden(r, p.name);
      else expect(r.status, `${p.name}: ${r.text}`).toBe(200);
    }
  });

  it("incident writes need SecurityIncident.ReadWrite.All, alert writes SecurityAlert.ReadWrite.All — and then succeed", async () => {
    const incidents = await tokens.app(t.tenantId, ["SecurityIncident.ReadWrite.All"]);
    const alerts = await tokens.app(t.tenantId, ["SecurityAlert.ReadWrite.All"]);
    const byName = (n: string) => PROBES.find((p) => p.name === n)!;

    const patched = await probe(byName("patch incident"), incidents);
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.customTags).toContain("enforcement");
    expect((await probe(byName("comment incident"), incidents)).status).toBe(200);
    expectForbidden(await probe(byName("patch alert"), incidents), "incident token on alert", ["SecurityAlert.ReadWrite.All"]);
    expectForbidden(await probe(byName("comment alert"), incidents), "incident token on alert", ["SecurityAlert.ReadWrite.All"]);
    expectForbidden(await probe(byName("ingest"), incidents), "incident token ingesting", ["SecurityAlert.ReadWrite.All"]);

    const alertPatched = await probe(byName("patch alert"), alerts);
    expect(alertPatched.status, alertPatched.text).toBe(200);
    expect(alertPatched.body.status).toBe("inProgress");
    expect((await probe(byName("comment alert"), alerts)).status).toBe(200);
    expect((await probe(byName("ingest"), alerts)).status).toBe(200);
    expectForbidden(await probe(byName("patch incident"), alerts), "alert token on incident", ["SecurityIncident.ReadWrite.All"]);
    expectForbidden(await probe(byName("comment incident"), alerts), "alert token on incident", ["SecurityIncident.ReadWrite.All"]);

    // Delegated, with a role that may write: the change is made by, and recorded as, the user.
    const operator = await tokens.user(t.tenantId, READ_WRITE, ["Security Operator"]);
    const upn = claims(operator).preferred_username as string;
    const r = await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, {
      body: { assignedTo: "soc@contoso.test" },
      headers: { authorization: `Bearer ${operator}` },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.assignedTo).toBe("soc@contoso.test");
    expect(r.body.lastModifiedBy).toContain(upn);
    const audit = await t.get(`/triage/incidents/${incidentId}/audit`);
    expect(audit.body.value.some((e: any) => e.property === "assignedTo" && e.actor === upn)).toBe(true);
  });

  it("requested but not consented: the app-only token carries no role and every route is 403; after consent it works", async () => {
    const app = await createApp(t.store.db, { tenantId: t.tenantId, displayName: "unconsented", appPermissions: READ_WRITE });
    const { secret } = await addSecret(t.store.db, app.clientId);
    const get = () => token(t, t.tenantId, { grant_type: "client_credentials", client_id: app.clientId, client_secret: secret, scope: GRAPH_DEFAULT });
    const before = await get();
    expect(before.status, before.text).toBe(200);
    expect(claims(before.body.access_token).roles).toEqual([]);
    for (const c of cases) expectForbidden(await call(c, before.body.access_token), `unconsented app ${c.method} ${c.path}`, c.listed.application);
    for (const p of PROBES) expectForbidden(await probe(p, before.body.access_token), `unconsented app ${p.name}`);

    await grantAdminConsent(t.store.db, app.clientId);
    const after = await get();
    expect([...claims(after.body.access_token).roles].sort()).toEqual([...READ_WRITE].sort());
    for (const p of PROBES) expect((await probe(p, after.body.access_token)).status, p.name).toBe(200);
  });

  it("requested but not consented: a delegated token carries no scope and every route is 403; naming the scope is AADSTS65001", async () => {
    const app = await createApp(t.store.db, { tenantId: t.tenantId, displayName: "unconsented public", publicClient: true });
    await requestPermissions(t.store.db, app.clientId, { delegated: READ_WRITE });
    const password = "Correct-Horse-1";
    const user = await createUser(t.store.db, { tenantId: t.tenantId, upn: "admin@unconsented.test", password, roles: ["Security Administrator"] });
    const r = await ropc(t, t.tenantId, app.clientId, { upn: user.upn, password }, `${GRAPH_DEFAULT} openid`);
    expect(r.status, r.text).toBe(200);
    expect(scpOf(r.body.access_token)).toEqual([]);
    for (const c of cases) expectForbidden(await call(c, r.body.access_token), `unconsented user ${c.method} ${c.path}`, c.listed.delegated);
    const named = await ropc(t, t.tenantId, app.clientId, { upn: user.upn, password }, "https://graph.microsoft.com/SecurityIncident.Read.All");
    expectEntraError(named, "invalid_grant", 65001, 400);
  });

  it("application consent does not grant delegated access, nor the other way round", async () => {
    const appOnly = await createApp(t.store.db, { tenantId: t.tenantId, displayName: "app perms only", appPermissions: READ_WRITE, publicClient: true });
    await grantAdminConsent(t.store.db, appOnly.clientId);
    const user = await createUser(t.store.db, {
      tenantId: t.tenantId,
      upn: "admin2@unconsented.test",
      password: "Correct-Horse-2",
      roles: ["Security Administrator"],
    });
    const d = await ropc(t, t.tenantId, appOnly.clientId, { upn: user.upn, password: "Correct-Horse-2" }, GRAPH_DEFAULT);
    expect(scpOf(d.body.access_token)).toEqual([]);
    expectForbidden(await probe(PROBES[0]!, d.body.access_token), "delegated with only application consent");

    const delegatedOnly = await createApp(t.store.db, { tenantId: t.tenantId, displayName: "delegated perms only", delegatedPermissions: READ_WRITE });
    await grantAdminConsent(t.store.db, delegatedOnly.clientId);
    const { secret } = await addSecret(t.store.db, delegatedOnly.clientId);
    const a = await token(t, t.tenantId, { grant_type: "client_credentials", client_id: delegatedOnly.clientId, client_secret: secret, scope: GRAPH_DEFAULT });
    expect(claims(a.body.access_token).roles).toEqual([]);
    expectForbidden(await probe(PROBES[0]!, a.body.access_token), "app-only with only delegated consent");
  });

  it("$batch steps are authorized one by one with the outer token", async () => {
    const tok = await tokens.app(t.tenantId, READ_ONLY);
    const r = await t.request("POST", "/v1.0/$batch", {
      headers: { authorization: `Bearer ${tok}` },
      body: {
        requests: [
          { id: "read", method: "GET", url: `/security/incidents/${incidentId}` },
          {
            id: "write",
            method: "PATCH",
            url: `/security/incidents/${incidentId}`,
            headers: { "content-type": "application/json" },
            body: { customTags: ["batched"] },
          },
          { id: "alert", method: "GET", url: `/security/alerts_v2/${alertId}` },
        ],
      },
    });
    expect(r.status).toBe(200);
    const status = Object.fromEntries(r.body.responses.map((s: any) => [s.id, s.status]));
    expect(status).toEqual({ read: 200, write: 403, alert: 200 });
    const anonymous = await t.request("POST", "/v1.0/$batch", {
      headers: { authorization: "" },
      body: { requests: [{ id: "1", method: "GET", url: "/security/incidents" }] },
    });
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.responses[0].status).toBe(401);
  });
});
