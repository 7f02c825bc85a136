/**
 * Reading and writing one incident's row, for the paths that change a single incident (PATCH,
 * comments, an alert PATCH's recomputation). The rules those paths apply live in src/features/.
 */
import type { Kysely, Transaction } from "kysely";
import type { Database, IncidentTable } from "./tables.js";
import type { AuditContext, IncidentRecord, PropertyChange } from "../schema/records.js";
import { notFound } from "../errors/graph-error.js";
import { MAX_INCIDENT_ID } from "../schema/limits.js";
import { isPostgres } from "./dialect.js";
import { updateGuarded } from "./guarded-update.js";
import { placeholders, statementText, runText } from "./statement-text.js";
import { incidentRowOf } from "./incident-rows.js";
import { writeAtOnce, type AtOnceFeed } from "./write-at-once.js";

/** Incident ids are decimal strings within the id column's range; anything else cannot name an incident. */
export function incidentKey(id: string): number | null {
  if (!/^\d{1,10}$/.test(id)) return null;
  const key = Number(id);
  return key <= MAX_INCIDENT_ID ? key : null;
}

export function incidentNotFound(id: string) {
  return notFound(`Incident with id '${id}' was not found.`);
}

/**
 * An incident's row. `forUpdate` locks it until the transaction ends on PostgreSQL, where several
 * nodes write concurrently (SQLite serializes its writers anyway).
 */
export async function findIncidentRow(
  db: Kysely<Database> | Transaction<Database>,
  tenantId: string,
  id: string | number,
  forUpdate = false,
): Promise<IncidentTable | undefined> {
  const key = typeof id === "number" ? id : incidentKey(id);
  if (key === null) return undefined;
  const pg = isPostgres(db);
  const lock = forUpdate && pg;
  const text = statementText(
    `incident-row|${pg}|${lock}`,
    () => `select * from incidents where tenant_id = ${placeholders(pg, 1)} and id = ${placeholders(pg, 1, 2)}${lock ? " for update" : ""}`,
  );
  const { rows } = await runText<IncidentTable>(db, text, [tenantId, key]);
  return rows[0];
}

/** Writes an incident as `next` holds it, guarded by the version `row` was read at. */
export async function writeIncident(trx: Transaction<Database>, row: IncidentTable, next: IncidentRecord): Promise<IncidentTable> {
  const updated = incidentRowOf(row.tenant_id, next, row.version + 1, row);
  await updateGuarded(trx, "incidents", row, updated);
  return updated;
}

/**
 * PostgreSQL: writes an incident as `next` holds it, with the audit rows of `changes` and its feed row,
 * as one statement (write-at-once.ts); the row as written, or undefined (nothing written) if its
 * version had moved since `row` was read.
 */
export async function writeIncidentAtOnce(
  db: Kysely<Database>,
  row: IncidentTable,
  next: IncidentRecord,
  audit: AuditContext,
  changes: readonly PropertyChange[],
  feed: AtOnceFeed,
): Promise<IncidentTable | undefined> {
  const updated = incidentRowOf(row.tenant_id, next, row.version + 1, row);
  return (await writeAtOnce(db, "incidents", row, updated, audit, changes, feed)) ? updated : undefined;
}
