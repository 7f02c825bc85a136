import { sql, type CompiledQuery, type RawBuilder, type SqlBool } from "kysely";
import type { Store } from "./open.js";
import type { JsonSql } from "./json-sql.js";
import { properties, type Resource } from "../schema/meta.js";
import type { FilterExpr } from "../query/filter-ast.js";
import type { Cursor, QueryPlan, SortKey } from "../query/plan.js";
import { compileFilter } from "./filter-sql.js";
import { bind, CompiledCache, readArrays, slot, type Slot } from "./prepared.js";
import { runBoundedRead } from "./bounded-read.js";
import { projection, type Projection, type ReadRow } from "./read.js";

export interface Page {
  /**
   * The page's entities as read; when `joined` is set, only those it leaves a gap for, in order: the
   * entities whose document must be rendered for the caller.
   */
  rows: ReadRow[];
  /**
   * The page's entities as their ready JSON, comma-separated, in the listing order, when the caller
   * could take it (`joinable`) and the store read it that way (`joinedPage`), with a `JOINED_GAP` in
   * place of each entity of `rows` (`fillJoined` puts their rendered JSON there).
   */
  joined: string | null;
  count: number | null;
  next: Cursor | null;
}

/**
 * Where a joined page leaves an entity to be rendered: a control character, which JSON text never
 * holds unescaped (every stored JSON text is written by JSON.stringify or the database's JSON
 * functions, which escape it), so it cannot be mistaken for part of an entity.
 */
export const JOINED_GAP = "\u001e";

/** A joined page's JSON with each gap filled by the next of `rendered`, in order. */
export function fillJoined(joined: string, rendered: readonly string[]): string {
  if (rendered.length === 0) return joined;
  const parts = joined.split(JOINED_GAP);
  if (parts.length !== rendered.length + 1) throw new Error(`a joined page has ${parts.length - 1} gaps for ${rendered.length} entities`);
  let out = parts[0]!;
  for (let i = 0; i < rendered.length; i++) out += rendered[i]! + parts[i + 1]!;
  return out;
}

/** How many gaps a joined page leaves. */
function gapsIn(joined: string): number {
  let n = 0;
  for (let at = joined.indexOf(JOINED_GAP); at >= 0; at = joined.indexOf(JOINED_GAP, at + 1)) n++;
  return n;
}

