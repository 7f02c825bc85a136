import { sql, type RawBuilder, type SqlBool } from "kysely";
import type { TSchema } from "@sinclair/typebox";
import type { CallExpr, CompareOp, FilterExpr, Literal, Operand, PathExpr } from "../query/filter-ast.js";
import { invalidEnumConstant, invalidQuery } from "../errors/graph-error.js";
import { parseEnum, type GraphEnum } from "../schema/enums.js";
import { isCollection, properties, type Annotated, type PropertyInfo, type Resource } from "../schema/meta.js";
import { evidencePropertyType } from "../schema/evidence.js";
import { MAX_INCIDENT_ID } from "../schema/limits.js";
import type { JsonSql } from "./json-sql.js";

/**
 * Turns a parsed $filter into a SQL predicate over the resource's table. Scalar properties are read
 * from their promoted (indexed) columns; collections (customTags, evidence, …) from the entity
 * document with the dialect's JSON table functions — always in SQL, never in memory.
 *
 * NULL handling: every comparison with a NULL operand yields NULL, which WHERE treats as false; `not`
 * coalesces its operand first, so the result matches OData's two-valued logic (null ne 'x' is true).
 */

type ValueKind = "string" | "integer" | "number" | "boolean" | "datetime";

interface Typed {
  sql: RawBuilder<unknown>;
  kind: ValueKind;
  graphEnum?: GraphEnum;
  /** Enum stored as its ordinal (promoted columns) rather than its name (JSON documents). */
  ordinal?: boolean;
  /** A decimal-string id stored as an integer column. */
  numericId?: boolean;
  name: string;
}

interface Scope {
  variable: string;
  /** The JSON value the range variable stands for. */
  value: RawBuilder<unknown>;
  /** "string" for string collections; "evidence" for alertEvidence elements. */
  element: "string" | "evidence";
  /** For collections of enum members (evidence roles): their enum, stored by name. */
  graphEnum?: GraphEnum | undefined;
}

interface Ctx {
  resource: Resource;
  json: JsonSql;
  scopes: Scope[];
  aliasCounter: { n: number };
}

const TRUE = sql<SqlBool>`1 = 1`;
const FALSE = sql<SqlBool>`1 = 0`;
const EVIDENCE_NS = "microsoft.graph.security.";

export function compileFilter(expr: FilterExpr, resource: Resource, json: JsonSql): RawBuilder<SqlBool> {
  return compile(expr, { resource, json, scopes: [], aliasCounter: { n: 0 } });
}

function compile(e: FilterExpr, ctx: Ctx): RawBuilder<SqlBool> {
  switch (e.kind) {
    case "and":
      return sql<SqlBool>`(${compile(e.left, ctx)} and ${compile(e.right, ctx)})`;
    case "or":
      return sql<SqlBool>`(${compile(e.left, ctx)} or ${compile(e.right, ctx)})`;
    case "not":
      return sql<SqlBool>`(not coalesce(${compile(e.operand, ctx)}, false))`;
    case "compare":
      return compileCompare(e.op, e.left, e.right, ctx);
    case "in":
      return compileIn(e.left, e.values, ctx);
    case "predicate":
      return compileStringFunction(e.call, ctx);
    case "lambda":
      return compileLambda(e, ctx);
    case "boolpath":
      throw invalidQuery(`The expression '${e.path.segments.join("/")}' is not a boolean predicate.`);
  }
}

function typeName(ctx: Ctx): string {
  return `microsoft.graph.security.${ctx.resource.typeName}`;
}

function noProperty(name: string, on: string): never {
  throw invalidQuery(`Invalid filter clause: Could not find a property named '${name}' on type '${on}'.`);
}

function kindOf(schema: Annotated | TSchema): ValueKind | "collection" | "object" {
  const s = schema as Annotated;
  if (s.anyOf) {
    const branch = (s.anyOf as Annotated[]).find((b) => b.type !== "null");
    if (branch) return kindOf(branch);
  }
  if (s.format === "date-time") return "datetime";
  switch (s.type) {
    case "string":
      return "string";
    case "integer":
      return "integer";
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "array":
      return "collection";
    default:
      return "object";
  }
}

