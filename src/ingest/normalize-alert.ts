import { randomUUID } from "node:crypto";
import { Value } from "@sinclair/typebox/value";
import { AlertSchema } from "../schema/alert.js";
import { AlertComment } from "../schema/comment.js";
import { parseEnum } from "../schema/enums.js";
import { properties } from "../schema/meta.js";
import { normalizeEvidence } from "../schema/evidence.js";
import { normalizeDateTime } from "../store/columns.js";

/** Properties the service assigns; an ingested alert may carry them (e.g. exported from Graph) but they are ignored. */
const ASSIGNED_BY_SERVICE = new Set(["incidentId", "incidentWebUrl"]);
/** The most evidence elements one alert may carry. */
const MAX_EVIDENCE = 500;

export type NormalizedAlert = Record<string, unknown> & { id: string; createdDateTime: string };

export class IngestError extends Error {}

/**
 * Checks one incoming alert (Graph alert JSON) against the alert schema and returns it in canonical
 * form: enums camelCase, datetimes UTC, evidence normalized, defaults filled. `path` names the alert
 * in error messages, e.g. "value[3]".
 */
export function normalizeAlert(input: unknown, path: string, tenantId: string, now: string): NormalizedAlert {
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw new IngestError(`${path} must be a JSON object (a Graph alert).`);
  const src = input as Record<string, unknown>;
  const props = properties(AlertSchema);
  const out: Record<string, unknown> = {};

  for (const [key, value] of Object.entries(src)) {
    if (key.startsWith("@odata.")) continue;
    if (ASSIGNED_BY_SERVICE.has(key)) continue;
    const p = props.get(key);
    if (!p) throw new IngestError(`${path}.${key} is not a property of microsoft.graph.security.alert.`);
    if (value === null) {
      if (!p.schema.nullable) throw new IngestError(`${path}.${key} cannot be null.`);
      out[key] = null;
      continue;
    }
    const e = p.valueSchema.graphEnum;
    if (e) {
      const member = typeof value === "string" ? parseEnum(e, value) : undefined;
      if (!member || member === "unknownFutureValue") {
        throw new IngestError(`${path}.${key}: '${String(value)}' is not a valid ${e.name} value.`);
      }
      out[key] = member;
    } else if (key === "evidence") {
      if (!Array.isArray(value)) throw new IngestError(`${path}.evidence must be an array.`);
      if (value.length > MAX_EVIDENCE) throw new IngestError(`${path}.evidence has more than ${MAX_EVIDENCE} elements.`);
      out.evidence = value.map((ev, i) => {
        const r = normalizeEvidence(ev, `${path}.evidence[${i}]`, now);
        if ("error" in r) throw new IngestError(r.error);
        return r.value;
      });
    } else if (key === "comments") {
      if (!Array.isArray(value) || !value.every((c) => Value.Check(AlertComment, c))) {
        throw new IngestError(`${path}.comments must be an array of alertComment objects.`);
      }
      out.comments = value.map((c) => ({ ...(c as object), createdDateTime: normalizeDateTime((c as { createdDateTime: string }).createdDateTime) }));
    } else if (p.valueSchema.format === "date-time") {
      if (typeof value !== "string" || Number.isNaN(Date.parse(value)) || !/^\d{4}-\d\d-\d\dT/.test(value)) {
        throw new IngestError(`${path}.${key} must be an ISO 8601 date-time, such as 2026-04-01T08:00:00Z.`);
      }
      out[key] = normalizeDateTime(value);
    } else {
      if (!Value.Check(p.valueSchema, value)) throw new IngestError(`${path}.${key} has the wrong type: ${describe(p.valueSchema as { type?: unknown })} expected.`);
      out[key] = value;
    }
  }

  if (out.tenantId != null && String(out.tenantId).toLowerCase() !== tenantId.toLowerCase()) {
    throw new IngestError(`${path}.tenantId '${String(out.tenantId)}' is not the tenant the alert is sent to.`);
  }
  const id = out.id ?? `tr${randomUUID()}`;
  if (typeof id !== "string" || id.length === 0 || id.length > 200) throw new IngestError(`${path}.id must be a string of 1 to 200 characters.`);

  const created = (out.createdDateTime as string | undefined) ?? now;
  const alert: Record<string, unknown> = {};
  // Canonical order and defaults: every property present, as Graph serializes them.
  for (const p of props.values()) {
    if (p.name in out) alert[p.name] = out[p.name];
    else alert[p.name] = defaultFor(p.name, created);
  }
  alert.id = id;
  alert.tenantId = tenantId;
  alert.createdDateTime = created;
  alert.lastUpdateDateTime = (out.lastUpdateDateTime as string | undefined) ?? created;
  return alert as NormalizedAlert;
}

function defaultFor(name: string, created: string): unknown {
  switch (name) {
    case "status": return "new";
    case "severity": return "unknown";
    case "serviceSource": return "unknown";
    case "classification": return "unknown";
    case "determination": return "unknown";
    case "comments":
    case "evidence":
    case "systemTags":
    case "categories":
    case "mitreTechniques": return [];
    case "additionalData":
    case "customDetails": return {};
    case "createdDateTime":
    case "lastUpdateDateTime": return created;
    default: return null;
  }
}

function describe(schema: { type?: unknown } & object): string {
  if (schema.type === "array") return "an array of strings";
  if (schema.type === "object") return "a JSON object";
  return `a ${String(schema.type)}`;
}
