/**
 * An in-memory reference for `$filter` and `$orderby`: evaluates a parsed filter (the real parser's
 * tree) against an entity as Graph JSON, and sorts entities the way the server promises to. It knows
 * nothing of SQL; its property types are written out here rather than read from the server's schema
 * annotations, so a mistake there shows up as a disagreement.
 *
 * Semantics (OData v4 with two-valued logic, as the server documents it):
 * - eq/ne treat null as a value (null eq null is true, null ne 'x' is true); gt/ge/lt/le with a null
 *   operand are false, so `not` of such a comparison is true.
 * - Enums compare by the declaration order of their members; a literal may use any accepted spelling.
 *   Elements of a collection of enum members (evidence `roles`) are stored by name and compare by
 *   canonical member name, with eq/ne/in only; a literal that is not a member is outside the reference.
 * - Date-times compare as instants; incident ids (decimal strings) numerically; strings by UTF-16 code
 *   units, which equals SQLite's BINARY collation for the ASCII text the tests use.
 * - startswith/endswith/contains are case-sensitive; with a null subject they are false.
 * - any/all over a null or absent collection see an empty one. Inside `evidence`, a type cast to
 *   another subtype makes the property null (a collection: empty) for that element.
 */
import type { CompareOp, FilterExpr, Literal, Operand, PathExpr } from "../../src/query/filter-ast.js";
import {
  alertClassification,
  alertDetermination,
  alertSeverity,
  alertStatus,
  detectionSource,
  detectionStatus,
  deviceHealthStatus,
  deviceRiskScore,
  evidenceRemediationStatus,
  evidenceRole,
  evidenceVerdict,
  incidentStatus,
  parseEnum,
  serviceSource,
  type GraphEnum,
} from "../../src/schema/enums.js";

export type ScalarType =
  | { kind: "string" }
  | { kind: "number" }
  | { kind: "datetime" }
  /** A decimal-string id that compares as a number. */
  | { kind: "numericId" }
  | { kind: "enum"; graphEnum: GraphEnum }
  /** An element of a collection of enum members: stored by name, compared by name with eq, ne and in only. */
  | { kind: "member"; graphEnum: GraphEnum };

export type PropType = ScalarType | { kind: "collection"; element: "string" | "evidence" } | { kind: "collection"; element: "member"; graphEnum: GraphEnum };

export interface RefModel {
  typeName: string;
  props: Readonly<Record<string, PropType>>;
}

const STRING: ScalarType = { kind: "string" };
const NUMBER: ScalarType = { kind: "number" };
const DATETIME: ScalarType = { kind: "datetime" };
const NUMERIC_ID: ScalarType = { kind: "numericId" };
const enumOf = (graphEnum: GraphEnum): ScalarType => ({ kind: "enum", graphEnum });
const STRINGS: PropType = { kind: "collection", element: "string" };
const membersOf = (graphEnum: GraphEnum): PropType => ({ kind: "collection", element: "member", graphEnum });

/** The filterable and sortable properties of an incident. */
export const incidentModel: RefModel = {
  typeName: "incident",
  props: {
    id: NUMERIC_ID,
    status: enumOf(incidentStatus),
    displayName: STRING,
    createdDateTime: DATETIME,
    lastUpdateDateTime: DATETIME,
    assignedTo: STRING,
    classification: enumOf(alertClassification),
    determination: enumOf(alertDetermination),
    severity: enumOf(alertSeverity),
    priorityScore: NUMBER,
    customTags: STRINGS,
    systemTags: STRINGS,
  },
};

/** The filterable and sortable properties of an alert. */
export const alertModel: RefModel = {
  typeName: "alert",
  props: {
    id: STRING,
    incidentId: NUMERIC_ID,
    status: enumOf(alertStatus),
    severity: enumOf(alertSeverity),
    classification: enumOf(alertClassification),
    determination: enumOf(alertDetermination),
    serviceSource: enumOf(serviceSource),
    detectionSource: enumOf(detectionSource),
    title: STRING,
    assignedTo: STRING,
    createdDateTime: DATETIME,
    lastUpdateDateTime: DATETIME,
    firstActivityDateTime: DATETIME,
    lastActivityDateTime: DATETIME,
    categories: STRINGS,
    mitreTechniques: STRINGS,
    evidence: { kind: "collection", element: "evidence" },
  },
};

/** Properties of every evidence element (alertEvidence), by `/`-joined path. */
export const evidenceBaseProps: Readonly<Record<string, PropType>> = {
  createdDateTime: DATETIME,
  verdict: enumOf(evidenceVerdict),
  remediationStatus: enumOf(evidenceRemediationStatus),
  remediationStatusDetails: STRING,
  roles: membersOf(evidenceRole),
  detailedRoles: STRINGS,
  tags: STRINGS,
};

