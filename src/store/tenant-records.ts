/**
 * A tenant's incidents and alerts with everything kept beside them — their audit trail, correlation
 * history, the entities each incident has seen — read page by page for an export, and written back by
 * id for an import (and for anything else that loads Graph-shaped records into a tenant, such as a
 * sync from a real Graph). Rows are mapped by incident-rows.ts and alert-rows.ts, so every column
 * derived from a document (filter and sort columns, the ready JSON, the hunting columns) is derived
 * here exactly as ingestion derives it.
 */
import { sql, type Insertable, type Kysely, type Transaction } from "kysely";
import type { AlertTable, Database, IncidentTable } from "./tables.js";
import type { AlertRecord, CorrelationEvent, IncidentRecord } from "../schema/records.js";
import { chunks, IN_LIST, ROWS_PER_INSERT } from "./chunks.js";
import { incidentRecordOf, incidentRowOf } from "./incident-rows.js";
import { alertRecordOf, alertRowOf } from "./alert-rows.js";
import { noteChange } from "./feed.js";
import { isPostgres } from "./dialect.js";
import { dropSummaries } from "./incident-summaries.js";
import { noteAlertsAdded } from "./planner-statistics.js";
import { insertRows } from "./insert-rows.js";

type Db = Kysely<Database> | Transaction<Database>;

/** One audit row as an export carries it: `before` and `after` are JSON values (undefined: not recorded). */
export interface AuditRow {
  entityType: "incident" | "alert";
  entityId: string;
  at: string;
  actor: string;
  requestId: string | null;
  property: string;
  before: unknown;
  after: unknown;
}

/** An entity an incident has seen, and when it last saw it (what correlation looks up). */
export interface Sighting {
  incidentId: number;
  entityKey: string;
  lastSeenAt: string;
}

export type StoredCorrelationEvent = Omit<CorrelationEvent, "tenantId">;

/** A page of a tenant's incidents with their alerts and history; alerts in ingestion order, the rest in the order they were written. */
export interface TenantPage {
  incidents: IncidentRecord[];
  alerts: AlertRecord[];
  audit: AuditRow[];
  events: StoredCorrelationEvent[];
  sightings: Sighting[];
}

/** The tenant's counters: the next incident id and alert sequence number it hands out. */
export interface TenantCounters {
  nextIncidentId: number;
  nextAlertSeq: number;
}

export async function readTenantCounters(db: Db, tenantId: string): Promise<TenantCounters | undefined> {
  const row = await db.selectFrom("tenants").select(["next_incident_id", "next_alert_seq"]).where("id", "=", tenantId).executeTakeFirst();
  return row && { nextIncidentId: Number(row.next_incident_id), nextAlertSeq: Number(row.next_alert_seq) };
}

/** Whether the tenant holds any incident or alert. */
export async function tenantHoldsRecords(db: Db, tenantId: string): Promise<boolean> {
  const inc = await db.selectFrom("incidents").select("id").where("tenant_id", "=", tenantId).limit(1).executeTakeFirst();
  if (inc) return true;
  const al = await db.selectFrom("alerts").select("id").where("tenant_id", "=", tenantId).limit(1).executeTakeFirst();
  return al !== undefined;
}

/**
 * Runs `fn` in one read-only snapshot of the store: every page it reads is of the same moment, while
 * writers carry on (SQLite's WAL; PostgreSQL's repeatable read).
 */
export async function inSnapshot<T>(db: Kysely<Database>, fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
  if (isPostgres(db)) {
    return db
      .transaction()
      .setIsolationLevel("repeatable read")
      .execute(async (tx) => {
        await sql`set transaction read only`.execute(tx);
        return fn(tx);
      });
  }
  return db.transaction().execute(fn);
}

/**
 * The tenant's incidents in id order, `pageSize` at a time, each page with its incidents' alerts,
 * audit rows (of the incidents and of their alerts), correlation events and sightings. With `since`
 * (fixed-width UTC), only incidents changed at or after it — their own last update or one of their
 * alerts' — each whole. Alerts that belong to no incident come last, in pages of their own.
 */
