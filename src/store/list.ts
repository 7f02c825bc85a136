import { sql, type Kysely, type RawBuilder, type SqlBool } from "kysely";
import type { Database } from "./tables.js";
import type { JsonSql } from "./json-sql.js";
import type { Resource } from "../schema/meta.js";
import type { QueryPlan, SortKey } from "../odata/query-options.js";
import type { Cursor } from "../odata/cursor.js";
import { compileFilter } from "../odata/compile-filter.js";

export interface PageRow {
  doc: string;
  /** The v1.0 JSON ready to send, and whether it holds a gated enum member. */
  json_v1: string | null;
  gated: number;
}

export interface Page {
  rows: PageRow[];
  count: number | null;
  next: Cursor | null;
}

/**
 * The listing order: nulls sort as the smallest value (first ascending, last descending), written out
 * so that SQLite and PostgreSQL agree, and so a cursor can seek past them.
 */
function orderTerm(k: SortKey): RawBuilder<unknown> {
  const col = sql.ref(k.column);
  if (!k.property.schema.nullable) return sql`${col} ${sql.raw(k.direction)}`;
  return sql`${col} ${sql.raw(k.direction === "asc" ? "asc nulls first" : "desc nulls last")}`;
}

/** The row's key equals the cursor's value (null-safe). */
function sameKey(k: SortKey, v: string | number | null): RawBuilder<SqlBool> {
  const col = sql.ref(k.column);
  return v === null ? sql<SqlBool>`${col} is null` : sql<SqlBool>`${col} = ${v}`;
}

/** The row's key comes strictly after the cursor's value in the listing order. */
function afterKey(k: SortKey, v: string | number | null): RawBuilder<SqlBool> {
  const col = sql.ref(k.column);
  if (k.direction === "asc") return v === null ? sql<SqlBool>`${col} is not null` : sql<SqlBool>`${col} > ${v}`;
  if (v === null) return sql<SqlBool>`1 = 0`;
  return k.property.schema.nullable ? sql<SqlBool>`(${col} < ${v} or ${col} is null)` : sql<SqlBool>`${col} < ${v}`;
}

/** Rows strictly after `after` in the listing order: (k1 > v1) or (k1 = v1 and k2 > v2) or … */
function seekPredicate(order: SortKey[], after: Cursor["after"]): RawBuilder<SqlBool> {
  const ors: RawBuilder<SqlBool>[] = [];
  for (let i = 0; i < order.length; i++) {
    const ands: RawBuilder<SqlBool>[] = [];
    for (let j = 0; j < i; j++) ands.push(sameKey(order[j]!, after[j] ?? null));
    ands.push(afterKey(order[i]!, after[i] ?? null));
    ors.push(sql<SqlBool>`(${sql.join(ands, sql` and `)})`);
  }
  return sql<SqlBool>`(${sql.join(ors, sql` or `)})`;
}

/** The snapshot column: incidents get increasing ids, alerts an increasing ingestion sequence. */
function boundColumn(resource: Resource): string {
  return resource.table === "incidents" ? "id" : "seq";
}

async function currentBound(db: Kysely<Database>, resource: Resource, tenantId: string): Promise<number> {
  const t = await db.selectFrom("tenants").select(["next_incident_id", "next_alert_seq"]).where("id", "=", tenantId).executeTakeFirst();
  if (!t) return 0;
  return (resource.table === "incidents" ? t.next_incident_id : t.next_alert_seq) - 1;
}

export function filterPredicate(resource: Resource, plan: Pick<QueryPlan, "filter">, json: JsonSql): RawBuilder<SqlBool> {
  return plan.filter ? compileFilter(plan.filter, resource, json) : sql<SqlBool>`1 = 1`;
}

/**
 * One page of a listing, filtered and ordered in SQL. The first page fixes the snapshot bound; later
 * pages seek past the previous page's last row within that bound.
 */
export async function listPage(
  db: Kysely<Database>,
  json: JsonSql,
  resource: Resource,
  tenantId: string,
  plan: QueryPlan,
  scope?: RawBuilder<SqlBool>,
): Promise<Page> {
  const bound = plan.cursor ? plan.cursor.bound : await currentBound(db, resource, tenantId);
  const filter = filterPredicate(resource, plan, json);
  const where = scope ? sql<SqlBool>`${scope} and ${filter}` : filter;
  // The unary + keeps the snapshot bound from steering the planner to the primary key: the index that
  // serves the filter and the order is the one to use.
  const base = sql<SqlBool>`tenant_id = ${tenantId} and +${sql.ref(boundColumn(resource))} <= ${bound} and ${where}`;
  const seek = plan.cursor ? sql<SqlBool>` and ${seekPredicate(plan.orderBy, plan.cursor.after)}` : sql``;
  const orderSql = sql.join(plan.orderBy.map(orderTerm));
  const keyCols = sql.join(plan.orderBy.map((k, i) => sql`${sql.ref(k.column)} as ${sql.ref(`k${i}`)}`));
  const table = sql.table(resource.table);

  let out: PageRow[] = [];
  let next: Cursor | null = null;
  if (plan.top > 0) {
    const rows = await sql<Record<string, string | number | null> & PageRow>`
      select doc, json_v1, gated, ${keyCols} from ${table} where ${base}${seek}
      order by ${orderSql} limit ${plan.top + 1} offset ${plan.skip}`.execute(db);
    const page = rows.rows.slice(0, plan.top);
    out = page.map((r) => ({ doc: r.doc, json_v1: r.json_v1, gated: Number(r.gated) }));
    const last = page[page.length - 1];
    if (rows.rows.length > plan.top && last) {
      next = { after: plan.orderBy.map((_, i) => last[`k${i}`] ?? null), bound };
    }
  }
  let count: number | null = null;
  if (plan.count) {
    const c = await sql<{ n: number }>`select count(*) as n from ${table} where ${base}`.execute(db);
    count = Number(c.rows[0]?.n ?? 0);
  }
  return { rows: out, count, next };
}

export async function countAll(db: Kysely<Database>, json: JsonSql, resource: Resource, tenantId: string, plan: Pick<QueryPlan, "filter">): Promise<number> {
  const where = filterPredicate(resource, plan, json);
  const c = await sql<{ n: number }>`select count(*) as n from ${sql.table(resource.table)} where tenant_id = ${tenantId} and ${where}`.execute(db);
  return Number(c.rows[0]?.n ?? 0);
}
