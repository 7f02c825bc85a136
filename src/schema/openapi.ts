/**
 * What a route says about itself in Triage's OpenAPI document (GET /openapi.json), and the component
 * schemas that document takes from this folder. A route's description is given where the route is
 * registered, as its Fastify route config `openapi` (never as Fastify's own `schema`, which would
 * compile validators and serializers and change how bad input is answered); the document is built from
 * the routes the server registers (http/openapi.ts), so a route cannot be served and left out.
 *
 * Resource shapes are never written twice: the components are converted from the TypeBox schemas that
 * validate, store and render the resources (incident.ts, alert.ts, comment.ts, evidence.ts), and a
 * route's description points at them with `ref()`.
 */
import { DryRunRequestSchema, DryRunSchema, JobListSchema, JobSchema, RuleInputSchema, RuleListSchema, RuleSchema } from "./automation.js";
import { IncidentSlaSchema, SlaPolicyInputSchema, SlaPolicySchema } from "./sla.js";
import { SubscriptionSchema } from "./subscription.js";
import { HuntingQueryResults, HuntingSchemaResult } from "./operations.js";
import { Type, type TObject, type TSchema } from "@sinclair/typebox";
import { incidentResource } from "./incident.js";
import { alertResource } from "./alert.js";
import { AlertComment } from "./comment.js";
import { alertEvidence, evidenceQualifiedName, evidenceSubtypes, nestedEvidenceName, schemaGraphEnum } from "./evidence.js";
import { properties, type Resource } from "./meta.js";
import { AuditPageSchema, CorrelationSchema, KqlEditorAnalysisSchema } from "./triage-api-schema.js";

/** A JSON Schema (OpenAPI 3.1 dialect) as it appears in the document. */
export type JsonSchema = { [key: string]: unknown };

export interface ParamDoc {
  description: string;
  /** A string when absent. */
  schema?: TSchema;
  required?: boolean;
}

/** Media type → the schema of that representation (`Type.Unknown()` when it has no fixed shape). */
export type ContentDoc = Record<string, TSchema>;

export interface ResponseDoc {
  description: string;
  content?: ContentDoc;
  /** Response header name → what it carries. */
  headers?: Record<string, string>;
}

/**
 * One operation: the route config `openapi` of a documented route. Its path parameters, security
 * (from the route's catalog operation or `public`) and operationId are derived from the registration.
 */
export interface RouteDoc {
  /** The group the reference lists it under (one of OPENAPI_TAGS). */
  tag: OpenApiTag;
  summary: string;
  description?: string;
  /** Descriptions of the URL's path parameters; an undescribed one is documented as a plain string. */
  params?: Record<string, ParamDoc>;
  query?: Record<string, ParamDoc>;
  headers?: Record<string, ParamDoc>;
  body?: { description?: string; required?: boolean; content: ContentDoc };
  /** By status code; the Graph error answers are added with `graphErrors()`. */
  responses: Record<number, ResponseDoc>;
}

/**
 * The route config `openapi` of the routes that only refuse: the 405 answers Graph gives for the
 * methods a path does not support. They are left out of the document on purpose (each documented path
 * says so) and nothing else may be.
 */
export const METHOD_NOT_ALLOWED = "methodNotAllowed" as const;

/** The route config `openapi`: a description, or the one declared reason to leave a route out. */
export type RouteOpenApi = RouteDoc | typeof METHOD_NOT_ALLOWED;