/** Own properties of the evidence subtypes the tests filter on, by `/`-joined path. */
export const evidenceSubtypeProps: Readonly<Record<string, Readonly<Record<string, PropType>>>> = {
  deviceEvidence: {
    mdeDeviceId: STRING,
    deviceDnsName: STRING,
    osPlatform: STRING,
    osBuild: NUMBER,
    rbacGroupId: NUMBER,
    healthStatus: enumOf(deviceHealthStatus),
    riskScore: enumOf(deviceRiskScore),
    firstSeenDateTime: DATETIME,
    ipInterfaces: STRINGS,
  },
  userEvidence: {
    "userAccount/accountName": STRING,
    "userAccount/domainName": STRING,
    "userAccount/userPrincipalName": STRING,
  },
  ipEvidence: { ipAddress: STRING, countryLetterCode: STRING },
  urlEvidence: { url: STRING },
  fileEvidence: {
    "fileDetails/fileName": STRING,
    "fileDetails/sha256": STRING,
    "fileDetails/fileSize": NUMBER,
    detectionStatus: enumOf(detectionStatus),
    mdeDeviceId: STRING,
  },
  processEvidence: {
    processId: NUMBER,
    processCommandLine: STRING,
    "imageFile/fileName": STRING,
    "userAccount/userPrincipalName": STRING,
    mdeDeviceId: STRING,
  },
  mailboxEvidence: { displayName: STRING, primaryAddress: STRING, upn: STRING },
};

const NS = "microsoft.graph.security.";

/** The reference found the filter outside what it models: a bug in the test, not in the server. */
export class OutsideReference extends Error {}

type Entity = Record<string, unknown>;

interface Scope {
  variable: string;
  value: unknown;
  /** A string, an evidence element, or a member of `graphEnum` (stored by name). */
  element: "string" | "evidence" | "member";
  graphEnum?: GraphEnum | undefined;
}

interface Ctx {
  model: RefModel;
  entity: Entity;
  scopes: Scope[];
}

/** A property (or function) value with its type; `value` is null when absent. */
interface Typed {
  type: ScalarType;
  value: unknown;
}

type Evaluated = Typed | { literal: Literal };

export function evaluateFilter(expr: FilterExpr, entity: Entity, model: RefModel): boolean {
  return evaluate(expr, { model, entity, scopes: [] });
}

function evaluate(e: FilterExpr, ctx: Ctx): boolean {
  switch (e.kind) {
    case "and":
      return evaluate(e.left, ctx) && evaluate(e.right, ctx);
    case "or":
      return evaluate(e.left, ctx) || evaluate(e.right, ctx);
    case "not":
      return !evaluate(e.operand, ctx);
    case "compare":
      return compare(e.op, operand(e.left, ctx), operand(e.right, ctx));
    case "in": {
      const left = operand(e.left, ctx);
      return e.values.some((v) => compare("eq", left, { literal: v }));
    }
    case "predicate":
      return stringFunction(e.call.name, e.call.args, ctx);
    case "lambda":
      return lambda(e, ctx);
    case "boolpath":
      throw new OutsideReference(`bare boolean path ${e.path.segments.join("/")}`);
  }
}

// ── operands ──────────────────────────────────────────────────────────────────────────────────────

function operand(o: Operand, ctx: Ctx): Evaluated {
  switch (o.kind) {
    case "literal":
      return { literal: o.literal };
    case "path":
      return resolvePath(o, ctx);
    case "call": {
      if (o.name !== "tolower" && o.name !== "toupper") {
        throw new OutsideReference(`${o.name}() used as a value`);
      }
      const [arg] = o.args;
      if (!arg) throw new OutsideReference(`${o.name}() without argument`);
      const inner = operand(arg, ctx);
      if ("literal" in inner || inner.type.kind !== "string") throw new OutsideReference(`${o.name}() of a non-string`);
      const v = inner.value;
      return { type: STRING, value: typeof v === "string" ? (o.name === "tolower" ? v.toLowerCase() : v.toUpperCase()) : null };
    }
  }
}

function scalar(type: PropType | undefined, what: string): ScalarType {
  if (!type) throw new OutsideReference(`unknown property ${what}`);
  if (type.kind === "collection") throw new OutsideReference(`${what} is a collection`);
  return type;
}

function resolvePath(path: PathExpr, ctx: Ctx): Typed {
  const [first, ...rest] = path.segments;
  const scope = ctx.scopes.find((s) => s.variable === first);
  if (scope) {
    if (scope.element !== "evidence") {
      if (rest.length > 0) throw new OutsideReference(`path into a string: ${path.segments.join("/")}`);
      const type: ScalarType = scope.element === "member" ? { kind: "member", graphEnum: scope.graphEnum! } : STRING;
      return { type, value: scope.value ?? null };
    }
    const { type, value } = evidenceMember(scope.value, rest);
    return { type: scalar(type, rest.join("/")), value };
  }
  if (first === undefined || rest.length > 0) throw new OutsideReference(`unknown property ${path.segments.join("/")}`);
  const type = scalar(ctx.model.props[first], first);
  return { type, value: ctx.entity[first] ?? null };
}

