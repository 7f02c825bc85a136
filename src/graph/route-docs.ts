/**
 * The OpenAPI descriptions of the Graph routes (schema/openapi.ts RouteDoc), given to `routes()` where
 * each route is registered. Shapes point at the schema layer's components; the $filter and $orderby
 * allow-lists are read from the schema's flags, so they say what the parser accepts.
 */
import { Type } from "@sinclair/typebox";
import { properties, type Resource } from "../schema/meta.js";
import { graphCollection, graphErrors, json, ref, type ParamDoc, type RouteDoc } from "../schema/openapi.js";

const NS = "microsoft.graph.security";

function tagOf(resource: Resource): "Incidents" | "Alerts" {
  return resource.typeName === "incident" ? "Incidents" : "Alerts";
}

const PREFER: Record<string, ParamDoc> = {
  Prefer: { description: "`include-unknown-enum-members` to see enum members Graph declares after unknownFutureValue (answered with Preference-Applied)." },
};

const ID: Record<string, ParamDoc> = { id: { description: "The entity's id." } };

function names(resource: Resource, flag: "filterable" | "sortable"): string {
  return [...properties(resource.schema).values()]
    .filter((p) => p.meta[flag])
    .map((p) => p.name)
    .join(", ");
}

function listQuery(resource: Resource): Record<string, ParamDoc> {
  const expand: Record<string, ParamDoc> =
    resource.typeName === "incident" ? { $expand: { description: "`alerts`, optionally with its own ($select=…)." } } : {};
  return {
    $filter: { description: `An OData filter over: ${names(resource, "filterable")}.` },
    $orderby: { description: `Sort keys (asc or desc) among: ${names(resource, "sortable")}.` },
    $top: { description: `Page size: ${resource.defaultPageSize} by default, at most ${resource.maxPageSize}.`, schema: Type.Integer({ minimum: 0 }) },
    $skip: { description: "Entities to skip.", schema: Type.Integer({ minimum: 0 }) },
    $count: { description: "`true` adds @odata.count.", schema: Type.Boolean() },
    $select: { description: "Comma-separated properties to return." },
    ...expand,
    $skiptoken: { description: "The paging cursor of an @odata.nextLink (use the link as given)." },
  };
}

function entityQuery(resource: Resource): Record<string, ParamDoc> {
  const q = listQuery(resource);
  return { $select: q.$select!, ...(q.$expand ? { $expand: q.$expand } : {}) };
}

const READ_ERRORS = graphErrors(400, 401, 403, 429, 504);

export function listDoc(resource: Resource): RouteDoc {
  return {
    tag: tagOf(resource),
    summary: `List ${resource.entitySet}`,
    description: "Graph's paging: follow @odata.nextLink until it is absent.",
    query: listQuery(resource),
    headers: PREFER,
    responses: { 200: { description: `A page of ${resource.entitySet}.`, content: json(graphCollection(`${NS}.${resource.typeName}`)) }, ...READ_ERRORS },
  };
}

export function countDoc(resource: Resource): RouteDoc {
  return {
    tag: tagOf(resource),
    summary: `Count ${resource.entitySet}`,
    query: { $filter: listQuery(resource).$filter! },
    responses: { 200: { description: "The number of entities matching the filter, as text.", content: { "text/plain": Type.Integer() } }, ...READ_ERRORS },
  };
}

export function getDoc(resource: Resource): RouteDoc {
  return {
    tag: tagOf(resource),
    summary: `Get one ${resource.typeName}`,
    params: ID,
    query: entityQuery(resource),
    headers: PREFER,
    responses: {
      200: { description: `The ${resource.typeName}, with @odata.context.`, content: json(ref(`${NS}.${resource.typeName}`)) },
      ...graphErrors(400, 401, 403, 404, 429),
    },
  };
}

export function patchDoc(resource: Resource): RouteDoc {
  return {
    tag: tagOf(resource),
    summary: `Update a ${resource.typeName}`,
    description: "Only the updatable properties; the answer is the whole updated entity. Every change is audited.",
    params: ID,
    headers: { ...PREFER, "If-Match": { description: "Optional: the @odata.etag the change must apply to." } },
    body: { content: json(ref(`${NS}.${resource.typeName}Update`)) },
    responses: {
      200: { description: `The updated ${resource.typeName}.`, content: json(ref(`${NS}.${resource.typeName}`)) },
      ...graphErrors(400, 401, 403, 404, 409, 412, 429),
    },
  };
}

