import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from "fastify";
import rateLimit from "@fastify/rate-limit";
import { decodeJwt } from "jose";
import { sql } from "kysely";
import type { Store } from "./store/open.js";
import { tenantExistence } from "./store/tenants.js";
import { installHttpConventions } from "./graph/http.js";
import { installJsonBodyParser } from "./graph/json-body.js";
import { installUrlChecks } from "./graph/url-input.js";
import { registerSecurityRoutes } from "./graph/entity-set.js";
import { registerBatchRoutes } from "./graph/batch.js";
import { registerIngestRoutes } from "./ingest/routes.js";
import { registerTriageRoutes } from "./triage-api/routes.js";
import { registerPermissionRoutes } from "./permissions/routes.js";
import { callerOf, installGuard } from "./identity/caller.js";
import { KeyRing } from "./identity/keys.js";
import { TokenValidator, type ExternalIssuer } from "./identity/validate.js";
import { Issuer } from "./identity/oauth/issuer.js";
import { registerOAuthRoutes } from "./identity/oauth/routes.js";
import { GraphError } from "./graph/errors.js";
import { registerWebRoutes } from "./web/routes.js";
import { databaseRateLimitStore } from "./store/rate-limits.js";

export interface IdentityConfig {
  /** Access token lifetime (Entra issues 60–90 minutes). */
  tokenLifetimeSeconds?: number;
  refreshLifetimeSeconds?: number;
  /** Leeway for exp/nbf between machines' clocks. */
  clockSkewSeconds?: number;
  deviceCodeIntervalSeconds?: number;
  /** Tokens from these issuers are accepted too (a real Entra tenant, or a stand-in). */
  externalIssuers?: ExternalIssuer[];
}

export interface ServerConfig {
  store: Store;
  /** Public base URL when behind a proxy; otherwise URLs are built from the request's Host. */
  publicUrl?: string | undefined;
  /** Serve HTTPS with this key and certificate (PEM); plain HTTP without. */
  tls?: { key: string; cert: string } | undefined;
  identity?: IdentityConfig;
  /** Time window within which alerts sharing an entity join one incident. */
  correlationWindowMs?: number;
  /** Largest Graph request body accepted (Graph's own limit is 4 MB). */
  bodyLimit?: number;
  /** Largest ingestion request body accepted. */
  ingestBodyLimit?: number;
  logger?: FastifyServerOptions["logger"];
  /** The built web app's directory (default: dist/web/client, made by `npm run build`). */
  webRoot?: string | undefined;
  /** Requests each app may make per (fixed) window in each tenant, counted in the store; off when absent. */
  rateLimit?: { max: number; windowMs: number } | undefined;
}

const MAX_URL_PARAM_LENGTH = 16 * 1024;

export const DEFAULT_WINDOW_MS = 24 * 3600 * 1000;
/** Graph's published limit for security operations: 150 requests a minute per app per tenant. */
export const GRAPH_THROTTLE = { max: 150, windowMs: 60_000 };

/** The throttling key: the token's tenant and app (unverified: a forged token is refused anyway, and counts only against itself). */
function throttleKey(req: FastifyRequest): string {
  const m = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? "");
  if (m?.[1]) {
    try {
      const claims = decodeJwt(m[1]);
      return `${String(claims.tid)}:${String(claims.azp ?? claims.appid)}`;
    } catch {
      // not a JWT: fall through to the address
    }
  }
  return `ip:${req.ip}`;
}

/** Builds the Triage HTTP application from its configuration; nothing else lives here. */
export async function buildServer(config: ServerConfig): Promise<FastifyInstance> {
  const options = {
    logger: config.logger ?? false,
    genReqId: () => randomUUID(),
    requestIdHeader: false as const,
    bodyLimit: config.bodyLimit ?? 4 * 1024 * 1024,
    // Path ids are bounded by the handlers (MAX_ID_LENGTH, a Graph 404), not by the router's non-Graph
    // 414; Node's 16 KB bound on the request head bounds the URL anyway.
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: MAX_URL_PARAM_LENGTH },
    forceCloseConnections: "idle" as const,
    return503OnClosing: true,
  };
  const app = (config.tls ? Fastify({ ...options, https: { key: config.tls.key, cert: config.tls.cert } }) : Fastify(options)) as unknown as FastifyInstance;
  installHttpConventions(app);
  installJsonBodyParser(app);
  installUrlChecks(app);

  const { store } = config;
  const identity = config.identity ?? {};
  const tokenLifetimeSeconds = identity.tokenLifetimeSeconds ?? 3599;
  const publicUrl = config.publicUrl?.replace(/\/+$/, "");
  // Batch steps are injected without a TLS socket: the scheme is the server's, not the socket's.
  const scheme = config.tls ? "https" : "http";
  const origin = (req: FastifyRequest) => publicUrl ?? `${scheme}://${req.host}`;

  const keys = new KeyRing(store.db, tokenLifetimeSeconds);
  const validator = new TokenValidator({ keys, clockSkewSeconds: identity.clockSkewSeconds ?? 60, external: identity.externalIssuers ?? [] });
  installGuard(app, { validator, origin, extraOrigins: publicUrl ? [publicUrl] : [], tenantExists: tenantExistence(store.db) });

  if (config.rateLimit) {
    await app.register(rateLimit, {
      max: config.rateLimit.max,
      timeWindow: config.rateLimit.windowMs,
      // Counters live in the database: every node on one PostgreSQL draws on the same budget.
      store: databaseRateLimitStore(store.db),
      keyGenerator: throttleKey,
      allowList: (req) => req.url === "/healthz",
      addHeadersOnExceeding: { "x-ratelimit-limit": false, "x-ratelimit-remaining": false, "x-ratelimit-reset": false },
      addHeaders: { "x-ratelimit-limit": false, "x-ratelimit-remaining": false, "x-ratelimit-reset": false, "retry-after": true },
      errorResponseBuilder: () => new GraphError(429, "TooManyRequests", "Please retry again later."),
    });
  }

  const issuer = new Issuer({
    db: store.db,
    keys,
    tokenLifetimeSeconds,
    refreshLifetimeSeconds: identity.refreshLifetimeSeconds ?? 90 * 86_400,
    deviceCodeIntervalSeconds: identity.deviceCodeIntervalSeconds ?? 5,
    deviceCodeLifetimeSeconds: 900,
  });
  await app.register(registerOAuthRoutes, { db: store.db, keys, issuer, origin });

  // Public; registered before the Graph routes, whose declared operations it records for the tests.
  registerPermissionRoutes(app);

  const caller = async (req: FastifyRequest) => callerOf(req);
  for (const version of ["v1.0", "beta"] as const) {
    await app.register(registerSecurityRoutes, { prefix: `/${version}`, store, version, origin, caller });
  }
  // JSON batching for both versions: each step goes back through the app, like a direct call.
  await app.register(registerBatchRoutes, { maxRequests: 20 });
  await app.register(registerIngestRoutes, {
    store,
    caller,
    correlationWindowMs: config.correlationWindowMs ?? DEFAULT_WINDOW_MS,
    maxBatch: 5000,
    bodyLimit: config.ingestBodyLimit ?? 32 * 1024 * 1024,
  });
  await app.register(registerTriageRoutes, { store, caller });
  // The web app at /, its public configuration, and the admin API its admin pages use.
  await app.register(registerWebRoutes, { store, root: config.webRoot });

  app.get("/healthz", { config: { public: true } }, async (_req, reply) => {
    await sql`select 1`.execute(store.db);
    return reply.type("application/json").send(JSON.stringify({ status: "ok" }));
  });
  return app;
}
