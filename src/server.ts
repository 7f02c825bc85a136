import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import rateLimit from "@fastify/rate-limit";
import { sql } from "kysely";
import type { Store } from "./store/open.js";
import { findTenant } from "./store/tenants.js";
import { installHttpConventions } from "./graph/http.js";
import { registerSecurityRoutes } from "./graph/entity-set.js";
import { registerIngestRoutes } from "./ingest/routes.js";
import { registerTriageRoutes } from "./triage-api/routes.js";
import { resolveCaller } from "./identity/caller.js";
import { GraphError } from "./graph/errors.js";

export interface ServerConfig {
  store: Store;
  /** Tenant for requests that name none (the demo tenant). */
  defaultTenant?: string | undefined;
  /** Public base URL when behind a proxy; otherwise URLs are built from the request's Host. */
  publicUrl?: string | undefined;
  /** Time window within which alerts sharing an entity join one incident. */
  correlationWindowMs?: number;
  /** Largest Graph request body accepted (Graph's own limit is 4 MB). */
  bodyLimit?: number;
  /** Largest ingestion request body accepted. */
  ingestBodyLimit?: number;
  logger?: FastifyServerOptions["logger"];
  /** Requests each tenant may make per window; off when absent. */
  rateLimit?: { max: number; windowMs: number } | undefined;
}

export const DEFAULT_WINDOW_MS = 24 * 3600 * 1000;

/** Builds the Triage HTTP application from its configuration; nothing else lives here. */
export async function buildServer(config: ServerConfig): Promise<FastifyInstance> {
  const app = Fastify({
    logger: config.logger ?? false,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: config.bodyLimit ?? 4 * 1024 * 1024,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true },
    forceCloseConnections: "idle",
    return503OnClosing: true,
  });
  installHttpConventions(app);
  if (config.rateLimit) {
    // Counted per tenant, as Graph throttles per app and tenant; answered with Graph's 429 body.
    await app.register(rateLimit, {
      max: config.rateLimit.max,
      timeWindow: config.rateLimit.windowMs,
      keyGenerator: (req) => {
        const t = req.headers["x-triage-tenant"];
        return (typeof t === "string" ? t.toLowerCase() : undefined) ?? config.defaultTenant ?? "";
      },
      allowList: (req) => req.url === "/healthz",
      addHeadersOnExceeding: { "x-ratelimit-limit": false, "x-ratelimit-remaining": false, "x-ratelimit-reset": false },
      addHeaders: { "x-ratelimit-limit": false, "x-ratelimit-remaining": false, "x-ratelimit-reset": false, "retry-after": true },
      errorResponseBuilder: () => new GraphError(429, "TooManyRequests", "Please retry again later."),
    });
  }

  const { store } = config;
  const caller = (req: Parameters<typeof resolveCaller>[0]) =>
    resolveCaller(req, { defaultTenant: config.defaultTenant, tenantExists: async (id) => (await findTenant(store.db, id)) !== undefined });

  for (const version of ["v1.0", "beta"] as const) {
    await app.register(registerSecurityRoutes, { prefix: `/${version}`, store, version, publicUrl: config.publicUrl, caller });
  }
  await app.register(registerIngestRoutes, {
    store,
    caller,
    correlationWindowMs: config.correlationWindowMs ?? DEFAULT_WINDOW_MS,
    maxBatch: 5000,
    bodyLimit: config.ingestBodyLimit ?? 32 * 1024 * 1024,
  });
  await app.register(registerTriageRoutes, { store, caller });

  app.get("/healthz", async (_req, reply) => {
    await sql`select 1`.execute(store.db);
    return reply.type("application/json").send(JSON.stringify({ status: "ok" }));
  });
  return app;
}