export async function* readTenantPages(db: Db, tenantId: string, opts: { since?: string; pageSize?: number } = {}): AsyncGenerator<TenantPage> {
  const pageSize = opts.pageSize ?? 50;
  const since = opts.since;
  let after = -1;
  for (;;) {
    let q = db.selectFrom("incidents").selectAll().where("tenant_id", "=", tenantId).where("id", ">", after);
    if (since !== undefined) {
      q = q.where((eb) =>
        eb.or([
          eb("updated_at", ">=", since),
          eb.exists(
            eb
              .selectFrom("alerts as a")
              .select(sql.lit(1).as("one"))
              .where("a.tenant_id", "=", tenantId)
              .whereRef("a.incident_id", "=", "incidents.id")
              .where("a.updated_at", ">=", since),
          ),
        ]),
      );
    }
    const rows = await q.orderBy("id").limit(pageSize).execute();
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    const ids = rows.map((r) => r.id);
    const alertRows: AlertTable[] = [];
    for (const part of chunks(ids, IN_LIST)) {
      alertRows.push(...(await db.selectFrom("alerts").selectAll().where("tenant_id", "=", tenantId).where("incident_id", "in", part).execute()));
    }
    alertRows.sort((a, b) => a.seq - b.seq);
    yield {
      incidents: rows.map(incidentRecordOf),
      alerts: alertRows.map(alertRecordOf),
      audit: await readAuditOf(
        db,
        tenantId,
        ids.map(String),
        alertRows.map((a) => a.id),
      ),
      events: await readEvents(db, tenantId, ids),
      sightings: await readSightingsOf(db, tenantId, ids),
    };
    if (rows.length < pageSize) break;
  }
  let afterSeq = -1;
  for (;;) {
    let q = db.selectFrom("alerts").selectAll().where("tenant_id", "=", tenantId).where("incident_id", "is", null).where("seq", ">", afterSeq);
    if (since !== undefined) q = q.where("updated_at", ">=", since);
    const rows = await q
      .orderBy("seq")
      .limit(pageSize * 10)
      .execute();
    if (rows.length === 0) break;
    afterSeq = rows[rows.length - 1]!.seq;
    yield {
      incidents: [],
      alerts: rows.map(alertRecordOf),
      audit: await readAuditOf(
        db,
        tenantId,
        [],
        rows.map((a) => a.id),
      ),
      events: [],
      sightings: [],
    };
  }
}

async function readAuditOf(db: Db, tenantId: string, incidentIds: readonly string[], alertIds: readonly string[]): Promise<AuditRow[]> {
  const rows: { seq: number; row: AuditRow }[] = [];
  const read = async (entityType: "incident" | "alert", ids: readonly string[]) => {
    for (const part of chunks(ids, IN_LIST)) {
      const found = await db
        .selectFrom("audit_log")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("entity_type", "=", entityType)
        .where("entity_id", "in", part)
        .execute();
      for (const r of found) {
        rows.push({
          seq: Number(r.seq),
          row: {
            entityType,
            entityId: r.entity_id,
            at: r.at,
            actor: r.actor,
            requestId: r.request_id,
            property: r.property,
            before: r.before === null ? undefined : (JSON.parse(r.before) as unknown),
            after: r.after === null ? undefined : (JSON.parse(r.after) as unknown),
          },
        });
      }
    }
  };
  await read("incident", incidentIds);
  await read("alert", alertIds);
  return rows.sort((a, b) => a.seq - b.seq).map((r) => r.row);
}

async function readEvents(db: Db, tenantId: string, incidentIds: readonly number[]): Promise<StoredCorrelationEvent[]> {
  const rows: { seq: number; e: StoredCorrelationEvent }[] = [];
  for (const part of chunks(incidentIds, IN_LIST)) {
    const found = await db.selectFrom("correlation_events").selectAll().where("tenant_id", "=", tenantId).where("incident_id", "in", part).execute();
    for (const r of found) {
      rows.push({
        seq: Number(r.seq),
        e: {
          incidentId: r.incident_id,
          at: r.at,
          kind: r.kind,
          alertId: r.alert_id,
          otherIncidentId: r.other_incident_id,
          reasons: JSON.parse(r.reasons) as string[],
          detail: r.detail,
        },
      });
    }
  }
  return rows.sort((a, b) => a.seq - b.seq).map((r) => r.e);
}

