import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from "fastify";
import { sql } from "kysely";
import type { Store } from "../store/open.js";
import type { Resource } from "../schema/meta.js";
import { alertResource } from "../schema/alert.js";
import { incidentResource } from "../schema/incident.js";
import { MAX_COMMENT_LENGTH, type AlertComment } from "../schema/comment.js";
import { planQuery, parseSelect, readOptions, type QueryPlan } from "../odata/query-options.js";
import { encodeCursor } from "../odata/cursor.js";
import { countAll, listPage } from "../store/list.js";
import { alertsOfIncidents, findIncidentRow, incidentNotFound, updateIncident, addIncidentComment, incidentKey, type WriteContext } from "../store/incidents.js";
import { addAlertComment, alertNotFound, findAlertRow, updateAlert } from "../store/alerts.js";
import { validatePatch } from "../domain/patch.js";
import { renderEntity } from "../schema/render.js";
import { badRequest, invalidQuery, methodNotAllowed } from "./errors.js";
import { GRAPH_JSON, sendError } from "./http.js";
import { operation, type Operation } from "../permissions/catalog.js";
import type { Caller } from "../identity/caller.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The catalog operation this route performs; the one place access is decided reads it. */
    operation?: Operation;
  }
}

export interface GraphRouteOptions {
  store: Store;
  version: "v1.0" | "beta";
  /** The origin (scheme://host:port) every URL handed out is built on. */
  origin(req: FastifyRequest): string;
  caller(req: FastifyRequest): Promise<Caller>;
}

interface View {
  beta: boolean;
  includeUnknown: boolean;
  root: string;
}

function preferIncludeUnknown(req: FastifyRequest): boolean {
  const prefer = req.headers.prefer;
  const values = Array.isArray(prefer) ? prefer.join(",") : prefer ?? "";
  return values.split(",").some((p) => p.trim().toLowerCase() === "include-unknown-enum-members");
}

function viewOf(req: FastifyRequest, reply: FastifyReply, opts: GraphRouteOptions): View {
  const includeUnknown = preferIncludeUnknown(req);
  if (includeUnknown) reply.header("preference-applied", "include-unknown-enum-members");
  return { beta: opts.version === "beta", includeUnknown, root: `${opts.origin(req)}/${opts.version}` };
}

function queryOf(req: FastifyRequest): URLSearchParams {
  const i = req.url.indexOf("?");
  return new URLSearchParams(i < 0 ? "" : req.url.slice(i + 1));
}

function send(reply: FastifyReply, body: unknown, status = 200): FastifyReply {
  return reply.code(status).type(GRAPH_JSON).send(JSON.stringify(body));
}

function contextSuffix(select: string[] | null, expand: boolean): string {
  const parts = [...(select ?? [])];
  if (expand) parts.push("alerts()");
  return parts.length ? `(${parts.join(",")})` : "";
}

/** The nextLink: the same query options, plus the cursor; values percent-encoded so no client rewrites them. */
function nextLink(base: string, plan: QueryPlan, token: string): string {
  const q = [...plan.carried, ["$skiptoken", token] as [string, string]].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
  return `${base}?${q}`;
}

function writeContext(caller: Caller, req: FastifyRequest): WriteContext {
  return { tenantId: caller.tenantId, actor: caller.displayName, requestId: req.id, now: new Date().toISOString() };
}

/** Only $select (and $expand where there is something to expand) make sense on one entity. */
function entityOptions(req: FastifyRequest, resource: Resource, beta: boolean): { select: string[] | null; expand: string[] | null | false } {
  const opts = readOptions(queryOf(req));
  for (const key of opts.keys()) {
    if (key !== "$select" && key !== "$expand" && key !== "$format") throw invalidQuery(`The query option '${key}' is not allowed on a single ${resource.typeName}.`);
  }
  const rawSelect = opts.get("$select");
  const select = rawSelect === undefined ? null : parseSelect(resource, rawSelect, beta);
  const rawExpand = opts.get("$expand");
  if (rawExpand === undefined) return { select, expand: false };
  const plan = planQuery({ resource, params: new URLSearchParams([["$expand", rawExpand]]), beta, alertResource });
  return { select, expand: plan.expandAlerts?.select ?? null };
}

