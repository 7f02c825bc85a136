/**
 * Where `triage sync` writes: Graph records from the source, upserted by id into the Triage tenant
 * through the store's upserts (store/tenant-records.ts, the same as a fixture import), with what
 * correlation needs beside them (the entities each incident has seen), so that alerts ingested into
 * the tenant later join the synced incidents as they would have joined them at the source.
 *
 * Synced writes go to the change feed: subscriptions on Triage hear of a real tenant's changes, and
 * automation rules run on them. A change made in Triage to a synced record lasts until the source
 * changes that record again; the source wins.
 */
import type { Resource } from "../../schema/meta.js";
import { incidentResource } from "../../schema/incident.js";
import { alertResource } from "../../schema/alert.js";
import type { AlertRecord, IncidentRecord } from "../../schema/records.js";
import { MAX_ID_LENGTH, MAX_INCIDENT_ID } from "../../schema/limits.js";
import { entityKeys } from "../../domain/entities.js";
import { checkGraphRecord, GraphRecordError } from "../../domain/graph-record.js";
import type { StoreTx } from "../../store/transaction.js";
import {
  appendSightings,
  refreshTenantAfterLoad,
  storedIncidentIds,
  upsertGraphAlerts,
  upsertGraphIncidents,
  type Sighting,
} from "../../store/tenant-records.js";
import { countIncidentAlerts, setIncidentAlertCounts } from "../../store/incident-counts.js";
import { Scope, type Anonymizer } from "../fixtures/anonymize.js";
import type { SyncSink } from "./run.js";

/** A record the source sent that Triage cannot store as it is: the message names it and the property. */
export class SyncRecordError extends Error {}

export interface SinkOptions {
  /** Reads one incident (with its alerts when the source can) from the source, for an alert whose incident was not copied yet. */
  fetchIncident?: (id: string) => Promise<Record<string, unknown>>;
  /** Told of each property the source sent that Triage does not know (dropped from the copy). */
  onUnknownProperty?: (type: string, name: string) => void;
  /**
   * Anonymizes each record before it is written (fixtures/anonymize.ts): an incident with its alerts
   * is one scope, as in an export. One key for every run into a tenant keeps the pseudonyms, and so
   * correlation, consistent across runs.
   */
  anonymizer?: Anonymizer;
}

/**
 * The document as Triage stores it (domain/graph-record.ts): OData annotations and properties Triage
 * does not know are dropped and reported (Graph adds properties over time; the copy keeps what the
 * schema describes), every other value is checked against the schema, and the required ones must be there.
 */
function fit(resource: Resource, value: unknown, where: string, o: SinkOptions): Record<string, unknown> {
  try {
    return checkGraphRecord(resource, value, where, { unknown: "drop", onUnknown: o.onUnknownProperty, required: REQUIRED });
  } catch (e) {
    if (e instanceof GraphRecordError) throw new SyncRecordError(e.message);
    throw e;
  }
}

/** What a synced record must hold: the window pages on lastUpdateDateTime. */
const REQUIRED = ["id", "createdDateTime", "lastUpdateDateTime", "status", "severity"];

/** The source's tenant id in the record becomes the Triage tenant's, in the portal links too. */
function retenant(doc: Record<string, unknown>, tenantId: string): void {
  const from = typeof doc.tenantId === "string" ? doc.tenantId : null;
  doc.tenantId = tenantId;
  if (!from || from === tenantId) return;
  for (const link of ["incidentWebUrl", "alertWebUrl"]) if (typeof doc[link] === "string") doc[link] = (doc[link] as string).replaceAll(from, tenantId);
}

function incidentId(v: unknown, where: string): number {
  if (typeof v !== "string" || !/^\d{1,10}$/.test(v) || Number(v) < 1 || Number(v) > MAX_INCIDENT_ID)
    throw new SyncRecordError(`${where}: an incident id must be a whole number from 1 to ${MAX_INCIDENT_ID}, as a string (got ${JSON.stringify(v)}).`);
  return Number(v);
}

function incidentRecord(doc: Record<string, unknown>, alertCount: number): IncidentRecord {
  return {
    id: incidentId(doc.id, "incident"),
    createdAt: new Date(doc.createdDateTime as string).toISOString(),
    doc,
    // The source decided the severity and the name; a sync writes them as they are.
    severitySource: "alerts",
    nameSource: "alerts",
    alertCount,
    priorityFactors: null,
  };
}

function alertRecord(doc: Record<string, unknown>, where: string): AlertRecord {
  const id = doc.id;
  if (typeof id !== "string" || id.length === 0 || id.length > MAX_ID_LENGTH)
    throw new SyncRecordError(`${where}: an alert id must be a string of 1 to ${MAX_ID_LENGTH} characters.`);
  return {
    id,
    seq: 0, // the tenant's next (keepSeq: false)
    incidentId: doc.incidentId == null ? null : incidentId(doc.incidentId, `alert ${id}`),
    createdAt: new Date(doc.createdDateTime as string).toISOString(),
    doc,
    detectorKey: String((doc.detectorId ?? doc.title ?? "unknown") as string),
    analystSet: new Set(),
  };
}

