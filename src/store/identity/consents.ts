/** Consented permissions: which app may use which permission, under which scheme, in a tenant. */
import type { ConsentTable, Db } from "../tables.js";

/** Records each consent; one already granted is left as it is (its first grant time stands). */
export async function insertConsents(db: Db, rows: readonly ConsentTable[]): Promise<void> {
  for (const r of rows) {
    await db
      .insertInto("consents")
      .values(r)
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

export async function deleteConsents(db: Db, clientId: string): Promise<void> {
  await db.deleteFrom("consents").where("client_id", "=", clientId).execute();
}

/** The permissions consented to the app in the tenant under `scheme`, by name. */
export async function listConsentedPermissions(db: Db, tenantId: string, clientId: string, scheme: string): Promise<string[]> {
  const rows = await db
    .selectFrom("consents")
    .select("permission")
    .where("tenant_id", "=", tenantId)
    .where("client_id", "=", clientId)
    .where("scheme", "=", scheme)
    .orderBy("permission")
    .execute();
  return rows.map((r) => r.permission);
}
