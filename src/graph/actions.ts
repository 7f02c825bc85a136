/**
 * Graph's bound actions on the security collections: mergeIncidents on /security/incidents and
 * moveAlerts on /security/alerts_v2, each also reachable by its namespace-qualified name, as OData
 * allows and Graph's SDKs send. Both answer a microsoft.graph.security.mergeResponse.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { badRequest } from "../errors/graph-error.js";
import { MAX_COMMENT_LENGTH } from "../schema/comment.js";
import { correlationReason, parseEnum } from "../schema/enums.js";
import { nulMessage, unstorable } from "../schema/json-limits.js";
import { MAX_ID_LENGTH } from "../schema/limits.js";
import { mergeIncidents } from "../features/merge-incidents.js";
import { moveAlerts } from "../features/move-alerts.js";
import { GRAPH_JSON } from "../http/conventions.js";
import { MERGE_DOC, MOVE_DOC } from "./route-docs.js";
import { routes, writeContext, type GraphRouteOptions } from "./route-kit.js";

const NAMESPACE = "microsoft.graph.security";

function bodyObject(body: unknown, action: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest(`The request body of ${action} must be a JSON object.`);
  const o = body as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) throw badRequest(`'${key}' is not a parameter of ${action}; its parameters are ${allowed.join(", ")}.`);
  }
  return o;
}

function idList(o: Record<string, unknown>, name: string): string[] {
  const v = o[name];
  if (!Array.isArray(v)) throw badRequest(`The parameter '${name}' is required and must be an array of id strings.`);
  return v.map((id, i) => {
    if (typeof id !== "string" || id === "" || id.length > MAX_ID_LENGTH) {
      throw badRequest(`'${name}[${i}]' must be a non-empty id string of at most ${MAX_ID_LENGTH} characters.`);
    }
    return id;
  });
}

function optionalText(o: Record<string, unknown>, name: string): string | null {
  const v = o[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") throw badRequest(`The parameter '${name}' must be a string.`);
  if (v.trim() === "") return null;
  if (v.length > MAX_COMMENT_LENGTH) throw badRequest(`The parameter '${name}' has ${v.length} characters; it may hold at most ${MAX_COMMENT_LENGTH}.`);
  if (unstorable(v)) throw badRequest(nulMessage(name));
  return v;
}

/**
 * A correlationReason flags value: Graph sends the members as one comma-separated string
 * ("sameCampaign, sameActor"); each must be a member, and each counts once.
 */
export function parseReasons(v: unknown, name: string): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v !== "string") throw badRequest(`The parameter '${name}' must be a string of correlationReason members separated by commas.`);
  const out: string[] = [];
  for (const raw of v.split(",")) {
    const word = raw.trim();
    if (word === "") continue;
    const member = parseEnum(correlationReason, word);
    if (member === undefined || member === "unknownFutureValue") {
      throw badRequest(`'${word}' in '${name}' is not a member of ${NAMESPACE}.correlationReason.`);
    }
    if (!out.includes(member)) out.push(member);
  }
  return out;
}

function mergeResponse(reply: FastifyReply, root: string, targetIncidentId: string): FastifyReply {
  const body = { "@odata.context": `${root}/$metadata#${NAMESPACE}.mergeResponse`, targetIncidentId };
  return reply.code(200).type(GRAPH_JSON).send(JSON.stringify(body));
}

export function registerSecurityActions(app: FastifyInstance, opts: GraphRouteOptions): void {
  const db = opts.store.db;
  const root = (req: FastifyRequest) => `${opts.origin(req)}/${opts.version}`;

  const merge = async (req: FastifyRequest, reply: FastifyReply) => {
    const caller = await opts.caller(req);
    const o = bodyObject(req.body, "mergeIncidents", ["incidentIds", "incidentComment", "mergeReasons"]);
    const target = await mergeIncidents(db, writeContext(caller, req), {
      incidentIds: idList(o, "incidentIds"),
      comment: optionalText(o, "incidentComment"),
      reasons: parseReasons(o.mergeReasons, "mergeReasons"),
    });
    return mergeResponse(reply, root(req), target);
  };
  const move = async (req: FastifyRequest, reply: FastifyReply) => {
    const caller = await opts.caller(req);
    const o = bodyObject(req.body, "moveAlerts", ["alertIds", "incidentId", "alertComment", "newCorrelationReasons"]);
    const incidentId = o.incidentId;
    if (incidentId !== undefined && incidentId !== null && typeof incidentId !== "string") {
      throw badRequest("The parameter 'incidentId' must be an incident id string, or null for a new incident.");
    }
    const target = await moveAlerts(db, writeContext(caller, req), {
      alertIds: idList(o, "alertIds"),
      incidentId: incidentId ?? null,
      comment: optionalText(o, "alertComment"),
      reasons: parseReasons(o.newCorrelationReasons, "newCorrelationReasons"),
    });
    return mergeResponse(reply, root(req), target);
  };

  // Route paths and catalog operation keys are spelled the same way; the qualified name is the same operation.
  for (const name of ["mergeIncidents", `${NAMESPACE}.mergeIncidents`]) {
    routes(app, `/security/incidents/${name}`, { POST: { op: "POST /security/incidents/mergeIncidents", doc: MERGE_DOC, handler: merge } });
  }
  for (const name of ["moveAlerts", `${NAMESPACE}.moveAlerts`]) {
    routes(app, `/security/alerts_v2/${name}`, { POST: { op: "POST /security/alerts_v2/moveAlerts", doc: MOVE_DOC, handler: move } });
  }
}
