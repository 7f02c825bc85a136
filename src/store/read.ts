import { sql } from "kysely";
import type { Store } from "./open.js";
import { CompiledCache, readArrays, slot } from "./prepared.js";
import { GATED, READY } from "./columns.js";

/**
 * An entity as read for sending: its document when it must be rendered, else its ready v1.0 JSON.
 */
export interface ReadRow {
  id: string | number;
  doc: string | null;
  ready: string | null;
}

/**
 * Which form of an entity to read: its document (to be rendered: `$select`, beta), or its ready v1.0
 * JSON — with the document as well where that cannot be sent as it is (not rendered yet, or holding
 * a gated enum member the client did not opt in to).
 */
export type Projection = "doc" | "ready" | "ready-with-unknown";

/**
 * The select-list items `doc` and `ready`, in that order, for a projection. `doc` is there only where
 * the entity must be rendered; `ready` is its ready JSON, wherever it is kept (see columns.ts). (A
 * second conditional over `json_v1` would read it twice, which cost SQLite a quarter of a listing's
 * time: `coalesce` reads it once.)
 */
export function projection(p: Projection) {
  if (p === "doc") return sql`doc, null as ready`;
  const unrendered = sql`json_v1 is null and gated = ${sql.lit(READY)}`;
  const unsendable = p === "ready" ? sql`gated = ${sql.lit(GATED)} or ${unrendered}` : unrendered;
  return sql`case when ${unsendable} then doc end as doc, coalesce(json_v1, doc) as ready`;
}

/**
 * What `projection` selects, for a row already in hand (the row a PATCH just wrote): the same choice,
 * made in one module with the SQL that makes it for rows read.
 */
export function readRowOf(row: { id: string | number; doc: string; json_v1: string | null; gated: number }, p: Projection): ReadRow {
  if (p === "doc") return { id: row.id, doc: row.doc, ready: null };
  const unrendered = row.json_v1 === null && row.gated === READY;
  const unsendable = p === "ready" ? row.gated === GATED || unrendered : unrendered;
  return { id: row.id, doc: unsendable ? row.doc : null, ready: row.json_v1 ?? row.doc };
}

const compiled = new CompiledCache(50);

function readRow(r: unknown[], from = 0): ReadRow {
  return { id: r[from] as string | number, doc: r[from + 1] as string | null, ready: r[from + 2] as string | null };
}

/** One incident or alert by its key, in the form `proj` asks for. */
export async function readEntity(
  store: Store,
  table: "incidents" | "alerts",
  tenantId: string,
  key: string | number,
  proj: Projection,
): Promise<ReadRow | undefined> {
  const q = compiled.get(`${store.dialect}|one|${table}|${proj}`, () =>
    sql`select id, ${projection(proj)} from ${sql.table(table)} where tenant_id = ${slot("tenant")} and id = ${slot("key")}`.compile(store.db),
  );
  const [row] = await readArrays(store, q, { tenant: tenantId, key });
  return row && readRow(row);
}
