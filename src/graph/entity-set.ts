import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Resource } from "../schema/meta.js";
import { alertResource } from "../schema/alert.js";
import { incidentResource } from "../schema/incident.js";
import { MAX_COMMENT_LENGTH, type AlertComment } from "../schema/comment.js";
import { MAX_ID_LENGTH } from "../schema/limits.js";
import { nulMessage, unstorable } from "../schema/json-limits.js";
import { LRUCache } from "lru-cache";
import { planQuery, parseOrder, parseSelect, readOptions } from "../odata/query-options.js";
import type { QueryPlan } from "../query/plan.js";
import { encodeCursor } from "../odata/cursor.js";
import { countAll, fillJoined, listPage, type ListScope } from "../store/list.js";
import { readEntity, readRowOf, type Projection, type ReadRow } from "../store/read.js";
import { readExpandedAlerts, readIncidentWithAlerts, type ExpandedAlerts } from "../store/expanded-alerts.js";
import { findIncidentRow, incidentNotFound, incidentKey } from "../store/incidents.js";
import { alertNotFound } from "../store/alerts.js";
import { updateIncident } from "../features/update-incident.js";
import { updateAlert } from "../features/update-alert.js";
import { addAlertComment, addIncidentComment } from "../features/add-comment.js";
import type { WriteContext } from "../features/write-context.js";
import { validatePatch } from "../domain/patch.js";
import { renderEntity } from "../schema/render.js";
import { badRequest, invalidQuery } from "../errors/graph-error.js";
import { GRAPH_JSON } from "../http/conventions.js";
import type { Operation } from "../permissions/catalog.js";
import { registerSecurityActions } from "./actions.js";
import { commentDoc, countDoc, getDoc, INCIDENT_ALERTS_DOC, listDoc, patchDoc } from "./route-docs.js";
import { registerHuntingRoutes } from "./hunting.js";
import { routes, writeContext, type GraphRouteOptions } from "./route-kit.js";
import { withRecommendedHunting } from "./recommended-hunting.js";
import type { Caller } from "../identity/caller.js";
import { DEFAULT_PROFILE, type Profile } from "../schema/profile.js";
import { SLA_ANNOTATION } from "../schema/sla.js";
import { slaView } from "../domain/sla.js";
import { slaStates, tenantHasSlaPolicy } from "../store/sla.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The catalog operation this route performs; the one place access is decided reads it. */
    operation?: Operation;
  }
}

/**
 * The default number of alerts `$expand=alerts` serves inline per incident. A page of 50 incidents
 * then carries at most 5,000 alerts, however large the incidents have grown; the rest of each is a
 * link away, as OData pages an expanded collection.
 */
export const DEFAULT_EXPAND_ALERTS_LIMIT = 100;

interface View {
  beta: boolean;
  includeUnknown: boolean;
  root: string;
}

function preferIncludeUnknown(req: FastifyRequest): boolean {
  const prefer = req.headers.prefer;
  const values = Array.isArray(prefer) ? prefer.join(",") : (prefer ?? "");
  return values.split(",").some((p) => p.trim().toLowerCase() === "include-unknown-enum-members");
}

function viewOf(req: FastifyRequest, reply: FastifyReply, opts: GraphRouteOptions): View {
  const includeUnknown = preferIncludeUnknown(req);
  if (includeUnknown) reply.header("preference-applied", "include-unknown-enum-members");
  return { beta: opts.version === "beta", includeUnknown, root: `${opts.origin(req)}/${opts.version}` };
}

function rawQueryOf(req: FastifyRequest): string {
  const i = req.url.indexOf("?");
  return i < 0 ? "" : req.url.slice(i + 1);
}

/**
 * The query string without its `$skiptoken`: the listing's statements are compiled for the plan without
 * its cursor, so the pages after the first share theirs (the cursor's values are bound per request,
 * store/list.ts). Query option names are read trimmed and in any case (odata/query-options.ts).
 */
