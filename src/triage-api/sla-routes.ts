/**
 * Triage's own API for the SLA policy (docs/sla.md): read it and replace it. Administrators only (in
 * the permission catalog with the automation rules); every route works in the caller's tenant.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Caller } from "../identity/caller.js";
import { operation } from "../permissions/catalog.js";
import { graphErrors, json, ref, type RouteDoc } from "../schema/openapi.js";
import type { Store } from "../store/open.js";
import { getSlaPolicy, setSlaPolicy } from "../features/sla/policy.js";

export interface SlaRouteOptions {
  store: Store;
  caller(req: FastifyRequest): Promise<Caller>;
}

const JSON_TYPE = "application/json; charset=utf-8";

const DOCS: Record<"get" | "put", RouteDoc> = {
  get: {
    tag: "SLA",
    summary: "Read the tenant's SLA policy",
    description: "Without a policy saved: enabled false, no targets, and null dates.",
    responses: { 200: { description: "The policy.", content: json(ref("triage.slaPolicy")) }, ...graphErrors(401, 403) },
  },
  put: {
    tag: "SLA",
    summary: "Replace the tenant's SLA policy",
    description:
      "Per severity (informational, low, medium, high, unknown), the time to first action and the time to resolve as ISO 8601 durations (PT1S to P365D). " +
      "The due times of every open incident's clocks are recomputed in the same transaction; the first policy starts clocks for incidents created from then on.",
    body: { required: true, content: json(ref("triage.slaPolicyInput")) },
    responses: { 200: { description: "The policy as saved.", content: json(ref("triage.slaPolicy")) }, ...graphErrors(400, 401, 403) },
  },
};

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(JSON_TYPE).send(JSON.stringify(body));
}

export async function registerSlaRoutes(app: FastifyInstance, opts: SlaRouteOptions): Promise<void> {
  const db = opts.store.db;
  app.get("/triage/sla/policy", { config: { operation: operation("GET /triage/sla/policy"), openapi: DOCS.get } }, async (req, reply) => {
    const caller = await opts.caller(req);
    return send(reply, 200, await getSlaPolicy(db, caller.tenantId));
  });
  app.put("/triage/sla/policy", { config: { operation: operation("PUT /triage/sla/policy"), openapi: DOCS.put } }, async (req, reply) => {
    const caller = await opts.caller(req);
    const policy = await setSlaPolicy(db, { tenantId: caller.tenantId, actor: caller.displayName, now: new Date().toISOString() }, req.body);
    req.log.info({ actor: caller.displayName }, "sla: policy saved");
    return send(reply, 200, policy);
  });
}