export const OPENAPI_TAGS = {
  Incidents: "Microsoft Graph security incidents, under /v1.0 and /beta, with Graph's OData query options.",
  Alerts: "Microsoft Graph security alerts (alerts_v2), under /v1.0 and /beta.",
  Batch: "Graph JSON batching ($batch): up to 20 requests in one, each run as if sent alone.",
  "Advanced hunting": "runHuntingQuery: KQL over the AlertInfo and AlertEvidence tables (docs/hunting.md).",
  "Change notifications": "Graph's /subscriptions: change notifications on incidents and alerts_v2, delivered to an HTTPS endpoint.",
  Metadata: "The OData CSDL document ($metadata) of /v1.0 and /beta, generated from Triage's schemas. No token needed.",
  Ingestion: "Triage's own API for alert sources: alerts in, correlated into incidents.",
  "Triage API": "Triage's own read API: audit trails, correlation explanations, and the hunting editor's language support.",
  SLA: "The SLA policy: per severity, the time to first action and to resolve; breaches trigger automation rules (signed-in administrators; docs/sla.md).",
  Automation: "Automation rules: triggers, conditions and ordered actions run on incidents and alerts (signed-in administrators; docs/automation.md).",
  Administration: "The admin API behind the web app's admin pages: apps, consent, secrets and users (signed-in administrators).",
  "Testing controls":
    "Fault injection and strictness profiles per tenant or app, for testing Graph clients (signed-in administrators; docs/testing-faults.md).",
  Permissions: "The permissions explorer's API: Microsoft Graph permissions and the least-privilege finder. No token needed.",
  "Token service": "Triage's Entra-compatible OAuth 2.0 and OpenID Connect endpoints, per tenant.",
  "Azure CLI": "What the Azure CLI reads from a cloud's resource manager when it signs in to Triage (docs/azure-cli.md).",
  "Web app": "The web app's pages, assets and public configuration.",
  Service: "Health, readiness and this description.",
} as const;
export type OpenApiTag = keyof typeof OPENAPI_TAGS;

/** A pointer at a component schema, usable wherever a route's description takes a schema. */
export function ref(component: string): TSchema {
  return Type.Unsafe({ $ref: `#/components/schemas/${component}` });
}

/** Graph's collection answer: `value`, with `@odata.context` and, when more follow, `@odata.nextLink`. */
export function graphCollection(component: string): TSchema {
  return Type.Object({
    "@odata.context": Type.String(),
    "@odata.count": Type.Optional(Type.Integer({ description: "With $count=true: how many match the query." })),
    value: Type.Array(ref(component)),
    "@odata.nextLink": Type.Optional(Type.String({ description: "The URL of the next page; absent on the last." })),
  });
}

/** The JSON an answer carries, for a description's `content`. */
export function json(schema: TSchema, mediaType = "application/json"): ContentDoc {
  return { [mediaType]: schema };
}

const ERROR_TEXT: Record<number, string> = {
  400: "The request is not valid (Graph error body naming the problem).",
  401: "No valid access token (Graph error body, with WWW-Authenticate).",
  403: "The token lacks a permission or role the call needs (Graph error body).",
  404: "Not found in the caller's tenant (Graph error body).",
  409: "The change conflicts with the entity's current state (Graph error body).",
  412: "If-Match did not match the entity's current version (Graph error body).",
  413: "The request body is larger than the limit (Graph error body).",
  429: "Throttled: retry after the Retry-After header's seconds (Graph error body).",
  503: "Not ready, or overloaded (Graph error body).",
  504: "The query ran out of time (Graph error body).",
};

/** The Graph error answers a route may give, each with Graph's error body. */
export function graphErrors(...statuses: number[]): Record<number, ResponseDoc> {
  const out: Record<number, ResponseDoc> = {};
  for (const s of statuses) out[s] = { description: ERROR_TEXT[s] ?? "Graph error body.", content: json(ref("graphError")) };
  return out;
}

/** Graph's error body, as errors/graph-error.ts builds it. */
const GraphErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String({ description: "Graph's error code (empty for OData query validation errors, as Graph sends)." }),
    message: Type.String(),
    details: Type.Optional(Type.Array(Type.Object({}, { additionalProperties: true }))),
    innerError: Type.Object({
      date: Type.String({ description: "yyyy-MM-ddTHH:mm:ss in UTC." }),
      "request-id": Type.String(),
      "client-request-id": Type.String(),
    }),
  }),
});

const MergeResponseSchema = Type.Object({
  "@odata.context": Type.String(),
  targetIncidentId: Type.String({ description: "The incident the incidents were merged into, or the alerts moved to." }),
});

const NAMESPACE = "microsoft.graph.security";

/** Triage's schema-layer annotations that are not JSON Schema; `graphEnum` becomes `enum`, `edm` an extension. */
const TRIAGE_KEYS = new Set(["column", "columnType", "filterable", "sortable", "updatable", "betaOnly", "graphEnum", "edm", "nullable"]);

