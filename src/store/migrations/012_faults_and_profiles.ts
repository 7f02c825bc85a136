import type { Kysely } from "kysely";
import { serialKey } from "../dialect.js";

/**
 * Fault injection and strictness profiles, set per tenant (client_id '') or per app, kept in the store
 * so that every node on one database applies the same ones. A fault configuration carries its rules'
 * counters (how many requests each matched and how often it fired), updated in the transaction that
 * records the faults it injects in `fault_events`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("fault_configs")
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("client_id", "text", (c) => c.notNull())
    .addColumn("config", "text", (c) => c.notNull())
    .addColumn("counters", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("updated_by", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("fault_configs_pk", ["tenant_id", "client_id"])
    .execute();

  await db.schema
    .createTable("fault_events")
    .addColumn("seq", serialKey(db), (c) => (serialKey(db) === "serial" ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("client_id", "text", (c) => c.notNull())
    .addColumn("scope", "text", (c) => c.notNull())
    .addColumn("rule", "integer", (c) => c.notNull())
    .addColumn("fault", "text", (c) => c.notNull())
    .addColumn("status", "integer")
    .addColumn("delay_ms", "integer")
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("request_id", "text", (c) => c.notNull())
    .addColumn("method", "text", (c) => c.notNull())
    .addColumn("route", "text", (c) => c.notNull())
    .addColumn("retry_attempt", "integer")
    .execute();
  await db.schema.createIndex("fault_events_tenant").on("fault_events").columns(["tenant_id", "seq"]).execute();

  await db.schema
    .createTable("api_profiles")
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("client_id", "text", (c) => c.notNull())
    .addColumn("profile", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("api_profiles_pk", ["tenant_id", "client_id"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ["api_profiles", "fault_events", "fault_configs"]) await db.schema.dropTable(t).execute();
}
