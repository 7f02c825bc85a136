import { Value } from "@sinclair/typebox/value";
import { badRequest } from "../errors/graph-error.js";
import { parseEnum } from "../schema/enums.js";
import { properties, type Annotated, type Resource } from "../schema/meta.js";
import { checkDocument, describeJsonProblem, findJsonProblem } from "../schema/json-limits.js";
import { MAX_DOCUMENT_DEPTH } from "../schema/limits.js";
import { DEFAULT_PROFILE, type Profile } from "../schema/profile.js";

/** Enum members a client may not set: the sentinel, and states only the service itself enters. */
const NOT_SETTABLE: Record<string, ReadonlySet<string>> = {
  status: new Set(["unknownFutureValue", "redirected", "awaitingAction"]),
  severity: new Set(["unknownFutureValue"]),
  classification: new Set(["unknownFutureValue"]),
  determination: new Set(["unknownFutureValue"]),
};

/**
 * Checks a PATCH body against the resource's updatable properties and returns the changes with
 * enum values in their canonical camelCase spelling. Anything else — unknown or read-only
 * properties, wrong types, bad enum values — is a 400 naming the property, before anything is written.
 * Under the strict profile an enum takes only the CSDL's member names, not the legacy aliases.
 */
export function validatePatch(resource: Resource, body: unknown, beta: boolean, profile: Profile = DEFAULT_PROFILE): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw badRequest(`The request body must be a JSON object with the ${resource.typeName} properties to update.`);
  }
  const props = properties(resource.schema);
  const type = `microsoft.graph.security.${resource.typeName}`;
  const changes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === "@odata.type") {
      if (typeof value !== "string" || value.replace(/^#/, "") !== type) {
        throw badRequest(`The @odata.type '${String(value)}' does not match the resource type '${type}'.`);
      }
      continue;
    }
    if (key.startsWith("@") || key.includes("@odata.")) continue; // instance annotations carry no data
    const p = props.get(key);
    if (!p || (p.meta.betaOnly && !beta)) {
      throw badRequest(`The property '${key}' does not exist on type '${type}'. Make sure to only use property names that are defined by the type.`);
    }
    if (!p.meta.updatable) throw badRequest(`The property '${key}' is read-only and cannot be updated.`);
    changes[key] = checkValue(key, p.schema, p.valueSchema, value, profile === "strict");
  }
  if (Object.keys(changes).length === 0) throw badRequest(`The request body has no ${resource.typeName} property to update.`);
  return changes;
}

function checkValue(key: string, schema: Annotated, valueSchema: Annotated, value: unknown, membersOnly: boolean): unknown {
  const e = valueSchema.graphEnum;
  if (e) {
    if (value === null && schema.nullable) return null;
    if (typeof value !== "string") throw badRequest(`Cannot convert the value of '${key}' to the enum type '${e.name}': a string is expected.`);
    // Strict: the CSDL's members only; an old alias is as unknown to the real service as any other word.
    const member = parseEnum(e, value, membersOnly);
    if (!member) {
      throw badRequest(`The value '${value}' is not valid for '${key}'. Valid values: ${e.members.filter((m) => m !== "unknownFutureValue").join(", ")}.`);
    }
    if (NOT_SETTABLE[key]?.has(member)) throw badRequest(`The value '${member}' cannot be set on '${key}'.`);
    return member;
  }
  if (valueSchema.type === "object" && value !== null) {
    // A free-form document (customDetails): bounded in depth and size like ingested ones.
    if (typeof value !== "object" || Array.isArray(value)) throw badRequest(`Invalid value for '${key}': a JSON object is expected.`);
    const bad = checkDocument(value, key);
    if (bad) throw badRequest(bad);
  }
  const nul = findJsonProblem(value, key, MAX_DOCUMENT_DEPTH);
  if (nul) throw badRequest(describeJsonProblem(nul, key, MAX_DOCUMENT_DEPTH));
  if (!Value.Check(schema, value)) {
    const first = [...Value.Errors(schema, value)][0];
    throw badRequest(`Invalid value for '${key}': ${first?.message ?? "wrong type"}.`);
  }
  return value;
}