/** Comments arrive as one alertComment object, or (from the kiota SDK) as a one-element array. */
function commentText(body: unknown): string {
  const item = Array.isArray(body) && body.length === 1 ? body[0] : body;
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    throw badRequest("The request body must be an alertComment: {\"@odata.type\":\"microsoft.graph.security.alertComment\",\"comment\":\"…\"}.");
  }
  const o = item as Record<string, unknown>;
  const type = o["@odata.type"];
  if (type !== undefined && (typeof type !== "string" || type.replace(/^#/, "") !== "microsoft.graph.security.alertComment")) {
    throw badRequest(`The @odata.type '${String(type)}' is not microsoft.graph.security.alertComment.`);
  }
  for (const key of Object.keys(o)) {
    if (key !== "comment" && key !== "@odata.type") throw badRequest(`The property '${key}' cannot be set on a new comment; send only 'comment'.`);
  }
  if (typeof o.comment !== "string" || o.comment.trim() === "") throw badRequest("The property 'comment' is required and must be a non-empty string.");
  if (o.comment.length > MAX_COMMENT_LENGTH) throw badRequest(`A comment may hold at most ${MAX_COMMENT_LENGTH} characters.`);
  return o.comment;
}

/**
 * Registers a route and answers 405 (with Allow) for the methods the path does not support.
 */
function routes(app: FastifyInstance, url: string, handlers: Partial<Record<"GET" | "PATCH" | "POST", { op: string; handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown> }>>): void {
  const allowed = Object.keys(handlers);
  for (const [method, h] of Object.entries(handlers)) {
    app.route({ method: method as HTTPMethods, url, config: { operation: operation(h.op) }, handler: h.handler });
  }
  const others: HTTPMethods[] = (["GET", "PATCH", "POST", "PUT", "DELETE"] as HTTPMethods[]).filter((m) => !allowed.includes(m));
  if (others.length) {
    app.route({
      method: others,
      url,
      config: { public: true },
      handler: async (req, reply) => sendError(req, reply, methodNotAllowed(req.method, allowed)),
    });
  }
}

/** Registers /security/incidents and /security/alerts_v2 for one API version. */
export async function registerSecurityRoutes(app: FastifyInstance, opts: GraphRouteOptions): Promise<void> {
  const { store } = opts;
  const db = store.db;

  async function list(resource: Resource, req: FastifyRequest, reply: FastifyReply, scope?: { incidentId: number; path: string }) {
    const caller = await opts.caller(req);
    const view = viewOf(req, reply, opts);
    const plan = planQuery({ resource, params: queryOf(req), beta: view.beta, alertResource });
    const page = await listPage(db, store.json, resource, caller.tenantId, plan, scope && sql`incident_id = ${scope.incidentId}`);
    // The common case — no $select, no $expand, /v1.0 — splices each entity's ready JSON into the page;
    // anything else (or an entity with a gated enum member for a client that did not opt in) is rendered.
    const ready = !plan.select && !plan.expandAlerts && !view.beta;
    let alerts: Map<number, string[]> | null = null;
    if (plan.expandAlerts) {
      alerts = await alertsOfIncidents(db, caller.tenantId, page.rows.map((r) => Number((JSON.parse(r.doc) as { id: string }).id)));
    }
    const items = page.rows.map((r) => {
      if (ready && r.json_v1 !== null && (view.includeUnknown || r.gated === 0)) return r.json_v1;
      const doc = JSON.parse(r.doc) as Record<string, unknown>;
      const v = renderEntity(resource, doc, { ...view, select: plan.select });
      if (alerts) {
        v.alerts = (alerts.get(Number(doc.id)) ?? []).map((a) =>
          renderEntity(alertResource, JSON.parse(a) as Record<string, unknown>, { ...view, select: plan.expandAlerts!.select }),
        );
      }
      return JSON.stringify(v);
    });
    const setPath = scope ? scope.path : `security/${resource.entitySet}`;
    let body = `{"@odata.context":${JSON.stringify(`${view.root}/$metadata#${setPath}${contextSuffix(plan.select, plan.expandAlerts !== null)}`)}`;
    if (page.count !== null) body += `,"@odata.count":${page.count}`;
    body += `,"value":[${items.join(",")}]`;
    if (page.next) body += `,"@odata.nextLink":${JSON.stringify(nextLink(`${view.root}/${setPath}`, plan, encodeCursor(page.next, plan.orderBy)))}`;
    return reply.code(200).type(GRAPH_JSON).send(`${body}}`);
  }

  async function count(resource: Resource, req: FastifyRequest, reply: FastifyReply) {
    const caller = await opts.caller(req);
    const params = queryOf(req);
    const o = readOptions(params);
    for (const key of o.keys()) if (key !== "$filter") throw invalidQuery(`The query option '${key}' is not allowed on $count.`);
    const plan = planQuery({ resource, params, beta: opts.version === "beta", alertResource });
    const n = await countAll(db, store.json, resource, caller.tenantId, plan);
    return reply.code(200).type("text/plain; charset=utf-8").send(String(n));
  }

  /** What differs between the two entity sets; everything else is shared. */
  interface EntitySet {
    resource: Resource;
    find(tenantId: string, id: string): Promise<{ key: number | string; doc: string } | undefined>;
    notFound(id: string): Error;
    update(ctx: WriteContext, id: string, changes: Record<string, unknown>): Promise<string>;
    addComment(ctx: WriteContext, id: string, text: string): Promise<AlertComment[]>;
  }

  const sets: EntitySet[] = [
    {
      resource: incidentResource,
      find: async (tenantId, id) => {
        const row = await findIncidentRow(db, tenantId, id);
        return row && { key: row.id, doc: row.doc };
      },
      notFound: incidentNotFound,
      update: (ctx, id, changes) => updateIncident(db, ctx, id, changes),
      addComment: (ctx, id, text) => addIncidentComment(db, ctx, id, text),
    },
    {
      resource: alertResource,
      find: async (tenantId, id) => {
        const row = await findAlertRow(db, tenantId, id);
        return row && { key: row.id, doc: row.doc };
      },
      notFound: alertNotFound,
      update: (ctx, id, changes) => updateAlert(db, ctx, id, changes),
      addComment: (ctx, id, text) => addAlertComment(db, ctx, id, text),
    },
  ];

  for (const set of sets) {
    const { resource } = set;
    // Route paths and catalog operation keys are spelled the same way.
    const path = `/security/${resource.entitySet}`;
    routes(app, path, { GET: { op: `GET ${path}`, handler: (req, reply) => list(resource, req, reply) } });
    routes(app, `${path}/$count`, { GET: { op: `GET ${path}/$count`, handler: (req, reply) => count(resource, req, reply) } });
    routes(app, `${path}/:id`, {
      GET: {
        op: `GET ${path}/{id}`,
        handler: async (req, reply) => {
          const caller = await opts.caller(req);
          const view = viewOf(req, reply, opts);
          const { id } = req.params as { id: string };
          const { select, expand } = entityOptions(req, resource, view.beta);
          const found = await set.find(caller.tenantId, id);
          if (!found) throw set.notFound(id);
          const body: Record<string, unknown> = {
            "@odata.context": `${view.root}/$metadata#security/${resource.entitySet}${contextSuffix(select, expand !== false)}/$entity`,
            ...renderEntity(resource, JSON.parse(found.doc) as Record<string, unknown>, { ...view, select }),
          };
          if (expand !== false) {
            const key = Number(found.key);
            const alerts = await alertsOfIncidents(db, caller.tenantId, [key]);
            body.alerts = (alerts.get(key) ?? []).map((a) => renderEntity(alertResource, JSON.parse(a) as Record<string, unknown>, { ...view, select: expand }));
          }
          return send(reply, body);
        },
      },
      PATCH: {
        op: `PATCH ${path}/{id}`,
        handler: async (req, reply) => {
          const caller = await opts.caller(req);
          const view = viewOf(req, reply, opts);
          const { id } = req.params as { id: string };
          const changes = validatePatch(resource, req.body, view.beta);
          const doc = await set.update(writeContext(caller, req), id, changes);
          return send(reply, {
            "@odata.context": `${view.root}/$metadata#security/${resource.entitySet}/$entity`,
            ...renderEntity(resource, JSON.parse(doc) as Record<string, unknown>, { ...view, select: null }),
          });
        },
      },
    });
    routes(app, `${path}/:id/comments`, {
      POST: {
        op: `POST ${path}/{id}/comments`,
        handler: async (req, reply) => {
          const caller = await opts.caller(req);
          const view = viewOf(req, reply, opts);
          const { id } = req.params as { id: string };
          const comments = await set.addComment(writeContext(caller, req), id, commentText(req.body));
          return send(reply, { "@odata.context": `${view.root}/$metadata#security/${resource.entitySet}('${id}')/comments`, value: comments });
        },
      },
    });
  }

  routes(app, "/security/incidents/:id/alerts", {
    GET: {
      op: "GET /security/incidents/{id}/alerts",
      handler: async (req, reply) => {
        const caller = await opts.caller(req);
        const { id } = req.params as { id: string };
        const key = incidentKey(id);
        if (key === null || !(await findIncidentRow(db, caller.tenantId, id))) throw incidentNotFound(id);
        return list(alertResource, req, reply, { incidentId: key, path: `security/incidents('${id}')/alerts` });
      },
    },
  });
}
