import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GraphError } from "../errors/graph-error.js";
import { authorize } from "../permissions/authorize.js";
import { TokenError, type TokenValidator } from "./validate.js";
import type { Principal } from "../permissions/principal.js";
import { GRAPH_APP_ID } from "./tokens.js";

/** Who is calling, and for which tenant: every query below is scoped to `tenantId`. */
export interface Caller {
  tenantId: string;
  /** Shown in lastModifiedBy, comments and the audit trail. */
  displayName: string;
  principal: Principal;
}

declare module "fastify" {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

export interface GuardOptions {
  validator: TokenValidator;
  tenantExists(id: string): Promise<boolean>;
  origin(req: FastifyRequest): string;
  /** Further origins tokens may have been issued under (a configured public URL). */
  extraOrigins?: readonly string[];
  /**
   * Charges the request to a budget once it is known who is calling: the verified caller, or null
   * for a public route and for a request whose token was refused. Throws to refuse the request.
   */
  throttle?: ((req: FastifyRequest, caller: Caller | null) => Promise<void>) | undefined;
  /**
   * Runs once the caller is authorized, before the handler: fault injection, which may delay the
   * request, throw the error to answer, or take the reply over (a dropped connection).
   */
  afterAuthorize?: ((req: FastifyRequest, reply: FastifyReply, caller: Caller) => Promise<void>) | undefined;
}

function unauthorized(req: FastifyRequest, origin: string, message: string): GraphError {
  void req;
  return new GraphError(401, "InvalidAuthenticationToken", message, {
    "www-authenticate": `Bearer realm="", authorization_uri="${origin}/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
  });
}

/** The bearer token's principal, or a 401 that says what is wrong with it. */
export async function authenticate(req: FastifyRequest, opts: GuardOptions): Promise<Caller> {
  const origin = opts.origin(req);
  const header = req.headers.authorization;
  if (!header) throw unauthorized(req, origin, "Access token is empty.");
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m?.[1]) throw unauthorized(req, origin, "The Authorization header must be 'Bearer <access token>'.");
  let principal: Principal;
  try {
    principal = await opts.validator.validate(m[1], [origin, ...(opts.extraOrigins ?? [])]);
  } catch (e) {
    if (e instanceof TokenError) throw unauthorized(req, origin, e.message);
    throw e;
  }
  if (!(await opts.tenantExists(principal.tenantId))) throw unauthorized(req, origin, `Tenant '${principal.tenantId}' is not served by this Triage.`);
  return { tenantId: principal.tenantId, displayName: principal.displayName, principal };
}

/**
 * Access check first: every route declares either the catalog operation it performs or that it is
 * public, and a route that declares neither cannot even be registered. For an operation, the token is
 * validated and the catalog decides, before the handler runs.
 */
export function installGuard(app: FastifyInstance, opts: GuardOptions): void {
  app.decorateRequest("caller", null);
  app.addHook("onRoute", (route) => {
    const config = (route.config ?? {}) as { operation?: unknown; public?: boolean };
    if (!config.operation && !config.public) {
      throw new Error(`Route ${String(route.method)} ${route.url} declares neither a permission operation nor that it is public.`);
    }
  });
  app.addHook("preHandler", async (req, reply) => {
    const op = req.routeOptions.config.operation;
    if (!op) {
      await opts.throttle?.(req, null);
      return;
    }
    let caller: Caller;
    try {
      caller = await authenticate(req, opts);
    } catch (e) {
      // Only a verified token spends an app's budget; a refused one spends its source address's.
      if (e instanceof GraphError) await opts.throttle?.(req, null);
      throw e;
    }
    await opts.throttle?.(req, caller);
    authorize(caller.principal, op);
    req.caller = caller;
    await opts.afterAuthorize?.(req, reply, caller);
  });
}

/** The caller a guarded route's handler works for. */
export function callerOf(req: FastifyRequest): Caller {
  if (!req.caller) throw new Error("callerOf() on a route without an operation");
  return req.caller;
}
