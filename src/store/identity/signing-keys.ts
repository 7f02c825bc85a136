/** Token signing keys as rows: private keys as identity/keys.ts stores them (sealed or in clear). */
import type { Db, SigningKeyTable } from "../tables.js";

/** Every signing key, newest first. */
export async function listSigningKeys(db: Db): Promise<SigningKeyTable[]> {
  return db.selectFrom("signing_keys").selectAll().orderBy("created_at", "desc").execute();
}

/**
 * Replaces a stored private key, only if it still holds `from`: nodes re-sealing the same key at once
 * cannot undo each other. True when this call made the change.
 */
export async function replacePrivateKey(db: Db, kid: string, from: string, to: string): Promise<boolean> {
  const res = await db.updateTable("signing_keys").set({ private_pem: to }).where("kid", "=", kid).where("private_pem", "=", from).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Adds a signing key and retires the one signing now, in one transaction: one unretired key at a time. */
export async function addSigningKey(db: Db, row: Omit<SigningKeyTable, "retired_at">): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable("signing_keys").set({ retired_at: row.created_at }).where("retired_at", "is", null).execute();
    await trx
      .insertInto("signing_keys")
      .values({ ...row, retired_at: null })
      .execute();
  });
}