function withoutSkipToken(raw: string): string {
  const params = new URLSearchParams(raw);
  for (const k of [...params.keys()]) if (k.trim().toLowerCase() === "$skiptoken") params.delete(k);
  return params.toString();
}

function queryOf(req: FastifyRequest): URLSearchParams {
  return new URLSearchParams(rawQueryOf(req));
}

/** The form to read an entity in: ready v1.0 JSON unless it must be rendered. */
function projectionOf(view: View, select: string[] | null): Projection {
  if (select || view.beta) return "doc";
  return view.includeUnknown ? "ready-with-unknown" : "ready";
}

/** An entity's JSON: rendered from its document where that was read, else as stored, ready to send. */
function entityJson(resource: Resource, row: ReadRow, view: View, select: string[] | null): string {
  if (row.doc === null) return row.ready!;
  return JSON.stringify(renderEntity(resource, JSON.parse(row.doc) as Record<string, unknown>, { ...view, select }));
}

/** An entity's JSON with the given properties put first (the @odata annotations). */
function withLeading(leading: string, json: string): string {
  return json === "{}" ? `{${leading}}` : `{${leading},${json.slice(1)}`;
}

/** An incident's JSON with its expanded alerts as the last property, and the link to the rest where there are more. */
function withAlerts(json: string, alerts: string[], next: string | null): string {
  const link = next === null ? "" : `,"alerts@odata.nextLink":${JSON.stringify(next)}`;
  return `${json.slice(0, -1)}${json === "{}" ? "" : ","}"alerts":[${alerts.join(",")}]${link}}`;
}

/** The order expanded alerts are served in, which their continuation listing is asked for. */
const EXPANDED_ORDER = "createdDateTime asc";
const expandedOrder = parseOrder(alertResource, EXPANDED_ORDER);

/**
 * Where the rest of an incident's expanded alerts are: its alerts listing, in the same order and with
 * the same $select, continuing after the last alert served inline (OData's next link for an expanded
 * collection).
 */
function expandedNextLink(view: View, incidentId: string | number, expanded: ExpandedAlerts, select: string[] | null): string | null {
  if (!expanded.next) return null;
  const carried: [string, string][] = [["$orderby", EXPANDED_ORDER]];
  if (select) carried.push(["$select", select.join(",")]);
  carried.push(["$skiptoken", encodeCursor(expanded.next, expandedOrder)]);
  return `${view.root}/security/incidents/${incidentId}/alerts?${carried.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&")}`;
}

function expandedJson(json: string, view: View, incidentId: string | number, expanded: ExpandedAlerts | undefined, select: string[] | null): string {
  if (!expanded) return withAlerts(json, [], null);
  return withAlerts(
    json,
    expanded.rows.map((a) => entityJson(alertResource, a, view, select)),
    expandedNextLink(view, incidentId, expanded, select),
  );
}

/**
 * The incidents' SLA annotations (docs/sla.md#in-the-graph-api), by id: only under the lenient profile
 * (the strict one answers exactly Graph's shapes), only for incidents with clocks.
 */
async function slaAnnotations(store: GraphRouteOptions["store"], tenantId: string, resource: Resource, ids: readonly (string | number)[], profile: Profile) {
  if (!(await slaApplies(store, tenantId, resource, profile))) return new Map<number, string>();
  return slaAnnotationsOf(store, tenantId, ids);
}

/** `slaAnnotations` where they are known to apply. */
async function slaAnnotationsOf(store: GraphRouteOptions["store"], tenantId: string, ids: readonly (string | number)[]) {
  const out = new Map<number, string>();
  if (ids.length === 0) return out;
  const now = Date.now();
  for (const [id, state] of await slaStates(store.db, tenantId, ids.map(Number)))
    out.set(id, `${JSON.stringify(SLA_ANNOTATION)}:${JSON.stringify(slaView(state, now))}`);
  return out;
}

/** Whether a tenant's entities of this set may carry SLA annotations for this caller. */
async function slaApplies(store: GraphRouteOptions["store"], tenantId: string, resource: Resource, profile: Profile): Promise<boolean> {
  return resource === incidentResource && profile === "lenient" && (await tenantHasSlaPolicy(store.db, tenantId));
}

