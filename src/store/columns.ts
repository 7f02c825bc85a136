import { properties, type Resource } from "../schema/meta.js";
import { holdsGatedMember, renderEntity } from "../schema/render.js";
import { normalizeDateTime } from "../schema/date-time.js";

/**
 * What the `gated` column says of a row: its ready v1.0 JSON is in `json_v1` and has no gated member
 * (`READY`), or holds one (`GATED`: in `json_v1`, or the document itself where that is null), or is
 * the stored document itself (`READY_IS_DOC`: `json_v1` is null rather than a second copy — an
 * alert's document usually renders to itself, and two ~5 KB copies per alert doubled the store and
 * the ingestion's writes). A null `json_v1` with `READY` is a row written before the ready JSON
 * existed: it is rendered from its document.
 */
export const READY = 0;
export const GATED = 1;
export const READY_IS_DOC = 2;

/** Every stored column of an entity document: its promoted columns and its stored JSON. */
export function columnsOf(resource: Resource, doc: Record<string, unknown>): Record<string, string | number | null> {
  return { ...promotedColumns(resource, doc), ...storedJson(resource, doc) };
}

/**
 * The promoted column values of an entity document, derived from the schema's column mapping, so a
 * property's column can never disagree with its document: enums as ordinals, decimal-string ids as
 * integers, datetimes as fixed-width UTC text (which sorts chronologically).
 */
export function promotedColumns(resource: Resource, doc: Record<string, unknown>): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
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

/**
 * The stored JSON of an entity: its document, and its v1.0 form kept ready so a listing can splice it
 * into the page (null when that is the document's own text), with whether it holds a gated enum
 * member (then a client that did not opt in gets it rendered the slow way).
 */
function storedJson(resource: Resource, doc: Record<string, unknown>): { doc: string; json_v1: string | null; gated: number } {
  const text = JSON.stringify(doc);
  const itself = rendersToItself(resource, doc);
  const rendered = itself ? doc : renderEntity(resource, doc, { beta: false, includeUnknown: true, select: null });
  const open = itself || sameJson(doc, rendered) ? text : JSON.stringify(rendered);
  const ready = open === text ? null : open;
  if (holdsGatedMember(resource, doc)) return { doc: text, json_v1: ready, gated: GATED };
  return { doc: text, json_v1: ready, gated: ready === null ? READY_IS_DOC : READY };
}

const v1Names = new WeakMap<Resource, readonly string[]>();

/**
 * Whether the document is its own v1.0 rendering for a client that opted in to every enum member: it
 * holds exactly the v1.0 properties, in the schema's order, none undefined (rendering with every
 * member passes values through as they are). Normalized documents are built so; this spares building
 * the rendering to find out.
 */
function rendersToItself(resource: Resource, doc: Record<string, unknown>): boolean {
  let names = v1Names.get(resource);
  if (!names) {
    names = [...properties(resource.schema).values()].filter((p) => !p.meta.betaOnly).map((p) => p.name);
    v1Names.set(resource, names);
  }
  const keys = Object.keys(doc);
  if (keys.length !== names.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== names[i] || doc[keys[i]!] === undefined) return false;
  return true;
}

/**
 * Whether two objects serialize to the same JSON because they hold the same keys in the same order and
 * the same values (the same references, or arrays of the same references): a rendered document usually
 * passes its document's values through, and this spares serializing it a second time. Anything else
 * answers false, and the caller serializes and compares.
 */
function sameJson(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  const other = Object.keys(b);
  if (keys.length !== other.length) return false;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k !== other[i]) return false;
    const x = a[k];
    const y = b[k];
    if (x === y && x !== undefined) continue;
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j] || x[j] === undefined) return false;
  }
  return true;
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