export function commentDoc(resource: Resource): RouteDoc {
  return {
    tag: tagOf(resource),
    summary: `Comment on a ${resource.typeName}`,
    params: ID,
    body: {
      content: json(
        Type.Object({
          "@odata.type": Type.Optional(Type.Literal(`${NS}.alertComment`)),
          comment: Type.String({ description: "The comment text." }),
        }),
      ),
    },
    responses: {
      200: {
        description: "All of the entity's comments, the new one last.",
        content: json(Type.Object({ "@odata.context": Type.String(), value: Type.Array(ref(`${NS}.alertComment`)) })),
      },
      ...graphErrors(400, 401, 403, 404, 429),
    },
  };
}

export const INCIDENT_ALERTS_DOC: RouteDoc = {
  tag: "Incidents",
  summary: "List an incident's alerts",
  description: "The same alerts as $expand=alerts, paged like /security/alerts_v2.",
  params: ID,
  query: { $top: { description: "Page size.", schema: Type.Integer({ minimum: 0 }) }, $select: { description: "Comma-separated properties to return." } },
  headers: PREFER,
  responses: {
    200: { description: "A page of the incident's alerts.", content: json(graphCollection(`${NS}.alert`)) },
    ...graphErrors(400, 401, 403, 404, 429),
  },
};

const correlationReasons = Type.String({ description: "correlationReason members, comma-separated (a flags enum on the wire)." });

export const MERGE_DOC: RouteDoc = {
  tag: "Incidents",
  summary: "Merge incidents (mergeIncidents)",
  description:
    "2 to 5 incidents become one: the server picks the target by a documented rule, the others become redirected to it with their alerts, tags and entities moved. One transaction, audited.",
  body: {
    content: json(
      Type.Object({
        incidentIds: Type.Array(Type.String(), { minItems: 2, maxItems: 5 }),
        incidentComment: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        mergeReasons: Type.Optional(correlationReasons),
      }),
    ),
  },
  responses: { 200: { description: "The target incident.", content: json(ref(`${NS}.mergeResponse`)) }, ...graphErrors(400, 401, 403, 404, 409, 429) },
};

export const MOVE_DOC: RouteDoc = {
  tag: "Alerts",
  summary: "Move alerts to another or a new incident (moveAlerts)",
  description: "To the incident `incidentId`, or to a new incident when it is null or absent; both incidents are recomputed. Audited.",
  body: {
    content: json(
      Type.Object({
        alertIds: Type.Array(Type.String(), { minItems: 1 }),
        incidentId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        alertComment: Type.Optional(Type.Union([Type.String(), Type.Null()])),
        newCorrelationReasons: Type.Optional(correlationReasons),
      }),
    ),
  },
  responses: {
    200: { description: "The incident the alerts are in now.", content: json(ref(`${NS}.mergeResponse`)) },
    ...graphErrors(400, 401, 403, 404, 409, 429),
  },
};

export function metadataDoc(version: string): RouteDoc {
  return {
    tag: "Metadata",
    summary: `The ${version} service metadata (CSDL)`,
    description:
      "The entity and complex types, enums, navigation properties, actions and entity container Triage serves under this version, as OData CSDL XML.",
    headers: { "If-None-Match": { description: "The ETag of a copy the client holds: answered 304 when it is current." } },
    responses: {
      200: {
        description: "The CSDL document.",
        content: { "application/xml": Type.String() },
        headers: { ETag: "A strong validator of the document.", "OData-Version": "4.0" },
      },
      304: { description: "The client's copy is current." },
      ...graphErrors(406),
    },
  };
}

export function batchDoc(version: string): RouteDoc {
  return {
    tag: "Batch",
    summary: `JSON batching for ${version}`,
    description:
      "Up to 20 requests, each with id, method, url (relative to the version) and optional headers, body and dependsOn; each step is authenticated and authorized as a direct call (no token needed for the batch itself).",
    body: {
      content: json(
        Type.Object({
          requests: Type.Array(
            Type.Object({
              id: Type.String(),
              method: Type.String(),
              url: Type.String(),
              headers: Type.Optional(Type.Record(Type.String(), Type.String())),
              body: Type.Optional(Type.Unknown()),
              dependsOn: Type.Optional(Type.Array(Type.String())),
            }),
            { maxItems: 20 },
          ),
        }),
      ),
    },
    responses: {
      200: {
        description: "Each step's answer.",
        content: json(
          Type.Object({
            responses: Type.Array(
              Type.Object({
                id: Type.String(),
                status: Type.Integer(),
                headers: Type.Optional(Type.Record(Type.String(), Type.String())),
                body: Type.Optional(Type.Unknown()),
              }),
            ),
          }),
        ),
      },
      ...graphErrors(400, 413),
    },
  };
}

