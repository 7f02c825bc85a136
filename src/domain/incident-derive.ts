/**
 * What an incident derives from its alerts: alert count, severity (while it follows the alerts),
 * name (while it follows the alerts), priority score and last update time. One function, whichever
 * path changed the incident or its alerts — an ingestion batch, an analyst's PATCH of the incident
 * or of one of its alerts — so the same alerts always give the same incident.
 */
import type { AlertSeverity } from "../schema/enums.js";
import type { AlertFacts } from "../schema/records.js";
import { diff, type PropertyChange } from "./changes.js";
import { incidentName } from "./incident-name.js";
import { priorityScore } from "./priority.js";
import { inTimelineOrder, summarize, type IncidentSummary } from "./incident-summary.js";

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

/** The derivation's inputs with the alerts and assets summed up (domain/incident-summary.ts). */
export interface SummaryDerivationInput extends Omit<DerivationInput, "alerts" | "assets"> {
  summary: IncidentSummary;
}

export function deriveIncident(input: DerivationInput): Derived {
  const { alerts, assets, ...rest } = input;
  return deriveFromSummary({ ...rest, summary: summarize(alerts, assets) });
}

/**
 * The derivation proper. The summary keeps exactly what it reads: the highest severity; whether the
 * titles differ (and the title when they do not); the distinct categories and detection sources in
 * the timeline order of their first alert, which is the order the name lists categories in and the
 * order the priority breaks a tie between sources in; the distinct detectors; the asset counts.
 */
export function deriveFromSummary(input: SummaryDerivationInput): Derived {
  const s = input.summary;
  const doc = { ...input.doc };
  let priorityFactors: string | null = null;
  if (doc.status === "redirected") {
    // A merged incident's alerts live in the one it points to; it has no score of its own.
    doc.priorityScore = null;
  } else if (s.alertCount > 0) {
    if (input.severitySource === "alerts") doc.severity = s.severity;
    if (input.nameSource === "alerts") {
      doc.displayName = incidentName({
        alertTitles: s.titles,
        categories: inTimelineOrder(s.categories).map((c) => c.value),
        devices: s.devices,
        accounts: s.accounts,
      });
    }
    let rarest: number | undefined;
    for (const key of s.detectorKeys) {
      const n = input.detectorCounts.get(key);
      if (n !== undefined && (rarest === undefined || n < rarest)) rarest = n;
    }
    const priority = priorityScore({
      severity: doc.severity as AlertSeverity,
      alertCount: s.alertCount,
      affectedAssets: s.devices + s.accounts,
      detectionSources: inTimelineOrder(s.detectionSources).map((d) => d.value),
      rarestDetectorCount: rarest ?? 1,
    });
    doc.priorityScore = priority.score;
    priorityFactors = JSON.stringify(priority.factors);
  }
  const last = String(doc.lastUpdateDateTime);
  doc.lastUpdateDateTime = last > input.at ? last : input.at;
  const changes = diff(input.doc, Object.fromEntries(AUDITED.map((p) => [p, doc[p] ?? null])));
  return { doc, alertCount: s.alertCount, priorityFactors, changes };
}
