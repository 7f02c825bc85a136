/**
 * App registrations as rows. What a registration may ask for and how its permissions are spelled is
 * identity's (identity/directory.ts); client ids arrive here already lower-cased.
 */
import type { AppTable, Db } from "../tables.js";

export async function insertApp(db: Db, row: AppTable): Promise<void> {
  await db.insertInto("apps").values(row).execute();
}

export async function findAppRow(db: Db, clientId: string): Promise<AppTable | undefined> {
  return db.selectFrom("apps").selectAll().where("client_id", "=", clientId).executeTakeFirst();
}

export async function listAppRows(db: Db, tenantId: string): Promise<AppTable[]> {
  return db.selectFrom("apps").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").execute();
}

/** Writes the requested permissions (JSON arrays of catalog names). */
export async function setAppPermissions(db: Db, clientId: string, appPermissions: string, delegatedPermissions: string): Promise<void> {
  await db
    .updateTable("apps")
    .set({ app_permissions: appPermissions, delegated_permissions: delegatedPermissions })
    .where("client_id", "=", clientId)
    .execute();
}

/**
 * Deletes a registration with everything issued to it (grants, consents, secrets, certificates) in
 * one transaction: no node ever sees a consent or a refresh token of an app that is gone.
 */
export async function deleteApp(db: Db, clientId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom("grants").where("client_id", "=", clientId).execute();
    await trx.deleteFrom("consents").where("client_id", "=", clientId).execute();
    await trx.deleteFrom("app_secrets").where("client_id", "=", clientId).execute();
    await trx.deleteFrom("app_certificates").where("client_id", "=", clientId).execute();
    await trx.deleteFrom("apps").where("client_id", "=", clientId).execute();
  });
}