/** An entity's JSON with its SLA annotation first, if it has one. */
function withSla(json: string, id: string | number, sla: Map<number, string>): string {
  const a = sla.get(Number(id));
  return a === undefined ? json : withLeading(a, json);
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

/** Only $select (and $expand where there is something to expand) make sense on one entity. */
function entityOptions(req: FastifyRequest, resource: Resource, beta: boolean): { select: string[] | null; expand: string[] | null | false } {
  const opts = readOptions(queryOf(req));
  for (const key of opts.keys()) {
    if (key !== "$select" && key !== "$expand" && key !== "$format")
      throw invalidQuery(`The query option '${key}' is not allowed on a single ${resource.typeName}.`);
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
    throw badRequest('The request body must be an alertComment: {"@odata.type":"microsoft.graph.security.alertComment","comment":"…"}.');
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
  if (o.comment.length > MAX_COMMENT_LENGTH)
    throw badRequest(`The property 'comment' has ${o.comment.length} characters; a comment may hold at most ${MAX_COMMENT_LENGTH}.`);
  if (unstorable(o.comment)) throw badRequest(nulMessage("comment"));
  return o.comment;
}

/** Registers /security/incidents and /security/alerts_v2 for one API version. */
export async function registerSecurityRoutes(app: FastifyInstance, opts: GraphRouteOptions): Promise<void> {
  const { store } = opts;
  const db = store.db;

  // Parsing and checking the query options is a pure function of the query string: the plans of
  // recent ones are kept (a queue polled with the same filters parses them once).
  const plans = new LRUCache<string, QueryPlan>({ max: 500 });
  async function planOf(
    resource: Resource,
    req: FastifyRequest,
    beta: boolean,
    caller: Caller,
  ): Promise<{ plan: QueryPlan; key: string; statementKey: string; profile: Profile }> {
    const raw = rawQueryOf(req);
    const profile = (await opts.profileOf?.(caller)) ?? DEFAULT_PROFILE;
    // A plan is the same under both profiles once it is accepted; the key keeps them apart all the same,
    // so a query only the lenient profile accepts is never served from the cache to a strict caller.
    const prefix = `${resource.entitySet}|${beta ? "beta" : "v1"}|${profile}`;
    const key = `${prefix}|${raw}`;
    let plan = plans.get(key);
    if (!plan)
      plans.set(key, (plan = planQuery({ resource, params: new URLSearchParams(raw), beta, alertResource, filterLimits: opts.filterLimits, profile })));
    return { plan, key, statementKey: plan.cursor ? `${prefix}|${withoutSkipToken(raw)}` : key, profile };
  }

  /** A listing, or (with `scope`) one incident's alerts: `path` names it in @odata.context, `link` in URLs. */
  async function list(resource: Resource, req: FastifyRequest, reply: FastifyReply, scope?: { incidentId: number; path: string; link: string }) {
    const caller = await opts.caller(req);
    const view = viewOf(req, reply, opts);
    const { plan, statementKey, profile } = await planOf(resource, req, view.beta, caller);
    const where: ListScope = { store, resource, tenantId: caller.tenantId, incidentId: scope?.incidentId, timeoutMs: opts.queryTimeoutMs };
    // The common case — no $select, /v1.0 — splices each entity's ready JSON into the page; anything
    // else (or an entity with a gated enum member for a client that did not opt in) is rendered. Where
    // nothing is added to the entities (no expanded alerts, no SLA annotations), the store may hand
    // over the page's JSON already joined.
    const withSlas = !scope && (await slaApplies(store, caller.tenantId, resource, profile));
    const annotated = plan.expandAlerts !== null || withSlas;
    const page = await listPage(where, plan, statementKey, projectionOf(view, plan.select), !annotated);
    const rows = view.beta && resource === incidentResource ? await withRecommendedHunting(store, caller.tenantId, page.rows, plan.select) : page.rows;
    let alerts: Map<number, ExpandedAlerts> | null = null;
    if (plan.expandAlerts) {
      alerts = await readExpandedAlerts(
        store,
        caller.tenantId,
        rows.map((r) => Number(r.id)),
        projectionOf(view, plan.expandAlerts.select),
        opts.expandAlertsLimit,
      );
    }
    const sla = withSlas
      ? await slaAnnotationsOf(
          store,
          caller.tenantId,
          rows.map((r) => r.id),
        )
      : new Map<number, string>();
    const items = rows.map((r) => {
      const json = withSla(entityJson(resource, r, view, plan.select), r.id, sla);
      if (!alerts) return json;
      return expandedJson(json, view, r.id, alerts.get(Number(r.id)), plan.expandAlerts!.select);
    });
    const setPath = scope ? scope.path : `security/${resource.entitySet}`;
    let body = `{"@odata.context":${JSON.stringify(`${view.root}/$metadata#${setPath}${contextSuffix(plan.select, plan.expandAlerts !== null)}`)}`;
    if (page.count !== null) body += `,"@odata.count":${page.count}`;
    body += `,"value":[${page.joined === null ? items.join(",") : fillJoined(page.joined, items)}]`;
    const linkPath = scope ? scope.link : setPath;
    if (page.next) body += `,"@odata.nextLink":${JSON.stringify(nextLink(`${view.root}/${linkPath}`, plan, encodeCursor(page.next, plan.orderBy)))}`;
    return reply.code(200).type(GRAPH_JSON).send(`${body}}`);
  }

  async function count(resource: Resource, req: FastifyRequest, reply: FastifyReply) {
    const caller = await opts.caller(req);
    const o = readOptions(queryOf(req));
    for (const key of o.keys()) if (key !== "$filter") throw invalidQuery(`The query option '${key}' is not allowed on $count.`);
    const { plan, key } = await planOf(resource, req, opts.version === "beta", caller);
    const n = await countAll({ store, resource, tenantId: caller.tenantId, timeoutMs: opts.queryTimeoutMs }, plan, key);
    return reply.code(200).type("text/plain; charset=utf-8").send(String(n));
  }

  /** What differs between the two entity sets; everything else is shared. */
  interface EntitySet {
    resource: Resource;
    /** The stored key an id names, or null when it cannot name one. */
    key(id: string): number | string | null;
    notFound(id: string): Error;
    /** The entity as written: its document and its ready v1.0 JSON. */
    update(
      ctx: WriteContext,
      id: string,
      changes: Record<string, unknown>,
    ): Promise<{ id: string | number; doc: string; json_v1: string | null; gated: number }>;
    addComment(ctx: WriteContext, id: string, text: string): Promise<AlertComment[]>;
  }

  const sets: EntitySet[] = [
    {
      resource: incidentResource,
      key: incidentKey,
      notFound: incidentNotFound,
      update: (ctx, id, changes) => updateIncident(db, ctx, id, changes),
      addComment: (ctx, id, text) => addIncidentComment(db, ctx, id, text),
    },
    {
      resource: alertResource,
      key: (id) => (id.length <= MAX_ID_LENGTH ? id : null),
      notFound: alertNotFound,
      update: (ctx, id, changes) => updateAlert(db, ctx, id, changes),
      addComment: (ctx, id, text) => addAlertComment(db, ctx, id, text),
    },
  ];

  for (const set of sets) {
    const { resource } = set;
    // Route paths and catalog operation keys are spelled the same way.
    const path = `/security/${resource.entitySet}`;
    routes(app, path, { GET: { op: `GET ${path}`, doc: listDoc(resource), handler: (req, reply) => list(resource, req, reply) } });
    routes(app, `${path}/$count`, { GET: { op: `GET ${path}/$count`, doc: countDoc(resource), handler: (req, reply) => count(resource, req, reply) } });
    routes(app, `${path}/:id`, {
      GET: {
        op: `GET ${path}/{id}`,
        doc: getDoc(resource),
        handler: async (req, reply) => {
          const caller = await opts.caller(req);
          const view = viewOf(req, reply, opts);
          const { id } = req.params as { id: string };
          const { select, expand } = entityOptions(req, resource, view.beta);
          const key = set.key(id);
          // An incident with its alerts is read in one statement (one round trip); anything else, the entity alone.
          const combined = key !== null && expand !== false && resource === incidentResource;
          const withAlerts = combined
            ? await readIncidentWithAlerts(store, caller.tenantId, Number(key), projectionOf(view, select), projectionOf(view, expand), opts.expandAlertsLimit)
            : undefined;
          const read = combined
            ? withAlerts?.incident
            : key === null
              ? undefined
              : await readEntity(store, resource.table, caller.tenantId, key, projectionOf(view, select));
          if (!read) throw set.notFound(id);
          const found = view.beta && resource === incidentResource ? (await withRecommendedHunting(store, caller.tenantId, [read], select))[0]! : read;
          const profile = (await opts.profileOf?.(caller)) ?? DEFAULT_PROFILE;
          let json = withSla(entityJson(resource, found, view, select), found.id, await slaAnnotations(store, caller.tenantId, resource, [found.id], profile));
          if (expand !== false) {
            const alerts = withAlerts
              ? withAlerts.alerts
              : (await readExpandedAlerts(store, caller.tenantId, [Number(found.id)], projectionOf(view, expand), opts.expandAlertsLimit)).get(
                  Number(found.id),
                );
            json = expandedJson(json, view, found.id, alerts, expand);
          }
          const context = `${view.root}/$metadata#security/${resource.entitySet}${contextSuffix(select, expand !== false)}/$entity`;
          return reply
            .code(200)
            .type(GRAPH_JSON)
            .send(withLeading(`"@odata.context":${JSON.stringify(context)}`, json));
        },
      },
      PATCH: {
        op: `PATCH ${path}/{id}`,
        doc: patchDoc(resource),
        handler: async (req, reply) => {
          const caller = await opts.caller(req);
          const view = viewOf(req, reply, opts);
          const { id } = req.params as { id: string };
          const changes = validatePatch(resource, req.body, view.beta, (await opts.profileOf?.(caller)) ?? DEFAULT_PROFILE);
          const written = await set.update(writeContext(caller, req), id, changes);
          const ready = readRowOf(written, projectionOf(view, null));
          const row = view.beta && resource === incidentResource ? (await withRecommendedHunting(store, caller.tenantId, [ready], null))[0]! : ready;
          const profile = (await opts.profileOf?.(caller)) ?? DEFAULT_PROFILE;
          const json = withSla(entityJson(resource, row, view, null), row.id, await slaAnnotations(store, caller.tenantId, resource, [row.id], profile));
          const context = `${view.root}/$metadata#security/${resource.entitySet}/$entity`;
          return reply
            .code(200)
            .type(GRAPH_JSON)
            .send(withLeading(`"@odata.context":${JSON.stringify(context)}`, json));
        },
      },
    });
    routes(app, `${path}/:id/comments`, {
      POST: {
        op: `POST ${path}/{id}/comments`,
        doc: commentDoc(resource),
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

  registerSecurityActions(app, opts);
  registerHuntingRoutes(app, opts);

  routes(app, "/security/incidents/:id/alerts", {
    GET: {
      op: "GET /security/incidents/{id}/alerts",
      doc: INCIDENT_ALERTS_DOC,
      handler: async (req, reply) => {
        const caller = await opts.caller(req);
        const { id } = req.params as { id: string };
        const key = incidentKey(id);
        if (key === null || !(await findIncidentRow(db, caller.tenantId, id))) throw incidentNotFound(id);
        // The context names the incident OData's way; links use the path this route answers.
        return list(alertResource, req, reply, { incidentId: key, path: `security/incidents('${id}')/alerts`, link: `security/incidents/${key}/alerts` });
      },
    },
  });
}