function enumOf(schema: Annotated | TSchema): GraphEnum | undefined {
  const s = schema as Annotated;
  if (s.graphEnum) return s.graphEnum;
  if (s.anyOf) for (const b of s.anyOf as Annotated[]) if (b.graphEnum) return b.graphEnum;
  return undefined;
}

/** A top-level property of the resource, as a typed SQL operand. */
function resolveProperty(path: PathExpr, ctx: Ctx): Typed {
  const [first, ...rest] = path.segments;
  if (first === undefined) noProperty("", typeName(ctx));
  const scope = ctx.scopes.find((s) => s.variable === first);
  if (scope) return resolveInScope(scope, rest, path, ctx);
  if (rest.length > 0) noProperty(path.segments.join("/"), typeName(ctx));
  const p = properties(ctx.resource.schema).get(first);
  if (!p) noProperty(first, typeName(ctx));
  if (!p.meta.filterable) {
    throw invalidQuery(`Invalid filter clause: The property '${first}' cannot be used in the $filter query option.`);
  }
  if (isCollection(p)) {
    throw invalidQuery(`Invalid filter clause: '${first}' is a collection; use ${first}/any(…) or ${first}/all(…).`);
  }
  return columnOperand(p, ctx);
}

function columnOperand(p: PropertyInfo, ctx: Ctx): Typed {
  // Qualified: inside a lambda's json_each, a bare "id" would name json_each's own id column.
  const col = sql.ref(`${ctx.resource.table}.${p.meta.column!}`);
  const e = p.meta.graphEnum ?? enumOf(p.valueSchema);
  if (e) return { sql: col, kind: "string", graphEnum: e, ordinal: true, name: p.name };
  if (p.meta.columnType === "integer" && kindOf(p.valueSchema) === "string") {
    return { sql: col, kind: "string", numericId: true, name: p.name };
  }
  const k = kindOf(p.valueSchema);
  if (k === "collection" || k === "object") throw invalidQuery(`Invalid filter clause: '${p.name}' cannot be compared.`);
  return { sql: col, kind: k, name: p.name };
}

function resolveInScope(scope: Scope, rest: string[], path: PathExpr, ctx: Ctx): Typed {
  if (scope.element === "string") {
    if (rest.length > 0) noProperty(rest.join("/"), "Edm.String");
    const typed: Typed = { sql: scope.value, kind: "string", name: scope.variable };
    if (scope.graphEnum) typed.graphEnum = scope.graphEnum;
    return typed;
  }
  // Evidence: optional type cast, then a property path inside the (sub)type.
  let subtype: string | null = null;
  let props = rest;
  if (props[0]?.includes(".")) {
    const cast = props[0];
    if (!cast.startsWith(EVIDENCE_NS)) noProperty(cast, "microsoft.graph.security.alertEvidence");
    subtype = cast.slice(EVIDENCE_NS.length);
    props = props.slice(1);
  }
  if (props.length === 0) throw invalidQuery(`Invalid filter clause: '${path.segments.join("/")}' does not name a property.`);
  const schema = evidencePropertyType(subtype ?? "alertEvidence", props);
  if (!schema) noProperty(props.join("/"), `microsoft.graph.security.${subtype ?? "alertEvidence"}`);
  const k = kindOf(schema);
  if (k === "collection" || k === "object") {
    throw invalidQuery(`Invalid filter clause: '${props.join("/")}' is not a primitive value; use a lambda or a deeper path.`);
  }
  const extracted = ctx.json.extract(scope.value, props, k);
  // Evidence keeps date-times as sent (any offset, any precision): compare them as instants.
  const value = k === "datetime" ? ctx.json.instant(extracted) : extracted;
  const typed: Typed = { sql: value, kind: k, name: props.join("/") };
  const en = enumOf(schema);
  if (en) typed.graphEnum = en;
  if (subtype) {
    const typeTest = sql`${ctx.json.extract(scope.value, ["@odata.type"])} = ${`#${EVIDENCE_NS}${subtype}`}`;
    // A cast filters the element to that subtype: the value is NULL for any other subtype.
    typed.sql = sql`(case when ${typeTest} then ${value} end)`;
  }
  return typed;
}

