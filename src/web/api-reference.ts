/**
 * GET /openapi.json (Triage's OpenAPI document, http/openapi.ts) and GET /docs (the API reference: that
 * document rendered as one HTML page on the server, no script, nothing fetched from elsewhere).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import { badRequest } from "../errors/graph-error.js";
import { openApiDocument, type RegisteredRoute } from "../http/openapi.js";
import { OPENAPI_TAGS, graphErrors, json, type JsonSchema, type RouteDoc } from "../schema/openapi.js";
import { SECURITY_HEADERS } from "./routes.js";

export interface ApiReferenceOptions {
  /** The routes the server registered (RouteRegistry.routes), read when a document is first asked for. */
  routes: readonly RegisteredRoute[];
  origin(req: FastifyRequest): string;
}

const TENANT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const tenantParam = {
  tenant: {
    description: "A tenant id: the OAuth URLs of the security schemes name its token service instead of {tenant}.",
    schema: Type.String({ format: "uuid" }),
  },
};

const OPENAPI_DOC: RouteDoc = {
  tag: "Service",
  summary: "This OpenAPI 3.1 description of every route Triage serves",
  description: "Built from the routes the server registers and the resource schemas. No token needed.",
  query: tenantParam,
  responses: { 200: { description: "The OpenAPI document.", content: json(Type.Object({}, { additionalProperties: true })) }, ...graphErrors(400) },
};

const DOCS_DOC: RouteDoc = {
  tag: "Service",
  summary: "The API reference: this description as an HTML page",
  query: tenantParam,
  responses: { 200: { description: "The reference page.", content: { "text/html": Type.String() } }, ...graphErrors(400) },
};

export async function registerApiReferenceRoutes(app: FastifyInstance, opts: ApiReferenceOptions): Promise<void> {
  // Per origin and tenant (both bounded: the Host is checked, the tenant is a GUID); a handful at most.
  const cache = new Map<string, { json: string; html: string }>();
  function documentFor(req: FastifyRequest): { json: string; html: string } {
    const raw = (req.query as Record<string, unknown>).tenant;
    if (raw !== undefined && (typeof raw !== "string" || !TENANT.test(raw))) throw badRequest("The query parameter 'tenant' must be a tenant id (a GUID).");
    const tenant = typeof raw === "string" ? raw.toLowerCase() : undefined;
    const origin = opts.origin(req);
    const key = `${origin} ${tenant ?? ""}`;
    let found = cache.get(key);
    if (!found) {
      const doc = openApiDocument(opts.routes, { origin, tenant });
      found = { json: JSON.stringify(doc), html: renderReference(doc) };
      if (cache.size >= 16) cache.delete(cache.keys().next().value!);
      cache.set(key, found);
    }
    return found;
  }

  app.get("/openapi.json", { config: { public: true, openapi: OPENAPI_DOC } }, async (req, reply) =>
    reply.header("cache-control", "no-cache").type("application/json; charset=utf-8").send(documentFor(req).json),
  );
  app.get("/docs", { config: { public: true, openapi: DOCS_DOC } }, async (req, reply) =>
    reply.headers(SECURITY_HEADERS).header("cache-control", "no-cache").type("text/html; charset=utf-8").send(documentFor(req).html),
  );
}

// ── Rendering ──

