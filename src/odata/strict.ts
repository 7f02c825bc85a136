/**
 * The strict profile's `$filter` check: every property the expression names at the top level (not
 * inside a lambda, whose paths start at its variable) must be one Graph documents for `$filter`
 * (`graphFilterable` on the schema). Lenient requests skip it; the store's filter compiler checks
 * the lenient allow-list either way.
 */
import type { FilterExpr, Operand, PathExpr } from "../query/filter-ast.js";
import { properties, type Resource } from "../schema/meta.js";
import { invalidQuery } from "../errors/graph-error.js";

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
      return;
    case "in":
      checkOperand(e.left, resource, variables);
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
