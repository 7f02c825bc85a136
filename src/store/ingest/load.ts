/**
 * Reading what the batch needs. A batch reads what its decisions depend on in a few statements before
 * deciding anything (and, on PostgreSQL, locks it as it reads), so the per-alert decisions run in
 * memory on a state no concurrent writer can change under them; the one later read, an incident's
 * alerts when a merge moves them, follows the same rules and is here too. Kept apart from the
 * deciding so that every read, and every lock, the batch takes is in one place.
 */
import type { Transaction } from "kysely";
import type { AlertTable, Database } from "../tables.js";
import { incidentResource } from "../../schema/incident.js";
import { promotedColumns } from "../columns.js";
import { OPEN_STATUSES } from "../../domain/correlate.js";
import { decodeAnalystSet } from "../../domain/alert-ownership.js";
import type { NormalizedAlert } from "../../domain/normalize-alert.js";
import { isPostgres } from "../dialect.js";
import { alertTime, chunks, IN_LIST, isOpen, setSighting, shift, type AlertState, type Batch } from "./batch.js";

/**
 * Reads, in a few statements, what the per-alert decisions need: the alerts sent again, and the open
 * incidents that saw one of the batch's entities near its time span (with those sightings).
 */
export async function loadBatch(trx: Transaction<Database>, batch: Batch, keyed: { alert: NormalizedAlert; keys: string[] }[], windowMs: number): Promise<void> {
  const ids = [...new Set(keyed.map((k) => k.alert.id))];
  await loadExistingAlerts(trx, batch, ids, false);
  const keys = [...new Set(keyed.flatMap((k) => k.keys))];
  let first: string | null = null;
  let last: string | null = null;
  for (const { alert } of keyed) {
    const at = alertTime(alert);
    if (first === null || at < first) first = at;
    if (last === null || at > last) last = at;
  }
  const sightings = first === null || last === null ? [] : await readSightings(trx, batch.tenantId, keys, shift(first, -windowMs));
  const hi = last === null ? "" : shift(last, windowMs);
  // Only an incident seen within the batch's whole window can be a candidate for one of its alerts.
  const candidates = new Set(sightings.filter((s) => s.last_seen_at <= hi).map((s) => s.incident_id));
  const resent = new Set([...batch.alerts.values()].map((a) => a.incidentId));
  await loadIncidents(trx, batch, [...candidates], [...resent]);
  // Incidents are locked before alerts, by every writer (an alert PATCH too): the alerts sent again are
  // locked, and read again as they are now, only once their incidents are. Only ingestion moves an
  // alert to another incident, and it runs one batch at a time per tenant, so they are still there.
  if (isPostgres(trx) && batch.alerts.size > 0) await loadExistingAlerts(trx, batch, [...batch.alerts.keys()], true);
  await loadEntityCounts(trx, batch, keys);
  for (const s of sightings) {
    const inc = batch.incidents.get(s.incident_id);
    if (inc && isOpen(inc)) setSighting(batch, s.entity_key, s.incident_id, s.last_seen_at);
  }
}

/** The batch's alerts that are already stored (`lock`: locked, as this batch rewrites them). */
async function loadExistingAlerts(trx: Transaction<Database>, batch: Batch, ids: string[], lock: boolean): Promise<void> {
  for (const part of chunks(ids, IN_LIST)) {
    let q = trx.selectFrom("alerts").selectAll().where("tenant_id", "=", batch.tenantId).where("id", "in", part);
    if (lock) q = q.orderBy("id").forUpdate();
    for (const row of await q.execute()) batch.alerts.set(row.id, alertStateOf(row));
  }
}

function alertStateOf(row: AlertTable): AlertState {
  return {
    row,
    id: row.id,
    seq: row.seq,
    doc: JSON.parse(row.doc) as Record<string, unknown>,
    incidentId: row.incident_id!,
    createdAt: row.created_at,
    detectorKey: row.detector_key ?? "unknown",
    analystSet: decodeAnalystSet(row.analyst_properties),
    writes: 0,
  };
}

async function readSightings(trx: Transaction<Database>, tenantId: string, keys: string[], from: string) {
  const rows: { entity_key: string; incident_id: number; last_seen_at: string }[] = [];
  for (const part of chunks(keys, IN_LIST)) {
    rows.push(
      ...(await trx
        .selectFrom("incident_entities")
        .select(["entity_key", "incident_id", "last_seen_at"])
        .where("tenant_id", "=", tenantId)
        .where("entity_key", "in", part)
        .where("last_seen_at", ">=", from)
        .execute()),
    );
  }
  return rows;
}