function operand(o: Operand, ctx: Ctx): Typed | { literal: Literal } {
  switch (o.kind) {
    case "path":
      return resolveProperty(o, ctx);
    case "literal":
      return { literal: o.literal };
    case "call":
      return callOperand(o, ctx);
  }
}

function callOperand(c: CallExpr, ctx: Ctx): Typed {
  if (c.name === "tolower" || c.name === "toupper") {
    const [arg] = c.args;
    if (c.args.length !== 1 || !arg) throw invalidQuery(`Invalid filter clause: ${c.name} takes one argument.`);
    const inner = operand(arg, ctx);
    if ("literal" in inner || inner.kind !== "string" || inner.graphEnum || inner.numericId) {
      throw invalidQuery(`Invalid filter clause: ${c.name} needs a string property.`);
    }
    const fn = c.name === "tolower" ? sql`lower(${inner.sql})` : sql`upper(${inner.sql})`;
    return { sql: fn, kind: "string", name: `${c.name}(${inner.name})` };
  }
  return { sql: compileStringFunction(c, ctx), kind: "boolean", name: c.name };
}

const FLIP: Record<CompareOp, CompareOp> = { eq: "eq", ne: "ne", gt: "lt", ge: "le", lt: "gt", le: "ge" };
const SQL_OP: Record<CompareOp, string> = { eq: "=", ne: "<>", gt: ">", ge: ">=", lt: "<", le: "<=" };

function literalText(l: Literal): string {
  switch (l.kind) {
    case "string":
      return `'${l.value}'`;
    case "null":
      return "null";
    case "boolean":
      return String(l.value);
    case "number":
      return l.raw;
    case "datetime":
      return l.raw;
    case "guid":
      return l.value;
    case "enum":
      return `${l.type}'${l.value}'`;
  }
}

function incompatible(t: Typed, l: Literal): never {
  throw invalidQuery(
    `Invalid filter clause: A binary operator with incompatible types was detected. The property '${t.name}' cannot be compared with ${literalText(l)}.`,
  );
}

/** The SQL value a literal stands for when compared with `t`, or "never" when no row can match. */
function literalValue(t: Typed, l: Literal, op: CompareOp | "in"): unknown {
  if (t.graphEnum) {
    const raw = l.kind === "string" ? l.value : l.kind === "enum" ? l.value : null;
    if (raw === null) incompatible(t, l);
    const member = parseEnum(t.graphEnum, raw);
    if (!member) throw invalidEnumConstant(raw, t.graphEnum.name);
    if (!t.ordinal && op !== "eq" && op !== "ne" && op !== "in") {
      throw invalidQuery(`Invalid filter clause: '${t.name}' supports only eq, ne and in.`);
    }
    return t.ordinal ? t.graphEnum.members.indexOf(member) : member;
  }
  if (t.numericId) {
    let n: number;
    if (l.kind === "number" && Number.isInteger(l.value)) n = l.value;
    else if (l.kind !== "string") incompatible(t, l);
    else if (/^\d{1,15}$/.test(l.value)) n = Number(l.value);
    else if (op === "eq" || op === "ne" || op === "in") return NEVER;
    else throw invalidQuery(`Invalid filter clause: '${l.value}' is not a valid ${t.name}.`);
    // Beyond the 32-bit id column no id can be equal; PostgreSQL would refuse the parameter outright.
    if (Math.abs(n) > MAX_INCIDENT_ID) return n > 0 ? ABOVE_EVERY_ID : BELOW_EVERY_ID;
    return n;
  }
  switch (t.kind) {
    case "string":
      if (l.kind === "string") return l.value;
      if (l.kind === "guid") return l.value;
      return incompatible(t, l);
    case "datetime":
      if (l.kind === "datetime") return l.value;
      return incompatible(t, l);
    case "integer":
    case "number":
      if (l.kind === "number") return l.value;
      return incompatible(t, l);
    case "boolean":
      if (l.kind === "boolean") return l.value ? 1 : 0;
      return incompatible(t, l);
  }
}

