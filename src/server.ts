import { randomUUID } from "node:crypto";
import tls from "node:tls";
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from "fastify";
import type { Store } from "./store/open.js";
import { tenantExistence } from "./store/tenants.js";
import { installHttpConventions } from "./http/conventions.js";
import { installUrlChecks } from "./http/url-input.js";
import { MAX_ID_LENGTH } from "./schema/limits.js";
import { registerSecurityRoutes } from "./graph/entity-set.js";
import { registerBatchRoutes } from "./graph/batch.js";
import { registerMetadataRoutes } from "./graph/metadata.js";
import { registerIngestRoutes } from "./ingest/routes.js";
import { MAX_ALERTS_PER_INCIDENT, MAX_ENTITIES_PER_INCIDENT } from "./domain/correlate.js";
import { registerTriageRoutes } from "./triage-api/routes.js";
import { registerPermissionRoutes } from "./web/permission-routes.js";
import { warmHunting } from "./hunting/warm.js";
import { callerOf, installGuard } from "./identity/caller.js";
import { KeyRing } from "./identity/keys.js";
import { TokenValidator, type ExternalIssuer } from "./identity/validate.js";
import { Issuer } from "./identity/oauth/issuer.js";
import { registerOAuthRoutes } from "./identity/oauth/routes.js";
import { registerResourceManagerRoutes } from "./identity/oauth/resource-manager.js";
import { createThrottle, type Throttle, type ThrottleSettings } from "./http/throttle.js";
import { installHostCheck } from "./http/allowed-hosts.js";
import { DEFAULT_HSTS_MAX_AGE_SECONDS, installSecurityHeaders } from "./http/security-headers.js";
import { REDACTED, REDACT_PATHS, redactedRequest } from "./http/log-redaction.js";
import { lazyRequestLogger } from "./http/request-logger.js";
import { CredentialGuard } from "./identity/credential-guard.js";
import { HashPool } from "./identity/hash-pool.js";
import { DEFAULT_LOCKOUT, type LockoutPolicy } from "./identity/lockout.js";
import { DEFAULT_PURGE_BATCH, DEFAULT_PURGE_INTERVAL_MS, schedulePurge } from "./identity/housekeeping.js";
import type { KeyEncryption } from "./identity/key-encryption.js";
import { defaultWebRoot, registerWebRoutes } from "./web/routes.js";
import { webNotFoundPage } from "./web/not-found.js";
import { registerApiReferenceRoutes } from "./web/api-reference.js";
import { RouteRegistry } from "./http/openapi.js";
import { graphClientError, graphFrameworkErrors } from "./http/client-errors.js";
import { MAX_JSON_DEPTH, installJsonBodyParser } from "./http/json-body.js";
import { DEFAULT_EXPAND_ALERTS_LIMIT } from "./graph/entity-set.js";
import { timeoutOptions, type Timeouts } from "./http/timeouts.js";
import { DEFAULT_READY_INTERVAL_MS, pingStore, ReadinessProbe, type ReadinessOptions } from "./store/readiness.js";
import { sendError } from "./http/conventions.js";
import { GraphError } from "./errors/graph-error.js";
import { Type } from "@sinclair/typebox";
import { graphErrors, json, type RouteDoc } from "./schema/openapi.js";
import { DEFAULT_FILTER_LIMITS, type FilterLimits } from "./odata/filter-cost.js";
import { registerSubscriptionRoutes } from "./graph/subscriptions.js";
import { DEFAULT_NOTIFICATION_SETTINGS, type NotificationSettings } from "./features/notifications/settings.js";
import { DeliveryEngine } from "./features/notifications/engine.js";
import { LifecycleSender } from "./features/notifications/lifecycle.js";
import { FeedPruner } from "./features/notifications/retention.js";
import { ValidationTokens } from "./features/notifications/validation-tokens.js";
import { DEFAULT_AUTOMATION_SETTINGS, type AutomationSettings } from "./features/automation/settings.js";
import { RuleRunner } from "./features/automation/runner.js";
import { JobSender } from "./features/automation/sender.js";
import { registerAutomationRoutes } from "./triage-api/automation-routes.js";
import { registerSlaRoutes } from "./triage-api/sla-routes.js";
import { DEFAULT_SLA_WATCH, SlaWatch, type SlaWatchSettings } from "./features/sla/watch.js";
import type { Metrics } from "./http/metrics.js";
import { CallerSettings, DEFAULT_SETTINGS_TTL_MS } from "./http/caller-settings.js";
import { createFaultInjector } from "./http/faults.js";
import { DEFAULT_PROFILE, type Profile } from "./schema/profile.js";
import { registerFaultRoutes } from "./triage-api/faults.js";
import { registerLiveRoutes } from "./triage-api/live-routes.js";
import { DEFAULT_LIVE_SETTINGS, LiveHub, type LiveSettings } from "./features/live/hub.js";
import { installHttpTracing } from "./http/tracing.js";
import { tracingOn } from "./store/trace.js";
import { reportPlannerStatisticsFailures } from "./store/planner-statistics.js";

