import type { FastifyInstance, FastifyRequest } from "fastify";
import rateLimit, { normalizeIP } from "@fastify/rate-limit";
import type { Db } from "../store/tables.js";
import { databaseRateLimitStore } from "../store/rate-limits.js";
import { GraphError } from "../errors/graph-error.js";
import type { Caller } from "../identity/caller.js";

/** Requests per window one source address may make without a valid token (sign-in, discovery, failed authentication, the web app's files). */
export const DEFAULT_ADDRESS_MAX = 300;

export interface ThrottleSettings {
  /** Requests each app may make per window in each tenant, counted once its token is verified. */
  max: number;
  windowMs: number;
  /** Requests per window from one source address that carry no valid token (default DEFAULT_ADDRESS_MAX). */
  addressMax?: number | undefined;
}

/**
 * Charges a request to a budget: the verified caller's app in its tenant, or — for public routes
 * and requests whose token was refused — the source address. Throws a Graph 429 when the budget
 * is spent. Only a token that validated can spend an app's budget, so a stranger who forges
 * `tid`/`azp` claims spends only the budget of the address he sends from.
 */
export type Throttle = (req: FastifyRequest, caller: Caller | null) => Promise<void>;

export async function createThrottle(app: FastifyInstance, db: Db, settings: ThrottleSettings): Promise<Throttle> {
  await app.register(rateLimit, {
    // Counted where the caller is known (see installGuard), not in the plugin's own onRequest hook.
    global: false,
    // Counters live in the database: every node on one PostgreSQL draws on the same budget.
    store: databaseRateLimitStore(db),
  });
  // The key is decided by the caller of the throttle (who knows whether the token verified).
  const keys = new WeakMap<FastifyRequest, string>();
  const keyGenerator = (req: FastifyRequest) => keys.get(req)!;
  const perApp = app.createRateLimit({ max: settings.max, timeWindow: settings.windowMs, keyGenerator });
  const perAddress = app.createRateLimit({ max: settings.addressMax ?? DEFAULT_ADDRESS_MAX, timeWindow: settings.windowMs, keyGenerator });

  return async (req, caller) => {
    if (req.url === "/healthz" || req.url === "/readyz") return;
    // IPv6 clients are counted per /64, as one host usually holds a whole one.
    keys.set(req, caller ? `app:${caller.tenantId}:${caller.principal.clientId}` : `ip:${normalizeIP(req.ip)}`);
    const r = await (caller ? perApp(req) : perAddress(req));
    if (!r.isAllowed && r.isExceeded) {
      throw new GraphError(429, "TooManyRequests", "Please retry again later.", { "retry-after": String(Math.max(1, r.ttlInSeconds)) });
    }
  };
}