function esc(s: unknown): string {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function anchor(prefix: string, name: string): string {
  return `${prefix}-${name.replace(/[^A-Za-z0-9._-]/g, "-")}`;
}

const REF = "#/components/schemas/";

/** A schema's type in one line, with links to the components it names. */
function typeHtml(s: JsonSchema | undefined): string {
  if (!s) return "any";
  if (typeof s.$ref === "string" && s.$ref.startsWith(REF)) {
    const name = s.$ref.slice(REF.length);
    return `<a href="#${anchor("schema", name)}">${esc(name)}</a>`;
  }
  if (Array.isArray(s.anyOf)) {
    const arms = s.anyOf as JsonSchema[];
    const nonNull = arms.filter((a) => a.type !== "null");
    const text = nonNull.map(typeHtml).join(" | ");
    return nonNull.length < arms.length ? `${text} or null` : text;
  }
  if (s.const !== undefined) return `<code>${esc(JSON.stringify(s.const))}</code>`;
  if (Array.isArray(s.enum)) return `enum: ${(s.enum as unknown[]).map((m) => `<code>${esc(m)}</code>`).join(", ")}`;
  if (s.type === "array") return `array of ${typeHtml(s.items as JsonSchema | undefined)}`;
  if (s.type === "object" && !s.properties && (s.patternProperties || s.additionalProperties)) return "object (any properties)";
  if (typeof s.type === "string") return esc(s.format ? `${s.type} (${String(s.format)})` : s.type);
  return "any";
}

/** An object schema's properties as a table; other schemas as their type line. */
function schemaHtml(s: JsonSchema): string {
  const props = s.properties as Record<string, JsonSchema> | undefined;
  const desc = typeof s.description === "string" ? `<p>${esc(s.description)}</p>` : "";
  if (!props) return `${desc}<p class="type">${typeHtml(s)}</p>`;
  const required = new Set((s.required as string[] | undefined) ?? []);
  const rows = Object.entries(props).map(([name, p]) => {
    const notes = [
      required.has(name) ? "required" : "",
      p["x-triage-filterable"] ? "$filter" : "",
      p["x-triage-sortable"] ? "$orderby" : "",
      p["x-triage-updatable"] ? "PATCH" : "",
      p["x-triage-beta-only"] ? "beta only" : "",
    ]
      .filter(Boolean)
      .join(", ");
    return `<tr><td><code>${esc(name)}</code></td><td>${typeHtml(p)}</td><td>${esc(notes)}</td><td>${esc(p.description ?? "")}</td></tr>`;
  });
  return `${desc}<table><thead><tr><th>Property</th><th>Type</th><th>Notes</th><th>Description</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function contentHtml(content: Record<string, { schema: JsonSchema }> | undefined): string {
  if (!content) return "";
  return Object.entries(content)
    .map(([type, c]) => `<div class="content"><span class="media">${esc(type)}</span>${schemaHtml(c.schema)}</div>`)
    .join("");
}

function securityHtml(op: JsonSchema): string {
  if (op["x-triage-public"]) return `<p class="auth">No token needed.</p>`;
  const p = op["x-permissions"] as { application: string[]; delegated: string[]; entraRoles: string[] } | undefined;
  if (!p) return "";
  const list = (xs: string[]) => (xs.length ? xs.map((x) => `<code>${esc(x)}</code>`).join(", ") : "none");
  return `<p class="auth">Bearer token. Application permissions: ${list(p.application)}. Delegated: ${list(p.delegated)}${
    p.entraRoles.length ? `, with one of the roles ${list(p.entraRoles)}` : ""
  }.</p>`;
}

function operationHtml(path: string, method: string, op: JsonSchema): string {
  const params = (op.parameters as JsonSchema[] | undefined) ?? [];
  const paramRows = params.map(
    (p) => `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${typeHtml(p.schema as JsonSchema)}</td><td>${esc(p.description ?? "")}</td></tr>`,
  );
  const body = op.requestBody as { description?: string; content: Record<string, { schema: JsonSchema }> } | undefined;
  const responses = Object.entries(op.responses as Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>);
  const refused = op["x-method-not-allowed"] as string[] | undefined;
  return `<section class="op" id="${anchor("op", String(op.operationId))}">
<h3><span class="method ${esc(method)}">${esc(method.toUpperCase())}</span> <code class="path">${esc(path)}</code></h3>
<p class="summary">${esc(op.summary)}</p>${op.description ? `<p>${esc(op.description)}</p>` : ""}${securityHtml(op)}
${paramRows.length ? `<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr></thead><tbody>${paramRows.join("")}</tbody></table>` : ""}
${body ? `<h4>Request body</h4>${body.description ? `<p>${esc(body.description)}</p>` : ""}${contentHtml(body.content)}` : ""}
<h4>Responses</h4>${responses.map(([status, r]) => `<div class="response"><strong>${esc(status)}</strong> ${esc(r.description)}${contentHtml(r.content)}</div>`).join("")}
${refused ? `<p class="muted">${refused.map(esc).join(", ")}: 405 Method Not Allowed.</p>` : ""}
</section>`;
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b}header{background:#0b5cad;color:#fff;padding:16px 24px}header a{color:#fff}
main{display:grid;grid-template-columns:300px 1fr;gap:24px;padding:0 24px}nav{position:sticky;top:0;max-height:100vh;overflow:auto;font-size:13px;padding-top:12px}
nav ul{list-style:none;padding-left:8px}nav li{margin:2px 0;overflow-wrap:anywhere}h2{border-bottom:2px solid #ddd;margin-top:32px}.op{border:1px solid #ddd;border-radius:6px;padding:4px 16px;margin:16px 0}
.method{display:inline-block;min-width:56px;text-align:center;border-radius:4px;color:#fff;font-size:12px;padding:2px 6px;background:#555}.get{background:#1a7f37}.post{background:#0b5cad}
.patch{background:#9a6700}.delete{background:#cf222e}table{border-collapse:collapse;margin:4px 0 12px;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
.media{font-family:monospace;font-size:12px;background:#eef;padding:1px 4px}.muted,.auth{color:#555}code{font-size:13px}@media print{nav{display:none}main{display:block}}`;

/** The reference page: every operation by tag, then every component schema, each linkable. */
export function renderReference(doc: JsonSchema): string {
  const info = doc.info as { title: string; version: string; description: string };
  const paths = doc.paths as Record<string, Record<string, JsonSchema>>;
  const byTag = new Map<string, { path: string; method: string; op: JsonSchema }[]>(Object.keys(OPENAPI_TAGS).map((t) => [t, []]));
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(item)) {
      const tag = (op.tags as string[])[0]!;
      byTag.set(tag, [...(byTag.get(tag) ?? []), { path, method, op }]);
    }
  }
  const schemas = (doc.components as { schemas: Record<string, JsonSchema> }).schemas;
  const nav = [...byTag]
    .filter(([, ops]) => ops.length)
    .map(
      ([tag, ops]) =>
        `<li><a href="#${anchor("tag", tag)}">${esc(tag)}</a><ul>${ops
          .map((o) => `<li><a href="#${anchor("op", String(o.op.operationId))}">${esc(o.method.toUpperCase())} ${esc(o.path)}</a></li>`)
          .join("")}</ul></li>`,
    )
    .join("");
  const sections = [...byTag]
    .filter(([, ops]) => ops.length)
    .map(
      ([tag, ops]) =>
        `<section class="tag" id="${anchor("tag", tag)}"><h2>${esc(tag)}</h2><p>${esc(OPENAPI_TAGS[tag as keyof typeof OPENAPI_TAGS] ?? "")}</p>${ops
          .map((o) => operationHtml(o.path, o.method, o.op))
          .join("")}</section>`,
    )
    .join("");
  const components = Object.entries(schemas)
    .map(([name, s]) => `<section class="schema" id="${anchor("schema", name)}"><h3>${esc(name)}</h3>${schemaHtml(s)}</section>`)
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(info.title)} API reference</title><style>${STYLE}</style></head><body>
<header><h1>${esc(info.title)} API reference</h1><p>Version ${esc(info.version)} · <a href="/openapi.json">openapi.json</a> (OpenAPI ${esc(doc.openapi)}) · <a href="/">the web app</a></p></header>
<main><nav aria-label="Operations"><ul>${nav}<li><a href="#schemas">Schemas</a></li></ul></nav>
<div><p>${esc(info.description)}</p>${sections}<section id="schemas"><h2>Schemas</h2>${components}</section></div></main></body></html>`;
}
