/**
 * Reading and writing one alert's row, for the paths that change a single alert (PATCH, comments).
 * The rules those paths apply live in src/features/.
 */
import type { Kysely, Transaction } from "kysely";
import type { AlertTable, Database } from "./tables.js";
import type { AlertRecord, AuditContext, PropertyChange } from "../schema/records.js";
import { notFound } from "../errors/graph-error.js";
import { MAX_ID_LENGTH } from "../schema/limits.js";
import { isPostgres } from "./dialect.js";
import { updateGuarded } from "./guarded-update.js";
import { alertRowOf } from "./alert-rows.js";
import { writeAtOnce } from "./write-at-once.js";

export function alertNotFound(id: string) {
  return notFound(`Alert with id '${id}' was not found.`);
}

/** An alert's row; `forUpdate` locks it until the transaction ends (PostgreSQL). */
export async function findAlertRow(
  db: Kysely<Database> | Transaction<Database>,
  tenantId: string,
  id: string,
  forUpdate = false,
): Promise<AlertTable | undefined> {
  // Ingestion accepts no longer id, so none can name an alert.
  if (id.length > MAX_ID_LENGTH) return undefined;
  let q = db.selectFrom("alerts").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id);
  if (forUpdate && isPostgres(db)) q = q.forUpdate();
  return q.executeTakeFirst();
}

/** Writes an alert as `next` holds it, guarded by the version `row` was read at. */
export async function writeAlert(trx: Transaction<Database>, row: AlertTable, next: AlertRecord): Promise<AlertTable> {
  const updated = alertRowOf(row.tenant_id, next, row.version + 1, row);
  await updateGuarded(trx, "alerts", row, updated);
  return updated;
}

/**
 * PostgreSQL: writes an alert as `next` holds it, with the audit rows of `changes` and its feed row, as
 * one statement (write-at-once.ts); the row as written, or undefined (nothing written) if its version
 * had moved since `row` was read.
 */
export async function writeAlertAtOnce(
  db: Kysely<Database>,
  row: AlertTable,
  next: AlertRecord,
  audit: AuditContext,
  changes: readonly PropertyChange[],
): Promise<AlertTable | undefined> {
  const updated = alertRowOf(row.tenant_id, next, row.version + 1, row);
  return (await writeAtOnce(db, "alerts", row, updated, audit, changes, { byPerson: false })) ? updated : undefined;
}
