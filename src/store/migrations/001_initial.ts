import type { Kysely } from "kysely";
import { serialKey, sortedText } from "../dialect.js";

/** The first schema: tenants, incidents, alerts, the audit trail and the correlation index. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const text = sortedText(db);
  await db.schema
    .createTable("tenants")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("display_name", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("next_incident_id", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("next_alert_seq", "integer", (c) => c.notNull().defaultTo(1))
    .execute();

  await db.schema
    .createTable("incidents")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("id", "integer", (c) => c.notNull())
    .addColumn("status", "integer", (c) => c.notNull())
    .addColumn("severity", "integer", (c) => c.notNull())
    .addColumn("classification", "integer")
    .addColumn("determination", "integer")
    .addColumn("assigned_to", text)
    .addColumn("display_name", text)
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("priority_score", "integer")
    .addColumn("priority_factors", "text")
    .addColumn("redirect_incident_id", "integer")
    .addColumn("severity_source", "text", (c) => c.notNull().defaultTo("alerts"))
    .addColumn("name_source", "text", (c) => c.notNull().defaultTo("alerts"))
    .addColumn("alert_count", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("version", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("doc", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("incidents_pk", ["tenant_id", "id"])
    .execute();
  // One index per sortable column (with id as the tiebreak the pager seeks on), plus the filters a
  // queue uses most: status and severity lead so that "active, newest first" reads one index range.
  for (const col of ["created_at", "updated_at", "priority_score", "display_name", "assigned_to"]) {
    await db.schema.createIndex(`incidents_${col}`).on("incidents").columns(["tenant_id", col, "id"]).execute();
  }
  await db.schema.createIndex("incidents_status_created").on("incidents").columns(["tenant_id", "status", "created_at", "id"]).execute();
  await db.schema.createIndex("incidents_severity_created").on("incidents").columns(["tenant_id", "severity", "created_at", "id"]).execute();
  await db.schema.createIndex("incidents_classification").on("incidents").columns(["tenant_id", "classification", "determination"]).execute();

  await db.schema
    .createTable("alerts")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id"))
    .addColumn("id", text, (c) => c.notNull())
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("incident_id", "integer")
    .addColumn("status", "integer", (c) => c.notNull())
    .addColumn("severity", "integer", (c) => c.notNull())
    .addColumn("classification", "integer")
    .addColumn("determination", "integer")
    .addColumn("service_source", "integer", (c) => c.notNull())
    .addColumn("detection_source", "integer")
    .addColumn("assigned_to", text)
    .addColumn("title", text)
    .addColumn("detector_key", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("first_activity_at", "text")
    .addColumn("last_activity_at", "text")
    .addColumn("version", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("doc", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("alerts_pk", ["tenant_id", "id"])
    .addForeignKeyConstraint("alerts_incident_fk", ["tenant_id", "incident_id"], "incidents", ["tenant_id", "id"])
    .execute();
  await db.schema.createIndex("alerts_incident").on("alerts").columns(["tenant_id", "incident_id", "created_at"]).execute();
  await db.schema.createIndex("alerts_seq").on("alerts").columns(["tenant_id", "seq"]).unique().execute();
  for (const col of ["created_at", "updated_at", "first_activity_at", "last_activity_at", "title", "assigned_to"]) {
    await db.schema.createIndex(`alerts_${col}`).on("alerts").columns(["tenant_id", col, "id"]).execute();
  }
  await db.schema.createIndex("alerts_status_created").on("alerts").columns(["tenant_id", "status", "created_at", "id"]).execute();
  await db.schema.createIndex("alerts_severity_created").on("alerts").columns(["tenant_id", "severity", "created_at", "id"]).execute();
  await db.schema.createIndex("alerts_service_source").on("alerts").columns(["tenant_id", "service_source", "created_at", "id"]).execute();

  await db.schema
    .createTable("audit_log")
    .addColumn("seq", serialKey(db), (c) => (serialKey(db) === "serial" ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("entity_type", "text", (c) => c.notNull())
    .addColumn("entity_id", "text", (c) => c.notNull())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("request_id", "text")
    .addColumn("property", "text", (c) => c.notNull())
    .addColumn("before", "text")
    .addColumn("after", "text")
    .execute();
  await db.schema.createIndex("audit_entity").on("audit_log").columns(["tenant_id", "entity_type", "entity_id", "seq"]).execute();

  await db.schema
    .createTable("incident_entities")
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("entity_key", "text", (c) => c.notNull())
    .addColumn("incident_id", "integer", (c) => c.notNull())
    .addColumn("last_seen_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("incident_entities_pk", ["tenant_id", "entity_key", "incident_id"])
    .execute();
  await db.schema.createIndex("incident_entities_incident").on("incident_entities").columns(["tenant_id", "incident_id"]).execute();

  await db.schema
    .createTable("correlation_events")
    .addColumn("seq", serialKey(db), (c) => (serialKey(db) === "serial" ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("incident_id", "integer", (c) => c.notNull())
    .addColumn("at", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("alert_id", "text")
    .addColumn("other_incident_id", "integer")
    .addColumn("reasons", "text", (c) => c.notNull())
    .addColumn("detail", "text")
    .execute();
  await db.schema.createIndex("correlation_events_incident").on("correlation_events").columns(["tenant_id", "incident_id", "seq"]).execute();

  await db.schema
    .createTable("detector_stats")
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("detector_key", "text", (c) => c.notNull())
    .addColumn("alert_count", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("detector_stats_pk", ["tenant_id", "detector_key"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ["detector_stats", "correlation_events", "incident_entities", "audit_log", "alerts", "incidents", "tenants"]) {
    await db.schema.dropTable(t).execute();
  }
}
