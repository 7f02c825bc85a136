import { afterAll, beforeAll, describe, expect, it } from "vitest";
import data from "../../src/permissions/security-permissions.json" with { type: "json" };
import { allOperationKeys } from "../../src/permissions/catalog.js";
import { CMDLETS } from "../../src/permissions/cmdlets.js";
import { APIS, CSV_COLUMNS, SCHEMES, type SchemeName } from "../../src/permissions/reference.js";
import { registeredRoutes } from "../../src/web/permission-routes.js";
import { startTriage, type TestTriage } from "../support/triage.js";

let t: TestTriage;
let ref: any;
beforeAll(async () => {
  t = await startTriage();
  const r = await get("/permissions");
  expect(r.status).toBe(200);
  ref = r.body;
});
afterAll(async () => {
  await t.close();
});

/** Everything here is public: no token is sent. */
const get = (path: string, headers: Record<string, string> = {}) => t.get(path, { authorization: "", ...headers });

const VERSIONS = ["v1.0", "beta"] as const;
const SCHEME_NAMES = Object.keys(SCHEMES) as SchemeName[];

function permission(name: string): any {
  const p = ref.permissions.find((x: any) => x.name === name);
  expect(p, name).toBeDefined();
  return p;
}

function method(p: any, version: string, key: string): any {
  return p.methods[version].find((m: any) => m.operation === key);
}

