import type { Kysely } from "kysely";

/** The directory (apps, secrets, certificates, consent, users) and the token issuer's state. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("apps")
    .addColumn("client_id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("display_name", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("public_client", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("redirect_uris", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("app_permissions", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("delegated_permissions", "text", (c) => c.notNull().defaultTo("[]"))
    .execute();
  await db.schema.createIndex("apps_tenant").on("apps").columns(["tenant_id", "display_name"]).execute();

  await db.schema
    .createTable("app_secrets")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("client_id", "text", (c) => c.notNull().references("apps.client_id").onDelete("cascade"))
    .addColumn("hint", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("app_secrets_client").on("app_secrets").column("client_id").execute();

  await db.schema
    .createTable("app_certificates")
    .addColumn("thumbprint", "text", (c) => c.primaryKey())
    .addColumn("client_id", "text", (c) => c.notNull().references("apps.client_id").onDelete("cascade"))
    .addColumn("pem", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("app_certificates_client").on("app_certificates").column("client_id").execute();

  await db.schema
    .createTable("consents")
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("client_id", "text", (c) => c.notNull().references("apps.client_id").onDelete("cascade"))
    .addColumn("scheme", "text", (c) => c.notNull())
    .addColumn("permission", "text", (c) => c.notNull())
    .addColumn("granted_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("consents_pk", ["tenant_id", "client_id", "scheme", "permission"])
    .execute();

  await db.schema
    .createTable("users")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("upn", "text", (c) => c.notNull())
    .addColumn("display_name", "text", (c) => c.notNull())
    .addColumn("password_hash", "text")
    .addColumn("roles", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("users_upn").on("users").columns(["tenant_id", "upn"]).unique().execute();

  await db.schema
    .createTable("signing_keys")
    .addColumn("kid", "text", (c) => c.primaryKey())
    .addColumn("private_pem", "text", (c) => c.notNull())
    .addColumn("public_jwk", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("retired_at", "text")
    .execute();

  // Short-lived grants: authorization codes, device codes and refresh tokens, stored by hash.
  await db.schema
    .createTable("grants")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("client_id", "text", (c) => c.notNull())
    .addColumn("user_id", "text")
    .addColumn("user_code", "text")
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("grants_user_code").on("grants").column("user_code").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ["grants", "signing_keys", "users", "consents", "app_certificates", "app_secrets", "apps"]) {
    await db.schema.dropTable(t).execute();
  }
}
