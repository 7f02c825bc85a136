import type { Kysely } from "kysely";

/**
 * Rich notifications: a subscription with includeResourceData keeps the receiver's encryption
 * certificate (base64 DER, public key only) and the id the receiver gave it. A subscription without
 * resource data has neither; `encryption_certificate` being set is what includeResourceData means.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("subscriptions").addColumn("encryption_certificate", "text").execute();
  await db.schema.alterTable("subscriptions").addColumn("encryption_certificate_id", "text").execute();
}
