/**
 * The rows an analyst's merge or move reads and writes beyond one entity's (incidents.ts, alerts.ts):
 * several incidents and their alerts, locked in the order every writer takes them (incidents by id,
 * then alerts by id), a new incident, and the entities an incident has seen.
 */
import type { Transaction } from "kysely";
import { noteChange } from "./feed.js";
import type { AlertTable, Database, IncidentTable } from "./tables.js";
import type { IncidentRecord } from "../schema/records.js";
import { isPostgres } from "./dialect.js";
import { chunks, IN_LIST } from "./chunks.js";
import { incidentRowOf } from "./incident-rows.js";
import { findIncidentRow } from "./incidents.js";

/** The incidents, read (and on PostgreSQL locked) in id order; missing ones are left out. */
export async function lockIncidentRows(trx: Transaction<Database>, tenantId: string, ids: readonly number[]): Promise<IncidentTable[]> {
  const out: IncidentTable[] = [];
  for (const id of [...new Set(ids)].sort((a, b) => a - b)) {
    const row = await findIncidentRow(trx, tenantId, id, true);
    if (row) out.push(row);
  }
  return out;
}

/** Every alert of the incident, in id order, locked on PostgreSQL. */
export async function lockIncidentAlerts(trx: Transaction<Database>, tenantId: string, incidentId: number): Promise<AlertTable[]> {
  let q = trx.selectFrom("alerts").selectAll().where("tenant_id", "=", tenantId).where("incident_id", "=", incidentId).orderBy("id");
  if (isPostgres(trx)) q = q.forUpdate();
  return q.execute();
}

/** The alerts, in id order; `lock` locks them on PostgreSQL. Unknown ids are left out. */
export async function readAlertRows(trx: Transaction<Database>, tenantId: string, ids: readonly string[], lock: boolean): Promise<AlertTable[]> {
  const out: AlertTable[] = [];
  for (const part of chunks([...new Set(ids)].sort(), IN_LIST)) {
    let q = trx.selectFrom("alerts").selectAll().where("tenant_id", "=", tenantId).where("id", "in", part).orderBy("id");
    if (lock && isPostgres(trx)) q = q.forUpdate();
    out.push(...(await q.execute()));
  }
  return out;
}

/** Inserts a new incident at version 1. */
export async function insertIncident(trx: Transaction<Database>, tenantId: string, record: IncidentRecord): Promise<IncidentTable> {
  const row = incidentRowOf(tenantId, record, 1);
  await trx.insertInto("incidents").values(row).execute();
  noteChange(trx, tenantId, "incident", row.id, "created");
  return row;
}

/** Forgets that the incident has seen these entities. */
export async function deleteSightings(trx: Transaction<Database>, tenantId: string, incidentId: number, keys: readonly string[]): Promise<void> {
  for (const part of chunks(keys, IN_LIST)) {
    await trx.deleteFrom("incident_entities").where("tenant_id", "=", tenantId).where("incident_id", "=", incidentId).where("entity_key", "in", part).execute();
  }
}
