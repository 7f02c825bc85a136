import type { Kysely } from "kysely";
import { LRUCache } from "lru-cache";
import type { Database } from "./tables.js";

export interface Tenant {
  id: string;
  displayName: string;
  createdAt: string;
}

export async function createTenant(db: Kysely<Database>, id: string, displayName: string, now = new Date().toISOString()): Promise<Tenant> {
  await db.insertInto("tenants").values({ id, display_name: displayName, created_at: now, next_incident_id: 1, next_alert_seq: 1 }).execute();
  return { id, displayName, createdAt: now };
}

export async function findTenant(db: Kysely<Database>, id: string): Promise<Tenant | undefined> {
  const row = await db.selectFrom("tenants").selectAll().where("id", "=", id).executeTakeFirst();
  return row && { id: row.id, displayName: row.display_name, createdAt: row.created_at };
}

/** How many incidents the tenant holds (seeding reports it). */
export async function countIncidents(db: Kysely<Database>, tenantId: string): Promise<number> {
  const row = await db
    .selectFrom("incidents")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("tenant_id", "=", tenantId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export async function listTenants(db: Kysely<Database>): Promise<Tenant[]> {
  const rows = await db.selectFrom("tenants").selectAll().orderBy("created_at").execute();
  return rows.map((row) => ({ id: row.id, displayName: row.display_name, createdAt: row.created_at }));
}

/**
 * Whether a tenant is served, for the check on every request. Tenants are created and never deleted,
 * so one found once is remembered (a bounded number of them): the lookup was a query on every request,
 * a network round trip on PostgreSQL.
 */
export function tenantExistence(db: Kysely<Database>, max = 10_000): (id: string) => Promise<boolean> {
  const known = new LRUCache<string, true>({ max });
  return async (id) => {
    if (known.has(id)) return true;
    if (!(await findTenant(db, id))) return false;
    known.set(id, true);
    return true;
  };
}
