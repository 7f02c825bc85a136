/**
 * Reading what an ingestion batch decides on. A batch reads what its decisions depend on in a few
 * statements before deciding anything (and, on PostgreSQL, locks it as it reads), so the per-alert
 * decisions run in memory on a state no concurrent writer can change under them; the one later read,
 * an incident's alerts when a merge moves them, follows the same rules and is here too. Rows are
 * handed up as records (incident-rows.ts, alert-rows.ts); the rows as read are kept in `StoredRows`,
 * which the feature hands back to write.ts, so the writes are guarded by the versions read here.
 */
import { sql, type Transaction } from "kysely";
import type { AlertTable, Database, IncidentTable } from "../tables.js";
import type { AlertRecord, IncidentRecord } from "../../schema/records.js";
import { isPostgres } from "../dialect.js";
import { chunks, IN_LIST } from "../chunks.js";
import { alertRecordOf } from "../alert-rows.js";
import { incidentRecordOf, incidentStatusOrdinals } from "../incident-rows.js";
import { numberFeedInTransaction } from "../feed.js";

/** The rows a batch read, as read: what its writes are guarded against. */
export interface StoredRows {
  incidents: Map<number, IncidentTable>;
  alerts: Map<string, AlertTable>;
}

export function storedRows(): StoredRows {
  return { incidents: new Map(), alerts: new Map() };
}

/**
 * One ingestion at a time per tenant, across every node: correlation reads what the previous batch
 * wrote, so no cluster gets two incidents and no pair is merged twice. (SQLite serializes its writers
 * anyway.) Then the tenant's counters, which are written only under the same lock.
 */
export async function lockTenantForIngestion(trx: Transaction<Database>, tenantId: string): Promise<{ nextIncident: number; nextSeq: number }> {
  if (isPostgres(trx)) {
    await sql`select pg_advisory_xact_lock(hashtext(${`triage-ingest:${tenantId}`}))`.execute(trx);
    // Its tenant's ingestions run one at a time already: the batch's feed rows are numbered in it.
    numberFeedInTransaction(trx);
  }
  const tenant = await trx.selectFrom("tenants").select(["next_incident_id", "next_alert_seq"]).where("id", "=", tenantId).executeTakeFirstOrThrow();
  return { nextIncident: tenant.next_incident_id, nextSeq: tenant.next_alert_seq };
}

function keepAlerts(stored: StoredRows, rows: AlertTable[]): AlertRecord[] {
  for (const row of rows) stored.alerts.set(row.id, row);
  return rows.map(alertRecordOf);
}

/** The batch's alerts that are already stored (unlocked). */
export async function readStoredAlerts(trx: Transaction<Database>, stored: StoredRows, tenantId: string, ids: readonly string[]): Promise<AlertRecord[]> {
  const out: AlertRecord[] = [];
  for (const part of chunks(ids, IN_LIST)) {
    out.push(...keepAlerts(stored, await trx.selectFrom("alerts").selectAll().where("tenant_id", "=", tenantId).where("id", "in", part).execute()));
  }
  return out;
}

/**
 * PostgreSQL: locks the stored alerts the batch rewrites and reads them again as they are now (the
 * latest read is the one written against). Incidents are locked before alerts, by every writer (an
 * alert PATCH too), so this comes once their incidents are locked. SQLite: nothing to do.
 */
export async function lockStoredAlerts(trx: Transaction<Database>, stored: StoredRows, tenantId: string, ids: readonly string[]): Promise<AlertRecord[]> {
  if (!isPostgres(trx) || ids.length === 0) return [];
  const out: AlertRecord[] = [];
  for (const part of chunks(ids, IN_LIST)) {
    const q = trx.selectFrom("alerts").selectAll().where("tenant_id", "=", tenantId).where("id", "in", part).orderBy("id").forUpdate();
    out.push(...keepAlerts(stored, await q.execute()));
  }
  return out;
}

/** The sightings of these entities at or after `from`. */
export async function readSightings(
  trx: Transaction<Database>,
  tenantId: string,
  keys: readonly string[],
  from: string,
): Promise<{ entityKey: string; incidentId: number; lastSeenAt: string }[]> {
  const rows: { entityKey: string; incidentId: number; lastSeenAt: string }[] = [];
  for (const part of chunks(keys, IN_LIST)) {
    const found = await trx
      .selectFrom("incident_entities")
      .select(["entity_key", "incident_id", "last_seen_at"])
      .where("tenant_id", "=", tenantId)
      .where("entity_key", "in", part)
      .where("last_seen_at", ">=", from)
      .execute();
    for (const r of found) rows.push({ entityKey: r.entity_key, incidentId: r.incident_id, lastSeenAt: r.last_seen_at });
  }
  return rows;
}

