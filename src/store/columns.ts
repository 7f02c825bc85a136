import { properties, type Resource } from "../schema/meta.js";
import { renderEntity } from "../schema/render.js";
import * as enums from "../schema/enums.js";
import * as evidence from "../schema/evidence.js";

/**
 * The promoted column values of an entity document, derived from the schema's column mapping, so a
 * property's column can never disagree with its document: enums as ordinals, decimal-string ids as
 * integers, datetimes as fixed-width UTC text (which sorts chronologically).
 */
export function columnsOf(resource: Resource, doc: Record<string, unknown>): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = renderedColumns(resource, doc);
  for (const p of properties(resource.schema).values()) {
    const col = p.meta.column;
    if (!col) continue;
    const v = doc[p.name];
    if (v === null || v === undefined) {
      out[col] = null;
      continue;
    }
    const e = p.valueSchema.graphEnum;
    if (e) out[col] = e.members.indexOf(v as never);
    else if (p.meta.columnType === "integer") out[col] = Number(v);
    else if (p.meta.columnType === "datetime") out[col] = normalizeDateTime(String(v));
    else out[col] = v as string | number;
  }
  return out;
}

/** Fixed-width UTC ISO 8601 with milliseconds. */
export function normalizeDateTime(v: string): string {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new Error(`not a date-time: ${v}`);
  return d.toISOString();
}

/**
 * The entity as /v1.0 serves it, kept ready so a listing can splice it into the page, and whether it
 * holds a gated enum member (then a client that did not opt in gets it rendered the slow way).
 */
function renderedColumns(resource: Resource, doc: Record<string, unknown>): { json_v1: string; gated: number } {
  const open = JSON.stringify(renderEntity(resource, doc, { beta: false, includeUnknown: true, select: null }));
  // Hiding only ever replaces a gated member's string value, so without one there is nothing to hide.
  if (!gatedMembers().some((m) => open.includes(m))) return { json_v1: open, gated: 0 };
  const hidden = JSON.stringify(renderEntity(resource, doc, { beta: false, includeUnknown: false, select: null }));
  return { json_v1: open, gated: open === hidden ? 0 : 1 };
}

let gatedCache: string[] | null = null;

/** Every gated enum member as it appears in JSON (quoted), from every module that declares enums. */
function gatedMembers(): string[] {
  if (gatedCache) return gatedCache;
  const found = new Set<string>();
  for (const value of [...Object.values(enums), ...Object.values(evidence)]) {
    const gated = (value as { gated?: unknown } | null)?.gated;
    if (gated instanceof Set) for (const m of gated) found.add(JSON.stringify(m));
  }
  return (gatedCache = [...found]);
}

/**
 * The columns of `after` whose values differ from `before`'s. An UPDATE writes only these: SQLite
 * rewrites the entries of every index that covers a column named in SET, changed or not, and an
 * incident has eight of them.
 */
export function changedColumns<T extends object>(before: T, after: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k of Object.keys(after) as (keyof T)[]) if (after[k] !== before[k]) out[k] = after[k];
  return out;
}