/** The entities an incident has seen through these alerts, each at the alert's first activity, as ingestion records them. */
function sightingsOf(alerts: readonly AlertRecord[]): Sighting[] {
  // One row per incident and entity (an upsert may not touch a row twice), at its latest sighting.
  const out = new Map<string, Sighting>();
  for (const a of alerts) {
    if (a.incidentId === null) continue;
    const at = new Date(((a.doc.firstActivityDateTime as string | null) ?? (a.doc.createdDateTime as string)) as string).toISOString();
    const evidence = Array.isArray(a.doc.evidence) ? (a.doc.evidence as Record<string, unknown>[]) : [];
    for (const k of entityKeys(evidence)) {
      const id = `${a.incidentId}\0${k.key}`;
      const seen = out.get(id);
      if (!seen || at > seen.lastSeenAt) out.set(id, { incidentId: a.incidentId, entityKey: k.key, lastSeenAt: at });
    }
  }
  return [...out.values()];
}

/**
 * The record as it is written: anonymized when asked, with everything it names in one scope, and the
 * source tenant's id (in portal links too) replaced by the Triage tenant's.
 */
function disguise(o: SinkOptions, record: Record<string, unknown>, tenantId: string): Record<string, unknown> {
  if (!o.anonymizer) return record;
  const from = typeof record.tenantId === "string" ? record.tenantId : null;
  const scope = new Scope();
  if (from) scope.remember(from, tenantId);
  o.anonymizer.collect(record, scope);
  return o.anonymizer.apply(record, scope, null, null, from ? { from, to: tenantId } : undefined) as Record<string, unknown>;
}

export function graphSink(o: SinkOptions = {}): SyncSink {
  async function writeAlerts(tx: StoreTx, tenantId: string, alerts: AlertRecord[]): Promise<void> {
    if (alerts.length === 0) return;
    await upsertGraphAlerts(tx, tenantId, alerts, { feed: true, keepSeq: false });
    await appendSightings(tx, tenantId, sightingsOf(alerts));
  }

  async function writeIncidents(tx: StoreTx, tenantId: string, records: Record<string, unknown>[]): Promise<void> {
    const incidents: IncidentRecord[] = [];
    const alerts: AlertRecord[] = [];
    const uncounted: number[] = [];
    for (const source of records) {
      const r = disguise(o, source, tenantId);
      const where = `incident ${String(r.id)}`;
      // The expanded `alerts` are copied below as alerts of their own, not as a property of the incident.
      const { alerts: _expanded, ...incidentOnly } = r;
      const doc = fit(incidentResource, incidentOnly, where, o);
      retenant(doc, tenantId);
      const expanded = Array.isArray(r.alerts) ? (r.alerts as unknown[]) : null;
      const record = incidentRecord(doc, expanded?.length ?? 0);
      incidents.push(record);
      if (expanded === null) uncounted.push(record.id);
      for (const a of expanded ?? []) {
        const alertDoc = fit(alertResource, a, `${where}, alert ${String((a as { id?: unknown }).id)}`, o);
        retenant(alertDoc, tenantId);
        alerts.push(alertRecord(alertDoc, `${where}, alert ${String(alertDoc.id)}`));
      }
    }
    await upsertGraphIncidents(tx, tenantId, incidents, { feed: true });
    await writeAlerts(tx, tenantId, alerts);
    // Read without $expand: the incident's alerts are those the tenant holds (alerts_v2 brings the rest).
    if (uncounted.length) await setIncidentAlertCounts(tx, tenantId, await countIncidentAlerts(tx, tenantId, uncounted));
  }

  return {
    incidents: writeIncidents,
    async incidentsOfAlerts(db, tenantId, records) {
      const named = [...new Set(records.flatMap((r) => (typeof r.incidentId === "string" && /^\d{1,10}$/.test(r.incidentId) ? [Number(r.incidentId)] : [])))];
      const stored = await storedIncidentIds(db, tenantId, named);
      const out: Record<string, unknown>[] = [];
      for (const id of named.filter((n) => !stored.has(n))) {
        if (!o.fetchIncident) throw new SyncRecordError(`alert of incident ${id}: that incident was not copied, and the sink cannot read the source.`);
        out.push(await o.fetchIncident(String(id)));
      }
      return out;
    },
    async alerts(tx, tenantId, records, incidents) {
      const alerts = records.map((source) => {
        const r = disguise(o, source, tenantId);
        const doc = fit(alertResource, r, `alert ${String(r.id)}`, o);
        retenant(doc, tenantId);
        return alertRecord(doc, `alert ${String(doc.id)}`);
      });
      if (incidents.length) await writeIncidents(tx, tenantId, incidents);
      await writeAlerts(tx, tenantId, alerts);
      const named = [...new Set(alerts.flatMap((a) => (a.incidentId === null ? [] : [a.incidentId])))];
      await setIncidentAlertCounts(tx, tenantId, await countIncidentAlerts(tx, tenantId, named));
    },
    async finish(tx, tenantId) {
      await refreshTenantAfterLoad(tx, tenantId);
    },
  };
}