/**
 * Reads the open candidate incidents and the incidents of alerts sent again. PostgreSQL: they are
 * locked as they are read, in id order (the order every writer uses). A concurrent PATCH on another
 * node (assigning, classifying, resolving) then either committed first and is read here — the row is
 * re-read once its lock is granted — or waits for this batch; no decision rests on a state that no
 * longer holds.
 */
async function loadIncidents(trx: Transaction<Database>, batch: Batch, candidates: number[], resent: number[]): Promise<void> {
  const openOrdinals = OPEN_STATUSES.map((s) => incidentStatusOrdinal(s));
  const want = new Set(resent);
  for (const part of chunks([...new Set([...candidates, ...resent])].sort((a, b) => a - b), IN_LIST)) {
    const [reads, opens] = [part.filter((id) => want.has(id)), part.filter((id) => !want.has(id))];
    let q = trx
      .selectFrom("incidents")
      .selectAll()
      .where("tenant_id", "=", batch.tenantId)
      .where((eb) => {
        const ors = [];
        if (reads.length) ors.push(eb("id", "in", reads));
        if (opens.length) ors.push(eb.and([eb("id", "in", opens), eb("status", "in", openOrdinals)]));
        return eb.or(ors);
      });
    if (isPostgres(trx)) q = q.orderBy("id").forUpdate();
    for (const row of await q.execute()) {
      const doc = JSON.parse(row.doc) as Record<string, unknown>;
      batch.incidents.set(row.id, {
        row,
        isNew: false,
        doc,
        severitySource: row.severity_source === "analyst" ? "analyst" : "alerts",
        nameSource: row.name_source === "analyst" ? "analyst" : "alerts",
        alertCount: row.alert_count,
        entityCount: 0,
        knownKeys: new Set(),
        writes: 0,
      });
    }
  }
}

/**
 * How many entities each loaded incident has seen, and which of the batch's keys are among them (at
 * any time, not only within the window): what the correlation limits are judged on.
 */
async function loadEntityCounts(trx: Transaction<Database>, batch: Batch, keys: string[]): Promise<void> {
  const ids = [...batch.incidents.keys()];
  for (const part of chunks(ids, IN_LIST)) {
    const rows = await trx
      .selectFrom("incident_entities")
      .select("incident_id")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("tenant_id", "=", batch.tenantId)
      .where("incident_id", "in", part)
      .groupBy("incident_id")
      .execute();
    for (const r of rows) batch.incidents.get(r.incident_id)!.entityCount = Number(r.n);
  }
  for (const part of chunks(ids, IN_LIST / 2)) {
    for (const keyPart of chunks(keys, IN_LIST / 2)) {
      const rows = await trx
        .selectFrom("incident_entities")
        .select(["incident_id", "entity_key"])
        .where("tenant_id", "=", batch.tenantId)
        .where("incident_id", "in", part)
        .where("entity_key", "in", keyPart)
        .execute();
      for (const r of rows) batch.incidents.get(r.incident_id)!.knownKeys.add(r.entity_key);
    }
  }
}

function incidentStatusOrdinal(status: string): number {
  return promotedColumns(incidentResource, { status }).status as number;
}

/**
 * Every alert of the incident, stored or from this batch. The stored ones are read once (locked on
 * PostgreSQL: an analyst's concurrent alert PATCH or comment on another node otherwise bumps an
 * alert's version between this read and the write, failing the whole batch).
 */
export async function alertsOf(trx: Transaction<Database>, batch: Batch, incidentId: number): Promise<AlertState[]> {
  const pg = isPostgres(trx);
  if (!batch.incidents.get(incidentId)!.isNew && !batch.alertsLoaded.has(incidentId)) {
    let q = trx.selectFrom("alerts").selectAll().where("tenant_id", "=", batch.tenantId).where("incident_id", "=", incidentId);
    if (pg) q = q.orderBy("id").forUpdate();
    for (const row of await q.execute()) if (!batch.alerts.has(row.id)) batch.alerts.set(row.id, alertStateOf(row));
    batch.alertsLoaded.add(incidentId);
  }
  const mine = [...batch.alerts.values()].filter((a) => a.incidentId === incidentId);
  // SQLite lists an incident's alerts by its (incident, created_at) index, ties in insertion order;
  // PostgreSQL reads them by id.
  return mine.sort(pg ? (a, b) => codePointCompare(a.id, b.id) : (a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.seq - b.seq));
}

/** Text order by code point, which is the byte order of PostgreSQL's "C" collation over UTF-8. */
function codePointCompare(a: string, b: string): number {
  if (a === b) return 0;
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
