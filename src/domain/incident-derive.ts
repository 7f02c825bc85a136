/**
 * What an incident derives from its alerts: alert count, severity (while it follows the alerts),
 * name (while it follows the alerts), priority score and last update time. One function, whichever
 * path changed the incident or its alerts — an ingestion batch, an analyst's PATCH of the incident
 * or of one of its alerts — so the same alerts always give the same incident.
 */
import type { AlertSeverity } from "../schema/enums.js";
import type { AlertFacts } from "../schema/records.js";
import { diff, type PropertyChange } from "./changes.js";
import { highestSeverity } from "./severity.js";
import { incidentName } from "./incident-name.js";
import { priorityScore } from "./priority.js";

// The facts are read by the store (store/incident-facts.ts), so their shape is on the ground floor.
export type { AlertFacts };

export interface DerivationInput {
  doc: Record<string, unknown>;
  severitySource: "alerts" | "analyst";
  nameSource: "alerts" | "analyst";
  alerts: readonly AlertFacts[];
  /** Devices, and accounts or mailboxes, the incident has seen. */
  assets: { devices: number; accounts: number };
  /** The tenant's alert count per detector key. */
  detectorCounts: ReadonlyMap<string, number>;
  /** When the change that calls for this happened: lastUpdateDateTime never goes back from it. */
  at: string;
}

export interface Derived {
  doc: Record<string, unknown>;
  alertCount: number;
  /** JSON of the priority factors, or null when there is no score. */
  priorityFactors: string | null;
  /** The derived properties that changed (lastUpdateDateTime aside), for the audit trail. */
  changes: PropertyChange[];
}

const AUDITED = ["severity", "displayName", "priorityScore"] as const;

function byTimeline(a: AlertFacts, b: AlertFacts): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.seq - b.seq;
}

export function deriveIncident(input: DerivationInput): Derived {
  const alerts = [...input.alerts].sort(byTimeline);
  const doc = { ...input.doc };
  let priorityFactors: string | null = null;
  if (doc.status === "redirected") {
    // A merged incident's alerts live in the one it points to; it has no score of its own.
    doc.priorityScore = null;
  } else if (alerts.length > 0) {
    if (input.severitySource === "alerts") doc.severity = highestSeverity(alerts.map((a) => a.severity));
    if (input.nameSource === "alerts") {
      doc.displayName = incidentName({
        alertTitles: alerts.map((a) => a.title),
        categories: alerts.map((a) => a.category),
        devices: input.assets.devices,
        accounts: input.assets.accounts,
      });
    }
    let rarest: number | undefined;
    for (const key of new Set(alerts.map((a) => a.detectorKey))) {
      const n = input.detectorCounts.get(key);
      if (n !== undefined && (rarest === undefined || n < rarest)) rarest = n;
    }
    const priority = priorityScore({
      severity: doc.severity as AlertSeverity,
      alertCount: alerts.length,
      affectedAssets: input.assets.devices + input.assets.accounts,
      detectionSources: alerts.map((a) => a.detectionSource),
      rarestDetectorCount: rarest ?? 1,
    });
    doc.priorityScore = priority.score;
    priorityFactors = JSON.stringify(priority.factors);
  }
  const last = String(doc.lastUpdateDateTime);
  doc.lastUpdateDateTime = last > input.at ? last : input.at;
  const changes = diff(input.doc, Object.fromEntries(AUDITED.map((p) => [p, doc[p] ?? null])));
  return { doc, alertCount: alerts.length, priorityFactors, changes };
}
