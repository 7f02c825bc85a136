import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Type } from "@sinclair/typebox";
import { graphErrors, json, type RouteDoc } from "../schema/openapi.js";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fastifyStatic from "@fastify/static";
import type { Store } from "../store/open.js";
import { findTenant, listTenants } from "../store/tenants.js";
import { findApp } from "../identity/directory.js";
import { notFound } from "../errors/graph-error.js";
import { DEMO_TENANT } from "../seed/demo-tenant.js";
import { WEB_REDIRECT_PATH, WEB_SCOPE, webClientId } from "./client.js";
import { schemaInfo } from "./schema-info.js";
import { registerAdminRoutes } from "./admin.js";
import type { TenantConfig, WebConfig } from "./contracts.js";

/**
 * The web app: the built single-page application (dist/web/client, made by `npm run build`), a public
 * configuration endpoint it starts from, the schema information its permissions explorer shows, and
 * the admin API its admin pages call.
 */
export interface WebRouteOptions {
  store: Store;
  /** The built app's directory; found next to this module (dist/web/client) when absent. */
  root?: string | undefined;
}

/** The client-side routes: each answers the app's index.html, and the app routes in the browser. */
const APP_PATHS = ["/", WEB_REDIRECT_PATH, "/incidents", "/incidents/*", "/dashboard", "/hunting", "/explorer", "/explorer/*", "/admin", "/admin/*"];

/** A built asset's name: plain segments, never "." or ".." (the router has already decoded %2f and %2e). */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

/** Where `vite build` puts the app: beside the compiled module, or under dist/ when running from source (tests). */
export function defaultWebRoot(): string | undefined {
  const candidates = [new URL("./client/", import.meta.url), new URL("../../dist/web/client/", import.meta.url)].map((u) => fileURLToPath(u));
  return candidates.find((dir) => existsSync(join(dir, "index.html")));
}

export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  // The sign-in callback's URL carries the authorization code: never send it on as a referrer.
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Triage</title></head>
<body><main><h1>Triage</h1><p>The web app has not been built. Run <code>npm run build</code> (or <code>npm start</code>) and reload.</p>
<p>The API is served under <code>/v1.0</code> and <code>/beta</code>; the permissions reference at <a href="/permissions">/permissions</a>.</p></main></body></html>`;

const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0b5cad"/><path d="M4 4h8v2H9v6H7V6H4z" fill="#fff"/></svg>`;

const ANY = Type.Object({}, { additionalProperties: true });
const PAGE_DOC = {
  summary: "A page of the web app",
  description: "The single-page app's index.html; the app routes in the browser.",
  responses: {
    200: { description: "The app's HTML.", content: { "text/html": Type.String() } },
    503: { description: "The app has not been built (npm run build).", content: { "text/html": Type.String() } },
  },
};

export async function registerWebRoutes(app: FastifyInstance, opts: WebRouteOptions): Promise<void> {
  const db = opts.store.db;
  const doc = (d: Omit<RouteDoc, "tag">) => ({ config: { public: true, openapi: { tag: "Web app" as const, ...d } } });
  const root = opts.root ?? defaultWebRoot();

  async function tenantConfig(id: string): Promise<TenantConfig | undefined> {
    const tenant = await findTenant(db, id.toLowerCase());
    if (!tenant) return undefined;
    const client = await findApp(db, webClientId(tenant.id));
    return { id: tenant.id, displayName: tenant.displayName, clientId: client && client.tenantId === tenant.id ? client.clientId : null };
  }

  /** The demo tenant when it exists, else the only tenant, else none (the user types one). */
  async function defaultTenant(): Promise<TenantConfig | null> {
    const demo = await tenantConfig(DEMO_TENANT);
    if (demo) return demo;
    const all = await listTenants(db);
    return all.length === 1 ? ((await tenantConfig(all[0]!.id)) ?? null) : null;
  }

  app.get(
    "/web/config",
    doc({
      summary: "The web app's public configuration",
      responses: { 200: { description: "The default tenant, the sign-in redirect path and scope.", content: json(ANY) } },
    }),
    async (_req, reply) => {
      return reply
        .header("cache-control", "no-store")
        .type("application/json; charset=utf-8")
        .send(JSON.stringify({ defaultTenant: await defaultTenant(), redirectPath: WEB_REDIRECT_PATH, scope: WEB_SCOPE } satisfies WebConfig));
    },
  );

  app.get(
    "/web/config/tenants/:tenant",
    doc({
      summary: "A tenant's web sign-in configuration",
      responses: { 200: { description: "The tenant and its web client id.", content: json(ANY) }, ...graphErrors(404) },
    }),
    async (req, reply) => {
      const { tenant } = req.params as { tenant: string };
      const found = /^[0-9a-f-]{36}$/i.test(tenant) ? await tenantConfig(tenant) : undefined;
      if (!found) throw notFound(`Tenant '${tenant}' is not served by this Triage.`);
      return reply.header("cache-control", "no-store").type("application/json; charset=utf-8").send(JSON.stringify(found));
    },
  );

  // Browsers ask for it on every page, the token service's sign-in pages included.
  app.get(
    "/favicon.ico",
    doc({ summary: "The icon", responses: { 200: { description: "An SVG icon.", content: { "image/svg+xml": Type.String() } } } }),
    async (_req, reply) => reply.header("cache-control", "public, max-age=86400").type("image/svg+xml").send(FAVICON),
  );

  const schema = JSON.stringify(schemaInfo());
  app.get(
    "/web/schema",
    doc({ summary: "The resources' properties, for the permissions explorer", responses: { 200: { description: "Schema information.", content: json(ANY) } } }),
    async (_req, reply) => reply.header("cache-control", "public, max-age=3600").type("application/json; charset=utf-8").send(schema),
  );

  await app.register(registerAdminRoutes, { store: opts.store });

  if (!root) {
    const notBuilt = async (_req: FastifyRequest, reply: FastifyReply) =>
      reply.code(503).headers(SECURITY_HEADERS).type("text/html; charset=utf-8").send(NOT_BUILT);
    for (const path of APP_PATHS) app.get(path, doc(PAGE_DOC), notBuilt);
    return;
  }

  // Only decorates reply.sendFile: the routes below are declared here, public, like every route.
  await app.register(fastifyStatic, { root, serve: false, index: false });

  const index = async (_req: FastifyRequest, reply: FastifyReply) =>
    reply.headers(SECURITY_HEADERS).header("cache-control", "no-cache").sendFile("index.html", root, { cacheControl: false });
  for (const path of APP_PATHS) app.get(path, doc(PAGE_DOC), index);

  // Vite names assets by content hash: they never change.
  app.get(
    "/assets/*",
    doc({
      summary: "The web app's built assets",
      responses: { 200: { description: "A script, style sheet or image (immutable).", content: { "*/*": Type.String() } }, ...graphErrors(404) },
    }),
    async (req, reply) => {
      const file = (req.params as { "*": string })["*"];
      if (!ASSET_NAME.test(file)) throw notFound(`No resource was found at ${req.method} ${req.url.split("?")[0]}.`);
      reply.headers(SECURITY_HEADERS);
      return reply.sendFile(join("assets", file), root, { immutable: true, maxAge: 365 * 86_400_000 });
    },
  );
}