export interface IdentityConfig {
  /** Access token lifetime (Entra issues 60–90 minutes). */
  tokenLifetimeSeconds?: number;
  refreshLifetimeSeconds?: number;
  /** Leeway for exp/nbf between machines' clocks. */
  clockSkewSeconds?: number;
  deviceCodeIntervalSeconds?: number;
  /** Tokens from these issuers are accepted too (a real Entra tenant, or a stand-in). */
  externalIssuers?: ExternalIssuer[];
  /** Smart lockout of accounts, app secrets and source addresses (defaults: DEFAULT_LOCKOUT). */
  lockout?: Partial<LockoutPolicy>;
  /** Password and secret checks run at once (default: half the cores) and waiting (default 32). */
  hashConcurrency?: number;
  hashQueue?: number;
  /** How often expired codes, tokens, assertion ids and lockout records are deleted (default 10 min). */
  purgeIntervalMs?: number;
  purgeBatchSize?: number;
}

export interface ServerConfig {
  store: Store;
  /**
   * Public base URL when behind a proxy; otherwise URLs are built from the request's Host, which
   * must name this server (its listening address, or a name in `allowedHosts`).
   */
  publicUrl?: string | undefined;
  /** Further Host names (`name` or `name:port`) the server answers to besides its listening address and public URL. */
  allowedHosts?: readonly string[] | undefined;
  /** Strict-Transport-Security max-age on HTTPS responses (default one year; 0 sends none). */
  hstsMaxAgeSeconds?: number | undefined;
  /** Serve HTTPS with this key and certificate (PEM); plain HTTP without. */
  tls?: { key: string; cert: string } | undefined;
  identity?: IdentityConfig;
  /** Time window within which alerts sharing an entity join one incident. */
  correlationWindowMs?: number;
  /** The most alerts correlation puts in one incident (default MAX_ALERTS_PER_INCIDENT, 150). */
  maxAlertsPerIncident?: number;
  /** The most distinct entities correlation lets one incident see (default MAX_ENTITIES_PER_INCIDENT, 500). */
  maxEntitiesPerIncident?: number;
  /** Largest Graph request body accepted (Graph's own limit is 4 MB). */
  bodyLimit?: number;
  /** Largest ingestion request body accepted. */
  ingestBodyLimit?: number;
  /** Deepest nesting of objects and arrays accepted in a JSON request body (default MAX_JSON_DEPTH). */
  maxJsonDepth?: number;
  logger?: FastifyServerOptions["logger"];
  /** The built web app's directory (default: dist/web/client, made by `npm run build`). */
  webRoot?: string | undefined;
  /**
   * Requests each app may make per (fixed) window in each tenant, counted in the store once its token
   * is verified; requests without a valid token count per source address (`addressMax`). Off when absent.
   */
  rateLimit?: ThrottleSettings | undefined;
  /** Seals the token signing keys in the store; without it they are stored in clear (the CLI always gives one). */
  keyEncryption?: KeyEncryption | undefined;
  /** Most alerts `$expand=alerts` serves inline per incident; the rest are behind `alerts@odata.nextLink`. */
  expandAlertsLimit?: number;
  /** Most bytes of step answers one `$batch` answer holds (graph/batch.ts DEFAULT_BATCH_RESPONSE_BYTES). */
  batchResponseLimit?: number;
  /** Request, header, keep-alive and idle-connection timeouts (timeouts.ts DEFAULT_TIMEOUTS). */
  timeouts?: Partial<Timeouts>;
  /** How often GET /readyz probes the store, and the free space below which it reports not ready. */
  readiness?: ReadinessOptions;
  /**
   * The time limit of each statement a Graph listing runs, in milliseconds (504 when reached); the
   * store's own (set when it was opened, default 5 s) when absent.
   */
  queryTimeoutMs?: number | undefined;
  /** The time limit of an advanced-hunting query, in milliseconds (504 when reached; graph/hunting.ts has the default). */
  huntingTimeoutMs?: number | undefined;
  /** How long and costly a $filter may be (400 beyond); each absent one keeps its default. */
  filterLimits?: Partial<FilterLimits> | undefined;
  /**
   * Build the permissions explorer's full list (GET /permissions, serialized and gzipped) as soon as the
   * server listens, rather than on the first request: `triage serve` does, so the first page load does not wait for it.
   */
  warmPermissionsList?: boolean | undefined;
  /**
   * Load advanced hunting's Kusto language service as soon as the server listens, rather than on the
   * first hunting query (which would otherwise wait a second or more for it): `triage serve` does.
   */
  warmHunting?: boolean | undefined;
  /**
   * Change notifications (docs/notifications.md): limits and timings, each absent one at its default;
   * `deliver: false` keeps this node from delivering (its subscription routes still work).
   */
  notifications?: (Partial<NotificationSettings> & { deliver?: boolean }) | undefined;
  /**
   * Automation rules (docs/automation.md): limits, timings and the mail server, each absent one at its
   * default (private destinations follow the notifications' setting); `run: false` keeps this node from
   * running rules and sending their jobs (its rule routes still work).
   */
  automation?: (Partial<AutomationSettings> & { run?: boolean }) | undefined;
  /** The SLA breach watch's timings (docs/sla.md); it runs when automation runs. */
  sla?: Partial<SlaWatchSettings> | undefined;
  /** The live change stream's limits and timings (GET /triage/changes; features/live/hub.ts has the defaults). */
  live?: Partial<LiveSettings> | undefined;
  /**
   * Collect Prometheus metrics (http/metrics.ts). They are served only where the caller chooses:
   * `triage serve --metrics-port` puts them on a listener of their own, never on the API's port.
   */
  metrics?: Metrics | undefined;
  /**
   * How strictly the Graph surface reads requests of callers whose app and tenant set no profile of
   * their own (schema/profile.ts; `triage serve --profile`). Lenient when absent.
   */
  profile?: Profile | undefined;
  /**
   * How long a node keeps a tenant's profiles and fault configurations before reading them again
   * (default DEFAULT_SETTINGS_TTL_MS): a change made on another node applies here within it.
   */
  settingsTtlMs?: number | undefined;
  /**
   * This node's cache of profiles and fault configurations, when the caller keeps it to forget a tenant's
   * at once after writing them to the store itself (the ephemeral server's `setFaults`); otherwise one
   * is made from `profile` and `settingsTtlMs`.
   */
  settings?: CallerSettings | undefined;
}

