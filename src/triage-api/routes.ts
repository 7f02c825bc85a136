import { Type } from "@sinclair/typebox";
import { graphErrors, json, ref, type RouteDoc } from "../schema/openapi.js";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Store } from "../store/open.js";
import type { Caller } from "../identity/caller.js";
import { readAudit } from "../store/audit.js";
import { findIncidentRow, incidentNotFound } from "../store/incidents.js";
import { alertNotFound, findAlertRow } from "../store/alerts.js";
import { readCorrelation } from "../store/correlation.js";
import { badRequest } from "../errors/graph-error.js";
import { GRAPH_JSON } from "../http/conventions.js";
import { operation } from "../permissions/catalog.js";
import type { AuditPage, Correlation } from "../schema/triage-api.js";
import { registerHuntingEditorRoute } from "./hunting-editor.js";

export interface TriageRouteOptions {
  store: Store;
  caller(req: FastifyRequest): Promise<Caller>;
}

const MAX_AUDIT_PAGE = 500;

function auditDoc(entity: "incident" | "alert"): RouteDoc {
  return {
    tag: "Triage API",
    summary: `An ${entity}'s audit trail`,
    description: "Every change to the entity, oldest first, in pages: follow nextLink.",
    params: { id: { description: `The ${entity}'s id.` } },
    query: {
      after: { description: "The seq of the last entry seen (0 from the start).", schema: Type.Integer({ minimum: 0 }) },
      top: { description: `Entries per page, 1 to ${MAX_AUDIT_PAGE} (100 by default).`, schema: Type.Integer({ minimum: 1, maximum: MAX_AUDIT_PAGE }) },
    },
    responses: { 200: { description: "A page of audit entries.", content: json(ref("triage.auditPage")) }, ...graphErrors(400, 401, 403, 404) },
  };
}

const CORRELATION_DOC: RouteDoc = {
  tag: "Triage API",
  summary: "Why an incident's alerts are together, and its priority",
  params: { id: { description: "The incident's id." } },
  responses: {
    200: { description: "The correlation events, shared entities and priority factors.", content: json(ref("triage.correlation")) },
    ...graphErrors(401, 403, 404),
  },
};

function pageParams(req: FastifyRequest): { after: number; top: number } {
  const q = req.query as Record<string, string | undefined>;
  const after = q.after === undefined ? 0 : Number(q.after);
  const top = q.top === undefined ? 100 : Number(q.top);
  if (!Number.isInteger(after) || after < 0) throw badRequest("'after' must be a non-negative integer (the seq of the last entry seen).");
  if (!Number.isInteger(top) || top < 1 || top > MAX_AUDIT_PAGE) throw badRequest(`'top' must be an integer from 1 to ${MAX_AUDIT_PAGE}.`);
  return { after, top };
}

/**
 * Triage's own read API beside Graph's: the audit trail of an incident or alert, and how an incident
 * came together (correlation and merge events, and the reasons for its priority score).
 */
export async function registerTriageRoutes(app: FastifyInstance, opts: TriageRouteOptions): Promise<void> {
  const db = opts.store.db;

  async function audit(req: FastifyRequest, type: "incident" | "alert", id: string): Promise<AuditPage> {
    const caller = await opts.caller(req);
    const exists = type === "incident" ? await findIncidentRow(db, caller.tenantId, id) : await findAlertRow(db, caller.tenantId, id);
    if (!exists) throw type === "incident" ? incidentNotFound(id) : alertNotFound(id);
    const { after, top } = pageParams(req);
    const entries = await readAudit(db, caller.tenantId, type, type === "incident" ? String(Number(id)) : id, after, top + 1);
    const page = entries.slice(0, top);
    const body: AuditPage = { value: page };
    const last = page[page.length - 1];
    if (entries.length > top && last) body.nextLink = `${req.url.split("?")[0]}?after=${last.seq}&top=${top}`;
    return body;
  }

  app.get(
    "/triage/incidents/:id/audit",
    { config: { operation: operation("GET /triage/incidents/{id}/audit"), openapi: auditDoc("incident") } },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      return reply.type(GRAPH_JSON).send(JSON.stringify(await audit(req, "incident", id)));
    },
  );
  app.get("/triage/alerts/:id/audit", { config: { operation: operation("GET /triage/alerts/{id}/audit"), openapi: auditDoc("alert") } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    return reply.type(GRAPH_JSON).send(JSON.stringify(await audit(req, "alert", id)));
  });

  app.get(
    "/triage/incidents/:id/correlation",
    { config: { operation: operation("GET /triage/incidents/{id}/correlation"), openapi: CORRELATION_DOC } },
    async (req, reply) => {
      const caller = await opts.caller(req);
      const { id } = req.params as { id: string };
      const row = await findIncidentRow(db, caller.tenantId, id);
      if (!row) throw incidentNotFound(id);
      const body: Correlation = await readCorrelation(db, caller.tenantId, row);
      return reply.type(GRAPH_JSON).send(JSON.stringify(body));
    },
  );

  registerHuntingEditorRoute(app);
}
