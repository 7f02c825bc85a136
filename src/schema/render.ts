import { renderEnum } from "./enums.js";
import { properties, type Resource } from "./meta.js";
import { evidenceHoldsGated, renderEvidence } from "./evidence.js";

export interface RenderOptions {
  /** /beta: beta-only properties are served. */
  beta: boolean;
  /** The client sent Prefer: include-unknown-enum-members. */
  includeUnknown: boolean;
  /** $select: only these properties, in schema order. */
  select: string[] | null;
}

/**
 * An entity as a client sees it: properties in Graph's order, beta-only ones only under /beta, gated
 * enum members collapsed to unknownFutureValue unless the client opted in, and $select applied.
 */
export function renderEntity(resource: Resource, doc: Record<string, unknown>, opts: RenderOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const selected = opts.select ? new Set(opts.select) : null;
  for (const p of properties(resource.schema).values()) {
    if (p.meta.betaOnly && !opts.beta) continue;
    if (selected && !selected.has(p.name)) continue;
    let v = doc[p.name];
    if (v === undefined) v = null;
    const e = p.valueSchema.graphEnum;
    if (e && typeof v === "string") v = renderEnum(e, v, opts.includeUnknown);
    else if (p.name === "evidence" && Array.isArray(v)) v = v.map((ev: Record<string, unknown>) => renderEvidence(ev, opts.includeUnknown));
    out[p.name] = v;
  }
  return out;
}

/**
 * Whether the entity's v1.0 rendering differs between a client that opted in to every enum member
 * and one that did not: a gated member in an enum property, or in an evidence element. What
 * `renderEntity` would replace, found without rendering.
 */
export function holdsGatedMember(resource: Resource, doc: Record<string, unknown>): boolean {
  for (const p of properties(resource.schema).values()) {
    if (p.meta.betaOnly) continue;
    const v = doc[p.name];
    const e = p.valueSchema.graphEnum;
    if (e && typeof v === "string" && e.gated.has(v as never)) return true;
    if (p.name === "evidence" && Array.isArray(v) && v.some((ev: Record<string, unknown>) => evidenceHoldsGated(ev))) return true;
  }
  return false;
}
