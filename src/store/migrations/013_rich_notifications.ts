import type { Kysely } from "kysely";

/**
 * Rich notifications: a subscription with includeResourceData keeps the receiver's encryption
 * certificate (base64 DER, public key only) and the id the receiver gave it. A subscription without
 * resource data has neither; `encryption_certificate` being set is what includeResourceData means.
 *
 * Lifecycle notifications: `reauthorization_notified_for` is the expiry a reauthorizationRequired was
 * sent for (claimed by one node, so it is sent once; a renewal's new expiry makes the next one due);
 * `removed_at` marks a subscription whose app may no longer read its resource: nothing more is
 * delivered for it, and it is deleted once subscriptionRemoved has been sent.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("subscriptions").addColumn("encryption_certificate", "text").execute();
  await db.schema.alterTable("subscriptions").addColumn("encryption_certificate_id", "text").execute();
  await db.schema.alterTable("subscriptions").addColumn("reauthorization_notified_for", "text").execute();
  await db.schema.alterTable("subscriptions").addColumn("removed_at", "text").execute();
}
