/**
 * The typed query plan: what a collection request asks of the store, once the OData layer has parsed
 * and checked it against the resource schema. Types only; the OData layer produces plans, the store runs them.
 */
import type { PropertyInfo } from "../schema/meta.js";
import type { FilterExpr } from "./filter-ast.js";

export interface SortKey {
  property: PropertyInfo;
  column: string;
  direction: "asc" | "desc";
}

export interface ExpandAlerts {
  select: string[] | null;
}

/** What a collection request asks for, checked against the resource's schema. */
export interface QueryPlan {
  filter: FilterExpr | null;
  /** Always ends with the id, so the order is total and a cursor can seek on it. */
  orderBy: SortKey[];
  top: number;
  skip: number;
  count: boolean;
  select: string[] | null;
  expandAlerts: ExpandAlerts | null;
  cursor: Cursor | null;
  /** The query options to carry into @odata.nextLink, as received (decoded). */
  carried: [string, string][];
}

/**
 * A position in a listing: the sort-key values of the last row served, and the snapshot bound taken
 * when the first page was served. Seeking past the last row (instead of skipping N rows) and bounding
 * the listing to rows that existed at the first page is what lets a client follow @odata.nextLink to
 * the end with no duplicate and no gap while new entities arrive.
 */
export interface Cursor {
  /** Column values of the last row, one per sort key. */
  after: (string | number | null)[];
  /** Highest id (incidents) or ingestion sequence (alerts) visible to this listing. */
  bound: number;
}
