/**
 * The syntax tree of an OData `$filter` expression, as the parser produces it. It says nothing about
 * which properties exist: the store's `filter-sql.ts` checks the tree against a resource schema and
 * turns it into SQL.
 */

export type Literal =
  | { kind: "string"; value: string }
  | { kind: "number"; value: number; raw: string }
  | { kind: "boolean"; value: boolean }
  | { kind: "null" }
  /** An unquoted ISO 8601 date-time with offset, e.g. 2025-02-07T18:28:27Z; value is normalized to UTC ISO. */
  | { kind: "datetime"; value: string; raw: string }
  /** An unquoted GUID, e.g. 0f8fad5b-d9cb-469f-a165-70867728950e. */
  | { kind: "guid"; value: string }
  /** A qualified enum literal, e.g. microsoft.graph.security.incidentStatus'active'. */
  | { kind: "enum"; type: string; value: string };

/**
 * A member path such as `status`, `customTags`, or inside a lambda `e/microsoft.graph.security.userEvidence/
 * userAccount/userPrincipalName` (segments: ["e", "microsoft.graph.security.userEvidence", "userAccount",
 * "userPrincipalName"]). Type-cast segments are kept as written; the compiler interprets them.
 */
export interface PathExpr {
  kind: "path";
  segments: string[];
  /** Offset in the filter text, for error messages. */
  position: number;
}

export type CompareOp = "eq" | "ne" | "gt" | "ge" | "lt" | "le";
export type StringFunction = "startswith" | "endswith" | "contains";

export type Operand = PathExpr | ({ kind: "literal" } & { literal: Literal }) | CallExpr;

export interface CallExpr {
  kind: "call";
  name: StringFunction | "tolower" | "toupper";
  args: Operand[];
  position: number;
}

export type FilterExpr =
  | { kind: "and" | "or"; left: FilterExpr; right: FilterExpr }
  | { kind: "not"; operand: FilterExpr }
  | { kind: "compare"; op: CompareOp; left: Operand; right: Operand; position: number }
  | { kind: "in"; left: Operand; values: Literal[]; position: number }
  /** A boolean-valued function call used as a predicate: startswith(displayName,'x'). */
  | { kind: "predicate"; call: CallExpr }
  /** `collection/any(v: predicate)`, `collection/all(v: predicate)`, and `collection/any()` (non-empty). */
  | { kind: "lambda"; op: "any" | "all"; collection: PathExpr; variable: string | null; predicate: FilterExpr | null; position: number }
  /** A bare boolean path used as a predicate (rare; kept so the compiler can reject it by name). */
  | { kind: "boolpath"; path: PathExpr };

export interface OrderByItem {
  path: PathExpr;
  direction: "asc" | "desc";
}
