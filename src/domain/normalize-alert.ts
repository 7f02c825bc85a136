import { randomUUID } from "node:crypto";
import { Value } from "@sinclair/typebox/value";
import { AlertSchema } from "../schema/alert.js";
import { parseEnum } from "../schema/enums.js";
import { properties } from "../schema/meta.js";
import { normalizeEvidence } from "../schema/evidence.js";
import { checkInstant } from "../schema/date-time.js";
import { commentsLength, type AlertComment } from "../schema/comment.js";
import { checkDocument, jsonPath, nulMessage, unstorable } from "../schema/json-limits.js";
import {
  MAX_COMMENTS,
  MAX_COMMENTS_TOTAL_LENGTH,
  MAX_EVIDENCE,
  MAX_ID_LENGTH,
  MAX_STRING_LENGTH,
  MAX_TAG_LENGTH,
  MAX_TAGS,
  MAX_TEXT_LENGTH,
} from "../schema/limits.js";

/** Properties the service assigns; an ingested alert may carry them (e.g. exported from Graph) but they are ignored. */
const ASSIGNED_BY_SERVICE = new Set(["incidentId", "incidentWebUrl"]);

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
    if (!p) throw new IngestError(`${jsonPath(path, key)} is not a property of microsoft.graph.security.alert.`);
    const where = `${path}.${key}`;
    if (value === null) {
      if (!p.schema.nullable) throw new IngestError(`${where} cannot be null.`);
      out[key] = null;
      continue;
    }
    const e = p.valueSchema.graphEnum;
    if (e) {
      const member = typeof value === "string" ? parseEnum(e, value) : undefined;
      if (!member || member === "unknownFutureValue") {
        throw new IngestError(`${where}: '${String(value)}' is not a valid ${e.name} value.`);
      }
      out[key] = member;
    } else if (key === "evidence") {
      if (!Array.isArray(value)) throw new IngestError(`${where} must be an array.`);
      if (value.length > MAX_EVIDENCE) throw new IngestError(`${where} has ${value.length} elements; an alert may carry at most ${MAX_EVIDENCE}.`);
      out.evidence = value.map((ev, i) => {
        const bad = checkDocument(ev, `${where}[${i}]`);
        if (bad) throw new IngestError(bad);
        const r = normalizeEvidence(ev, `${where}[${i}]`, now);
        if ("error" in r) throw new IngestError(r.error);
        return r.value;
      });
    } else if (key === "comments") {
      out.comments = normalizeComments(value, where);
    } else if (p.valueSchema.format === "date-time") {
      out[key] = instant(value, where);
    } else if (p.valueSchema.type === "object") {
      if (typeof value !== "object" || Array.isArray(value)) throw new IngestError(`${where} must be a JSON object.`);
      const bad = checkDocument(value, where);
      if (bad) throw new IngestError(bad);
      out[key] = value;
    } else if (p.valueSchema.type === "string") {
      out[key] = text(value, where, p.valueSchema.maxLength ?? MAX_STRING_LENGTH);
    } else if (p.valueSchema.type === "array" && (p.valueSchema.items as { type?: unknown } | undefined)?.type === "string") {
      if (!Array.isArray(value)) throw new IngestError(`${where} must be an array of strings.`);
      const most = p.valueSchema.maxItems ?? MAX_TAGS;
      if (value.length > most) throw new IngestError(`${where} has ${value.length} elements; at most ${most} are accepted.`);
      out[key] = value.map((v, i) => text(v, `${where}[${i}]`, MAX_TAG_LENGTH));
    } else {
      if (!Value.Check(p.valueSchema, value)) throw new IngestError(`${where} has the wrong type: ${describe(p.valueSchema as { type?: unknown })} expected.`);
      out[key] = value;
    }
  }

  if (out.tenantId != null && String(out.tenantId).toLowerCase() !== tenantId.toLowerCase()) {
    throw new IngestError(`${path}.tenantId '${String(out.tenantId)}' is not the tenant the alert is sent to.`);
  }
  const id = out.id ?? `tr${randomUUID()}`;
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID_LENGTH)
    throw new IngestError(`${path}.id must be a string of 1 to ${MAX_ID_LENGTH} characters.`);
  const first = out.firstActivityDateTime as string | null | undefined;
  const last = out.lastActivityDateTime as string | null | undefined;
  if (first && last && first > last) {
    throw new IngestError(`${path}.firstActivityDateTime (${first}) is after ${path}.lastActivityDateTime (${last}).`);
  }

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

/** A string property: its type, its length limit, and nothing PostgreSQL cannot store (NUL, an unpaired surrogate). */
function text(value: unknown, where: string, max: number): string {
  if (typeof value !== "string") throw new IngestError(`${where} must be a string.`);
  if (value.length > max) throw new IngestError(`${where} has ${value.length} characters; at most ${max} are accepted.`);
  if (unstorable(value)) throw new IngestError(nulMessage(where));
  return value;
}

function instant(value: unknown, where: string): string {
  const r = checkInstant(value);
  if (!r.ok) throw new IngestError(`${where} ${r.reason}.`);
  return r.value;
}

const COMMENT_PROPERTIES = new Set(["comment", "createdByDisplayName", "createdDateTime"]);

/** An exported alert's comments: alertComment objects, bounded in number and in total size. */
function normalizeComments(value: unknown, where: string): AlertComment[] {
  if (!Array.isArray(value)) throw new IngestError(`${where} must be an array of alertComment objects.`);
  if (value.length > MAX_COMMENTS) throw new IngestError(`${where} has ${value.length} comments; an alert may hold at most ${MAX_COMMENTS}.`);
  const out = value.map((c: unknown, i): AlertComment => {
    const at = `${where}[${i}]`;
    if (typeof c !== "object" || c === null || Array.isArray(c)) throw new IngestError(`${at} must be an alertComment object.`);
    const o = c as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (!COMMENT_PROPERTIES.has(key) && !key.startsWith("@odata."))
        throw new IngestError(`${jsonPath(at, key)} is not a property of microsoft.graph.security.alertComment.`);
    }
    const comment = o.comment == null ? null : text(o.comment, `${at}.comment`, MAX_TEXT_LENGTH);
    const author = o.createdByDisplayName == null ? null : text(o.createdByDisplayName, `${at}.createdByDisplayName`, MAX_STRING_LENGTH);
    if (o.createdDateTime == null) throw new IngestError(`${at}.createdDateTime is required.`);
    return { comment, createdByDisplayName: author, createdDateTime: instant(o.createdDateTime, `${at}.createdDateTime`) };
  });
  const total = commentsLength(out);
  if (total > MAX_COMMENTS_TOTAL_LENGTH) {
    throw new IngestError(`${where} hold ${total} characters together; an alert's comments may hold at most ${MAX_COMMENTS_TOTAL_LENGTH}.`);
  }
  return out;
}

function defaultFor(name: string, created: string): unknown {
  switch (name) {
    case "status":
      return "new";
    case "severity":
      return "unknown";
    case "serviceSource":
      return "unknown";
    case "classification":
      return "unknown";
    case "determination":
      return "unknown";
    case "comments":
    case "evidence":
    case "systemTags":
    case "categories":
    case "mitreTechniques":
      return [];
    case "additionalData":
    case "customDetails":
      return {};
    case "createdDateTime":
    case "lastUpdateDateTime":
      return created;
    default:
      return null;
  }
}

function describe(schema: { type?: unknown } & object): string {
  if (schema.type === "array") return "an array of strings";
  if (schema.type === "object") return "a JSON object";
  return `a ${String(schema.type)}`;
}
