import { invalidQuery } from "../errors/graph-error.js";
import type { Cursor, SortKey } from "../query/plan.js";
import { checkInstant, FILTER_RANGE } from "../schema/date-time.js";
import { MAX_INCIDENT_ID, MAX_TEXT_LENGTH } from "../schema/limits.js";
import { unstorable } from "../schema/json-limits.js";

function signature(order: SortKey[]): string {
  return order.map((k) => `${k.column}:${k.direction}`).join(",");
}

/** Opaque base64url: it survives graph-client's and kiota's rewriting of nextLink verbatim. */
export function encodeCursor(cursor: Cursor, order: SortKey[]): string {
  return Buffer.from(JSON.stringify({ o: signature(order), a: cursor.after, b: cursor.bound })).toString("base64url");
}

export function decodeCursor(token: string, order: SortKey[]): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token.trim(), "base64url").toString("utf8"));
  } catch {
    throw invalidQuery("The $skiptoken is not valid. Use the @odata.nextLink of the previous page as it was returned.");
  }
  const p = parsed as { o?: unknown; a?: unknown; b?: unknown };
  const valid =
    typeof p === "object" &&
    p !== null &&
    typeof p.o === "string" &&
    Array.isArray(p.a) &&
    isKey(p.b) &&
    p.a.length === order.length &&
    p.a.every((v, i) => fitsColumn(order[i]!, v));
  if (!valid) throw invalidQuery("The $skiptoken is not valid. Use the @odata.nextLink of the previous page as it was returned.");
  if (p.o !== signature(order))
    throw invalidQuery("The $skiptoken does not belong to this $orderby. Use the @odata.nextLink of the previous page as it was returned.");
  return { after: p.a as Cursor["after"], bound: p.b as number };
}

/** An id or sequence number as the stores keep them (32-bit on PostgreSQL). */
function isKey(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_INCIDENT_ID;
}

/**
 * Whether a decoded value can be compared with its sort column on every store: the token is the
 * client's to forge, and PostgreSQL refuses a mistyped parameter (text against an integer column) with
 * an error where SQLite compares anyway.
 */
function fitsColumn(k: SortKey, v: unknown): boolean {
  if (v === null) return k.property.schema.nullable === true;
  switch (k.property.meta.columnType) {
    case "integer":
    case "enum":
      return typeof v === "number" && Number.isInteger(v) && Math.abs(v) <= MAX_INCIDENT_ID;
    case "datetime":
      return typeof v === "string" && checkInstant(v, FILTER_RANGE).ok;
    default:
      return typeof v === "string" && v.length <= MAX_TEXT_LENGTH && !unstorable(v);
  }
}
