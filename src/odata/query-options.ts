import { ODataSyntaxError } from "./syntax-error.js";
import { parseFilter } from "./parse-filter.js";
import { parseOrderBy } from "./parse-orderby.js";
import { invalidQuery } from "../errors/graph-error.js";
import { properties, type Resource } from "../schema/meta.js";
import { decodeCursor } from "./cursor.js";
import type { ExpandAlerts, QueryPlan, SortKey } from "../query/plan.js";
import { checkFilterCost, DEFAULT_FILTER_LIMITS, type FilterLimits } from "./filter-cost.js";
import { checkStrictFilter } from "./strict.js";
import { DEFAULT_PROFILE, STRICT_MAX_SKIP, type Profile } from "../schema/profile.js";

const SUPPORTED = new Set(["$filter", "$orderby", "$top", "$skip", "$count", "$select", "$expand", "$skiptoken", "$format"]);

/** Reads the `$…` options of a URL query string (already split by URLSearchParams). */
export function readOptions(params: URLSearchParams): Map<string, string> {
  const seen = new Map<string, string>();
  for (const [rawKey, value] of params) {
    const key = rawKey.trim().toLowerCase();
    if (!key.startsWith("$")) continue;
    if (!SUPPORTED.has(key) && key !== "$search") {
      throw invalidQuery(`The query parameter '${rawKey}' is not supported.`);
    }
    if (key === "$search") throw invalidQuery("The query parameter '$search' is not supported on this resource.");
    if (seen.has(key)) throw invalidQuery(`Query option '${rawKey}' was specified more than once, but it must be specified at most once.`);
    seen.set(key, value);
  }
  return seen;
}

function parseNonNegativeInt(name: string, raw: string): number {
  if (!/^\s*\d{1,9}\s*$/.test(raw)) {
    throw invalidQuery(`Invalid value '${raw}' for ${name} query option found. The ${name} query option requires a non-negative integer value.`);
  }
  return Number(raw.trim());
}

export function parseSelect(resource: Resource, raw: string, beta: boolean): string[] {
  const props = properties(resource.schema);
  const names = raw.split(",").map((s) => s.trim());
  if (names.some((n) => n === "")) throw invalidQuery(`The $select expression '${raw}' has an empty item.`);
  const out: string[] = [];
  for (const n of names) {
    if (n === "*") {
      for (const p of props.values()) if (beta || !p.meta.betaOnly) out.push(p.name);
      continue;
    }
    const p = props.get(n);
    if (!p || (p.meta.betaOnly && !beta)) {
      throw invalidQuery(`Could not find a property named '${n}' on type 'microsoft.graph.security.${resource.typeName}'.`);
    }
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** Parses `alerts` or `alerts($select=a,b)`; nothing else can be expanded. */
function parseExpand(resource: Resource, raw: string, beta: boolean, alertResource: Resource): ExpandAlerts {
  const m = /^\s*(\w+)\s*(?:\((.*)\))?\s*$/s.exec(raw);
  const name = m?.[1];
  if (!m || !name) throw invalidQuery(`The $expand expression '${raw}' is not valid.`);
  if (resource.entitySet !== "incidents" || name !== "alerts") {
    throw invalidQuery(`Could not find a property named '${name}' on type 'microsoft.graph.security.${resource.typeName}'.`);
  }
  let select: string[] | null = null;
  const inner = m[2]?.trim();
  if (inner) {
    const sm = /^\$select\s*=\s*(.+)$/is.exec(inner);
    if (!sm?.[1]) throw invalidQuery(`Only $select is supported inside $expand; found '${inner}'.`);
    select = parseSelect(alertResource, sm[1], beta);
  }
  return { select };
}

/** `$orderby`: any property with a column, or under the strict profile only those Graph sorts by (`graphSortable`). */
export function parseOrder(resource: Resource, raw: string | undefined, profile: Profile = DEFAULT_PROFILE): SortKey[] {
  const props = properties(resource.schema);
  const keys: SortKey[] = [];
  const items = raw === undefined ? [] : wrapSyntax("$orderby", () => parseOrderBy(raw));
  for (const item of items) {
    const name = item.path.segments.join("/");
    const p = props.get(name);
    if (!p) throw invalidQuery(`Could not find a property named '${name}' on type 'microsoft.graph.security.${resource.typeName}'.`);
    if (!p.meta.sortable || !p.meta.column || (profile === "strict" && !p.meta.graphSortable)) {
      throw invalidQuery(`The property '${name}' cannot be used in the $orderby query option.`);
    }
    if (keys.some((k) => k.property.name === name)) throw invalidQuery(`The property '${name}' appears more than once in $orderby.`);
    keys.push({ property: p, column: p.meta.column, direction: item.direction });
  }
  const id = props.get("id")!;
  if (keys.length === 0) {
    // Graph lists newest first.
    keys.push({ property: props.get("createdDateTime")!, column: "created_at", direction: "desc" });
  }
  if (!keys.some((k) => k.property.name === "id")) {
    keys.push({ property: id, column: "id", direction: keys[keys.length - 1]!.direction });
  }
  return keys;
}

function wrapSyntax<T>(option: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ODataSyntaxError) throw invalidQuery(`${option}: ${e.message}`);
    throw e;
  }
}