export const DEFAULT_WINDOW_MS = 24 * 3600 * 1000;
/** Graph's published limit for security operations: 150 requests a minute per app per tenant. */
export const GRAPH_THROTTLE = { max: 150, windowMs: 60_000 };

/** The configured logger, whose request lines and logged objects never carry a credential. */
function redactingLogger(logger: ServerConfig["logger"]): ServerConfig["logger"] {
  if (!logger) return false;
  const base = logger === true ? {} : logger;
  const given = base.redact === undefined ? [] : Array.isArray(base.redact) ? base.redact : base.redact.paths;
  return {
    ...base,
    serializers: { ...base.serializers, req: redactedRequest },
    redact: { paths: [...new Set([...REDACT_PATHS, ...given])], censor: REDACTED },
  };
}

const HEALTH_DOC: RouteDoc = {
  tag: "Service",
  summary: "Liveness: the process answers and reaches its store",
  responses: { 200: { description: '{"status":"ok"}', content: json(Type.Object({ status: Type.Literal("ok") })) } },
};
const READY_DOC: RouteDoc = {
  tag: "Service",
  summary: "Readiness: the store takes writes",
  responses: { 200: { description: '{"status":"ready"}', content: json(Type.Object({ status: Type.Literal("ready") })) }, ...graphErrors(503) },
};

