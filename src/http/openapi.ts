/**
 * Triage's OpenAPI 3.1 document, built from the routes the server registers: every route's method and
 * URL as Fastify saw it (an `onRoute` hook), its description from its route config `openapi`
 * (schema/openapi.ts), its security from its catalog operation or `public` flag, and the component
 * schemas from the schema layer. Nothing here lists routes by hand.
 */
import { readFileSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import type { TSchema } from "@sinclair/typebox";
import {
  componentSchemas,
  componentSources,
  METHOD_NOT_ALLOWED,
  OPENAPI_TAGS,
  toJsonSchema,
  type ContentDoc,
  type JsonSchema,
  type ParamDoc,
  type RouteDoc,
  type RouteOpenApi,
} from "../schema/openapi.js";
import type { Operation } from "../permissions/catalog.js";

declare module "fastify" {
  interface FastifyInstance {
    routeRegistry: RouteRegistry;
  }
  interface FastifyContextConfig {
    /** The route's OpenAPI description, or why it is left out (schema/openapi.ts). */
    openapi?: RouteOpenApi;
  }
}

/** A route as registered: one method of one URL, with what it declared. */
export interface RegisteredRoute {
  method: string;
  /** The URL as registered, prefix included (`/v1.0/security/incidents/:id`). */
  url: string;
  openapi: RouteOpenApi | undefined;
  operation: Operation | undefined;
  public: boolean;
}

/** Fastify's `/a/:id/*` as OpenAPI's `/a/{id}/{path}` (the wildcard may span segments; its description says so). */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, "{$1}").replace(/\*$/, "{path}");
}

function pathParams(url: string): string[] {
  const names = [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
  if (url.endsWith("*")) names.push("path");
  return names;
}

/**
 * Records every route registered after it is installed (install it before any route). HEAD is left
 * out: Fastify answers HEAD for every GET route, and the document says so once.
 */
export class RouteRegistry {
  readonly routes: RegisteredRoute[] = [];

  /** Starts recording; the registry is also `app.routeRegistry`, for the tests that hold the document to the routes. */
  install(app: FastifyInstance): void {
    app.decorate("routeRegistry", { getter: (): RouteRegistry => this });
    app.addHook("onRoute", (route) => {
      const config = (route.config ?? {}) as { openapi?: RouteOpenApi; operation?: Operation; public?: boolean };
      for (const method of [route.method].flat()) {
        if (method === "HEAD") continue;
        this.routes.push({ method, url: route.url, openapi: config.openapi, operation: config.operation, public: config.public === true });
      }
    });
  }
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "0";
  } catch {
    return "0";
  }
}
const VERSION = packageVersion();

export interface DocumentOptions {
  /** scheme://host[:port] the document's server and OAuth URLs are built on. */
  origin: string;
  /** The tenant whose token endpoints the OAuth flows name; `{tenant}` (to fill in) when absent. */
  tenant?: string | undefined;
}

type Components = ReadonlyMap<TSchema, string>;

function contentOf(content: ContentDoc, components: Components): Record<string, { schema: JsonSchema }> {
  return Object.fromEntries(Object.entries(content).map(([type, schema]) => [type, { schema: toJsonSchema(schema, components, false) }]));
}

function parameter(name: string, where: "path" | "query" | "header", p: ParamDoc | undefined, components: Components, wildcard: boolean): JsonSchema {
  const description = p?.description ?? (wildcard ? "The rest of the path (it may span segments)." : `The ${name}.`);
  return {
    name,
    in: where,
    description,
    required: where === "path" ? true : (p?.required ?? false),
    schema: p?.schema ? toJsonSchema(p.schema, components, false) : { type: "string" },
  };
}

function security(route: RegisteredRoute): { security: JsonSchema[]; extensions: JsonSchema } {
  if (!route.operation) return { security: [], extensions: { "x-triage-public": true } };
  const op = route.operation;
  const delegated = op.grants.DelegatedWork.map((g) => g.permission);
  const application = op.grants.Application.map((g) => g.permission);
  return {
    // Any one of the delegated permissions (authorization code), or an app token carrying one of the
    // application permissions (client credentials, scope .default), or any bearer token Triage accepts.
    security: [...delegated.map((p) => ({ oauth2: [p] })), ...(application.length ? [{ oauth2: [DEFAULT_SCOPE] }] : []), { bearer: [] }],
    extensions: {
      "x-triage-operation": op.key,
      "x-permissions": {
        application,
        delegated,
        leastPrivileged: [...op.grants.Application, ...op.grants.DelegatedWork].filter((g) => g.leastPrivileged).map((g) => g.permission),
        entraRoles: op.roles,
        ...(op.derivedFrom ? { derivedFrom: op.derivedFrom } : {}),
      },
    },
  };
}

