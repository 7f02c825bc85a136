/**
 * Recomputing incidents' derived properties. What an incident shows of its alerts (count, severity,
 * name, priority score) is worked out once per touched incident at the end of the batch, after the
 * batch's sightings and detector counts are written, rather than after every alert. Kept apart
 * because it is the one part of the batch's end that computes rather than writes.
 */
import { sql, type Transaction } from "kysely";
import type { Database } from "../tables.js";
import { alertSeverity, detectionSource, type AlertSeverity } from "../../schema/enums.js";
import { highestSeverity } from "../../domain/severity.js";
import { priorityScore } from "../../domain/priority.js";
import { incidentName } from "../../domain/incident-name.js";
import { isPostgres } from "../dialect.js";
import { postgresJson, sqliteJson } from "../json-sql.js";
import { chunks, IN_LIST, later, type AlertState, type Batch, type IncidentState } from "./batch.js";

/** What an incident's derived properties are computed from, one entry per alert. */
interface AlertFacts {
  id: string;
  createdAt: string;
  seq: number;
  title: string;
  category: string;
  severity: AlertSeverity;
  detectionSource: string;
  detectorKey: string;
}

function factsOf(a: AlertState): AlertFacts {
  return {
    id: a.id,
    createdAt: a.createdAt,
    seq: a.seq,
    title: String(a.doc.title ?? ""),
    category: String(a.doc.category ?? ""),
    severity: a.doc.severity as AlertSeverity,
    detectionSource: String(a.doc.detectionSource ?? "unknown"),
    detectorKey: a.detectorKey,
  };
}

/**
 * Recomputes what each dirty incident derives from its alerts: alert count, severity (unless an
 * analyst set it), name (unless an analyst set it), priority score, last update time. The stored
 * alerts the batch did not touch are read as columns (their category straight from the document by
 * the database), never parsed here.
 */
export async function refreshIncidents(trx: Transaction<Database>, batch: Batch): Promise<void> {
  const ids = [...batch.dirty.keys()].sort((a, b) => a - b);
  const facts = new Map<number, AlertFacts[]>(ids.map((id) => [id, []]));
  const stored = ids.filter((id) => !batch.incidents.get(id)!.isNew && !batch.alertsLoaded.has(id));
  for (const f of await storedFacts(trx, batch, stored)) facts.get(f.incidentId)!.push(f);
  for (const a of batch.alerts.values()) facts.get(a.incidentId)?.push(factsOf(a));
  const assets = await assetCounts(trx, batch.tenantId, ids);
  const detectorCounts = await readDetectorCounts(trx, batch.tenantId, [...new Set([...facts.values()].flat().map((f) => f.detectorKey))]);
  for (const id of ids) {
    const list = facts.get(id)!.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.seq - b.seq));
    refreshOne(batch.incidents.get(id)!, list, assets.get(id) ?? { devices: 0, accounts: 0 }, detectorCounts, batch.dirty.get(id)!);
  }
}

async function storedFacts(trx: Transaction<Database>, batch: Batch, incidentIds: number[]): Promise<(AlertFacts & { incidentId: number })[]> {
  const json = isPostgres(trx) ? postgresJson : sqliteJson;
  const out: (AlertFacts & { incidentId: number })[] = [];
  for (const part of chunks(incidentIds, IN_LIST)) {
    const rows = await trx
      .selectFrom("alerts")
      .select(["id", "incident_id", "seq", "created_at", "title", "severity", "detection_source", "detector_key"])
      .select(json.extract(sql.ref("doc"), ["category"], "string").as("category"))
      .where("tenant_id", "=", batch.tenantId)
      .where("incident_id", "in", part)
      .execute();
    for (const r of rows) {
      // An alert this batch changed counts as it is now, and where it is now.
      if (batch.alerts.has(r.id)) continue;
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

/** Devices, and accounts or mailboxes, each incident has seen (read after the batch's sightings are written). */
async function assetCounts(trx: Transaction<Database>, tenantId: string, incidentIds: number[]): Promise<Map<number, { devices: number; accounts: number }>> {
  const out = new Map<number, { devices: number; accounts: number }>();
  for (const part of chunks(incidentIds, IN_LIST)) {
    const rows = await trx
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

/** The tenant's alert count per detector (read after the batch's counts are added). */
async function readDetectorCounts(trx: Transaction<Database>, tenantId: string, keys: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const part of chunks(keys, IN_LIST)) {
    const rows = await trx.selectFrom("detector_stats").select(["detector_key", "alert_count"]).where("tenant_id", "=", tenantId).where("detector_key", "in", part).execute();
    for (const r of rows) out.set(r.detector_key, Number(r.alert_count));
  }
  return out;
}

function refreshOne(inc: IncidentState, alerts: AlertFacts[], assets: { devices: number; accounts: number }, detectorCounts: Map<string, number>, at: string): void {
  const doc = { ...inc.doc };
  let priorityFactors: string | null = null;
  if (inc.doc.status === "redirected") {
    doc.priorityScore = null;
  } else if (alerts.length > 0) {
    const severity = highestSeverity(alerts.map((a) => a.severity));
    if (inc.severitySource === "alerts") doc.severity = severity;
    if (inc.nameSource === "alerts") {
      doc.displayName = incidentName({
        alertTitles: alerts.map((a) => a.title),
        categories: alerts.map((a) => a.category),
        devices: assets.devices,
        accounts: assets.accounts,
      });
    }
    let rarest: number | undefined;
    for (const key of new Set(alerts.map((a) => a.detectorKey))) {
      const n = detectorCounts.get(key);
      if (n !== undefined && (rarest === undefined || n < rarest)) rarest = n;
    }
    const priority = priorityScore({
      severity: doc.severity as AlertSeverity,
      alertCount: alerts.length,
      affectedAssets: assets.devices + assets.accounts,
      detectionSources: alerts.map((a) => a.detectionSource),
      rarestDetectorCount: rarest ?? 1,
    });
    doc.priorityScore = priority.score;
    priorityFactors = JSON.stringify(priority.factors);
  }
  doc.lastUpdateDateTime = later(String(doc.lastUpdateDateTime), at);
  inc.doc = doc;
  inc.alertCount = alerts.length;
  inc.writes++;
  inc.row = { ...inc.row, priority_factors: priorityFactors };
}
