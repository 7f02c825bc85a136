import type { Kysely } from "kysely";

/**
 * Lifecycle notifications sent durably, and what slow-endpoint throttling counts.
 *
 * `lifecycle_outbox` holds each lifecycle notification to send (reauthorizationRequired,
 * subscriptionRemoved, missed), written in the transaction that decided it — the claim of a
 * reauthorization, the removal of a subscription, a cursor jumping past changes its receiver will
 * never get — and deleted once its receiver acknowledged it or the retry period ended. `body` is the
 * notification item, complete: it is sent even after its subscription is gone.
 *
 * `subscriptions.token_issuer` is the token issuer of the subscription's tenant as its creator reached
 * Triage (the `iss` of the validationTokens sent with its rich notifications); null for subscriptions
 * created before it was kept.
 *
 * `notification_endpoints` counts, per notification URL (its SHA-256) and per counting window, the
 * notifications sent, the POSTs answered and the slow answers among them, shared by every node.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("subscriptions").addColumn("token_issuer", "text").execute();
  await db.schema
    .createTable("lifecycle_outbox")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("subscription_id", "text", (c) => c.notNull())
    .addColumn("event", "text", (c) => c.notNull())
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("failing_since", "text")
    .addColumn("next_attempt_at", "text", (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", "text")
    .execute();
  await db.schema.createIndex("lifecycle_outbox_due").on("lifecycle_outbox").columns(["next_attempt_at"]).execute();

  await db.schema
    .createTable("notification_endpoints")
    .addColumn("url_key", "text", (c) => c.primaryKey())
    .addColumn("window_start", "text", (c) => c.notNull())
    .addColumn("notifications", "integer", (c) => c.notNull())
    .addColumn("responses", "integer", (c) => c.notNull())
    .addColumn("slow", "integer", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ["notification_endpoints", "lifecycle_outbox"]) await db.schema.dropTable(t).execute();
}
