import { afterAll, beforeAll, describe, expect, it } from "vitest";
import SwaggerParser from "@apidevtools/swagger-parser";
import { startTriage, type TestTriage } from "../support/triage.js";
import { properties } from "../../src/schema/meta.js";
import { incidentResource } from "../../src/schema/incident.js";
import { alertResource } from "../../src/schema/alert.js";
import { METHOD_NOT_ALLOWED } from "../../src/schema/openapi.js";
import { openApiPath } from "../../src/http/openapi.js";
import { alert } from "../support/alerts.js";

/**
 * GET /openapi.json: a valid OpenAPI document of exactly the routes the server serves, built from the
 * route registrations and the schema layer, fetched without a token.
 */

let t: TestTriage;
let doc: any;

beforeAll(async () => {
  t = await startTriage();
  const r = await t.get("/openapi.json", { authorization: "" });
  expect(r.status, r.text).toBe(200);
  doc = r.body;
}, 60_000);

afterAll(async () => {
  await t?.close();
});

/**
 * Every method of every route Fastify routes, read from its own route tree (not from Triage's registry).
 * The tree drops the static segment before a wildcard (`/assets/*` prints as `*` under `/`), so a
 * wildcard route is known by its method and the nearest printed parent: `GET /…*`.
 */
function fastifyRoutes(): Set<string> {
  const out = new Set<string>();
  const stack: { depth: number; path: string }[] = [];
  for (const line of t.app.printRoutes({ commonPrefix: false }).split("\n")) {
    const m = /^([│ ]*)(?:[├└]── )?(\S+) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[2] === "/" && m[1] === "" ? 0 : m[1]!.length / 4 + 1;
    while (stack.length && stack[stack.length - 1]!.depth >= depth) stack.pop();
    const parent = stack[stack.length - 1]?.path ?? "";
    const path = depth === 0 ? "/" : m[2] === "*" ? `${parent === "/" ? "" : parent}/…*` : parent === "/" ? `/${m[2]}` : `${parent}${m[2]}`;
    stack.push({ depth, path });
    for (const method of m[3]!.split(", ")) if (method !== "HEAD") out.add(`${method} ${path.toLowerCase()}`);
  }
  return out;
}

/** The document's operations as Fastify URLs ({id} → :id, {path} → *). */
function documentedUrls(): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    const url = path.replace(/\{path\}$/, "*").replace(/\{([^}]+)\}/g, ":$1");
    for (const method of Object.keys(item)) out.push(`${method.toUpperCase()} ${url}`);
  }
  return out;
}