/** RFC 4180 parsing, strict enough to catch a quoting mistake. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') {
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (field !== "") throw new Error(`quote inside an unquoted field at ${i}`);
      quoted = true;
      i++;
      continue;
    }
    if (c === ",") {
      row.push(field);
      field = "";
      i++;
      continue;
    }
    if (c === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i += 2;
      continue;
    }
    if (c === "\n" || c === "\r") throw new Error(`bare line break at ${i}`);
    field += c;
    i++;
  }
  if (quoted) throw new Error("unterminated quoted field");
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

describe("GET /permissions (JSON)", () => {
  it("lists every catalog permission with the ids of permissionIds", async () => {
    const r = await get("/permissions");
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    expect(ref.permissions.map((p: any) => p.name)).toEqual(Object.keys(data.permissions));
    expect(Object.keys(data.permissionIds).sort()).toEqual(Object.keys(data.permissions).sort());
    for (const [name, ids] of Object.entries(data.permissionIds)) {
      const p = permission(name);
      expect(p.schemes.delegated.scheme).toBe("DelegatedWork");
      expect(p.schemes.application.scheme).toBe("Application");
      expect(p.schemes.delegated.id ?? "", name).toBe(ids.DelegatedWork);
      expect(p.schemes.application.id ?? "", name).toBe(ids.Application);
      for (const s of SCHEME_NAMES) {
        expect(p.schemes[s].requiresAdminConsent).toBe(true);
        expect(p.schemes[s].privilegeLevel).toBe(3);
        expect(typeof p.schemes[s].adminConsentDisplayName).toBe("string");
      }
      expect(p.schemes.application.userConsentDisplayName).toBeNull();
    }
    const incident = permission("SecurityIncident.Read.All");
    expect(incident.schemes.delegated).toMatchObject({
      id: "b9abcc4f-94fc-4457-9141-d20ce80ec952",
      adminConsentDisplayName: "Read incidents",
      userConsentDisplayName: "Read security incidents",
      userConsentDescription: "Allows the app to read all security incidents that you have access to.",
      provisioned: true,
    });
    expect(incident.ownerGroup).toBe("IdentityReq");
    expect(permission("SecurityAlert.Read.All").ownerGroup).toBe("ThreatAPIApprovers");
  });

  it("says SecurityAlert.Create.All is not provisioned", () => {
    const p = permission("SecurityAlert.Create.All");
    expect(p.provisioned).toBe(false);
    expect(p.schemes.delegated.id).toBeNull();
    expect(p.schemes.application.id).toBeNull();
    expect(p.notes.join(" ")).toMatch(/not provisioned/i);
  });

  it("SecurityIncident.Read.All: least for list and get, in both schemes and versions; never PATCH", () => {
    const p = permission("SecurityIncident.Read.All");
    for (const v of VERSIONS) {
      for (const key of ["GET /security/incidents", "GET /security/incidents/{id}"]) {
        expect(method(p, v, key)?.leastPrivileged, `${v} ${key}`).toEqual({ delegated: true, application: true });
      }
      expect(method(p, v, "PATCH /security/incidents/{id}")).toBeUndefined();
      expect(method(p, v, "POST /security/incidents/{id}/comments")).toBeUndefined();
      expect(method(p, v, "GET /security/incidents")).toMatchObject({
        method: "GET",
        path: "/security/incidents",
        implemented: true,
        retired: false,
        entraRoles: ["Security Reader", "Global Reader", "Security Operator", "Security Administrator"],
      });
    }
  });

  it("SecurityIncident.ReadWrite.All: least for PATCH and POST comments, higher privileged for GET", () => {
    const p = permission("SecurityIncident.ReadWrite.All");
    for (const v of VERSIONS) {
      for (const key of ["PATCH /security/incidents/{id}", "POST /security/incidents/{id}/comments"]) {
        expect(method(p, v, key)?.leastPrivileged, `${v} ${key}`).toEqual({ delegated: true, application: true });
        expect(method(p, v, key).entraRoles).toEqual(["Security Operator", "Security Administrator"]);
      }
      for (const key of ["GET /security/incidents", "GET /security/incidents/{id}"]) {
        expect(method(p, v, key)?.leastPrivileged, `${v} ${key}`).toEqual({ delegated: false, application: false });
      }
    }
  });

  it("keeps the families apart: alerts never grant incidents, incidents never alerts, SecurityEvents only the retired legacy API", () => {
    expect(ref.apis.map((a: any) => a.api)).toEqual(["v1.0", "beta", "triage"]);
    for (const p of ref.permissions) {
      // Change-notification subscriptions serve both families: which read permission a subscription
      // needs is decided by its resource, checked when it is created or renewed (test/graph/subscriptions.test.ts).
      const paths: string[] = VERSIONS.flatMap((v) => p.methods[v].map((m: any) => m.path)).filter((path: string) => !path.startsWith("/subscriptions"));
      expect(paths.length, p.name).toBeGreaterThan(0);
      // Triage's own API (ingestion, audit, correlation) keeps the same split.
      for (const m of p.methods.triage) {
        expect(m.path).not.toMatch(/^\/security\//);
        expect(m.cmdlet).toBeNull();
        if (p.name.startsWith("SecurityAlert.")) expect(m.path, p.name).not.toMatch(/incidents/);
        if (p.name.startsWith("SecurityIncident.")) expect(m.path, p.name).not.toMatch(/alerts/);
        if (p.name.startsWith("SecurityEvents.")) throw new Error(`${p.name} grants ${m.operation}`);
      }
      if (p.name.startsWith("SecurityAlert.")) for (const path of paths) expect(path, p.name).toMatch(/^\/security\/alerts_v2(\/|$)/);
      if (p.name.startsWith("SecurityIncident.")) for (const path of paths) expect(path, p.name).toMatch(/^\/security\/incidents(\/|$)/);
      if (p.name.startsWith("SecurityEvents.")) {
        for (const path of paths) expect(path, p.name).toMatch(/^\/security\/alerts(\/|$)/);
        for (const m of VERSIONS.flatMap((v) => p.methods[v])) expect(m).toMatchObject({ retired: true, implemented: false });
        expect(p.notes.join(" ")).toMatch(/retired/);
      }
    }
  });

  it("lists the beta-only manual-alert create under beta only", () => {
    for (const name of ["SecurityAlert.Create.All", "SecurityAlert.ReadWrite.All"]) {
      const p = permission(name);
      expect(method(p, "v1.0", "POST /security/alerts_v2"), name).toBeUndefined();
      expect(method(p, "beta", "POST /security/alerts_v2"), name).toMatchObject({ implemented: false });
    }
    expect(method(permission("SecurityAlert.Create.All"), "beta", "POST /security/alerts_v2").leastPrivileged).toEqual({ delegated: true, application: true });
    expect(method(permission("SecurityAlert.ReadWrite.All"), "beta", "POST /security/alerts_v2").leastPrivileged).toEqual({
      delegated: false,
      application: false,
    });
    expect(permission("SecurityAlert.Create.All").methods["v1.0"]).toEqual([]);
  });

  it("names the PowerShell cmdlets, per version, and says when there is none", () => {
    for (const key of allOperationKeys()) if (key.split(" ")[1]!.startsWith("/security/")) expect(CMDLETS[key], key).toBeDefined();
    const read = permission("SecurityIncident.Read.All");
    const write = permission("SecurityIncident.ReadWrite.All");
    const alertRead = permission("SecurityAlert.Read.All");
    const alertWrite = permission("SecurityAlert.ReadWrite.All");
    expect(method(read, "v1.0", "GET /security/incidents").cmdlet).toBe("Get-MgSecurityIncident");
    expect(method(read, "beta", "GET /security/incidents").cmdlet).toBe("Get-MgBetaSecurityIncident");
    expect(method(read, "v1.0", "GET /security/incidents/$count").cmdlet).toBe("Get-MgSecurityIncidentCount");
    expect(method(read, "v1.0", "GET /security/incidents/{id}/alerts").cmdlet).toBe("Get-MgSecurityIncidentAlert");
    expect(method(write, "v1.0", "PATCH /security/incidents/{id}").cmdlet).toBe("Update-MgSecurityIncident");
    expect(method(write, "beta", "PATCH /security/incidents/{id}").cmdlet).toBe("Update-MgBetaSecurityIncident");
    expect(method(alertRead, "v1.0", "GET /security/alerts_v2").cmdlet).toBe("Get-MgSecurityAlertV2");
    expect(method(alertRead, "v1.0", "GET /security/alerts_v2/$count").cmdlet).toBe("Get-MgSecurityAlertV2Count");
    expect(method(alertWrite, "v1.0", "PATCH /security/alerts_v2/{id}").cmdlet).toBe("Update-MgSecurityAlertV2");
    expect(method(read, "beta", "GET /security/incidents/$count")).toMatchObject({
      cmdlet: null,
      notes: expect.arrayContaining([expect.stringMatching(/no beta cmdlet/)]),
    });
    expect(method(read, "v1.0", "GET /security/incidents/$count").notes.join(" ")).not.toMatch(/beta/);
    const comments = method(write, "v1.0", "POST /security/incidents/{id}/comments");
    expect(comments.cmdlet).toBeNull();
    expect(comments.notes.join(" ")).toMatch(/No dedicated cmdlet/);
  });

  it("marks derived operations", () => {
    const m = method(permission("SecurityIncident.Read.All"), "v1.0", "GET /security/incidents/$count");
    expect(m).toMatchObject({ derivedFrom: "GET /security/incidents", implemented: true, leastPrivileged: { delegated: true, application: true } });
  });

  it("GET /permissions/{name}: one permission, any case; a Graph 404 for an unknown one", async () => {
    const r = await get("/permissions/securityincident.READWRITE.all");
    expect(r.status).toBe(200);
    // The details carry Triage's reference of an enforced permission under `triage`.
    expect(r.body.triage).toEqual(permission("SecurityIncident.ReadWrite.All"));
    expect(r.body).toMatchObject({ name: "SecurityIncident.ReadWrite.All", enforced: true, source: "graph-data" });
    const missing = await get("/permissions/No.Such.Permission");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toMatch(/^application\/json/);
    expect(missing.body.error.code).toBe("NotFound");
    expect(missing.body.error.innerError["request-id"]).toBe(missing.headers.get("request-id"));
  });

  it("400 for an unknown format, 406 for an Accept it cannot satisfy; no authentication needed", async () => {
    const bad = await get("/permissions?format=xml");
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("BadRequest");
    expect(bad.body.error.message).toContain("xml");
    expect((await get("/permissions?format=csv&format=json")).status).toBe(400);
    expect((await get("/permissions", { accept: "text/html" })).status).toBe(406);
    expect((await get("/permissions?format=JSON")).body.permissions).toHaveLength(ref.permissions.length);
    expect((await get("/permissions", { authorization: "" })).status).toBe(200);
    expect((await get("/permissions/SecurityAlert.Read.All", { authorization: "" })).status).toBe(200);
  });
});

describe("GET /permissions (CSV)", () => {
  function jsonRowCount(permissions: any[]): number {
    let n = 0;
    for (const p of permissions) for (const v of APIS) for (const m of p.methods[v]) for (const s of SCHEME_NAMES) if (m.leastPrivileged[s] !== null) n++;
    return n;
  }

  it("one row per permission × scheme × method × version, with a header", async () => {
    const r = await get("/permissions", { accept: "text/csv" });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(r.headers.get("content-disposition")).toBe('attachment; filename="triage-permissions.csv"');
    expect(r.text.endsWith("\r\n")).toBe(true);
    const rows = parseCsv(r.text);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows.length - 1).toBe(jsonRowCount(ref.permissions));
    for (const row of rows) expect(row).toHaveLength(CSV_COLUMNS.length);

    const records = rows.slice(1).map((row) => Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, row[i]])));
    const known = records.find(
      (x) => x.permission === "SecurityIncident.Read.All" && x.scheme === "delegated" && x.version === "v1.0" && x.operation === "GET /security/incidents",
    );
    expect(known).toMatchObject({
      permissionId: "b9abcc4f-94fc-4457-9141-d20ce80ec952",
      provisioned: "true",
      requiresAdminConsent: "true",
      privilegeLevel: "3",
      ownerGroup: "IdentityReq",
      adminConsentDisplayName: "Read incidents",
      adminConsentDescription: "Allows the app to read security incidents, on behalf of the signed-in user.",
      method: "GET",
      path: "/security/incidents",
      leastPrivileged: "true",
      entraRoles: "Security Reader; Global Reader; Security Operator; Security Administrator",
      implemented: "true",
      retired: "false",
      cmdlet: "Get-MgSecurityIncident",
    });
    const create = records.find((x) => x.permission === "SecurityAlert.Create.All" && x.scheme === "application");
    expect(create).toMatchObject({ permissionId: "", provisioned: "false", version: "beta", operation: expect.stringMatching(/^POST \/security\/alerts_v2/) });
    // A field with a comma is quoted.
    expect(r.text).toContain(',"Allows the app to read security incidents, on behalf of the signed-in user.",');
  });

  it("?format=csv is the same as Accept: text/csv; one permission as CSV", async () => {
    const a = await get("/permissions", { accept: "text/csv" });
    const b = await get("/permissions?format=csv");
    expect(b.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(b.text).toBe(a.text);
    expect((await get("/permissions", { accept: "application/json, text/csv" })).headers.get("content-type")).toMatch(/^application\/json/);
    const one = await get("/permissions/SecurityAlert.Read.All?format=csv");
    const rows = parseCsv(one.text).slice(1);
    expect(rows.length).toBe(jsonRowCount([permission("SecurityAlert.Read.All")]));
    expect(new Set(rows.map((row) => row[0]))).toEqual(new Set(["SecurityAlert.Read.All"]));
  });
});

/**
 * Graph-version routes that are not resource operations: $batch re-dispatches each step through the
 * app, where the step's own route declares its operation; $metadata is public, as in Graph. Anything
 * else must declare one.
 */
