/**
 * The strict profile's `$filter` check: every property the expression names at the top level (not
 * inside a lambda, whose paths start at its variable) must be one Graph documents for `$filter`
 * (`graphFilterable` on the schema), and a literal compared with a top-level enum property must be
 * one of the CSDL's member names: not a legacy alias (the old determination names), as the strict
 * PATCH reads them (`parseEnum` with `membersOnly`, as domain/patch.ts does). Lenient requests skip
 * it; the store's filter compiler checks the lenient allow-list and the members with their aliases
 * either way. (Only top-level enums have aliases: none is inside a lambda's reach.)
 */
import type { FilterExpr, Literal, Operand, PathExpr } from "../query/filter-ast.js";
import { properties, type Resource } from "../schema/meta.js";
import { parseEnum } from "../schema/enums.js";
import { invalidEnumConstant, invalidQuery } from "../errors/graph-error.js";

/** The enum of a top-level property the path names, if it names one (and is not a lambda variable). */
function enumAt(o: Operand, resource: Resource, variables: readonly string[]) {
  if (o.kind !== "path" || o.segments.length !== 1) return undefined;
  const first = o.segments[0]!;
  if (variables.includes(first)) return undefined;
  return properties(resource.schema).get(first)?.valueSchema.graphEnum;
}

/** Refuses an enum literal the CSDL does not declare, with the error the compiler gives any non-member. */
function checkEnumLiteral(path: Operand, literal: Literal, resource: Resource, variables: readonly string[]): void {
  const e = enumAt(path, resource, variables);
  if (!e || (literal.kind !== "string" && literal.kind !== "enum")) return;
  if (!parseEnum(e, literal.value, true)) throw invalidEnumConstant(literal.value, e.name);
}

function checkPath(path: PathExpr, resource: Resource, variables: readonly string[]): void {
  const first = path.segments[0];
  if (first === undefined || variables.includes(first)) return;
  const p = properties(resource.schema).get(first);
  // An unknown property is the compiler's error to name; only a known one Graph refuses is refused here.
  if (p && p.meta.filterable && !p.meta.graphFilterable) {
    throw invalidQuery(`Invalid filter clause: The property '${first}' cannot be used in the $filter query option.`);
  }
}

function checkOperand(o: Operand, resource: Resource, variables: readonly string[]): void {
  if (o.kind === "path") checkPath(o, resource, variables);
  else if (o.kind === "call") for (const a of o.args) checkOperand(a, resource, variables);
}

export function checkStrictFilter(e: FilterExpr, resource: Resource, variables: readonly string[] = []): void {
  switch (e.kind) {
    case "and":
    case "or":
      checkStrictFilter(e.left, resource, variables);
      checkStrictFilter(e.right, resource, variables);
      return;
    case "not":
      checkStrictFilter(e.operand, resource, variables);
      return;
    case "compare":
      checkOperand(e.left, resource, variables);
      checkOperand(e.right, resource, variables);
      if (e.right.kind === "literal") checkEnumLiteral(e.left, e.right.literal, resource, variables);
      if (e.left.kind === "literal") checkEnumLiteral(e.right, e.left.literal, resource, variables);
      return;
    case "in":
      checkOperand(e.left, resource, variables);
      for (const v of e.values) checkEnumLiteral(e.left, v, resource, variables);
      return;
    case "predicate":
      checkOperand(e.call, resource, variables);
      return;
    case "lambda":
      checkPath(e.collection, resource, variables);
      if (e.predicate) checkStrictFilter(e.predicate, resource, e.variable ? [...variables, e.variable] : variables);
      return;
    case "boolpath":
      checkPath(e.path, resource, variables);
      return;
  }
}
