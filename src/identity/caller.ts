import type { FastifyRequest } from "fastify";
import { GraphError } from "../graph/errors.js";

/** Who is calling, and for which tenant: every query below is scoped to `tenantId`. */
export interface Caller {
  tenantId: string;
  /** Shown in lastModifiedBy, comments and the audit trail. */
  displayName: string;
}

export interface CallerOptions {
  /** The tenant a request without X-Triage-Tenant works in (the demo tenant of `triage serve --demo`). */
  defaultTenant?: string | undefined;
  tenantExists(id: string): Promise<boolean>;
}

const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The caller of a request. Until token authentication lands, the API is open: the tenant comes from
 * the X-Triage-Tenant header or the server's default tenant, and the caller is anonymous. This is the
 * one place that will read the bearer token's `tid` instead.
 */
export async function resolveCaller(req: FastifyRequest, opts: CallerOptions): Promise<Caller> {
  const header = req.headers["x-triage-tenant"];
  const tenantId = (typeof header === "string" ? header.trim() : undefined) || opts.defaultTenant;
  if (!tenantId) {
    throw new GraphError(401, "InvalidAuthenticationToken", "No tenant was given: send the X-Triage-Tenant header, or start Triage with a default tenant.", {
      "www-authenticate": 'Bearer realm="Triage"',
    });
  }
  if (!TENANT_ID.test(tenantId) || !(await opts.tenantExists(tenantId.toLowerCase()))) {
    throw new GraphError(401, "InvalidAuthenticationToken", `Tenant '${tenantId}' is not known to this service.`, { "www-authenticate": 'Bearer realm="Triage"' });
  }
  return { tenantId: tenantId.toLowerCase(), displayName: "anonymous" };
}
