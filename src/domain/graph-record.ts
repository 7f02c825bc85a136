/**
 * An incident or alert document from outside — a fixture file's line, a page that `triage sync` read
 * from Graph — checked against the resource's schema before it is written as it is: a JSON object; each
 * property one Triage knows (or, for sync, the unknown ones dropped and reported: Graph adds properties
 * over time); each value of its type, an enum stored in a column one of its CSDL members (the column
 * holds the member's ordinal); the required ones present, the times valid instants; and within the
 * bounds of a stored document (MAX_RECORD_BYTES, MAX_RECORD_DEPTH, no NUL). The error names the record
 * and the property; the caller turns it into its own (a fixture's, a sync's).
 */
import { Value } from "@sinclair/typebox/value";
import { properties, type Resource } from "../schema/meta.js";
import { checkInstant } from "../schema/date-time.js";
import { checkDocument } from "../schema/json-limits.js";
import { MAX_RECORD_BYTES, MAX_RECORD_DEPTH } from "../schema/limits.js";

/** A record that cannot be stored as it is; the message names it (`where`) and what is wrong. */
export class GraphRecordError extends Error {}

export interface RecordCheckOptions {
  /**
   * A property Triage does not know, or an OData annotation: `refuse` it (a fixture file is Triage's
   * own format), or `drop` it and tell `onUnknown` (Graph's answers carry properties added since).
   */
  unknown: "refuse" | "drop";
  onUnknown?: (type: string, name: string) => void;
  /** Properties that must be present and not null; `id`, `createdDateTime`, `status`, `severity` when absent. */
  required?: readonly string[];
}

const REQUIRED = ["id", "createdDateTime", "status", "severity"];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The document as it is to be stored (a copy), or a GraphRecordError. */
export function checkGraphRecord(resource: Resource, value: unknown, where: string, o: RecordCheckOptions): Record<string, unknown> {
  const type = resource.typeName;
  if (!isObject(value)) throw new GraphRecordError(`${where}: not a JSON object (the ${type}).`);
  const props = properties(resource.schema);
  const doc: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value)) {
    const p = name.includes("@") ? undefined : props.get(name);
    if (!p) {
      if (o.unknown === "refuse") throw new GraphRecordError(`${where}: ${type} property '${name}' is not one Triage knows.`);
      if (!name.includes("@")) o.onUnknown?.(type, name);
      continue;
    }
    if (v !== null) {
      if (!Value.Check(p.valueSchema, v)) {
        const first = [...Value.Errors(p.valueSchema, v)][0];
        throw new GraphRecordError(`${where}: ${type} property '${name}'${first?.path ? ` at ${first.path}` : ""}: ${first?.message ?? "wrong type"}.`);
      }
      const e = p.valueSchema.graphEnum;
      if (e && p.meta.column && !e.members.includes(v as never)) {
        throw new GraphRecordError(`${where}: ${type} property '${name}': '${String(v)}' is not a member of ${e.name}.`);
      }
    }
    doc[name] = v;
  }
  for (const required of o.required ?? REQUIRED) {
    if (doc[required] == null) throw new GraphRecordError(`${where}: the ${type} has no ${required}.`);
  }
  for (const at of ["createdDateTime", "lastUpdateDateTime"]) {
    if (at !== "createdDateTime" && doc[at] == null) continue;
    const c = checkInstant(doc[at]);
    if (!c.ok) throw new GraphRecordError(`${where}: ${at} ${c.reason}`);
  }
  const bad = checkDocument(doc, where, MAX_RECORD_DEPTH, MAX_RECORD_BYTES, `an ${type === "incident" ? "incident" : "alert"}`);
  if (bad) throw new GraphRecordError(bad);
  return structuredClone(doc);
}
