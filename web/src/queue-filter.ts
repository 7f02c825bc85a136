/**
 * The incident queue's state, kept in the URL (shareable, bookmarkable), and the Graph query it makes.
 * Pure and dependency-free: the unit tests in test/web import it directly.
 */

export type Assigned = "anyone" | "me" | "unassigned";
export type TimeField = "created" | "updated";

export interface QueueQuery {
  status: string[];
  severity: string[];
  assigned: Assigned;
  classification: string;
  determination: string;
  tags: string[];
  /** An alert detection source: incidents with at least one alert from it. */
  source: string;
  timeField: TimeField;
  /** YYYY-MM-DD, inclusive, in UTC. */
  from: string;
  to: string;
  /** Name contains (case-insensitive), or the incident id. */
  q: string;
  sort: string;
  dir: "asc" | "desc";
  page: number;
  size: number;
}

export const SORTABLE = ["createdDateTime", "lastUpdateDateTime", "severity", "priorityScore", "id", "displayName", "assignedTo", "status"] as const;
export const PAGE_SIZES = [10, 25, 50] as const;

export const DEFAULT_QUERY: QueueQuery = {
  status: [],
  severity: [],
  assigned: "anyone",
  classification: "",
  determination: "",
  tags: [],
  source: "",
  timeField: "created",
  from: "",
  to: "",
  q: "",
  sort: "createdDateTime",
  dir: "desc",
  page: 1,
  size: 25,
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const WORD = /^[A-Za-z]+$/;

function list(v: string | null): string[] {
  return (v ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
}

export function parseQuery(search: string): QueueQuery {
  const p = new URLSearchParams(search);
  const q: QueueQuery = { ...DEFAULT_QUERY };
  q.status = list(p.get("status")).filter((x) => WORD.test(x));
  q.severity = list(p.get("severity")).filter((x) => WORD.test(x));
  const assigned = p.get("assigned");
  if (assigned === "me" || assigned === "unassigned") q.assigned = assigned;
  const c = p.get("classification") ?? "";
  if (WORD.test(c)) q.classification = c;
  const d = p.get("determination") ?? "";
  if (WORD.test(d)) q.determination = d;
  q.tags = list(p.get("tags"));
  const source = p.get("source") ?? "";
  if (WORD.test(source)) q.source = source;
  if (p.get("time") === "updated") q.timeField = "updated";
  const from = p.get("from") ?? "";
  if (DATE.test(from)) q.from = from;
  const to = p.get("to") ?? "";
  if (DATE.test(to)) q.to = to;
  q.q = (p.get("q") ?? "").slice(0, 200);
  const sort = p.get("sort") ?? "";
  if ((SORTABLE as readonly string[]).includes(sort)) q.sort = sort;
  if (p.get("dir") === "asc") q.dir = "asc";
  const page = Number(p.get("page"));
  if (Number.isInteger(page) && page >= 1 && page <= 100_000) q.page = page;
  const size = Number(p.get("size"));
  if ((PAGE_SIZES as readonly number[]).includes(size)) q.size = size;
  return q;
}

/** The URL query for a state: only what differs from the defaults, in a stable order. */
export function toSearch(q: QueueQuery): string {
  const p = new URLSearchParams();
  if (q.status.length) p.set("status", q.status.join(","));
  if (q.severity.length) p.set("severity", q.severity.join(","));
  if (q.assigned !== "anyone") p.set("assigned", q.assigned);
  if (q.classification) p.set("classification", q.classification);
  if (q.determination) p.set("determination", q.determination);
  if (q.tags.length) p.set("tags", q.tags.join(","));
  if (q.source) p.set("source", q.source);
  if (q.timeField !== "created") p.set("time", q.timeField);
  if (q.from) p.set("from", q.from);
  if (q.to) p.set("to", q.to);
  if (q.q) p.set("q", q.q);
  if (q.sort !== DEFAULT_QUERY.sort) p.set("sort", q.sort);
  if (q.dir !== DEFAULT_QUERY.dir) p.set("dir", q.dir);
  if (q.page !== 1) p.set("page", String(q.page));
  if (q.size !== DEFAULT_QUERY.size) p.set("size", String(q.size));
  const s = p.toString();
  return s ? `?${s}` : "";
}

/** Whether the query narrows the incidents (anything but sorting and paging). */
export function isFiltered(q: QueueQuery): boolean {
  return toSearch({ ...q, sort: DEFAULT_QUERY.sort, dir: DEFAULT_QUERY.dir, page: 1, size: DEFAULT_QUERY.size }) !== "";
}

/** An OData string literal. */
export function odataString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function nextDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

function anyOf(property: string, values: string[]): string {
  return values.length === 1 ? `${property} eq ${odataString(values[0]!)}` : `${property} in (${values.map(odataString).join(",")})`;
}

/**
 * The $filter for a state. `me` is the signed-in user's UPN (for "assigned to me"); `incidentIds`
 * the incidents that have an alert from the chosen detection source (found through alerts_v2, since
 * the incident has no such property), or null when no source is chosen.
 */
export function buildFilter(q: QueueQuery, me: string, incidentIds: string[] | null = null): string {
  const parts: string[] = [];
  if (q.status.length) parts.push(anyOf("status", q.status));
  if (q.severity.length) parts.push(anyOf("severity", q.severity));
  if (q.assigned === "me") parts.push(`assignedTo eq ${odataString(me)}`);
  if (q.assigned === "unassigned") parts.push("assignedTo eq null");
  if (q.classification) parts.push(`classification eq ${odataString(q.classification)}`);
  if (q.determination) parts.push(`determination eq ${odataString(q.determination)}`);
  for (const tag of q.tags) parts.push(`customTags/any(t: t eq ${odataString(tag)})`);
  const field = q.timeField === "updated" ? "lastUpdateDateTime" : "createdDateTime";
  if (q.from) parts.push(`${field} ge ${q.from}T00:00:00Z`);
  if (q.to) parts.push(`${field} lt ${nextDay(q.to)}T00:00:00Z`);
  const text = q.q.trim();
  if (text) {
    const name = `contains(tolower(displayName),${odataString(text.toLowerCase())})`;
    const id = text.replace(/^#/, "");
    parts.push(/^\d{1,12}$/.test(id) ? `(id eq ${odataString(String(Number(id)))} or ${name})` : name);
  }
  if (incidentIds !== null) parts.push(incidentIds.length ? `id in (${incidentIds.map(odataString).join(",")})` : "id eq '0'");
  return parts.map((p) => (parts.length > 1 && / or /.test(p) && !p.startsWith("(") ? `(${p})` : p)).join(" and ");
}

/** $orderby for a state: the chosen key, then id so that equal keys keep a stable order. */
export function buildOrderBy(q: QueueQuery): string {
  return q.sort === "id" ? `id ${q.dir}` : `${q.sort} ${q.dir},id ${q.dir}`;
}
