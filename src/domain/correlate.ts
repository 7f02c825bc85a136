import type { CorrelationReason } from "../schema/enums.js";

/** An open incident that shares at least one entity with a new alert, within the time window. */
export interface Candidate {
  id: number;
  status: string;
  assignedTo: string | null;
  classification: string | null;
  alertCount: number;
  createdAt: string;
  /** Entity keys ("device:…", "account:…") it shares with the alert. */
  shared: string[];
}

export interface Merge {
  /** Becomes redirected into `into`. */
  from: number;
  into: number;
  reasons: CorrelationReason[];
}

export interface MergeRefusal {
  incident: number;
  into: number;
  why: string;
}

export type Decision =
  | { kind: "new" }
  | { kind: "join"; incident: number; reasons: CorrelationReason[]; merges: Merge[]; refused: MergeRefusal[] };

/** Statuses in which an incident still takes new alerts and can merge. */
export const OPEN_STATUSES: readonly string[] = ["active", "inProgress", "awaitingAction"];

/** What sharing an entity of each kind means, in Graph's correlationReason vocabulary. */
const REASON_BY_KIND: Record<string, CorrelationReason> = {
  device: "sameAsset",
  account: "sameTargetedAsset",
  mailbox: "sameTargetedAsset",
  ip: "sharedIndicators",
  url: "sharedIndicators",
  fileHash: "similarArtifacts",
};

export function reasonsFor(sharedKeys: readonly string[]): CorrelationReason[] {
  const reasons = new Set<CorrelationReason>();
  for (const key of sharedKeys) {
    const kind = key.slice(0, key.indexOf(":"));
    const r = REASON_BY_KIND[kind];
    if (r) reasons.add(r);
  }
  // Candidates are only found within the correlation window.
  reasons.add("temporalProximity");
  return [...reasons];
}

function isUnset(classification: string | null): boolean {
  return classification === null || classification === "unknown";
}

/** Why two open incidents may not merge, or null when they may (Defender's refusal rules). */
export function mergeBlocker(a: Candidate, b: Candidate): string | null {
  if (!OPEN_STATUSES.includes(a.status) || !OPEN_STATUSES.includes(b.status)) return "one of the incidents is closed";
  if (a.assignedTo && b.assignedTo && a.assignedTo.toLowerCase() !== b.assignedTo.toLowerCase()) {
    return `assigned to different people (${a.assignedTo}, ${b.assignedTo})`;
  }
  if (!isUnset(a.classification) && !isUnset(b.classification) && a.classification !== b.classification) {
    return `classified differently (${a.classification}, ${b.classification})`;
  }
  return null;
}

/** The incident the others merge into: the one with the most alerts, then the oldest, then the lowest id. */
function rank(a: Candidate, b: Candidate): number {
  return b.alertCount - a.alertCount || a.createdAt.localeCompare(b.createdAt) || a.id - b.id;
}

/**
 * Where a new alert goes. No candidate: a new incident. One: it joins. Several: it joins the largest,
 * and each other one merges into that one unless a refusal rule applies; a refused incident stays as it is.
 */
export function decide(candidates: readonly Candidate[]): Decision {
  const open = candidates.filter((c) => OPEN_STATUSES.includes(c.status));
  if (open.length === 0) return { kind: "new" };
  const sorted = [...open].sort(rank);
  const target = sorted[0]!;
  const merges: Merge[] = [];
  const refused: MergeRefusal[] = [];
  // A merged incident's owner and classification become the target's, so later candidates are
  // checked against the target as it will be after the earlier merges.
  const merged: Candidate = { ...target };
  for (const other of sorted.slice(1)) {
    const blocker = mergeBlocker(merged, other);
    if (blocker) {
      refused.push({ incident: other.id, into: target.id, why: blocker });
      continue;
    }
    merges.push({ from: other.id, into: target.id, reasons: reasonsFor(other.shared) });
    merged.assignedTo ??= other.assignedTo;
    if (isUnset(merged.classification)) merged.classification = other.classification;
  }
  return { kind: "join", incident: target.id, reasons: reasonsFor(target.shared), merges, refused };
}