const NOT_OPERATIONS = new Set(["/$batch", "/$metadata"]);

const PARAM = /:[A-Za-z_]\w*/g;

describe("the reference agrees with the routes", () => {
  it("every route's operation is in the reference with the same grants, every Graph route has one, and every implemented method has a route", async () => {
    const routes = registeredRoutes(t.app);
    expect(routes.length).toBeGreaterThan(0);
    const served = new Set<string>();
    let graphOperations = 0;

    for (const r of routes) {
      const m = /^\/(v1\.0|beta)(\/.*)$/.exec(r.url);
      // Graph routes are under a version; Triage's own API (ingestion, audit, …) is at the root.
      const api = m ? m[1]! : "triage";
      const rest = m ? m[2]! : r.url;
      if (m && NOT_OPERATIONS.has(rest)) continue;
      // A bound action answers by its short and its namespace-qualified name: one operation. A bound
      // function's route ends in a wildcard that takes its parameters, (query='…',timespan='…').
      const path = rest
        .replace(/\*$/, "")
        .replace(PARAM, "{id}")
        .replace(/\/microsoft\.graph\.security\.(\w+)$/, "/$1");

      if (!r.operation) {
        if (!m) continue; // public routes outside Graph: token endpoints, /healthz, /permissions
        // Only the 405 fillers may go without an operation: every method they take answers 405.
        for (const verb of r.methods) {
          const res = await t.request(verb, r.url.replace(PARAM, "x"), { headers: { authorization: "" } });
          expect(res.status, `${verb} ${r.url} has no catalog operation`).toBe(405);
        }
        continue;
      }

      const op = r.operation;
      for (const verb of r.methods) {
        // Fastify's own HEAD twin of a GET route carries the GET's config.
        expect(`${verb === "HEAD" ? "GET" : verb} ${path}`, `${verb} ${r.url}`).toBe(op.key);
      }
      if (r.methods.includes("HEAD") && !r.methods.includes("GET")) continue;
      if (m) graphOperations++;
      served.add(`${api} ${op.key}`);

      let listed = 0;
      for (const s of SCHEME_NAMES) {
        const fromReference: Record<string, boolean> = {};
        for (const p of ref.permissions) {
          const entry = method(p, api, op.key);
          if (!entry) continue;
          listed++;
          expect(entry).toMatchObject({ method: op.key.split(" ")[0], path, implemented: true, entraRoles: op.roles, derivedFrom: op.derivedFrom ?? null });
          if (entry.leastPrivileged[s] !== null) fromReference[p.name] = entry.leastPrivileged[s];
        }
        const enforced = Object.fromEntries(op.grants[SCHEMES[s]].map((g) => [g.permission, g.leastPrivileged]));
        expect(fromReference, `${api} ${op.key} (${s})`).toEqual(enforced);
      }
      expect(listed, `${api} ${op.key} is in the reference`).toBeGreaterThan(0);
    }
    expect(graphOperations).toBeGreaterThan(0);

    const implemented = new Set<string>();
    for (const p of ref.permissions) for (const a of APIS) for (const entry of p.methods[a]) if (entry.implemented) implemented.add(`${a} ${entry.operation}`);
    expect([...implemented].sort()).toEqual([...served].sort());
  });
});