/** Where a listing happens: its entity set, optionally one incident's alerts. */
export interface ListScope {
  store: Store;
  resource: Resource;
  tenantId: string;
  incidentId?: number;
  /** The time limit of each statement the listing runs; the store's default when absent. */
  timeoutMs?: number | undefined;
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
function sameKey(k: SortKey, v: Slot | null): RawBuilder<SqlBool> {
  const col = sql.ref(k.column);
  return v === null ? sql<SqlBool>`${col} is null` : sql<SqlBool>`${col} = ${v}`;
}

/** The row's key comes strictly after the cursor's value in the listing order. */
function afterKey(k: SortKey, v: Slot | null): RawBuilder<SqlBool> {
  const col = sql.ref(k.column);
  if (k.direction === "asc") return v === null ? sql<SqlBool>`${col} is not null` : sql<SqlBool>`${col} > ${v}`;
  if (v === null) return sql<SqlBool>`1 = 0`;
  return k.property.schema.nullable ? sql<SqlBool>`(${col} < ${v} or ${col} is null)` : sql<SqlBool>`${col} < ${v}`;
}

/**
 * Rows strictly after `after` in the listing order: (k1 > v1) or (k1 = v1 and k2 > v2) or …, and, where
 * it holds for all of them, the first key's bound on its own (k1 >= v1, or k1 <= v1 descending): neither
 * store reads a disjunction as an index range, so without it a later page walked the index from the
 * listing's start and skipped every earlier row; with it, the walk starts at the cursor.
 */
export function seekPredicate(order: SortKey[], after: Cursor["after"]): RawBuilder<SqlBool> {
  // The values are slots, bound per request (`afterSlots`): the statement depends only on which are null.
  const at = (i: number): Slot | null => ((after[i] ?? null) === null ? null : slot(`after${i}`));
  const ors: RawBuilder<SqlBool>[] = [];
  for (let i = 0; i < order.length; i++) {
    const ands: RawBuilder<SqlBool>[] = [];
    for (let j = 0; j < i; j++) ands.push(sameKey(order[j]!, at(j)));
    ands.push(afterKey(order[i]!, at(i)));
    ors.push(sql<SqlBool>`(${sql.join(ands, sql` and `)})`);
  }
  const seek = sql<SqlBool>`(${sql.join(ors, sql` or `)})`;
  const first = order[0];
  const v = at(0);
  // Nulls sort first ascending and last descending: a bound leaves them out, so only where none follow.
  if (!first || v === null || (first.property.schema.nullable && first.direction === "desc")) return seek;
  const col = sql.ref(first.column);
  return first.direction === "asc" ? sql<SqlBool>`(${col} >= ${v} and ${seek})` : sql<SqlBool>`(${col} <= ${v} and ${seek})`;
}

/** The values of the seek's slots, and which of them are null (what its statement's shape depends on). */
export function afterSlots(after: Cursor["after"]): { values: Record<string, unknown>; shape: string } {
  const values: Record<string, unknown> = {};
  after.forEach((v, i) => {
    if (v !== null) values[`after${i}`] = v;
  });
  return { values, shape: after.map((v) => (v === null ? "n" : "v")).join("") };
}

/** The snapshot column: incidents get increasing ids, alerts an increasing ingestion sequence. */
function boundColumn(resource: Resource): string {
  return resource.table === "incidents" ? "id" : "seq";
}

/** The tenant's counter that the next entity's snapshot column will take. */
function counterColumn(resource: Resource): string {
  return resource.table === "incidents" ? "next_incident_id" : "next_alert_seq";
}

export function filterPredicate(resource: Resource, plan: Pick<QueryPlan, "filter">, json: JsonSql): RawBuilder<SqlBool> {
  return plan.filter ? compileFilter(plan.filter, resource, json) : sql<SqlBool>`1 = 1`;
}

const compiled = new CompiledCache(1000);

/** A cache key for one statement shape: the store's dialect, the set, the scope and what varies. */
function keyOf(s: ListScope, kind: string, rest: string): string {
  return `${s.store.dialect}|${s.resource.table}|${s.incidentId === undefined ? "" : "scoped"}|${kind}|${rest}`;
}

/**
 * The listing's conditions after the tenant's; the row guard lets the store stop it at its time limit
 * (`guarded`: false leaves it out, for a statement known to read about a page: `openFirstPage`).
 */
function whereOf(s: ListScope, plan: Pick<QueryPlan, "filter">, guarded = true): RawBuilder<SqlBool> {
  const predicate = filterPredicate(s.resource, plan, s.store.json);
  const filter = guarded ? sql<SqlBool>`${s.store.json.rowGuard} and ${predicate}` : predicate;
  return s.incidentId === undefined ? filter : sql<SqlBool>`incident_id = ${slot("scope")} and ${filter}`;
}

/**
 * Runs a listing's statement within its time limit. A page that is known to be cheap — an index walk
 * of at most a page (`cheapPage`) — runs on the event loop; everything else runs off it.
 */
function bounded(s: ListScope, q: CompiledQuery, values: Record<string, unknown>, cheap: boolean): Promise<unknown[][]> {
  return runBoundedRead(s.store, q, bind(q, values), { timeoutMs: s.timeoutMs, cheap });
}

/**
 * Whether a page, with no offset, in creation order, is an index walk of about a page: with no
 * filter (every set has an index on creation time, and a later page's seek starts the walk at its
 * cursor: `seekPredicate`), or with `property eq literal` when SQLite's plan for the statement searches
 * one index by the tenant and that property's column and reads it in the listing's order (no sort, no
 * scan): every entry it reads then matches, and it stops after a page. The plan is asked for once per
 * statement (the later pages of a listing share one). On PostgreSQL nothing runs on the event loop
 * either way.
 */
async function cheapPage(s: ListScope, plan: QueryPlan, q: CompiledQuery, values: Record<string, unknown>): Promise<boolean> {
  if (plan.skip !== 0 || plan.orderBy[0]?.column !== "created_at") return false;
  if (plan.filter === null) return true;
  const column = equalityColumn(s.resource, plan.filter);
  if (column === null || s.store.dialect !== "sqlite") return false;
  return planSays(s, q, values, "walks one index", (steps) => walksOneIndex(steps, s.resource.table, column));
}

/**
 * What SQLite's plan of a listing's statement says to `question`, judged from the plan's steps. The
 * plan is asked for once per statement (it depends on the statement, not on its values) and each
 * answer kept with it: the listings that run the statement, a page at a time, ask again and again.
 */
async function planSays(
  s: ListScope,
  q: CompiledQuery,
  values: Record<string, unknown>,
  question: string,
  judge: (steps: readonly string[]) => boolean,
): Promise<boolean> {
  let plan = plans.get(q);
  if (plan === undefined) {
    const steps = (await s.store.arrays({ ...q, sql: `explain query plan ${q.sql}` }, bind(q, values))).map((r) => String(r[3]));
    plans.set(q, (plan = { steps, answers: new Map() }));
  }
  let answer = plan.answers.get(question);
  if (answer === undefined) plan.answers.set(question, (answer = judge(plan.steps)));
  return answer;
}

const plans = new WeakMap<CompiledQuery, { steps: readonly string[]; answers: Map<string, boolean> }>();

/**
 * A first page of the whole set (no incident's scope) whose statement, without the row guard, SQLite
 * plans as an index walk of about a page (`cheapPage`): that statement, or null. The guard calls into
 * JavaScript for every row a statement reads — about a tenth of such a page's read — and is there to
 * stop a statement that reads far more rows than it returns; this one reads at most a page and one.
 * Later pages keep it: their walk also skips the rows newer than the listing's snapshot, as many as
 * were written since it began.
 */
async function openFirstPage(s: ListScope, plan: QueryPlan, planKey: string, proj: Projection, values: Record<string, unknown>): Promise<CompiledQuery | null> {
  if (s.store.dialect !== "sqlite" || s.incidentId !== undefined) return null;
  const q = compiled.get(keyOf(s, `page:${proj}:open`, planKey), () => pageStatement(s, plan, proj, false, false));
  if (!(await cheapPage(s, plan, q, values))) return null;
  // Unguarded, it must not sort or scan whatever its filter (cheapPage trusts an unfiltered listing's plan).
  const walks = await planSays(s, q, values, "neither scans nor sorts", (steps) => !steps.some((d) => d.startsWith("SCAN") || d.includes("TEMP B-TREE")));
  return walks ? q : null;
}

/**
 * A page's statement: its rows (one more than the page, to tell whether another follows) with their
 * sort keys, and on a first page the tenant's counter read in the same statement (the snapshot bound
 * of the pages after it; see `listPage`).
 */
function pageStatement(s: ListScope, plan: QueryPlan, proj: Projection, bounded: boolean, guarded: boolean): CompiledQuery {
  const counter = bounded ? sql`` : sql`, ${counterOf(s)} as next_bound`;
  return sql`select ${pageColumns(plan, proj)}${counter} ${pageSource(s, plan, bounded, guarded)}
    limit ${sql.lit(plan.top + 1)} offset ${sql.lit(plan.skip)}`.compile(s.store.db);
}

/** A page's columns: id, doc, ready, and one per sort key. */
function pageColumns(plan: QueryPlan, proj: Projection): RawBuilder<unknown> {
  const keyCols = sql.join(plan.orderBy.map((k, i) => sql`${sql.ref(k.column)} as ${sql.ref(`k${i}`)}`));
  return sql`id, ${projection(proj)}, ${keyCols}`;
}

/** The tenant's counter, as a scalar subquery. */
function counterOf(s: ListScope): RawBuilder<unknown> {
  return sql`(select ${sql.ref(counterColumn(s.resource))} from tenants where id = ${slot("tenant")})`;
}

/**
 * Where a page's rows come from, in order: the tenant's, in the listing's scope and filter, and, for a
 * page with a snapshot bound, within it and past the cursor.
 */
function pageSource(s: ListScope, plan: QueryPlan, bounded: boolean, guarded: boolean): RawBuilder<unknown> {
  const table = sql.table(s.resource.table);
  const orderSql = sql.join(plan.orderBy.map(orderTerm));
  if (!bounded) return sql`from ${table} where tenant_id = ${slot("tenant")} and ${whereOf(s, plan, guarded)} order by ${orderSql}`;
  // The unary + keeps the snapshot bound from steering the planner to the primary key: the index
  // that serves the filter and the order is the one to use.
  const boundCol = sql.ref(boundColumn(s.resource));
  const seek = plan.cursor ? sql<SqlBool>` and ${seekPredicate(plan.orderBy, plan.cursor.after)}` : sql``;
  return sql`from ${table} where tenant_id = ${slot("tenant")} and +${boundCol} <= ${slot("bound")} and ${whereOf(s, plan, guarded)}${seek}
    order by ${orderSql}`;
}

/**
 * A page read as one row (SQLite): its entities' JSON joined by SQLite, with a gap (`JOINED_GAP`) for
 * each entity whose document must be rendered for the caller; those entities' ids (JSON values,
 * comma-separated) and documents, in order; whether an entity follows the page; on first pages the
 * tenant's counter; and the sort keys of the page's last entity, for the next page's cursor. Reading
 * 50 rows of 2 KB as one row saves about a third of the statement (SQLite hands over one value instead
 * of 300) and the page's joining in JavaScript.
 *
 * The entities come in the listing's order because the page's subquery is a co-routine whose rows the
 * aggregate takes one by one as it yields them, in the order of its index walk: `joinedPage` runs the
 * statement only where SQLite's plan says so (`yieldsInOrder`). The last entity's keys are read by a
 * subquery of their own over the same rows in the same order (a seek along the index, as the probe for
 * a next page does), not kept for every entity of the page: building and parsing each entity's keys
 * cost about a third of a joined page.
 */
function joinedPageStatement(s: ListScope, plan: QueryPlan, proj: Projection, bounded: boolean, guarded: boolean): CompiledQuery {
  const source = pageSource(s, plan, bounded, guarded);
  const gap = sql.lit(JOINED_GAP);
  const lastKeys = sql.join(plan.orderBy.map((k) => sql.ref(k.column)));
  return sql`select group_concat(case when doc is null then ready else ${gap} end, ','),
      group_concat(case when doc is not null then json_quote(id) end), group_concat(doc, ${gap}),
      (select 1 ${source} limit 1 offset ${sql.lit(plan.top + plan.skip)}), ${bounded ? sql`null` : counterOf(s)},
      (select json_array(${lastKeys}) ${source} limit 1 offset ${sql.lit(plan.top + plan.skip - 1)})
    from (select id, ${projection(proj)} ${source} limit ${sql.lit(plan.top)} offset ${sql.lit(plan.skip)})`.compile(s.store.db);
}

/**
 * Whether the steps of SQLite's plan of a joined page (`joinedPageStatement`) hand its aggregate the
 * page's rows in the listing's order: the page is a co-routine (SQLite runs it beside the aggregate,
 * which takes each row as it is yielded), no step sorts (its order is an index walk's), and no step
 * scans a table (only the co-routine's rows are scanned). A plan that flattened or materialized the
 * page, or sorted it, could hand the rows over in another order; such a page is read as rows.
 */
export function yieldsInOrder(steps: readonly string[]): boolean {
  return (
    steps.some((d) => d.startsWith("CO-ROUTINE ")) &&
    steps.some((d) => /^SCAN \(subquery-\d+\)$/.test(d)) &&
    !steps.some((d) => /^SCAN (?!\()/.test(d) || d.includes("TEMP B-TREE") || d.startsWith("MATERIALIZE"))
  );
}

/** The column of `property eq literal` (either way round) when the property has one; otherwise null. */
export function equalityColumn(resource: Resource, filter: FilterExpr): string | null {
  if (filter.kind !== "compare" || filter.op !== "eq") return null;
  const [path, other] = filter.left.kind === "path" ? [filter.left, filter.right] : [filter.right, filter.left];
  if (path.kind !== "path" || other.kind !== "literal" || path.segments.length !== 1) return null;
  return properties(resource.schema).get(path.segments[0]!)?.meta.column ?? null;
}

/**
 * Whether the steps of SQLite's query plan read `table` through one index searched by the tenant and
 * `column`, in index order: no step scans a table or an index, and none sorts.
 */
export function walksOneIndex(details: readonly string[], table: string, column: string): boolean {
  const search = new RegExp(`^SEARCH ${table} USING (?:COVERING )?INDEX \\w+ \\(tenant_id=\\? AND ${column}=\\?(?: AND|\\))`);
  return details.some((d) => search.test(d)) && !details.some((d) => d.startsWith("SCAN") || d.includes("TEMP B-TREE"));
}

async function currentBound(s: ListScope): Promise<number> {
  const q = compiled.get(keyOf(s, "bound", ""), () =>
    sql`select ${sql.ref(counterColumn(s.resource))} from tenants where id = ${slot("tenant")}`.compile(s.store.db),
  );
  const [row] = await readArrays(s.store, q, { tenant: s.tenantId });
  return row ? Number(row[0]) - 1 : 0;
}

/**
 * One page of a listing, filtered and ordered in SQL, with a snapshot bound: the highest id (or
 * ingestion sequence) that existed when the first page was served. Later pages seek past the previous
 * page's last row within that bound. A first page reads the bound in the same statement as its rows —
 * one statement sees one state of the store, and the tenant's counter moves with every insert — so it
 * needs no bound condition; with `$count`, the bound is read first so the rows and the count agree.
 *
 * `planKey` names the plan's shape and literals without its cursor (its query string without the
 * `$skiptoken`): statements are compiled once per key, projection and which of the cursor's values are
 * null, with the tenant, scope, bound and the cursor's values bound per request.
 */
export async function listPage(s: ListScope, plan: QueryPlan, planKey: string, proj: Projection, joinable = false): Promise<Page> {
  const bound = plan.cursor ? plan.cursor.bound : plan.count ? await currentBound(s) : null;
  const after = plan.cursor ? afterSlots(plan.cursor.after) : null;
  const values = { tenant: s.tenantId, scope: s.incidentId, bound, ...after?.values };
  const kind = bound === null ? "first" : `bounded:${after?.shape ?? ""}`;

  let page: Pick<Page, "rows" | "joined" | "next"> = { rows: [], joined: null, next: null };
  if (plan.top > 0) {
    const q = compiled.get(keyOf(s, `page:${proj}:${kind}`, planKey), () => pageStatement(s, plan, proj, bound !== null, true));
    const open = bound === null ? await openFirstPage(s, plan, planKey, proj, values) : null;
    const cheap = open !== null || (await cheapPage(s, plan, q, values));
    const joined = joinable && cheap ? await joinedPage(s, plan, planKey, proj, values, kind, open !== null) : null;
    page = joined ?? rowsPage(await bounded(s, open ?? q, values, cheap), plan, bound);
  }
  let count: number | null = null;
  if (plan.count) {
    const table = sql.table(s.resource.table);
    const boundCol = sql.ref(boundColumn(s.resource));
    const q = compiled.get(keyOf(s, "count-bounded", planKey), () =>
      sql`select count(*) from ${table}
        where tenant_id = ${slot("tenant")} and +${boundCol} <= ${slot("bound")} and ${whereOf(s, plan)}`.compile(s.store.db),
    );
    count = Number((await bounded(s, q, values, false))[0]?.[0] ?? 0);
  }
  return { ...page, count };
}

/** A page from its statement's rows (columns: id, doc, ready, one per sort key, and on first pages the tenant's counter). */
function rowsPage(result: unknown[][], plan: QueryPlan, bound: number | null): Pick<Page, "rows" | "joined" | "next"> {
  const page = result.slice(0, plan.top);
  const rows = page.map((r) => ({ id: r[0] as string | number, doc: r[1] as string | null, ready: r[2] as string | null }));
  const last = page[page.length - 1];
  if (result.length <= plan.top || !last) return { rows, joined: null, next: null };
  const after = plan.orderBy.map((_, i) => (last[3 + i] ?? null) as string | number | null);
  return { rows, joined: null, next: { after, bound: bound ?? Number(last[3 + plan.orderBy.length]) - 1 } };
}

/**
 * A cheap page (`cheapPage`) read joined (`joinedPageStatement`), or null where it cannot be: on
 * PostgreSQL, for a projection that renders documents or a sort key that can be null, and where
 * SQLite's plan would not hand the page's rows over in order (the statement's rows are then read as
 * usual). The entities that must be rendered for the caller come as `rows`, their places in `joined`
 * left as gaps.
 */
async function joinedPage(
  s: ListScope,
  plan: QueryPlan,
  planKey: string,
  proj: Projection,
  values: Record<string, unknown>,
  kind: string,
  open: boolean,
): Promise<Pick<Page, "rows" | "joined" | "next"> | null> {
  if (s.store.dialect !== "sqlite" || proj === "doc" || plan.orderBy.some((k) => k.property.schema.nullable)) return null;
  const withBound = kind !== "first";
  const q = compiled.get(keyOf(s, `joined:${proj}:${kind}:${open ? "open" : "guarded"}`, planKey), () => joinedPageStatement(s, plan, proj, withBound, !open));
  if (!(await planSays(s, q, values, "yields the page in order", yieldsInOrder))) return null;
  const [row] = await bounded(s, q, values, true);
  const [joined, pendingIds, docs, more, counter, lastKeys] = row ?? [];
  const pending = pendingIds == null ? [] : (JSON.parse(`[${pendingIds as string}]`) as (string | number)[]);
  const pendingDocs = docs == null ? [] : (docs as string).split(JOINED_GAP);
  // A gap in an entity's own JSON would put a rendered entity inside it: none can be there (see
  // JOINED_GAP), and a page that had one would be read as rows.
  if (pendingDocs.length !== pending.length || (pending.length > 0 && gapsIn(joined as string) !== pending.length)) return null;
  const next =
    more != null && lastKeys != null
      ? { after: JSON.parse(lastKeys as string) as (string | number)[], bound: withBound ? (values.bound as number) : Number(counter) - 1 }
      : null;
  return { rows: pending.map((id, i) => ({ id, doc: pendingDocs[i]!, ready: null })), joined: (joined as string | null) ?? "", next };
}

/** How many entities match the filter now (the `/$count` segment). */
export async function countAll(s: ListScope, plan: Pick<QueryPlan, "filter">, planKey: string): Promise<number> {
  const q = compiled.get(keyOf(s, "count", planKey), () =>
    sql`select count(*) from ${sql.table(s.resource.table)} where tenant_id = ${slot("tenant")} and ${whereOf(s, plan)}`.compile(s.store.db),
  );
  return Number((await bounded(s, q, { tenant: s.tenantId, scope: s.incidentId }, false))[0]?.[0] ?? 0);
}
