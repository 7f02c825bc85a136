/**
 * The query plan of an advanced-hunting (KQL) query: relational operators over the two hunting tables,
 * with scalar expressions in a small closed vocabulary. hunting/ builds it from the Kusto language
 * service's bound syntax tree; store/hunting-sql.ts renders it to SQL for each dialect. Types only.
 */

import type { HuntingColumn, HuntingTable, KqlType } from "../schema/hunting-tables.js";

export type { HuntingColumn, HuntingTable, KqlType };

/** Scalar functions and operators the store renders. Their operands are typed by the translator. */
export type ScalarOp =
  | "eq"
  | "ne"
  | "lt"
  | "le"
  | "gt"
  | "ge"
  | "eq_ci"
  | "ne_ci"
  | "and"
  | "or"
  | "not"
  | "has"
  | "has_cs"
  | "contains"
  | "contains_cs"
  | "startswith"
  | "startswith_cs"
  | "endswith"
  | "endswith_cs"
  | "hasprefix"
  | "hassuffix"
  | "isempty"
  | "isnotempty"
  | "isnull"
  | "isnotnull"
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "mod"
  | "neg"
  | "tolower"
  | "toupper"
  | "strlen"
  | "strcat"
  | "substring"
  | "tostring"
  | "tolong"
  | "toint"
  | "todouble"
  | "tobool"
  | "round"
  | "floor_number"
  | "bin_datetime"
  | "coalesce"
  | "array_length"
  /** text matches regex pattern (a string literal checked by store/hunting-regex.ts). */
  | "matches_regex"
  /** extract(pattern, group, text): the group's text of the first match, NULL without one. */
  | "extract"
  /** datetime + timespan (milliseconds) → datetime. */
  | "datetime_add"
  /** datetime - datetime → timespan (milliseconds). */
  | "datetime_diff"
  /** A datetime in the stores' one text form (ISO 8601, milliseconds, Z), from text that holds one. */
  | "todatetime";

/** A piece of format_datetime's format: a date or time field, or text written as it is. */
export type DateTimePart =
  | { field: "yyyy" | "yy" | "MM" | "M" | "dd" | "d" | "HH" | "H" | "hh" | "h" | "mm" | "m" | "ss" | "s" | "tt" }
  | { field: "f"; digits: number }
  | { text: string };

export type Expr =
  | { k: "col"; name: string; type: KqlType }
  | { k: "lit"; value: string | number | boolean | null; type: KqlType }
  | { k: "op"; op: ScalarOp; args: Expr[]; type: KqlType }
  /** arg in (list), or in the first column of the rows of `sub` (in (tabular expression)). */
  | { k: "in"; arg: Expr; list: Expr[]; sub?: Plan | undefined; ci: boolean; negated: boolean; type: "bool" }
  | { k: "format_datetime"; arg: Expr; parts: DateTimePart[]; type: "string" }
  | { k: "case"; whens: { when: Expr; then: Expr }[]; otherwise: Expr; type: KqlType }
  /** A value inside JSON text (parse_json(x).a[0]): the scalar's text where a value is compared or cast, the JSON text where a column is output. */
  | { k: "path"; source: Expr; path: (string | number)[]; type: "dynamic" };

export type AggFn = "count" | "countif" | "dcount" | "min" | "max" | "sum" | "avg" | "make_set" | "make_list" | "take_any";

export interface Aggregate {
  name: string;
  fn: AggFn;
  arg: Expr | null;
  /** Only the rows where this holds are aggregated (make_set_if, dcountif, sumif, …). */
  where?: Expr | undefined;
  type: KqlType;
}

export interface SortKey {
  expr: Expr;
  desc: boolean;
  nullsFirst: boolean;
}

/** innerunique (KQL's default) keeps one left row per key before an inner join. */
export type JoinKind = "innerunique" | "inner" | "leftouter" | "leftanti" | "leftsemi";

/** Every plan node says which columns it yields, in order: the rendered SQL selects exactly those. */
export type Plan =
  | { op: "table"; table: HuntingTable; columns: HuntingColumn[] }
  | { op: "where"; input: Plan; predicate: Expr; columns: HuntingColumn[] }
  | { op: "project"; input: Plan; items: { name: string; expr: Expr }[]; columns: HuntingColumn[] }
  | { op: "sort"; input: Plan; keys: SortKey[]; columns: HuntingColumn[] }
  | { op: "limit"; input: Plan; count: number; columns: HuntingColumn[] }
  | { op: "summarize"; input: Plan; by: { name: string; expr: Expr }[]; aggregates: Aggregate[]; columns: HuntingColumn[] }
  | { op: "distinct"; input: Plan; columns: HuntingColumn[] }
  | {
      op: "join";
      kind: JoinKind;
      left: Plan;
      right: Plan;
      /** Pairs of (left column, right column) that must be equal. */
      on: { left: string; right: string }[];
      /** Output column → which side and which column of it. */
      sources: { side: "left" | "right"; name: string }[];
      columns: HuntingColumn[];
    }
  | { op: "union"; inputs: Plan[]; columns: HuntingColumn[] }
  /** mv-expand: one row per element of the JSON array `source`, the element in column `target`. */
  | { op: "expand"; input: Plan; source: Expr; target: string; columns: HuntingColumn[] }
  /** Rows written in the query (datatable): one literal per column per row. */
  | { op: "values"; rows: Expr[][]; columns: HuntingColumn[] }
  /**
   * evaluate bag_unpack(bag) without an output schema: one column per property of the bag, which only
   * the data tells. The store finds the properties first, then reads it as a project; `columns` holds
   * the columns it keeps of its input until then.
   */
  | {
      op: "unpack";
      input: Plan;
      bag: string;
      prefix: string;
      columns: HuntingColumn[];
    }
  /** The first row of each partition in the given order (arg_max, arg_min, innerunique joins). */
  | { op: "first"; input: Plan; partition: Expr[]; order: SortKey[]; columns: HuntingColumn[] };

/** The query window (ISO 8601 instants, end exclusive) every table read is limited to. */
export interface HuntingWindow {
  from: string;
  to: string;
}