/** As fastifyRoutes() sees a route: lower-cased, a wildcard known by its printed parent. */
function printedForm(route: string, printed: Set<string>): string {
  const [method, given] = route.split(" ") as [string, string];
  const url = given.toLowerCase();
  if (!url.endsWith("*")) return `${method} ${url}`;
  // The parent the tree prints: the longest printed route (of any method) the wildcard's URL starts with.
  const parents = [...printed].map((r) => r.split(" ")[1]!).filter((p) => !p.endsWith("*") && url.startsWith(p));
  const parent = parents.sort((a, b) => b.length - a.length)[0] ?? "/";
  return `${method} ${parent === "/" ? "" : parent}/…*`.replace("//", "/");
}

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document, served without a token", async () => {
    expect(doc.openapi).toBe("3.1.0");
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
    // The validator does reject a broken description: a parameter in a place OpenAPI 3 does not have.
    const broken = structuredClone(doc);
    broken.paths["/v1.0/security/incidents/{id}"].get.parameters[0].in = "body";
    await expect(SwaggerParser.validate(broken)).rejects.toThrow();
    // What the validator leaves to us for OpenAPI 3.1: each operation declares exactly its path's parameters.
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>)) {
      const template = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        const declared = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
        expect(declared, `${method} ${path}`).toEqual(template);
      }
    }
  });

  it("describes every route the server registers, and no route it does not", () => {
    const routes = fastifyRoutes();
    // The parse found the tree (a broken parse must not pass vacuously).
    expect(routes.has("GET /v1.0/security/incidents/:id")).toBe(true);
    expect(routes.has("POST /:tenant/oauth2/v2.0/token")).toBe(true);
    expect(routes.size).toBeGreaterThan(60);
    // A refusing wildcard is known by its printed parent too: which parent the tree prints depends on its neighbours.
    const refusals = new Set(
      t.app.routeRegistry.routes.filter((r) => r.openapi === METHOD_NOT_ALLOWED).map((r) => printedForm(`${r.method} ${r.url}`, routes)),
    );
    const urls = documentedUrls();
    const ops = new Set(urls.map((u) => printedForm(u, routes)));
    // Each wildcard operation is a route Fastify has, by its exact URL.
    for (const u of urls.filter((x) => x.endsWith("*"))) {
      const [method, url] = u.split(" ") as [string, string];
      expect(t.app.hasRoute({ method: method as "GET", url }), u).toBe(true);
    }
    const missing = [...routes].filter((r) => !ops.has(r) && !refusals.has(r));
    expect(missing, "routes served but not in the OpenAPI document").toEqual([]);
    const phantom = [...ops].filter((o) => !routes.has(o));
    expect(phantom, "operations in the document that the server does not route").toEqual([]);
    // A refusal route only ever answers 405: none of them is a documented operation.
    expect([...refusals].filter((r) => ops.has(r))).toEqual([]);
  });

  it("names the surfaces the issue lists", () => {
    for (const [method, path] of [
      ["post", "/v1.0/security/incidents/mergeIncidents"],
      ["post", "/beta/security/alerts_v2/microsoft.graph.security.moveAlerts"],
      ["post", "/v1.0/$batch"],
      ["post", "/ingest/alerts"],
      ["get", "/triage/incidents/{id}/audit"],
      ["get", "/permissions"],
      ["get", "/permissions/{name}"],
      ["get", "/permissions/lookup"],
      ["post", "/{tenant}/oauth2/v2.0/token"],
      ["get", "/{tenant}/v2.0/.well-known/openid-configuration"],
      ["get", "/openapi.json"],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    expect(openApiPath("/assets/*")).toBe("/assets/{path}");
  });

  it("takes the resource shapes from the schema layer", () => {
    const incident = doc.components.schemas["microsoft.graph.security.incident"];
    expect(Object.keys(incident.properties)).toEqual([...properties(incidentResource.schema).keys()]);
    const alert = doc.components.schemas["microsoft.graph.security.alert"];
    expect(Object.keys(alert.properties)).toEqual([...properties(alertResource.schema).keys()]);
    // Graph enums become JSON Schema enums, in Graph's declared order.
    expect(incident.properties.status.enum).toEqual(["active", "resolved", "inProgress", "redirected", "unknownFutureValue", "awaitingAction"]);
    // The PATCH body is the schema's updatable properties.
    const update = doc.components.schemas["microsoft.graph.security.incidentUpdate"];
    const updatable = [...properties(incidentResource.schema).values()].filter((p) => p.meta.updatable).map((p) => p.name);
    expect(Object.keys(update.properties)).toEqual(updatable);
    expect(doc.paths["/v1.0/security/incidents/{id}"].patch.requestBody.content["application/json"].schema.$ref).toBe(
      "#/components/schemas/microsoft.graph.security.incidentUpdate",
    );
    // Comments inside an incident point at the comment component rather than repeating it.
    expect(incident.properties.comments.items.$ref).toBe("#/components/schemas/microsoft.graph.security.alertComment");
  });

  it("describes every property the API actually serves, on v1.0 and beta", async () => {
    expect((await t.ingest([alert({ device: "host-1" }), alert({ device: "host-1" })])).status).toBe(200);
    const schemas = doc.components.schemas;
    for (const version of ["v1.0", "beta"]) {
      for (const [set, type] of [
        ["incidents", "incident"],
        ["alerts_v2", "alert"],
      ] as const) {
        const r = await t.get(`/${version}/security/${set}`);
        expect(r.status).toBe(200);
        expect(r.body.value.length).toBeGreaterThan(0);
        const declared = Object.keys(schemas[`microsoft.graph.security.${type}`].properties);
        for (const entity of r.body.value) {
          const served = Object.keys(entity).filter((k) => !k.startsWith("@odata."));
          expect(
            served.filter((k) => !declared.includes(k)),
            `${version} ${type}`,
          ).toEqual([]);
        }
      }
      // Each evidence element's @odata.type names a component with its properties.
      const alerts = (await t.get(`/${version}/security/alerts_v2`)).body.value;
      for (const e of alerts.flatMap((a: { evidence: Record<string, unknown>[] }) => a.evidence)) {
        const component = schemas[String(e["@odata.type"]).slice(1)];
        expect(component, String(e["@odata.type"])).toBeDefined();
        expect(Object.keys(e).filter((k) => !(k in component.properties))).toEqual([]);
      }
    }
  });

  it("describes the permissions finder's answer as it is served", async () => {
    const r = await t.get("/permissions/lookup?method=PATCH&path=/v1.0/security/incidents/42", { authorization: "" });
    expect(r.status).toBe(200);
    const schema = doc.paths["/permissions/lookup"].get.responses["200"].content["application/json"].schema;
    expect(Object.keys(r.body).sort()).toEqual(Object.keys(schema.properties).sort());
    const scheme = schema.properties.schemes.properties.Application;
    expect(Object.keys(r.body.schemes.Application).sort()).toEqual(Object.keys(scheme.properties).sort());
    expect(Object.keys(r.body.schemes.Application.candidates[0]).sort()).toEqual(Object.keys(scheme.properties.candidates.items.properties).sort());
  });

  it("declares OAuth 2.0 (client credentials, authorization code) on Triage's token service, and bearer", async () => {
    const { oauth2, bearer } = doc.components.securitySchemes;
    expect(bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(oauth2.flows.clientCredentials.tokenUrl).toBe(`${t.url}/{tenant}/oauth2/v2.0/token`);
    expect(oauth2.flows.authorizationCode.authorizationUrl).toBe(`${t.url}/{tenant}/oauth2/v2.0/authorize`);
    // For a named tenant, the URLs work as they are: the token endpoint issues a token.
    const named = await t.get(`/openapi.json?tenant=${t.tenantId}`, { authorization: "" });
    const tokenUrl: string = named.body.components.securitySchemes.oauth2.flows.clientCredentials.tokenUrl;
    expect(tokenUrl).toBe(`${t.url}/${t.tenantId}/oauth2/v2.0/token`);
    const answer = await fetch(tokenUrl, { method: "POST", body: new URLSearchParams({ grant_type: "client_credentials" }) });
    expect(answer.status).toBe(400); // the endpoint exists and answers for the tenant: no client given
    expect(((await answer.json()) as { error: string }).error).toBe("invalid_request");
    // A guarded route names its permissions from the catalog; a public one needs nothing.
    const list = doc.paths["/v1.0/security/incidents"].get;
    expect(list["x-permissions"].application).toContain("SecurityIncident.Read.All");
    expect(list.security).toContainEqual({ bearer: [] });
    expect(doc.paths["/permissions"].get.security).toEqual([]);
  });

  it("refuses a tenant that is not a GUID with Graph's error body", async () => {
    const r = await t.get("/openapi.json?tenant=x", { authorization: "" });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("BadRequest");
  });
});

describe("GET /docs", () => {
  it("renders every operation and schema of the document as HTML, without a token", async () => {
    const r = await t.get("/docs", { authorization: "" });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/html/);
    for (const item of Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>)) {
      for (const op of Object.values(item)) expect(r.text).toContain(`id="op-${op.operationId.replace(/[^A-Za-z0-9._-]/g, "-")}"`);
    }
    expect(r.text).toContain('id="schema-microsoft.graph.security.incident"');
  });
});