/** A TypeBox schema as a JSON Schema of the document, with the components it holds replaced by `$ref`s. */
export function toJsonSchema(schema: TSchema, components: ReadonlyMap<TSchema, string> = new Map(), top = true): JsonSchema {
  const named = components.get(schema);
  if (named !== undefined && !top) return { $ref: `#/components/schemas/${named}` };
  // Evidence nested in evidence is the subtype's component (every subtype, and alertEvidence, is one).
  const nested = nestedEvidenceName(schema);
  if (nested !== undefined) return { $ref: `#/components/schemas/${NAMESPACE}.${nested}` };
  const out: JsonSchema = {};
  const e = schemaGraphEnum(schema);
  for (const [key, value] of Object.entries(schema)) {
    if (TRIAGE_KEYS.has(key)) continue;
    if (key === "properties" || key === "patternProperties") {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, TSchema>).map(([k, v]) => [k, toJsonSchema(v, components, false)]));
    } else if ((key === "anyOf" || key === "oneOf" || key === "allOf") && Array.isArray(value)) {
      out[key] = (value as TSchema[]).map((v) => toJsonSchema(v, components, false));
    } else if ((key === "items" || key === "additionalProperties" || key === "not") && typeof value === "object" && value !== null) {
      out[key] = toJsonSchema(value as TSchema, components, false);
    } else {
      out[key] = value;
    }
  }
  if (e) out.enum = [...e.members];
  const edm = (schema as { edm?: unknown }).edm;
  if (typeof edm === "string") out["x-ms-edm-type"] = edm;
  const meta = schema as { filterable?: boolean; sortable?: boolean; updatable?: boolean; betaOnly?: boolean };
  if (meta.filterable) out["x-triage-filterable"] = true;
  if (meta.sortable) out["x-triage-sortable"] = true;
  if (meta.updatable) out["x-triage-updatable"] = true;
  if (meta.betaOnly) out["x-triage-beta-only"] = true;
  return out;
}

/** A resource's PATCH body: its updatable properties, all optional (the schema's `updatable` flags). */
function updateSchemaOf(resource: Resource): TObject {
  const props: Record<string, TSchema> = {};
  for (const p of properties(resource.schema).values()) if (p.meta.updatable) props[p.name] = Type.Optional(p.schema);
  return Type.Object(props, { description: `The updatable properties of ${NAMESPACE}.${resource.typeName}; send only those to change.` });
}

/** Component name → TypeBox schema: everything the routes' descriptions refer to by `ref()`. */
export function componentSources(): Map<string, TSchema> {
  const sources = new Map<string, TSchema>([
    [`${NAMESPACE}.incident`, incidentResource.schema],
    [`${NAMESPACE}.alert`, alertResource.schema],
    [`${NAMESPACE}.alertComment`, AlertComment],
    [`${NAMESPACE}.incidentUpdate`, updateSchemaOf(incidentResource)],
    [`${NAMESPACE}.alertUpdate`, updateSchemaOf(alertResource)],
    [`${NAMESPACE}.mergeResponse`, MergeResponseSchema],
    [`${NAMESPACE}.huntingQueryResults`, HuntingQueryResults],
    [`${NAMESPACE}.huntingSchemaResult`, HuntingSchemaResult],
    [`${NAMESPACE}.alertEvidence`, alertEvidence],
    ["microsoft.graph.subscription", SubscriptionSchema],
    ["graphError", GraphErrorSchema],
    ["triage.auditPage", AuditPageSchema],
    ["triage.correlation", CorrelationSchema],
    ["triage.kqlEditorAnalysis", KqlEditorAnalysisSchema],
    ["triage.automationRule", RuleSchema],
    ["triage.automationRuleInput", RuleInputSchema],
    ["triage.automationRuleList", RuleListSchema],
    ["triage.automationDryRunRequest", DryRunRequestSchema],
    ["triage.automationDryRun", DryRunSchema],
    ["triage.slaPolicy", SlaPolicySchema],
    ["triage.slaPolicyInput", SlaPolicyInputSchema],
    ["triage.incidentSla", IncidentSlaSchema],
    ["triage.automationJob", JobSchema],
    ["triage.automationJobList", JobListSchema],
  ]);
  for (const [short, schema] of evidenceSubtypes) sources.set(evidenceQualifiedName(short), schema);
  return sources;
}

/** The document's `components.schemas`, converted from the schema layer. */
export function componentSchemas(): Record<string, JsonSchema> {
  const sources = componentSources();
  const byObject = new Map<TSchema, string>();
  for (const [name, schema] of sources) if (!byObject.has(schema)) byObject.set(schema, name);
  const out: Record<string, JsonSchema> = {};
  for (const [name, schema] of sources) out[name] = toJsonSchema(schema, byObject);
  return out;
}
