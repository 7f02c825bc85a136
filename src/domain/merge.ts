/**
 * An analyst's merge and move, decided: which incident a merge keeps, whether the rules allow it, and
 * what the merged and moved entities become. The refusal rules and the choice of target are the ones
 * automatic correlation applies (correlate.ts), so a merge an analyst asks for is refused exactly
 * when correlation would refuse it. Pure functions; src/features/ carries the decisions out.
 */
import { badRequest } from "../errors/graph-error.js";
import { mergeBlocker, OPEN_STATUSES, rank, type Candidate } from "./correlate.js";
import type { IncidentRecord, PropertyChange } from "../schema/records.js";

/** Graph's manual merge takes up to five incidents at a time (Defender's documented limit). */
export const MAX_MERGED_INCIDENTS = 5;
/** The system tag a merged incident carries, as in Defender. */
export const REDIRECTED_TAG = "Redirected";

function candidateOf(r: IncidentRecord): Candidate {
  return {
    id: r.id,
    status: String(r.doc.status),
    assignedTo: (r.doc.assignedTo as string | null) ?? null,
    classification: (r.doc.classification as string | null) ?? null,
    determination: (r.doc.determination as string | null) ?? null,
    alertCount: r.alertCount,
    createdAt: r.createdAt,
    shared: [],
  };
}

/**
 * The incident a merge keeps, and the ones merged into it, in the order they merge: correlation's
 * ranking — the most alerts, then the oldest, then the lowest id — so the one with the most
 * information stays. Throws a Graph 400 naming the incident and the rule when one may not merge.
 */
export function planMerge(incidents: readonly IncidentRecord[]): { target: IncidentRecord; sources: IncidentRecord[] } {
  for (const r of incidents) {
    const status = String(r.doc.status);
    if (!OPEN_STATUSES.includes(status)) {
      throw badRequest(`Incident '${r.id}' cannot be merged: it is ${status}, and only open incidents (active, inProgress, awaitingAction) merge.`);
    }
  }
  const ranked = [...incidents].sort((a, b) => rank(candidateOf(a), candidateOf(b)));
  const target = ranked[0]!;
  // Each source is checked against the target as the earlier merges leave it, as correlation does.
  const merged = candidateOf(target);
  for (const source of ranked.slice(1)) {
    const other = candidateOf(source);
    const why = mergeBlocker(merged, other);
    if (why) throw badRequest(`Incident '${source.id}' cannot be merged into incident '${target.id}': ${why}.`);
    merged.assignedTo ??= other.assignedTo;
    if (isUnset(merged.classification)) merged.classification = other.classification;
    if (isUnset(merged.determination)) merged.determination = other.determination;
  }
  return { target, sources: ranked.slice(1) };
}

function isUnset(v: string | null | undefined): boolean {
  return v === null || v === undefined || v === "unknown";
}

function tags(doc: Record<string, unknown>, name: "customTags" | "systemTags"): string[] {
  return Array.isArray(doc[name]) ? (doc[name] as string[]) : [];
}

/** The source of a merge once merged: redirected to the target, tagged `Redirected`, its tags gone with its alerts. */
export function redirectedSource(source: Record<string, unknown>, targetId: number, now: string): { doc: Record<string, unknown>; changes: PropertyChange[] } {
  const systemTags = tags(source, "systemTags").includes(REDIRECTED_TAG) ? tags(source, "systemTags") : [...tags(source, "systemTags"), REDIRECTED_TAG];
  const doc = { ...source, status: "redirected", redirectIncidentId: String(targetId), systemTags, lastUpdateDateTime: now };
  const changes: PropertyChange[] = [
    { property: "status", before: source.status, after: "redirected" },
    { property: "redirectIncidentId", before: source.redirectIncidentId ?? null, after: String(targetId) },
  ];
  if (systemTags.length !== tags(source, "systemTags").length) changes.push({ property: "systemTags", before: source.systemTags ?? [], after: systemTags });
  return { doc, changes };
}

/**
 * The target once the sources merged into it: their custom tags joined to its own, and their owner,
 * classification and determination taken where it has none (as correlation's merges do).
 */
export function mergedTarget(
  target: Record<string, unknown>,
  sources: readonly Record<string, unknown>[],
): { doc: Record<string, unknown>; changes: PropertyChange[] } {
  const doc = { ...target };
  const changes: PropertyChange[] = [];
  const customTags = [...new Set([...tags(target, "customTags"), ...sources.flatMap((s) => tags(s, "customTags"))])];
  if (customTags.length !== tags(target, "customTags").length) {
    changes.push({ property: "customTags", before: target.customTags ?? [], after: customTags });
    doc.customTags = customTags;
  }
  for (const s of sources) {
    if (!doc.assignedTo && s.assignedTo) {
      changes.push({ property: "assignedTo", before: doc.assignedTo ?? null, after: s.assignedTo });
      doc.assignedTo = s.assignedTo;
    }
    for (const p of ["classification", "determination"] as const) {
      if (isUnset(doc[p] as string | null) && !isUnset(s[p] as string | null)) {
        changes.push({ property: p, before: doc[p] ?? null, after: s[p] });
        doc[p] = s[p];
      }
    }
  }
  return { doc, changes };
}

/** Whether an incident can take moved alerts: an open one (a redirected or resolved one cannot). */
export function moveRefusal(incident: IncidentRecord): string | null {
  const status = String(incident.doc.status);
  if (OPEN_STATUSES.includes(status)) return null;
  return `Alerts cannot be moved to incident '${incident.id}': it is ${status}, and only open incidents (active, inProgress, awaitingAction) take alerts.`;
}