export interface PlanOptions {
  resource: Resource;
  params: URLSearchParams;
  beta: boolean;
  alertResource: Resource;
  /** How large and costly a $filter may be (filter-cost.ts); the defaults when absent. */
  filterLimits?: FilterLimits | undefined;
  /** How strictly to read the options (schema/profile.ts); lenient when absent. */
  profile?: Profile | undefined;
}

export function planQuery({ resource, params, beta, alertResource, filterLimits = DEFAULT_FILTER_LIMITS, profile = DEFAULT_PROFILE }: PlanOptions): QueryPlan {
  const opts = readOptions(params);
  const rawFilter = opts.get("$filter");
  // A longer one is more likely an attack than a query.
  if (rawFilter !== undefined && rawFilter.length > filterLimits.maxLength) {
    throw invalidQuery(`The $filter expression is longer than ${filterLimits.maxLength} characters.`);
  }
  const filter = rawFilter === undefined ? null : wrapSyntax("$filter", () => parseFilter(rawFilter));
  if (filter) checkFilterCost(filter, filterLimits);
  if (filter && profile === "strict") checkStrictFilter(filter, resource);

  let top = resource.defaultPageSize;
  const rawTop = opts.get("$top");
  if (rawTop !== undefined) {
    top = parseNonNegativeInt("$top", rawTop);
    if (top > resource.maxPageSize && resource.topAboveMax === "clamp") top = resource.maxPageSize;
    else if (top > resource.maxPageSize) {
      throw invalidQuery(`The limit of '${resource.maxPageSize}' for Top query has been exceeded. The value from the incoming request is '${top}'.`);
    }
  }
  const rawSkip = opts.get("$skip");
  const skip = rawSkip === undefined ? 0 : parseNonNegativeInt("$skip", rawSkip);
  if (profile === "strict" && skip > STRICT_MAX_SKIP) {
    // The OData validator's wording for its MaxSkip setting, as for $top.
    throw invalidQuery(`The limit of '${STRICT_MAX_SKIP}' for Skip query has been exceeded. The value from the incoming request is '${skip}'.`);
  }

  const rawCount = opts.get("$count");
  let count = false;
  if (rawCount !== undefined) {
    const v = rawCount.trim().toLowerCase();
    if (v !== "true" && v !== "false") throw invalidQuery(`'${rawCount}' is not a valid count option.`);
    count = v === "true";
  }

  const rawFormat = opts.get("$format");
  if (rawFormat !== undefined && !/^\s*(json|application\/json)\s*$/i.test(rawFormat)) {
    throw invalidQuery(`The $format '${rawFormat}' is not supported; only json is.`);
  }

  const rawSelect = opts.get("$select");
  const select = rawSelect === undefined ? null : parseSelect(resource, rawSelect, beta);
  const rawExpand = opts.get("$expand");
  const expandAlerts = rawExpand === undefined ? null : parseExpand(resource, rawExpand, beta, alertResource);
  const orderBy = parseOrder(resource, opts.get("$orderby"), profile);

  const rawToken = opts.get("$skiptoken");
  const cursor = rawToken === undefined ? null : decodeCursor(rawToken, orderBy);

  const carried: [string, string][] = [];
  for (const key of ["$filter", "$orderby", "$select", "$expand", "$count", "$top"]) {
    const v = opts.get(key);
    if (v !== undefined) carried.push([key, v]);
  }
  return { filter, orderBy, top, skip: cursor ? 0 : skip, count, select, expandAlerts, cursor, carried };
}
