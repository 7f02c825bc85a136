import type { Kysely } from "kysely";
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

export async function listTenants(db: Kysely<Database>): Promise<Tenant[]> {
  const rows = await db.selectFrom("tenants").selectAll().orderBy("created_at").execute();
  return rows.map((row) => ({ id: row.id, displayName: row.display_name, createdAt: row.created_at }));
}
