/**
 * Authorization codes, device codes and refresh tokens, stored by the SHA-256 of their secret
 * (identity/oauth/grants.ts hashes them). Status changes are conditional updates: one winner per race.
 */
import { isPostgres } from "../dialect.js";
import type { Db, GrantTable } from "../tables.js";

export async function insertGrant(db: Db, row: GrantTable): Promise<void> {
  await db.insertInto("grants").values(row).execute();
}

export async function findGrantRow(db: Db, kind: string, id: string): Promise<GrantTable | undefined> {
  return db.selectFrom("grants").selectAll().where("id", "=", id).where("kind", "=", kind).executeTakeFirst();
}

export async function findDeviceCodeRow(db: Db, userCode: string): Promise<GrantTable | undefined> {
  return db.selectFrom("grants").selectAll().where("kind", "=", "device_code").where("user_code", "=", userCode).executeTakeFirst();
}

/** Moves a grant from `from` to `to` (setting its user when given), only if it is still in `from`. */
export async function transitionGrant(db: Db, id: string, from: string, to: string, userId?: string): Promise<boolean> {
  const res = await db
    .updateTable("grants")
    .set(userId ? { status: to, user_id: userId } : { status: to })
    .where("id", "=", id)
    .where("status", "=", from)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Revokes the active refresh tokens of a family (and the one whose id names it); how many were. */
export async function revokeRefreshFamily(db: Db, familyId: string): Promise<number> {
  const res = await db
    .updateTable("grants")
    .set({ status: "revoked" })
    .where("kind", "=", "refresh_token")
    .where("status", "=", "active")
    .where((eb) => eb.or([eb("family_id", "=", familyId), eb("id", "=", familyId)]))
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** Deletes every grant issued to the app: its refresh tokens stop working at once. */
export async function deleteClientGrants(db: Db, clientId: string): Promise<void> {
  await db.deleteFrom("grants").where("client_id", "=", clientId).execute();
}

/** Deletes up to `batch` grants that expired before `beforeIso`; how many it deleted. */
export async function deleteExpiredGrants(db: Db, beforeIso: string, batch: number): Promise<number> {
  const res = await db
    .deleteFrom("grants")
    .where(
      "id",
      "in",
      db
        .selectFrom("grants")
        .select("id")
        .where("expires_at", "<", beforeIso)
        .limit(batch)
        // Nodes purging at once skip each other's rows instead of deadlocking on them.
        .$if(isPostgres(db), (q) => q.forUpdate().skipLocked()),
    )
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}
