/**
 * Recomputing incidents' derived properties. What an incident shows of its alerts (count, severity,
 * name, priority score) is worked out once per touched incident at the end of the batch, after the
 * batch's sightings and detector counts are written, rather than after every alert, by the same
 * derivation an analyst's PATCH goes through (domain/incident-derive.ts). Kept apart because it is
 * the one part of the batch's end that computes rather than writes.
 */
import type { Transaction } from "kysely";
import type { Database } from "../tables.js";
import type { AlertSeverity } from "../../schema/enums.js";
import { deriveIncident, type AlertFacts } from "../../domain/incident-derive.js";
import { auditRows } from "../audit.js";
import { assetCounts, detectorCounts, storedAlertFacts } from "../incident-facts.js";
import type { AlertState, Batch } from "./batch.js";

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
 * Recomputes what each dirty incident derives from its alerts. A change to an incident that existed
 * before the batch is audited, in the name of the ingesting app.
 */
export async function refreshIncidents(trx: Transaction<Database>, batch: Batch, audit: { actor: string; requestId: string | null; at: string }): Promise<void> {
  const ids = [...batch.dirty.keys()].sort((a, b) => a - b);
  const facts = new Map<number, AlertFacts[]>(ids.map((id) => [id, []]));
  const stored = ids.filter((id) => !batch.incidents.get(id)!.isNew && !batch.alertsLoaded.has(id));
  // An alert this batch changed counts as it is now, and where it is now.
  for (const f of await storedAlertFacts(trx, batch.tenantId, stored, (id) => batch.alerts.has(id))) facts.get(f.incidentId)!.push(f);
  for (const a of batch.alerts.values()) facts.get(a.incidentId)?.push(factsOf(a));
  const assets = await assetCounts(trx, batch.tenantId, ids);
  const counts = await detectorCounts(trx, batch.tenantId, [...new Set([...facts.values()].flat().map((f) => f.detectorKey))]);
  for (const id of ids) {
    const inc = batch.incidents.get(id)!;
    const derived = deriveIncident({
      doc: inc.doc,
      severitySource: inc.severitySource,
      nameSource: inc.nameSource,
      alerts: facts.get(id)!,
      assets: assets.get(id) ?? { devices: 0, accounts: 0 },
      detectorCounts: counts,
      at: batch.dirty.get(id)!,
    });
    inc.doc = derived.doc;
    inc.alertCount = derived.alertCount;
    inc.writes++;
    inc.priorityFactors = derived.priorityFactors;
    if (!inc.isNew) batch.audit.push(...auditRows({ ...audit, tenantId: batch.tenantId, entityType: "incident", entityId: String(id) }, derived.changes));
  }
}
