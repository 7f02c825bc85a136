/** An app's client secrets (salted hashes only) and the certificates it signs client assertions with. */
import type { AppCertificateTable, AppSecretTable, Db } from "../tables.js";

export async function insertAppSecret(db: Db, row: AppSecretTable): Promise<void> {
  await db.insertInto("app_secrets").values(row).execute();
}

/** The hashes (with their hints) of the app's secrets that expire after `nowIso`. */
export async function liveSecretHashes(db: Db, clientId: string, nowIso: string): Promise<{ hash: string; hint: string }[]> {
  return db.selectFrom("app_secrets").select(["hash", "hint"]).where("client_id", "=", clientId).where("expires_at", ">", nowIso).execute();
}

/** What an administrator sees of the app's secrets (never the hash), oldest first. */
export async function listAppSecrets(db: Db, clientId: string): Promise<Pick<AppSecretTable, "id" | "hint" | "created_at" | "expires_at">[]> {
  return db.selectFrom("app_secrets").select(["id", "hint", "created_at", "expires_at"]).where("client_id", "=", clientId).orderBy("created_at").execute();
}

export async function insertAppCertificate(db: Db, row: AppCertificateTable): Promise<void> {
  await db.insertInto("app_certificates").values(row).execute();
}

/** The app's certificates, oldest first. */
export async function listAppCertificates(db: Db, clientId: string): Promise<AppCertificateTable[]> {
  return db.selectFrom("app_certificates").selectAll().where("client_id", "=", clientId).orderBy("created_at").execute();
}
