/**
 * An incident's derivation summary: what its derived properties are computed from (severity, name,
 * priority score; domain/incident-derive.ts), summed up over its alerts and entities so that an alert
 * joining it updates the summary without the incident's other alerts. `summarize` builds one from all
 * the alerts; `addAlerts` adds fresh ones to a summary; both give the same summary for the same
 * alerts, in any order, which is what lets ingestion keep it incrementally (test/domain/incident-summary.test.ts).
 */
import type { AlertFacts, FirstSeen, IncidentSummary } from "../schema/records.js";
import { highestSeverity } from "./severity.js";

export type { IncidentSummary, FirstSeen };

/**
 * The most distinct categories, detection sources or detectors a stored summary keeps. An incident
 * beyond it keeps no summary, and each batch that touches it derives it from all its alerts instead.
 */
export const SUMMARY_MAX_VALUES = 200;

/** Devices, and accounts or mailboxes: the entity kinds an incident's name and priority count. */
export function assetKind(entityKey: string): "device" | "account" | null {
  if (entityKey.startsWith("device:")) return "device";
  if (entityKey.startsWith("account:") || entityKey.startsWith("mailbox:")) return "account";
  return null;
}

/** Devices and accounts among entity keys. */
export function assetsOfKeys(keys: Iterable<string>): { devices: number; accounts: number } {
  let devices = 0;
  let accounts = 0;
  for (const k of keys) {
    const kind = assetKind(k);
    if (kind === "device") devices++;
    else if (kind === "account") accounts++;
  }
  return { devices, accounts };
}

/** Timeline order: created, then ingestion order (as the derivation sorts alerts). */
export function beforeOnTimeline(a: { at: string; seq: number }, b: { at: string; seq: number }): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** The values in timeline order of their first alert. */
export function inTimelineOrder(values: readonly FirstSeen[]): FirstSeen[] {
  return [...values].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.seq - b.seq));
}

/** The `n` smallest strings, in code unit order (the summary keeps the same two titles whatever the alerts' order). */
function smallest(values: string[], n: number): string[] {
  return values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).slice(0, n);
}

export function emptySummary(): IncidentSummary {
  return { alertCount: 0, severity: "unknown", titles: [], categories: [], detectionSources: [], detectorKeys: [], devices: 0, accounts: 0 };
}

function noteFirst(seen: Map<string, FirstSeen>, value: string, at: string, seq: number): void {
  const prev = seen.get(value);
  if (prev === undefined || beforeOnTimeline({ at, seq }, prev)) seen.set(value, { value, at, seq });
}

/**
 * `summary` with fresh alerts added (alerts it does not count yet), and `assets` more devices and
 * accounts (entities the incident had not seen).
 */
export function addAlerts(summary: IncidentSummary, alerts: readonly AlertFacts[], assets: { devices: number; accounts: number }): IncidentSummary {
  const titles = new Set(summary.titles);
  const categories = new Map(summary.categories.map((c) => [c.value, c]));
  const sources = new Map(summary.detectionSources.map((s) => [s.value, s]));
  const detectors = new Set(summary.detectorKeys);
  for (const a of alerts) {
    titles.add(a.title);
    if (a.category !== "") noteFirst(categories, a.category, a.createdAt, a.seq);
    noteFirst(sources, a.detectionSource, a.createdAt, a.seq);
    detectors.add(a.detectorKey);
  }
  return {
    alertCount: summary.alertCount + alerts.length,
    severity: highestSeverity([summary.severity, ...alerts.map((a) => a.severity)]),
    titles: smallest([...titles], 2),
    categories: inTimelineOrder([...categories.values()]),
    detectionSources: inTimelineOrder([...sources.values()]),
    detectorKeys: [...detectors].sort(),
    devices: summary.devices + assets.devices,
    accounts: summary.accounts + assets.accounts,
  };
}

/** The summary of all an incident's alerts and the assets it has seen. */
export function summarize(alerts: readonly AlertFacts[], assets: { devices: number; accounts: number }): IncidentSummary {
  return addAlerts(emptySummary(), alerts, assets);
}

/** The summary as the store keeps it: null (none kept) when it does not fit, and the incident is then derived from all its alerts each time. */
export function summaryToStore(summary: IncidentSummary): IncidentSummary | null {
  return summaryFits(summary) ? summary : null;
}

/** Whether the store keeps this summary (else the incident is derived from all its alerts each time). */
export function summaryFits(summary: IncidentSummary): boolean {
  return (
    summary.categories.length <= SUMMARY_MAX_VALUES &&
    summary.detectionSources.length <= SUMMARY_MAX_VALUES &&
    summary.detectorKeys.length <= SUMMARY_MAX_VALUES
  );
}