/**
 * Reads the candidate incidents that are in one of `openStatuses`, and the incidents of alerts sent
 * again whatever their status. PostgreSQL: they are locked as they are read, in id order (the order
 * every writer uses). A concurrent PATCH on another node (assigning, classifying, resolving) then
 * either committed first and is read here — the row is re-read once its lock is granted — or waits
 * for this batch; no decision rests on a state that no longer holds.
 */
export async function readIncidents(
  trx: Transaction<Database>,
  stored: StoredRows,
  tenantId: string,
  candidates: readonly number[],
  resent: readonly number[],
  openStatuses: readonly string[],
): Promise<IncidentRecord[]> {
  const openOrdinals = incidentStatusOrdinals(openStatuses);
  const want = new Set(resent);
  const out: IncidentRecord[] = [];
  for (const part of chunks(
    [...new Set([...candidates, ...resent])].sort((a, b) => a - b),
    IN_LIST,
  )) {
    const [reads, opens] = [part.filter((id) => want.has(id)), part.filter((id) => !want.has(id))];
    let q = trx
      .selectFrom("incidents")
      .selectAll()
      .where("tenant_id", "=", tenantId)
      .where((eb) => {
        const ors = [];
        if (reads.length) ors.push(eb("id", "in", reads));
        if (opens.length) ors.push(eb.and([eb("id", "in", opens), eb("status", "in", openOrdinals)]));
        return eb.or(ors);
      });
    if (isPostgres(trx)) q = q.orderBy("id").forUpdate();
    for (const row of await q.execute()) {
      stored.incidents.set(row.id, row);
      out.push(incidentRecordOf(row));
    }
  }
  return out;
}

/**
 * How many entities each incident has seen, and which of `keys` are among them (at any time, not only
 * within the window): what the correlation limits are judged on.
 *
 * One statement per part of the incidents: counting an incident's entities reads them all through the
 * (tenant, incident, key) index anyway, so the same pass keeps those that are among the batch's keys,
 * which the statement receives as one JSON array (a set it builds once; no statement grows with the
 * keys). Probing incidents with a list of a thousand keys cost SQLite a search per key and incident,
 * and a second statement reading the small incidents' keys cost PostgreSQL a round trip and a scan
 * of the same rows again.
 */
export async function readEntityCounts(
  trx: Transaction<Database>,
  tenantId: string,
  ids: readonly number[],
  keys: readonly string[],
): Promise<{ counts: Map<number, number>; known: { incidentId: number; entityKey: string }[] }> {
  const counts = new Map<number, number>();
  const known: { incidentId: number; entityKey: string }[] = [];
  const wanted = JSON.stringify([...new Set(keys)]);
  const seen = isPostgres(trx)
    ? sql<string>`coalesce(json_agg(entity_key) filter (where entity_key in (select json_array_elements_text(${wanted}::json))), '[]')::text`
    : sql<string>`json_group_array(entity_key) filter (where entity_key in (select value from json_each(${wanted})))`;
  for (const part of chunks(ids, IN_LIST)) {
    const rows = await trx
      .selectFrom("incident_entities")
      .select("incident_id")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .select(seen.as("seen"))
      .where("tenant_id", "=", tenantId)
      .where("incident_id", "in", part)
      .groupBy("incident_id")
      .execute();
    for (const r of rows) {
      counts.set(r.incident_id, Number(r.n));
      for (const entityKey of JSON.parse(r.seen) as string[]) known.push({ incidentId: r.incident_id, entityKey });
    }
  }
  return { counts, known };
}

/**
 * Every stored alert of the incident, read once for a merge (locked on PostgreSQL: an analyst's
 * concurrent alert PATCH or comment on another node otherwise bumps an alert's version between this
 * read and the write, failing the whole batch). Alerts the batch already read keep their first row.
 */
export async function readIncidentAlerts(trx: Transaction<Database>, stored: StoredRows, tenantId: string, incidentId: number): Promise<AlertRecord[]> {
  let q = trx.selectFrom("alerts").selectAll().where("tenant_id", "=", tenantId).where("incident_id", "=", incidentId);
  if (isPostgres(trx)) q = q.orderBy("id").forUpdate();
  const rows = (await q.execute()).filter((row) => !stored.alerts.has(row.id));
  return keepAlerts(stored, rows);
}

/**
 * The order the store lists an incident's alerts in: SQLite by its (incident, created_at) index, ties
 * in insertion order; PostgreSQL by id.
 */
export function incidentAlertOrder(trx: Transaction<Database>): "timeline" | "id" {
  return isPostgres(trx) ? "id" : "timeline";
}
