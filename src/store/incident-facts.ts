/**
 * Reading what an incident's derived properties are computed from (domain/incident-derive.ts; the fact shapes are in schema/records.ts): its
 * alerts' facts, the assets it has seen and the tenant's detector counts. Shared by ingestion and by
 * the PATCH paths, so both feed the one derivation the same inputs. Stored alerts are read as
 * columns (the category too, kept beside the document since migration 010): no alert's document is
 * parsed, by the database or here, which a large incident would pay for on every alert that joins it.
 */
import { sql, type Kysely, type Transaction } from "kysely";
import type { Database } from "./tables.js";
import { alertSeverity, detectionSource } from "../schema/enums.js";
import type { AlertFacts } from "../schema/records.js";
import { isPostgres } from "./dialect.js";
import { placeholders, statementText, runText } from "./statement-text.js";
import { chunks, IN_LIST } from "./chunks.js";

type Db = Kysely<Database> | Transaction<Database>;

/** The stored alerts of the incidents, but for those `skip` names (an ingestion batch counts its own as they are now). */
export async function storedAlertFacts(
  db: Db,
  tenantId: string,
  incidentIds: readonly number[],
  skip: (alertId: string) => boolean = () => false,
): Promise<(AlertFacts & { incidentId: number })[]> {
  const out: (AlertFacts & { incidentId: number })[] = [];
  for (const part of chunks(incidentIds, IN_LIST)) {
    const rows = await db
      .selectFrom("alerts")
      .select(["id", "incident_id", "seq", "created_at", "title", "severity", "detection_source", "detector_key", "category"])
      .where("tenant_id", "=", tenantId)
      .where("incident_id", "in", part)
      .execute();
    for (const r of rows) {
      if (skip(r.id)) continue;
      out.push({
        incidentId: r.incident_id!,
        id: r.id,
        createdAt: r.created_at,
        seq: r.seq,
        title: r.title ?? "",
        category: r.category == null ? "" : String(r.category as string),
        severity: alertSeverity.members[r.severity]!,
        detectionSource: r.detection_source == null ? "unknown" : detectionSource.members[r.detection_source]!,
        detectorKey: r.detector_key ?? "unknown",
      });
    }
  }
  return out;
}

/** Devices, and accounts or mailboxes, each incident has seen. */
export async function assetCounts(db: Db, tenantId: string, incidentIds: readonly number[]): Promise<Map<number, { devices: number; accounts: number }>> {
  const out = new Map<number, { devices: number; accounts: number }>();
  for (const part of chunks(incidentIds, IN_LIST)) {
    const rows = await db
      .selectFrom("incident_entities")
      .select("incident_id")
      .select(sql<number>`sum(case when substr(entity_key, 1, 7) = 'device:' then 1 else 0 end)`.as("devices"))
      .select(sql<number>`sum(case when substr(entity_key, 1, 8) in ('account:', 'mailbox:') then 1 else 0 end)`.as("accounts"))
      .where("tenant_id", "=", tenantId)
      .where("incident_id", "in", part)
      .groupBy("incident_id")
      .execute();
    for (const r of rows) out.set(r.incident_id, { devices: Number(r.devices), accounts: Number(r.accounts) });
  }
  return out;
}

/** The tenant's alert count per detector. */
export async function detectorCounts(db: Db, tenantId: string, keys: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const part of chunks(keys, IN_LIST)) {
    const pg = isPostgres(db);
    const text = statementText(`detector-counts|${pg}|${part.length}`, () => {
      return `select detector_key, alert_count from detector_stats where tenant_id = ${placeholders(pg, 1)} and detector_key in (${placeholders(pg, part.length, 2)})`;
    });
    const { rows } = await runText<{ detector_key: string; alert_count: number }>(db, text, [tenantId, ...part]);
    for (const r of rows) out.set(r.detector_key, Number(r.alert_count));
  }
  return out;
}

/**
 * Everything one incident's derivation reads: its alerts, its assets and its detectors' counts, in one
 * statement (a PATCH's round trip, and one plan on PostgreSQL, where three statements cost three).
 * The asset sums are one row whatever the incident holds; each alert row carries its detector's count.
 */
export async function derivationInputs(
  db: Db,
  tenantId: string,
  incidentId: number,
): Promise<{ alerts: AlertFacts[]; assets: { devices: number; accounts: number }; detectorCounts: Map<string, number> }> {
  const { rows } = await sql<{
    id: string | null;
    seq: number;
    created_at: string;
    title: string | null;
    severity: number;
    detection_source: number | null;
    detector_key: string;
    category: unknown;
    alert_count: number | string | null;
    devices: number | string | null;
    accounts: number | string | null;
  }>`select a.id, a.seq, a.created_at, a.title, a.severity, a.detection_source, coalesce(a.detector_key, 'unknown') as detector_key,
      a.category, d.alert_count, x.devices, x.accounts
    from (
      select sum(case when substr(entity_key, 1, 7) = 'device:' then 1 else 0 end) as devices,
        sum(case when substr(entity_key, 1, 8) in ('account:', 'mailbox:') then 1 else 0 end) as accounts
      from incident_entities where tenant_id = ${tenantId} and incident_id = ${incidentId}
    ) x
    left join alerts a on a.tenant_id = ${tenantId} and a.incident_id = ${incidentId}
    left join detector_stats d on d.tenant_id = ${tenantId} and d.detector_key = coalesce(a.detector_key, 'unknown')`.execute(db);
  const alerts: AlertFacts[] = [];
  const counts = new Map<string, number>();
  for (const r of rows) {
    if (r.id === null) continue;
    alerts.push({
      id: r.id,
      createdAt: r.created_at,
      seq: r.seq,
      title: r.title ?? "",
      category: r.category == null ? "" : String(r.category as string),
      severity: alertSeverity.members[r.severity]!,
      detectionSource: r.detection_source == null ? "unknown" : detectionSource.members[r.detection_source]!,
      detectorKey: r.detector_key,
    });
    if (r.alert_count !== null) counts.set(r.detector_key, Number(r.alert_count));
  }
  const first = rows[0];
  return { alerts, assets: { devices: Number(first?.devices ?? 0), accounts: Number(first?.accounts ?? 0) }, detectorCounts: counts };
}