const NEVER = Symbol("never");
const ABOVE_EVERY_ID = Symbol("above every id");
const BELOW_EVERY_ID = Symbol("below every id");

/** A comparison with a number past either end of the id column's range: decided without a parameter. */
function beyondIds(t: Typed, op: CompareOp, above: boolean): RawBuilder<SqlBool> {
  if (op === "eq") return FALSE;
  if (op === "ne") return TRUE;
  const holds = above ? op === "lt" || op === "le" : op === "gt" || op === "ge";
  return holds ? sql<SqlBool>`(${t.sql} is not null)` : FALSE;
}

/** A literal's SQL parameter; numbers are typed as numbers (PostgreSQL would otherwise read 0.5 as an integer column's type). */
function param(t: Typed, v: unknown, ctx: Ctx): RawBuilder<unknown> {
  return (t.kind === "integer" || t.kind === "number") && typeof v === "number" && !t.graphEnum ? ctx.json.number(v) : sql`${v}`;
}

function compileCompare(op: CompareOp, left: Operand, right: Operand, ctx: Ctx): RawBuilder<SqlBool> {
  let a = operand(left, ctx);
  let b = operand(right, ctx);
  if ("literal" in a && "literal" in b) throw invalidQuery("Invalid filter clause: a comparison needs at least one property.");
  if (!("literal" in a) && !("literal" in b)) {
    throw invalidQuery("Invalid filter clause: comparing two properties is not supported.");
  }
  if ("literal" in a) {
    [a, b] = [b, a];
    op = FLIP[op];
  }
  const t = a as Typed;
  const l = (b as { literal: Literal }).literal;
  if (l.kind === "null") {
    if (op === "eq") return sql<SqlBool>`(${t.sql} is null)`;
    if (op === "ne") return sql<SqlBool>`(${t.sql} is not null)`;
    // null is neither greater nor less than anything.
    return FALSE;
  }
  const v = literalValue(t, l, op);
  if (v === NEVER) return op === "ne" ? TRUE : FALSE;
  if (v === ABOVE_EVERY_ID || v === BELOW_EVERY_ID) return beyondIds(t, op, v === ABOVE_EVERY_ID);
  if (op === "ne") {
    // OData: a null property is "not equal" to any non-null literal.
    return sql<SqlBool>`(${t.sql} is null or ${t.sql} <> ${param(t, v, ctx)})`;
  }
  return sql<SqlBool>`(${t.sql} ${sql.raw(SQL_OP[op])} ${param(t, v, ctx)})`;
}

function compileIn(left: Operand, values: Literal[], ctx: Ctx): RawBuilder<SqlBool> {
  const t = operand(left, ctx);
  if ("literal" in t) throw invalidQuery("Invalid filter clause: the left side of 'in' must be a property.");
  const parts: RawBuilder<unknown>[] = [];
  let hasNull = false;
  for (const l of values) {
    if (l.kind === "null") {
      hasNull = true;
      continue;
    }
    const v = literalValue(t, l, "in");
    if (v !== NEVER && v !== ABOVE_EVERY_ID && v !== BELOW_EVERY_ID) parts.push(param(t, v, ctx));
  }
  const inList = parts.length ? sql<SqlBool>`(${t.sql} in (${sql.join(parts)}))` : FALSE;
  return hasNull ? sql<SqlBool>`(${inList} or ${t.sql} is null)` : inList;
}