/** A member of an evidence element, after an optional type cast: its declared type and its value. */
function evidenceMember(element: unknown, segments: string[]): { type: PropType | undefined; value: unknown } {
  let props = segments;
  let cast: string | null = null;
  if (props[0]?.includes(".")) {
    if (!props[0].startsWith(NS)) throw new OutsideReference(`cast to ${props[0]}`);
    cast = props[0].slice(NS.length);
    props = props.slice(1);
  }
  const key = props.join("/");
  const type = cast === null ? evidenceBaseProps[key] : (evidenceSubtypeProps[cast]?.[key] ?? evidenceBaseProps[key]);
  if (!type) throw new OutsideReference(`unknown evidence property ${cast ?? "alertEvidence"}/${key}`);
  const obj = element as Record<string, unknown> | null;
  if (cast !== null && obj?.["@odata.type"] !== `#${NS}${cast}`) return { type, value: null };
  let value: unknown = obj;
  for (const p of props) {
    value = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>)[p] : undefined;
  }
  return { type, value: value ?? null };
}

// ── comparisons ───────────────────────────────────────────────────────────────────────────────────

const FLIP: Record<CompareOp, CompareOp> = { eq: "eq", ne: "ne", gt: "lt", ge: "le", lt: "gt", le: "ge" };
const NEVER = Symbol("never");

function compare(op: CompareOp, a: Evaluated, b: Evaluated): boolean {
  if ("literal" in a && "literal" in b) throw new OutsideReference("comparison of two literals");
  if (!("literal" in a) && !("literal" in b)) throw new OutsideReference("comparison of two properties");
  if ("literal" in a) return compare(FLIP[op], b, a);
  const l = (b as { literal: Literal }).literal;
  const t = a as Typed;
  const left = t.value === null ? null : propertyKey(t.type, t.value);
  const right = l.kind === "null" ? null : literalKey(t.type, l);
  if (left === null || right === null) {
    if (op === "eq") return left === right;
    if (op === "ne") return left !== right;
    return false;
  }
  if (t.type.kind === "member" && op !== "eq" && op !== "ne") {
    throw new OutsideReference(`${t.type.graphEnum.name} elements support only eq, ne and in`);
  }
  if (right === NEVER) {
    if (op === "eq") return false;
    if (op === "ne") return true;
    throw new OutsideReference(`ordering comparison with a value that is not an id`);
  }
  const c = cmp(left, right);
  switch (op) {
    case "eq":
      return c === 0;
    case "ne":
      return c !== 0;
    case "gt":
      return c > 0;
    case "ge":
      return c >= 0;
    case "lt":
      return c < 0;
    case "le":
      return c <= 0;
  }
}

function cmp(a: string | number, b: string | number): number {
  if (typeof a !== typeof b) throw new OutsideReference(`comparing ${typeof a} with ${typeof b}`);
  return a < b ? -1 : a > b ? 1 : 0;
}

function enumIndex(e: GraphEnum, raw: string): number {
  const member = parseEnum(e, raw);
  if (member === undefined) throw new OutsideReference(`'${raw}' is not a ${e.name}`);
  return e.members.indexOf(member);
}

/** The canonical name of the member a literal spells. */
function enumMember(e: GraphEnum, raw: string): string {
  const member = parseEnum(e, raw);
  if (member === undefined) throw new OutsideReference(`'${raw}' is not a ${e.name}`);
  return member;
}

/** A property value as a comparable key (null when it has no usable value). */
function propertyKey(type: ScalarType, v: unknown): string | number | null {
  switch (type.kind) {
    case "string":
      return typeof v === "string" ? v : null;
    case "number":
      return typeof v === "number" ? v : null;
    case "datetime": {
      const ms = typeof v === "string" ? Date.parse(v) : NaN;
      return Number.isNaN(ms) ? null : ms;
    }
    case "numericId":
      return typeof v === "string" && /^\d+$/.test(v) ? Number(v) : null;
    case "enum":
      return typeof v === "string" ? type.graphEnum.members.indexOf(v) : null;
    case "member":
      return typeof v === "string" ? v : null;
  }
}