/**
 * The cipher suites Node offers, AES-128-GCM first (as Mozilla's recommended configurations order
 * them), chosen in the server's order: with AES instructions it costs less per byte than AES-256-GCM
 * or ChaCha20, which clients list first. Keep-alive (timeouts.ts) and session tickets (Node's default,
 * with keys made per process) spare a returning client the full handshake.
 */
const TLS_PREFERENCES = {
  ciphers: ["TLS_AES_128_GCM_SHA256", ...tls.DEFAULT_CIPHERS.split(":").filter((c) => c !== "TLS_AES_128_GCM_SHA256")].join(":"),
  honorCipherOrder: true,
};

/** How long an access token lives unless the identity settings say otherwise (Entra: about an hour). */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3599;

/** Builds the Triage HTTP application from its configuration; nothing else lives here. */
export async function buildServer(config: ServerConfig): Promise<FastifyInstance> {
  const timeouts = timeoutOptions(config.timeouts);
  const options = {
    logger: redactingLogger(config.logger),
    childLoggerFactory: lazyRequestLogger,
    ...timeouts.fastify,
    http: timeouts.server,
    genReqId: () => randomUUID(),
    requestIdHeader: false as const,
    bodyLimit: config.bodyLimit ?? 4 * 1024 * 1024,
    // One bound for every path id: ingestion accepts alert ids of MAX_ID_LENGTH, so every alert stays
    // addressable; a longer segment is the router's 414, in Graph's body (graphFrameworkErrors).
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true, maxParamLength: MAX_ID_LENGTH },
    forceCloseConnections: "idle" as const,
    return503OnClosing: true,
    // Requests refused before any route (by Node's parser or the router) still answer Graph's error body.
    clientErrorHandler: graphClientError,
    frameworkErrors: graphFrameworkErrors,
  };
  const app = (config.tls
    ? Fastify({ ...options, https: { ...timeouts.server, ...timeouts.tls, ...TLS_PREFERENCES, key: config.tls.key, cert: config.tls.cert } })
    : Fastify(options)) as unknown as FastifyInstance;
  // Before any route: every route registered from here on is in the OpenAPI document (GET /openapi.json).
  const registry = new RouteRegistry();
  registry.install(app);
  // First of the hooks, so that a request's span covers the host check, the guard and the body.
  if (tracingOn()) installHttpTracing(app);
  const { metrics } = config;
  metrics?.install(app, config.store);
  const webRoot = config.webRoot ?? defaultWebRoot();
  installHttpConventions(app, { notFoundPage: webNotFoundPage(webRoot) });
  installJsonBodyParser(app, config.maxJsonDepth ?? MAX_JSON_DEPTH);
  installUrlChecks(app);

  const { store } = config;
  reportPlannerStatisticsFailures(store.db, (err) => app.log.warn({ err }, "refreshing PostgreSQL's planner statistics failed; the next mark tries again"));
  const identity = config.identity ?? {};
  const tokenLifetimeSeconds = identity.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
  const publicUrl = config.publicUrl?.replace(/\/+$/, "");
  // Batch steps are injected without a TLS socket: the scheme is the server's, not the socket's.
  const scheme = config.tls ? "https" : "http";
  // The Host is checked (installHostCheck) before any route builds a URL on it.
  const origin = (req: FastifyRequest) => publicUrl ?? `${scheme}://${req.host.toLowerCase()}`;
  installSecurityHeaders(app, { origin, hstsMaxAgeSeconds: config.hstsMaxAgeSeconds ?? DEFAULT_HSTS_MAX_AGE_SECONDS });
  installHostCheck(app, { scheme, publicUrl, allowedHosts: config.allowedHosts ?? [], listening: () => app.addresses() });

  const keys = new KeyRing(store.db, tokenLifetimeSeconds, undefined, config.keyEncryption);
  await keys.sealStoredKeys();
  const validator = new TokenValidator({ keys, clockSkewSeconds: identity.clockSkewSeconds ?? 60, external: identity.externalIssuers ?? [] });
  let throttle: Throttle | undefined;
  if (config.rateLimit) throttle = await createThrottle(app, store.db, config.rateLimit);
  // Profiles and fault configurations, per tenant and app, read from the store and kept briefly.
  const settings = config.settings ?? new CallerSettings(store, config.profile ?? DEFAULT_PROFILE, config.settingsTtlMs ?? DEFAULT_SETTINGS_TTL_MS);
  installGuard(app, {
    validator,
    origin,
    extraOrigins: publicUrl ? [publicUrl] : [],
    tenantExists: tenantExistence(store.db),
    throttle,
    afterAuthorize: createFaultInjector({ store, settings, metrics }),
  });

  const issuer = new Issuer({
    db: store.db,
    keys,
    tokenLifetimeSeconds,
    refreshLifetimeSeconds: identity.refreshLifetimeSeconds ?? 90 * 86_400,
    deviceCodeIntervalSeconds: identity.deviceCodeIntervalSeconds ?? 5,
    deviceCodeLifetimeSeconds: 900,
    guard: new CredentialGuard(store.db, { ...DEFAULT_LOCKOUT, ...identity.lockout }, new HashPool(identity.hashConcurrency, identity.hashQueue)),
  });
  const stopPurge = schedulePurge(store.db, {
    intervalMs: identity.purgeIntervalMs ?? DEFAULT_PURGE_INTERVAL_MS,
    batch: identity.purgeBatchSize ?? DEFAULT_PURGE_BATCH,
    onError: (err) => app.log.warn({ err }, "purging expired credential state failed; retried at the next interval"),
  });
  app.addHook("onClose", stopPurge);
  await app.register(registerOAuthRoutes, { db: store.db, keys, issuer, origin });

  // Public; registered before the Graph routes, whose declared operations it records for the tests.
  registerPermissionRoutes(app, { warm: config.warmPermissionsList === true });
  if (config.warmHunting === true) {
    app.addHook("onListen", async () => {
      // After the listen resolves (readiness does not wait for it), off any request's path.
      setTimeout(() => {
        warmHunting().then(
          (ms) => app.log.info({ ms: Math.round(ms) }, "advanced hunting's language service is loaded"),
          (err: unknown) => app.log.warn({ err }, "loading advanced hunting's language service failed; the first hunting query loads it"),
        );
      }, 0).unref();
    });
  }

  const caller = async (req: FastifyRequest) => callerOf(req);
  const filterLimits = { ...DEFAULT_FILTER_LIMITS, ...config.filterLimits };
  const queryTimeoutMs = config.queryTimeoutMs ?? store.queryTimeoutMs;
  const notifications: NotificationSettings = { ...DEFAULT_NOTIFICATION_SETTINGS, ...config.notifications };
  for (const version of ["v1.0", "beta"] as const) {
    const graph = {
      prefix: `/${version}`,
      store,
      version,
      origin,
      caller,
      expandAlertsLimit: config.expandAlertsLimit ?? DEFAULT_EXPAND_ALERTS_LIMIT,
      filterLimits,
      queryTimeoutMs,
      profileOf: (c: { tenantId: string; principal: { clientId: string } }) => settings.profileOf(c.tenantId, c.principal.clientId),
      metrics,
    };
    await app.register(registerSecurityRoutes, { ...graph, huntingTimeoutMs: config.huntingTimeoutMs });
    await app.register(registerSubscriptionRoutes, { ...graph, notifications });
  }
  if (config.notifications?.deliver !== false) {
    const node = `node-${randomUUID()}`;
    const lifecycle = new LifecycleSender(store, notifications, node, app.log);
    const engine = new DeliveryEngine(store, notifications, node, app.log, metrics, () => lifecycle.kick(), new ValidationTokens(keys));
    const pruner = new FeedPruner(store, notifications, app.log, () => lifecycle.kick());
    app.addHook("onReady", async () => {
      lifecycle.start();
      await engine.start();
      pruner.start();
    });
    app.addHook("onClose", async () => {
      await pruner.stop();
      await engine.stop();
      await lifecycle.stop();
    });
  }
  // JSON batching for both versions: each step goes back through the app, like a direct call.
  await app.register(registerBatchRoutes, { maxRequests: 20, maxResponseBytes: config.batchResponseLimit });
  // The CSDL document of both versions: public, as Graph's is.
  registerMetadataRoutes(app);
  await app.register(registerIngestRoutes, {
    store,
    caller,
    correlationWindowMs: config.correlationWindowMs ?? DEFAULT_WINDOW_MS,
    correlationLimits: {
      maxAlerts: config.maxAlertsPerIncident ?? MAX_ALERTS_PER_INCIDENT,
      maxEntities: config.maxEntitiesPerIncident ?? MAX_ENTITIES_PER_INCIDENT,
    },
    maxBatch: 5000,
    bodyLimit: config.ingestBodyLimit ?? 32 * 1024 * 1024,
    onIngested: metrics ? (results, seconds) => metrics.ingested(results, seconds) : undefined,
  });
  await app.register(registerTriageRoutes, { store, caller });
  // What the Azure CLI reads from its cloud's resource manager when it signs in (docs/azure-cli.md).
  await app.register(registerResourceManagerRoutes);
  await app.register(registerFaultRoutes, { store, settings });
  // The live change stream: one reader of the feed per node for all its streams. Its heartbeat is
  // kept well inside the idle-connection timeout, which a quiet stream would otherwise reach.
  const liveSettings: LiveSettings = { ...DEFAULT_LIVE_SETTINGS, ...config.live };
  liveSettings.heartbeatMs = Math.max(1_000, Math.min(liveSettings.heartbeatMs, Math.floor(timeouts.fastify.connectionTimeout / 2)));
  const hub = new LiveHub(store, liveSettings, app.log);
  app.addHook("onReady", () => hub.start());
  // Before the server stops: open streams would otherwise keep it from closing.
  app.addHook("preClose", () => hub.stop());
  await app.register(registerLiveRoutes, { hub, caller });
  const automation: AutomationSettings = {
    ...DEFAULT_AUTOMATION_SETTINGS,
    allowPrivateDestinations: notifications.allowPrivateDestinations,
    ...config.automation,
  };
  const sender = config.automation?.run !== false ? new JobSender(store, automation, `node-${randomUUID()}`, app.log, config.keyEncryption) : null;
  await app.register(registerAutomationRoutes, { store, caller, settings: automation, sealer: config.keyEncryption, onJobs: () => sender?.kick() });
  await app.register(registerSlaRoutes, { store, caller });
  if (sender) {
    const node = sender.node;
    const watch = new SlaWatch(store, { ...DEFAULT_SLA_WATCH, ...config.sla }, app.log);
    const runner = new RuleRunner(
      store,
      automation,
      node,
      app.log,
      () => sender.kick(),
      () => watch.kick(),
    );
    app.addHook("onReady", async () => {
      await sender.start();
      await runner.start();
      await watch.start();
    });
    app.addHook("onClose", async () => {
      await watch.stop();
      await runner.stop();
      await sender.stop();
    });
  }
  // The web app at /, its public configuration, and the admin API its admin pages use.
  await app.register(registerWebRoutes, { store, root: webRoot });
  await app.register(registerApiReferenceRoutes, { routes: registry.routes, origin });

  app.get("/healthz", { config: { public: true, openapi: HEALTH_DOC } }, async (_req, reply) => {
    await pingStore(store.db);
    return reply.type("application/json").send(JSON.stringify({ status: "ok" }));
  });
  // Liveness above (the process answers and reaches its store); readiness here: the store takes writes.
  const readiness = new ReadinessProbe(store, config.readiness);
  let wasReady = true;
  app.get("/readyz", { config: { public: true, openapi: READY_DOC } }, async (req, reply) => {
    const verdict = await readiness.check();
    if (verdict.ready !== wasReady) {
      // Said once per change, not once per probe.
      if (verdict.ready) req.log.info("ready: the store accepts writes again");
      else req.log.error({ err: verdict.cause, reason: verdict.reason }, "not ready: the store cannot take writes");
      wasReady = verdict.ready;
    }
    if (verdict.ready) return reply.type("application/json").send(JSON.stringify({ status: "ready" }));
    const retry = String(Math.max(1, Math.ceil((config.readiness?.intervalMs ?? DEFAULT_READY_INTERVAL_MS) / 1000)));
    return sendError(req, reply, new GraphError(503, "ServiceUnavailable", `Not ready: ${verdict.reason}.`, { "retry-after": retry }));
  });
  return app;
}