const DEFAULT_SCOPE = "https://graph.microsoft.com/.default";

function operationOf(route: RegisteredRoute, doc: RouteDoc, components: Components, refused: readonly string[]): JsonSchema {
  const parameters: JsonSchema[] = [];
  for (const name of pathParams(route.url))
    parameters.push(parameter(name, "path", doc.params?.[name], components, name === "path" && route.url.endsWith("*")));
  for (const [name, p] of Object.entries(doc.query ?? {})) parameters.push(parameter(name, "query", p, components, false));
  for (const [name, p] of Object.entries(doc.headers ?? {})) parameters.push(parameter(name, "header", p, components, false));
  const responses: JsonSchema = {};
  for (const [status, r] of Object.entries(doc.responses)) {
    responses[status] = {
      description: r.description,
      ...(r.headers ? { headers: Object.fromEntries(Object.entries(r.headers).map(([h, d]) => [h, { description: d, schema: { type: "string" } }])) } : {}),
      ...(r.content ? { content: contentOf(r.content, components) } : {}),
    };
  }
  const { security: requirements, extensions } = security(route);
  return {
    tags: [doc.tag],
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    operationId: `${route.method.toLowerCase()}${openApiPath(route.url).replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`,
    ...(parameters.length ? { parameters } : {}),
    ...(doc.body
      ? {
          requestBody: {
            ...(doc.body.description ? { description: doc.body.description } : {}),
            required: doc.body.required ?? true,
            content: contentOf(doc.body.content, components),
          },
        }
      : {}),
    responses,
    security: requirements,
    ...extensions,
    ...(refused.length ? { "x-method-not-allowed": refused } : {}),
  };
}

/** The OpenAPI 3.1 document of the routes registered with a description (test/http/openapi.test.ts finds any without). */
export function openApiDocument(routes: readonly RegisteredRoute[], opts: DocumentOptions): JsonSchema {
  const sources = componentSources();
  const components = new Map<TSchema, string>();
  for (const [name, schema] of sources) if (!components.has(schema)) components.set(schema, name);
  // The methods each URL refuses with 405 (its METHOD_NOT_ALLOWED routes), named on its operations.
  const refusedByUrl = new Map<string, string[]>();
  for (const r of routes) if (r.openapi === METHOD_NOT_ALLOWED) refusedByUrl.set(r.url, [...(refusedByUrl.get(r.url) ?? []), r.method]);

  const paths: Record<string, Record<string, JsonSchema>> = {};
  const scopes: Record<string, string> = {};
  for (const r of routes) {
    if (r.openapi === undefined || r.openapi === METHOD_NOT_ALLOWED) continue;
    const path = openApiPath(r.url);
    const item = (paths[path] ??= {});
    item[r.method.toLowerCase()] = operationOf(r, r.openapi, components, refusedByUrl.get(r.url) ?? []);
    for (const g of r.operation?.grants.DelegatedWork ?? []) scopes[g.permission] = `Delegated: ${g.permission}`;
  }
  const tenant = opts.tenant ?? "{tenant}";
  const base = `${opts.origin}/${tenant}/oauth2/v2.0`;
  return {
    openapi: "3.1.0",
    info: {
      title: "Triage",
      version: VERSION,
      description:
        "Every route Triage serves: the Microsoft Graph security API (incidents, alerts_v2, mergeIncidents, moveAlerts, $batch) " +
        "under /v1.0 and /beta, ingestion, Triage's own API, the permissions API and the token service. Built from the routes the " +
        "server registers and the schemas that validate and render the resources. Every GET also answers HEAD; methods a path " +
        "does not list answer 405 with Graph's error body. Errors are Graph's error body. " +
        (opts.tenant ? "" : "In the OAuth URLs, replace {tenant} with your tenant id (or fetch /openapi.json?tenant=<id>)."),
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [{ url: opts.origin }],
    tags: Object.entries(OPENAPI_TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        oauth2: {
          type: "oauth2",
          description:
            "Triage's own Entra-compatible token service. Apps use client credentials with scope https://graph.microsoft.com/.default " +
            "(the token's roles carry the application permissions granted); users sign in with the authorization code flow (PKCE S256).",
          flows: {
            clientCredentials: { tokenUrl: `${base}/token`, scopes: { [DEFAULT_SCOPE]: "The application permissions granted to the app." } },
            authorizationCode: {
              authorizationUrl: `${base}/authorize`,
              tokenUrl: `${base}/token`,
              refreshUrl: `${base}/token`,
              scopes: { [DEFAULT_SCOPE]: "The delegated permissions consented for the app.", ...scopes },
            },
          },
        },
        bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "An access token from Triage's token service or a trusted Entra tenant." },
      },
    },
  };
}