function compileStringFunction(c: CallExpr, ctx: Ctx): RawBuilder<SqlBool> {
  if (c.name !== "startswith" && c.name !== "endswith" && c.name !== "contains") {
    throw invalidQuery(`Invalid filter clause: ${c.name}() is not a boolean function.`);
  }
  const [first, second] = c.args;
  if (c.args.length !== 2 || !first || !second) throw invalidQuery(`Invalid filter clause: ${c.name} takes two arguments.`);
  const subject = operand(first, ctx);
  const needle = operand(second, ctx);
  if ("literal" in subject || subject.kind !== "string" || subject.graphEnum || subject.numericId) {
    throw invalidQuery(`Invalid filter clause: the first argument of ${c.name} must be a string property.`);
  }
  if (!("literal" in needle) || needle.literal.kind !== "string") {
    throw invalidQuery(`Invalid filter clause: the second argument of ${c.name} must be a string literal.`);
  }
  // Case-sensitive, as OData defines these functions; wrap the property in tolower() to ignore case.
  return ctx.json.stringMatch(subject.sql, c.name, needle.literal.value);
}

function compileLambda(e: Extract<FilterExpr, { kind: "lambda" }>, ctx: Ctx): RawBuilder<SqlBool> {
  const [first, ...rest] = e.collection.segments;
  let source: RawBuilder<unknown>;
  let path: string[];
  let element: Scope["element"];
  let elementEnum: GraphEnum | undefined;
  const outer = first === undefined ? undefined : ctx.scopes.find((s) => s.variable === first);
  if (outer) {
    // A collection inside the current evidence element, e.g. e/roles/any(r: r eq 'attacker').
    if (outer.element !== "evidence" || rest.length === 0) noProperty(e.collection.segments.join("/"), "Edm.String");
    const subtype = rest[0]?.includes(".") ? rest[0].slice(EVIDENCE_NS.length) : null;
    const props = subtype ? rest.slice(1) : rest;
    const schema = evidencePropertyType(subtype ?? "alertEvidence", props);
    if (!schema || kindOf(schema) !== "collection") noProperty(props.join("/"), "microsoft.graph.security.alertEvidence");
    const items = (schema as Annotated).items as TSchema | undefined;
    if (!items || kindOf(items) !== "string") {
      throw invalidQuery(`Invalid filter clause: only collections of strings can be filtered inside evidence.`);
    }
    // As for scalars, a cast filters the element to that subtype: another subtype has no collection (NULL).
    const typeTest = sql`${ctx.json.extract(outer.value, ["@odata.type"])} = ${`#${EVIDENCE_NS}${subtype}`}`;
    source = subtype ? sql`(case when ${typeTest} then ${outer.value} end)` : outer.value;
    path = props;
    element = "string";
    elementEnum = enumOf(items);
  } else {
    if (first === undefined || rest.length > 0) noProperty(e.collection.segments.join("/"), typeName(ctx));
    const p = properties(ctx.resource.schema).get(first);
    if (!p) noProperty(first, typeName(ctx));
    if (!p.meta.filterable || !isCollection(p)) {
      throw invalidQuery(`Invalid filter clause: '${first}' is not a collection that can be filtered with ${e.op}.`);
    }
    source = sql.ref(`${ctx.resource.table}.doc`);
    path = [first];
    element = first === "evidence" ? "evidence" : "string";
  }
  if (e.variable === null || e.predicate === null) {
    if (e.op === "all") return TRUE;
    return ctx.json.arrayNotEmpty(source, path);
  }
  if (ctx.scopes.some((s) => s.variable === e.variable)) {
    throw invalidQuery(`Invalid filter clause: the range variable '${e.variable}' is already in use.`);
  }
  const alias = `j${ctx.aliasCounter.n++}`;
  const scope: Scope = { variable: e.variable, value: ctx.json.elementValue(alias), element, graphEnum: elementEnum };
  const inner = compile(e.predicate, { ...ctx, scopes: [...ctx.scopes, scope] });
  const elements = element === "evidence" ? "json" : "text";
  return e.op === "any" ? ctx.json.exists(source, path, alias, inner, elements) : ctx.json.forAll(source, path, alias, inner, elements);
}
