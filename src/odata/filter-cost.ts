/**
 * A static bound on what a `$filter` may cost, checked on the parsed tree before any SQL runs. The
 * time limit on statements (store/bounded-read.ts) stops whatever gets past it; this check refuses,
 * cheaply and the same way every time, the shapes whose cost grows with the store for no good
 * reason: dozens of OR-ed any/all lambdas each scan every alert's evidence.
 */
import type { FilterExpr, Operand } from "../query/filter-ast.js";
import { MAX_FILTER_DEPTH } from "./parse-filter.js";
import { invalidQuery } from "../errors/graph-error.js";

export interface FilterLimits {
  /** Longest `$filter` text, in characters. */
  maxLength: number;
  /** Most nodes in the parsed expression: conditions, and/or/not, operands, function calls. */
  maxNodes: number;
  /** Most any/all lambdas, nested ones included: each one reads a JSON array of every row it tests. */
  maxLambdas: number;
}

/**
 * The defaults. 100 nodes is the OData validator's own default (ASP.NET's MaxNodeCount), which Graph
 * runs on; real queries written by people and the SDKs stay far below it. Eight lambdas allow a query
 * over several evidence kinds at once; a hundred OR-ed lambdas are an attack, not a question.
 */
export const DEFAULT_FILTER_LIMITS: Readonly<FilterLimits> = { maxLength: 4096, maxNodes: 100, maxLambdas: 8 };

/** Nesting ((, not, any/all, function calls) is bounded by the parser itself, while it recurses. */
export const FILTER_NESTING_LIMIT = MAX_FILTER_DEPTH;

interface Tally {
  nodes: number;
  lambdas: number;
}

function countOperand(o: Operand, t: Tally): void {
  t.nodes++;
  if (o.kind === "call") for (const a of o.args) countOperand(a, t);
}

function count(e: FilterExpr, t: Tally): void {
  t.nodes++;
  switch (e.kind) {
    case "and":
    case "or":
      count(e.left, t);
      count(e.right, t);
      return;
    case "not":
      count(e.operand, t);
      return;
    case "compare":
      countOperand(e.left, t);
      countOperand(e.right, t);
      return;
    case "in":
      // The list is one value to SQL (an IN list is a lookup, not a scan per item); its length is
      // bounded by the filter's length.
      countOperand(e.left, t);
      t.nodes++;
      return;
    case "predicate":
      countOperand(e.call, t);
      return;
    case "lambda":
      t.lambdas++;
      t.nodes++;
      if (e.predicate) count(e.predicate, t);
      return;
    case "boolpath":
      t.nodes++;
      return;
  }
}

/** How many nodes and lambdas a parsed `$filter` holds. */
export function filterCost(e: FilterExpr): Tally {
  const t: Tally = { nodes: 0, lambdas: 0 };
  count(e, t);
  return t;
}

/** Refuses, with the OData validator's 400, a `$filter` beyond the limits. */
export function checkFilterCost(e: FilterExpr, limits: FilterLimits): void {
  const { nodes, lambdas } = filterCost(e);
  if (lambdas > limits.maxLambdas) {
    throw invalidQuery(
      `The $filter expression is too expensive: it has ${lambdas} any/all expressions, and at most ${limits.maxLambdas} are allowed. Combine conditions inside one any/all, or split the query.`,
    );
  }
  if (nodes > limits.maxNodes) {
    throw invalidQuery(
      `The $filter expression is too expensive: the node count limit of '${limits.maxNodes}' has been exceeded (it has ${nodes}). Simplify the query, or split it.`,
    );
  }
}
