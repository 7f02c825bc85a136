/**
 * What every Graph route module shares: the options a version's routes are registered with, the write
 * context a request's changes carry, and route registration with Graph's 405 for other methods. Kept
 * apart so the entity sets and the actions build on it without importing each other.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from "fastify";
import type { Store } from "../store/open.js";
import type { FilterLimits } from "../odata/filter-cost.js";
import type { WriteContext } from "../features/write-context.js";
import { methodNotAllowed } from "../errors/graph-error.js";
import { sendError } from "../http/conventions.js";
import type { Metrics } from "../http/metrics.js";
import { operation } from "../permissions/catalog.js";
import type { Caller } from "../identity/caller.js";
import { METHOD_NOT_ALLOWED, type RouteDoc } from "../schema/openapi.js";
import type { Profile } from "../schema/profile.js";

export interface GraphRouteOptions {
  store: Store;
  version: "v1.0" | "beta";
  /** The origin (scheme://host:port) every URL handed out is built on. */
  origin(req: FastifyRequest): string;
  caller(req: FastifyRequest): Promise<Caller>;
  /** Most alerts served inline per incident with `$expand=alerts`; the rest are behind `alerts@odata.nextLink`. */
  expandAlertsLimit: number;
  /** How large and costly a $filter may be. */
  filterLimits: FilterLimits;
  /** The time limit of each statement a listing runs, in milliseconds. */
  queryTimeoutMs: number;
  /** The time limit of an advanced-hunting query, in milliseconds (graph/hunting.ts has the default). */
  huntingTimeoutMs?: number | undefined;
  /** How strictly the caller's query options are read (its app's, tenant's or the server's profile); lenient when absent. */
  profileOf?: ((caller: Caller) => Promise<Profile>) | undefined;
  /** Where hunting queries and other Graph-surface events are counted, when metrics are on. */
  metrics?: Metrics | undefined;
}

export function writeContext(caller: Caller, req: FastifyRequest): WriteContext {
  return { tenantId: caller.tenantId, actor: caller.displayName, requestId: req.id, now: new Date().toISOString(), person: caller.principal.kind === "user" };
}

/**
 * Registers a route and answers 405 (with Allow) for the methods the path does not support. Each
 * handler carries its OpenAPI description (`doc`, see route-docs.ts); the 405 answers are left out of
 * the document on purpose.
 */
export function routes(
  app: FastifyInstance,
  url: string,
  handlers: Partial<
    Record<"GET" | "PATCH" | "POST" | "DELETE", { op: string; doc: RouteDoc; handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown> }>
  >,
): void {
  const allowed = Object.keys(handlers);
  for (const [method, h] of Object.entries(handlers)) {
    app.route({ method: method as HTTPMethods, url, config: { operation: operation(h.op), openapi: h.doc }, handler: h.handler });
  }
  const others: HTTPMethods[] = (["GET", "PATCH", "POST", "PUT", "DELETE"] as HTTPMethods[]).filter((m) => !allowed.includes(m));
  if (others.length) {
    app.route({
      method: others,
      url,
      config: { public: true, openapi: METHOD_NOT_ALLOWED },
      handler: async (req, reply) => sendError(req, reply, methodNotAllowed(req.method, allowed)),
    });
  }
}