async function readSightingsOf(db: Db, tenantId: string, incidentIds: readonly number[]): Promise<Sighting[]> {
  const out: Sighting[] = [];
  for (const part of chunks(incidentIds, IN_LIST)) {
    const found = await db
      .selectFrom("incident_entities")
      .select(["incident_id", "entity_key", "last_seen_at"])
      .where("tenant_id", "=", tenantId)
      .where("incident_id", "in", part)
      .orderBy("incident_id")
      .orderBy("entity_key")
      .execute();
    for (const r of found) out.push({ incidentId: r.incident_id, entityKey: r.entity_key, lastSeenAt: r.last_seen_at });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Writing

/** What an upsert tells the change feed: nothing (a bulk load), or one row per incident and alert written. */
export interface UpsertOptions {
  /**
   * Write change-feed rows ("created" for a new id, "updated" for a stored one), so subscriptions are
   * notified and automation rules run; off for a fixture load.
   */
  feed: boolean;
}

/**
 * Upserts Graph-shaped incidents into a tenant by id: an id the tenant does not hold is inserted at
 * version 1, a stored one is overwritten (every column, from the record) at its next version. The
 * records' documents are trusted to be valid (the caller checks them). The tenant's counters are not
 * touched: call `refreshTenantAfterLoad` once the load is done. Returns how many were new.
 */
export async function upsertGraphIncidents(
  tx: Transaction<Database>,
  tenantId: string,
  records: readonly IncidentRecord[],
  opts: UpsertOptions,
): Promise<number> {
  let created = 0;
  for (const part of chunks(records, ROWS_PER_INSERT / 2)) {
    const stored = new Map<number, IncidentTable>();
    let q = tx
      .selectFrom("incidents")
      .selectAll()
      .where("tenant_id", "=", tenantId)
      .where(
        "id",
        "in",
        part.map((r) => r.id),
      );
    if (isPostgres(tx)) q = q.orderBy("id").forUpdate();
    for (const row of await q.execute()) stored.set(row.id, row);
    const inserts: IncidentTable[] = [];
    for (const r of part) {
      const before = stored.get(r.id);
      if (!before) {
        inserts.push(incidentRowOf(tenantId, r, 1));
        continue;
      }
      const after = incidentRowOf(tenantId, r, before.version + 1);
      await tx.updateTable("incidents").set(after).where("tenant_id", "=", tenantId).where("id", "=", r.id).execute();
      if (opts.feed) noteChange(tx, tenantId, "incident", r.id, "updated");
    }
    if (inserts.length) await insertRows(tx, "incidents", inserts, ROWS_PER_INSERT / 2);
    if (opts.feed) for (const row of inserts) noteChange(tx, tenantId, "incident", row.id, "created");
    created += inserts.length;
  }
  return created;
}

/**
 * Upserts Graph-shaped alerts into a tenant by id, as `upsertGraphIncidents` does incidents. A stored
 * alert keeps its sequence number; a new one takes the record's (`keepSeq`, for a load into an empty
 * tenant, where it is free) or the tenant's next. The incidents the alerts name must be stored already.
 * Returns how many were new.
 */
export async function upsertGraphAlerts(
  tx: Transaction<Database>,
  tenantId: string,
  records: readonly AlertRecord[],
  opts: UpsertOptions & { keepSeq: boolean },
): Promise<number> {
  let created = 0;
  for (const part of chunks(records, ROWS_PER_INSERT / 2)) {
    const stored = new Map<string, AlertTable>();
    let q = tx
      .selectFrom("alerts")
      .selectAll()
      .where("tenant_id", "=", tenantId)
      .where(
        "id",
        "in",
        part.map((r) => r.id),
      );
    if (isPostgres(tx)) q = q.orderBy("id").forUpdate();
    for (const row of await q.execute()) stored.set(row.id, row);
    // The incidents these alerts leave or join are derived from all their alerts until derived again.
    await dropSummaries(tx, tenantId, [...part.map((r) => r.incidentId), ...[...stored.values()].map((row) => row.incident_id)]);
    const inserts: AlertTable[] = [];
    let next: number | undefined;
    for (const r of part) {
      const before = stored.get(r.id);
      if (before) {
        const after = alertRowOf(tenantId, { ...r, seq: before.seq }, before.version + 1);
        await tx.updateTable("alerts").set(after).where("tenant_id", "=", tenantId).where("id", "=", r.id).execute();
        if (opts.feed) noteChange(tx, tenantId, "alert", r.id, "updated");
        continue;
      }
      let seq = r.seq;
      if (!opts.keepSeq) {
        next ??= (await readTenantCounters(tx, tenantId))?.nextAlertSeq ?? 1;
        seq = next++;
      }
      inserts.push(alertRowOf(tenantId, { ...r, seq }, 1));
    }
    if (next !== undefined) await tx.updateTable("tenants").set({ next_alert_seq: next }).where("id", "=", tenantId).execute();
    if (inserts.length) {
      await insertRows(tx, "alerts", inserts, ROWS_PER_INSERT / 2);
      const seqs = inserts.map((row) => row.seq);
      noteAlertsAdded(tx, tenantId, Math.min(...seqs) - 1, Math.max(...seqs));
    }
    if (opts.feed) for (const row of inserts) noteChange(tx, tenantId, "alert", row.id, "created");
    created += inserts.length;
  }
  return created;
}

/** Which of these incident ids the tenant holds. */
export async function storedIncidentIds(db: Db, tenantId: string, ids: readonly number[]): Promise<Set<number>> {
  const out = new Set<number>();
  for (const part of chunks([...new Set(ids)], IN_LIST)) {
    for (const r of await db.selectFrom("incidents").select("id").where("tenant_id", "=", tenantId).where("id", "in", part).execute()) out.add(r.id);
  }
  return out;
}

/**
 * Forgets the history kept beside these entities — their audit rows, and the incidents' correlation
 * events and sightings — before a load writes the history it carries in its place.
 */
export async function clearEntityHistory(
  tx: Transaction<Database>,
  tenantId: string,
  incidentIds: readonly number[],
  alertIds: readonly string[],
): Promise<void> {
  for (const part of chunks(incidentIds, IN_LIST)) {
    await tx
      .deleteFrom("audit_log")
      .where("tenant_id", "=", tenantId)
      .where("entity_type", "=", "incident")
      .where("entity_id", "in", part.map(String))
      .execute();
    await tx.deleteFrom("correlation_events").where("tenant_id", "=", tenantId).where("incident_id", "in", part).execute();
    await tx.deleteFrom("incident_entities").where("tenant_id", "=", tenantId).where("incident_id", "in", part).execute();
  }
  await dropSummaries(tx, tenantId, incidentIds);
  for (const part of chunks(alertIds, IN_LIST)) {
    await tx.deleteFrom("audit_log").where("tenant_id", "=", tenantId).where("entity_type", "=", "alert").where("entity_id", "in", part).execute();
  }
}

/** Appends audit rows, in the order given (the audit trail reads them in that order). */
export async function appendAuditRows(tx: Transaction<Database>, tenantId: string, rows: readonly AuditRow[]): Promise<void> {
  const values: Insertable<Database["audit_log"]>[] = rows.map((r) => ({
    tenant_id: tenantId,
    entity_type: r.entityType,
    entity_id: r.entityId,
    at: r.at,
    actor: r.actor,
    request_id: r.requestId,
    property: r.property,
    before: r.before === undefined ? null : JSON.stringify(r.before),
    after: r.after === undefined ? null : JSON.stringify(r.after),
  }));
  await insertRows(tx, "audit_log", values, ROWS_PER_INSERT);
}

/** Appends correlation events, in the order given. */
export async function appendCorrelationEvents(tx: Transaction<Database>, tenantId: string, events: readonly StoredCorrelationEvent[]): Promise<void> {
  const values: Insertable<Database["correlation_events"]>[] = events.map((e) => ({
    tenant_id: tenantId,
    incident_id: e.incidentId,
    at: e.at,
    kind: e.kind,
    alert_id: e.alertId,
    other_incident_id: e.otherIncidentId,
    reasons: JSON.stringify(e.reasons),
    detail: e.detail,
  }));
  await insertRows(tx, "correlation_events", values, ROWS_PER_INSERT);
}

/** Writes sightings; one already stored keeps the later of the two times. */
export async function appendSightings(tx: Transaction<Database>, tenantId: string, sightings: readonly Sighting[]): Promise<void> {
  const values: Insertable<Database["incident_entities"]>[] = sightings.map((s) => ({
    tenant_id: tenantId,
    entity_key: s.entityKey,
    incident_id: s.incidentId,
    last_seen_at: s.lastSeenAt,
  }));
  await dropSummaries(
    tx,
    tenantId,
    sightings.map((s) => s.incidentId),
  );
  for (const part of chunks(values, ROWS_PER_INSERT)) {
    await tx
      .insertInto("incident_entities")
      .values(part)
      .onConflict((oc) =>
        oc.columns(["tenant_id", "entity_key", "incident_id"]).doUpdateSet({
          last_seen_at: sql`case when excluded.last_seen_at > incident_entities.last_seen_at then excluded.last_seen_at else incident_entities.last_seen_at end`,
        }),
      )
      .execute();
  }
}

/**
 * Brings what is derived from the whole tenant up to date after a load: the alert count per detector
 * (the priority score's rarity reads it) counted again from the alerts, and the counters moved past
 * every stored incident id and alert sequence number (and to at least `atLeast`), so that ingestion
 * never hands out an id or number the load used.
 */
export async function refreshTenantAfterLoad(tx: Transaction<Database>, tenantId: string, atLeast?: TenantCounters): Promise<void> {
  await tx.deleteFrom("detector_stats").where("tenant_id", "=", tenantId).execute();
  await tx
    .insertInto("detector_stats")
    .columns(["tenant_id", "detector_key", "alert_count"])
    .expression((eb) =>
      eb
        .selectFrom("alerts")
        .select([sql.lit(tenantId).as("tenant_id"), sql<string>`coalesce(detector_key, 'unknown')`.as("detector_key"), eb.fn.countAll().as("alert_count")])
        .where("tenant_id", "=", tenantId)
        .groupBy(sql`coalesce(detector_key, 'unknown')`),
    )
    .execute();
  const maxInc = await tx
    .selectFrom("incidents")
    .select((eb) => eb.fn.max("id").as("m"))
    .where("tenant_id", "=", tenantId)
    .executeTakeFirst();
  const maxSeq = await tx
    .selectFrom("alerts")
    .select((eb) => eb.fn.max("seq").as("m"))
    .where("tenant_id", "=", tenantId)
    .executeTakeFirst();
  const now = await readTenantCounters(tx, tenantId);
  const nextIncident = Math.max(now?.nextIncidentId ?? 1, Number(maxInc?.m ?? 0) + 1, atLeast?.nextIncidentId ?? 1);
  const nextSeq = Math.max(now?.nextAlertSeq ?? 1, Number(maxSeq?.m ?? 0) + 1, atLeast?.nextAlertSeq ?? 1);
  await tx.updateTable("tenants").set({ next_incident_id: nextIncident, next_alert_seq: nextSeq }).where("id", "=", tenantId).execute();
}

/** Tables `removeTenantRecords` empties, children first. */
const RECORD_TABLES = ["correlation_events", "incident_entities", "incident_summaries", "detector_stats", "audit_log", "alerts", "incidents"] as const;

/**
 * Removes the tenant's incidents and alerts with their audit trail and correlation state (for a load
 * that replaces them), in the caller's transaction, and numbers from 1 again. Its change feed,
 * subscriptions, rules, apps and users stay.
 */
export async function removeTenantRecords(tx: Transaction<Database>, tenantId: string): Promise<void> {
  for (const table of RECORD_TABLES) await tx.deleteFrom(table).where("tenant_id", "=", tenantId).execute();
  await tx.updateTable("tenants").set({ next_incident_id: 1, next_alert_seq: 1 }).where("id", "=", tenantId).execute();
}
