import type { Kysely } from "kysely";

/**
 * Each incident and alert keeps its v1.0 Graph JSON ready to send (`json_v1`), and whether it holds an
 * enum member that must be hidden from clients that did not opt in (`gated`): a listing splices the
 * ready JSON into the page instead of parsing and re-serializing every row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ["incidents", "alerts"]) {
    await db.schema.alterTable(table).addColumn("json_v1", "text").execute();
    await db.schema
      .alterTable(table)
      .addColumn("gated", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ["incidents", "alerts"]) {
    await db.schema.alterTable(table).dropColumn("gated").execute();
    await db.schema.alterTable(table).dropColumn("json_v1").execute();
  }
}
