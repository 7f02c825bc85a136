import type { Kysely } from "kysely";

/**
 * Credential state every node must share: failed sign-in counters and lockouts (per account and per
 * source address), the client-assertion ids already seen (replay protection), and the family a
 * refresh token belongs to (reuse of a spent one revokes the family). Times are epoch milliseconds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("signin_failures")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("failures", "integer", (c) => c.notNull())
    .addColumn("lockouts", "integer", (c) => c.notNull())
    .addColumn("locked_until", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("signin_failures_expires").on("signin_failures").column("expires_at").execute();

  await db.schema
    .createTable("seen_assertions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("seen_assertions_expires").on("seen_assertions").column("expires_at").execute();

  await db.schema.alterTable("grants").addColumn("family_id", "text").execute();
  await db.schema.createIndex("grants_family").on("grants").column("family_id").execute();
  await db.schema.createIndex("grants_expires").on("grants").column("expires_at").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("grants_expires").execute();
  await db.schema.dropIndex("grants_family").execute();
  await db.schema.alterTable("grants").dropColumn("family_id").execute();
  await db.schema.dropTable("seen_assertions").execute();
  await db.schema.dropTable("signin_failures").execute();
}