const SUBSCRIPTION_ERRORS = graphErrors(400, 401, 403, 404, 429);

/** The /subscriptions routes' descriptions (graph/subscriptions.ts). */
export const SUBSCRIPTION_DOCS = {
  create: {
    tag: "Change notifications",
    summary: "Create a subscription",
    description:
      "Needs the read permission of the resource. The notificationUrl (and lifecycleNotificationUrl) must answer the validation handshake within 10 seconds. With includeResourceData, encryptionCertificate (base64 X.509, RSA) and encryptionCertificateId are required, and each notification carries the entity encrypted for that certificate.",
    body: { required: true, content: json(ref("microsoft.graph.subscription")) },
    responses: { 201: { description: "The subscription.", content: json(ref("microsoft.graph.subscription")) }, ...SUBSCRIPTION_ERRORS },
  },
  list: {
    tag: "Change notifications",
    summary: "List the caller's subscriptions",
    description: "An app sees its own subscriptions; a signed-in user sees the ones they created.",
    query: { $skiptoken: { description: "From a previous page's @odata.nextLink." } },
    responses: { 200: { description: "A page of subscriptions.", content: json(graphCollection("microsoft.graph.subscription")) }, ...SUBSCRIPTION_ERRORS },
  },
  get: {
    tag: "Change notifications",
    summary: "Get a subscription",
    params: { id: { description: "The subscription's id." } },
    responses: { 200: { description: "The subscription.", content: json(ref("microsoft.graph.subscription")) }, ...SUBSCRIPTION_ERRORS },
  },
  renew: {
    tag: "Change notifications",
    summary: "Renew a subscription",
    params: { id: { description: "The subscription's id." } },
    body: { required: true, content: json(Type.Object({ expirationDateTime: Type.String({ format: "date-time" }) })) },
    responses: { 200: { description: "The renewed subscription.", content: json(ref("microsoft.graph.subscription")) }, ...SUBSCRIPTION_ERRORS },
  },
  remove: {
    tag: "Change notifications",
    summary: "Delete a subscription",
    params: { id: { description: "The subscription's id." } },
    responses: { 204: { description: "Deleted." }, ...SUBSCRIPTION_ERRORS },
  },
  reauthorize: {
    tag: "Change notifications",
    summary: "Reauthorize a subscription",
    params: { id: { description: "The subscription's id." } },
    responses: { 204: { description: "Reauthorized." }, ...SUBSCRIPTION_ERRORS },
  },
} satisfies Record<string, RouteDoc>;

const HUNTING_ERRORS = graphErrors(400, 401, 403, 429, 504);
const HUNTING_RESULTS = { description: "The answer's columns (schema) and rows (results).", content: json(ref(`${NS}.huntingQueryResults`)) };

/** Advanced hunting's descriptions (graph/hunting.ts). */
export const HUNTING_DOCS = {
  run: {
    tag: "Advanced hunting",
    summary: "Run a hunting query",
    description: "KQL over AlertInfo and AlertEvidence, within the timespan (ISO 8601; 30 days when absent). Parameter names match in any case.",
    body: {
      required: true,
      content: json(
        Type.Object({
          Query: Type.String({ description: "The KQL query." }),
          Timespan: Type.Optional(Type.String({ description: "ISO 8601: a duration, start/end, start/duration or duration/end." })),
        }),
      ),
    },
    responses: { 200: HUNTING_RESULTS, ...HUNTING_ERRORS },
  },
  getRun: {
    tag: "Advanced hunting",
    summary: "Run a hunting query (beta function)",
    description: "The path continues with the function's parameters: getRunHuntingQuery(query='…',timespan='…'), single quotes doubled inside a value.",
    params: { path: { description: "(query='…',timespan='…')" } },
    responses: { 200: HUNTING_RESULTS, ...HUNTING_ERRORS },
  },
  schema: {
    tag: "Advanced hunting",
    summary: "The hunting tables and their columns (beta function)",
    description: "getHuntingSchema or getHuntingSchema().",
    params: { path: { description: "Empty, or ()." } },
    responses: {
      200: {
        description: "The tables with their columns, and the functions (none: Triage has no stored or built-in hunting functions).",
        content: json(ref(`${NS}.huntingSchemaResult`)),
      },
      ...graphErrors(400, 401, 403, 429),
    },
  },
} satisfies Record<string, RouteDoc>;
