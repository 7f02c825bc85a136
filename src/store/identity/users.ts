/** A tenant's users as rows; user principal names arrive here trimmed and lower-cased. */
import type { Db, UserTable } from "../tables.js";

export async function insertUser(db: Db, row: UserTable): Promise<void> {
  await db.insertInto("users").values(row).execute();
}

export async function findUserRowByUpn(db: Db, tenantId: string, upn: string): Promise<UserTable | undefined> {
  return db.selectFrom("users").selectAll().where("tenant_id", "=", tenantId).where("upn", "=", upn).executeTakeFirst();
}

export async function userExists(db: Db, tenantId: string, upn: string): Promise<boolean> {
  const row = await db.selectFrom("users").select("id").where("tenant_id", "=", tenantId).where("upn", "=", upn).executeTakeFirst();
  return row !== undefined;
}

export async function findUserRow(db: Db, tenantId: string, id: string): Promise<UserTable | undefined> {
  return db.selectFrom("users").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirst();
}

export async function listUserRows(db: Db, tenantId: string): Promise<UserTable[]> {
  return db.selectFrom("users").selectAll().where("tenant_id", "=", tenantId).orderBy("upn").execute();
}

/** Writes the user's roles (a JSON array of Entra role names). */
export async function setUserRoles(db: Db, tenantId: string, upn: string, roles: string): Promise<void> {
  await db.updateTable("users").set({ roles }).where("tenant_id", "=", tenantId).where("upn", "=", upn).execute();
}

/** The ids of the tenant's users who have a password. */
export async function userIdsWithPassword(db: Db, tenantId: string): Promise<Set<string>> {
  const rows = await db.selectFrom("users").select(["id", "password_hash"]).where("tenant_id", "=", tenantId).execute();
  return new Set(rows.filter((r) => r.password_hash !== null).map((r) => r.id));
}