function literalKey(type: ScalarType, l: Literal): string | number | typeof NEVER {
  const bad = (): never => {
    throw new OutsideReference(`literal ${JSON.stringify(l)} does not fit a ${type.kind}`);
  };
  switch (type.kind) {
    case "string":
      return l.kind === "string" || l.kind === "guid" ? l.value : bad();
    case "number":
      return l.kind === "number" ? l.value : bad();
    case "datetime":
      return l.kind === "datetime" ? Date.parse(l.value) : bad();
    case "numericId":
      if (l.kind === "number" && Number.isInteger(l.value)) return l.value;
      if (l.kind !== "string") return bad();
      return /^\d{1,15}$/.test(l.value) ? Number(l.value) : NEVER;
    case "enum":
      return l.kind === "string" || l.kind === "enum" ? enumIndex(type.graphEnum, l.value) : bad();
    case "member":
      return l.kind === "string" || l.kind === "enum" ? enumMember(type.graphEnum, l.value) : bad();
  }
}

function stringFunction(name: string, args: Operand[], ctx: Ctx): boolean {
  const [first, second] = args;
  if (!first || !second) throw new OutsideReference(`${name} needs two arguments`);
  const subject = operand(first, ctx);
  const needle = operand(second, ctx);
  if ("literal" in subject || subject.type.kind !== "string") throw new OutsideReference(`${name} of a non-string`);
  if (!("literal" in needle) || needle.literal.kind !== "string") throw new OutsideReference(`${name} needs a string literal`);
  const s = subject.value;
  const n = needle.literal.value;
  if (typeof s !== "string") return false;
  switch (name) {
    case "startswith":
      return s.startsWith(n);
    case "endswith":
      return s.endsWith(n);
    case "contains":
      return s.includes(n);
    default:
      throw new OutsideReference(`${name} is not a predicate`);
  }
}

// ── lambdas ───────────────────────────────────────────────────────────────────────────────────────

function lambda(e: Extract<FilterExpr, { kind: "lambda" }>, ctx: Ctx): boolean {
  const [first, ...rest] = e.collection.segments;
  const outer = ctx.scopes.find((s) => s.variable === first);
  let items: unknown;
  let element: Scope["element"];
  let graphEnum: GraphEnum | undefined;
  if (outer) {
    if (outer.element !== "evidence") throw new OutsideReference(`lambda inside a ${outer.element} element`);
    const { type, value } = evidenceMember(outer.value, rest);
    if (type?.kind !== "collection" || type.element === "evidence") {
      throw new OutsideReference(`${rest.join("/")} is not a collection of strings or enum members`);
    }
    items = value;
    element = type.element;
    if (type.element === "member") graphEnum = type.graphEnum;
  } else {
    const type = first === undefined || rest.length > 0 ? undefined : ctx.model.props[first];
    if (type?.kind !== "collection") throw new OutsideReference(`${e.collection.segments.join("/")} is not a collection`);
    items = ctx.entity[first!];
    element = type.element;
    if (type.element === "member") graphEnum = type.graphEnum;
  }
  const list = Array.isArray(items) ? (items as unknown[]) : [];
  if (e.variable === null || e.predicate === null) return e.op === "any" ? list.length > 0 : true;
  const variable = e.variable;
  const predicate = e.predicate;
  const test = (value: unknown) => evaluate(predicate, { ...ctx, scopes: [...ctx.scopes, { variable, value, element, graphEnum }] });
  return e.op === "any" ? list.some(test) : list.every(test);
}

// ── ordering ──────────────────────────────────────────────────────────────────────────────────────

export interface RefOrderKey {
  property: string;
  direction: "asc" | "desc";
}

/**
 * The server's listing order: the given keys (createdDateTime desc when none), then id in the
 * direction of the last key unless id is already a key. Null sorts as the smallest value.
 */
export function effectiveOrder(keys: readonly RefOrderKey[]): RefOrderKey[] {
  const out = keys.length > 0 ? [...keys] : [{ property: "createdDateTime", direction: "desc" as const }];
  if (!out.some((k) => k.property === "id")) out.push({ property: "id", direction: out[out.length - 1]!.direction });
  return out;
}

export function compareEntities(a: Entity, b: Entity, keys: readonly RefOrderKey[], model: RefModel): number {
  for (const k of keys) {
    const type = scalar(model.props[k.property], k.property);
    const va = a[k.property] == null ? null : propertyKey(type, a[k.property]);
    const vb = b[k.property] == null ? null : propertyKey(type, b[k.property]);
    let c: number;
    if (va === null || vb === null) c = va === vb ? 0 : va === null ? -1 : 1;
    else c = cmp(va, vb);
    if (c !== 0) return k.direction === "asc" ? c : -c;
  }
  return 0;
}

export function sortEntities<T extends Entity>(rows: readonly T[], keys: readonly RefOrderKey[], model: RefModel): T[] {
  const order = effectiveOrder(keys);
  return [...rows].sort((a, b) => compareEntities(a, b, order, model));
}
