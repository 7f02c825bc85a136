import type { CorrelationReason } from "../schema/enums.js";

/** An open incident that shares at least one entity with a new alert, within the time window. */
export interface Candidate {
  id: number;
  status: string;
  assignedTo: string | null;
  classification: string | null;
  /**
   * Compared only when both incidents carry it: an analyst's merge does (Defender refuses to merge
   * incidents determined differently); correlation's candidates leave it out.
   */
  determination?: string | null;
  alertCount: number;
  createdAt: string;
  /** Entity keys ("device:…", "account:…") it shares with the alert. */
  shared: string[];
  /** How many distinct entities it has seen (0 when not given). */
  entityCount?: number;
  /**
   * Entities known to be among them: at least the shared ones. Two incidents' entities overlap at
   * least in the keys both know, so a merged count taken from them is never too low.
   */
  knownKeys?: ReadonlySet<string>;
}

/**
 * How large correlation lets an incident grow. Defender stops merging when the merged incident would
 * exceed its entity limit; Triage bounds both alerts and entities, so that no stream of alerts
 * sharing entities drawn from large pools can pile into one incident that every later alert pays to
 * join. An alert that would take an incident past either limit does not join it.
 */
export interface CorrelationLimits {
  /** The most alerts correlation puts in one incident. */
  maxAlerts: number;
  /** The most distinct entities (devices, accounts, mailboxes, addresses, files, URLs) it lets one incident see. */
  maxEntities: number;
}

/** Microsoft Sentinel's documented limit on alerts in one incident. */
export const MAX_ALERTS_PER_INCIDENT = 150;
/**
 * Ten times the 50 entities Defender once documented for merges: Defender counts assets, where
 * Triage also counts each address, file hash and URL, several of which one alert often carries.
 */
export const MAX_ENTITIES_PER_INCIDENT = 500;

export const DEFAULT_LIMITS: CorrelationLimits = { maxAlerts: MAX_ALERTS_PER_INCIDENT, maxEntities: MAX_ENTITIES_PER_INCIDENT };
const UNBOUNDED: CorrelationLimits = { maxAlerts: Infinity, maxEntities: Infinity };

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

/** A candidate the alert did not join because joining would take it past a limit. */
export interface JoinRefusal {
  incident: number;
  why: string;
}

/** `notJoined` is present when a candidate was passed over for a limit. */
export type Decision =
  | { kind: "new"; notJoined?: JoinRefusal[] }
  | { kind: "join"; incident: number; reasons: CorrelationReason[]; merges: Merge[]; refused: MergeRefusal[]; notJoined?: JoinRefusal[] };

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

function isUnset(value: string | null | undefined): boolean {
  return value === null || value === undefined || value === "unknown";
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
  if (!isUnset(a.determination) && !isUnset(b.determination) && a.determination !== b.determination) {
    return `determined differently (${a.determination}, ${b.determination})`;
  }
  return null;
}

/** The incident the others merge into: the one with the most alerts, then the oldest, then the lowest id. */
export function rank(a: Candidate, b: Candidate): number {
  return b.alertCount - a.alertCount || a.createdAt.localeCompare(b.createdAt) || a.id - b.id;
}

interface Size {
  alertCount: number;
  entityCount: number;
  knownKeys: ReadonlySet<string>;
}

function sizeOf(c: Candidate): Size {
  return { alertCount: c.alertCount, entityCount: c.entityCount ?? 0, knownKeys: c.knownKeys ?? new Set(c.shared) };
}

/** The size of an incident once the alert has joined it. */
function withAlert(s: Size, alertKeys: readonly string[]): Size {
  const known = new Set(s.knownKeys);
  let entities = s.entityCount;
  for (const k of alertKeys) {
    if (known.has(k)) continue;
    known.add(k);
    entities++;
  }
  return { alertCount: s.alertCount + 1, entityCount: entities, knownKeys: known };
}

/** The size of two incidents merged: entities they are not both known to share count twice. */
function merged(a: Size, b: Size): Size {
  const known = new Set(a.knownKeys);
  let shared = 0;
  for (const k of b.knownKeys) {
    if (known.has(k)) shared++;
    else known.add(k);
  }
  return { alertCount: a.alertCount + b.alertCount, entityCount: a.entityCount + b.entityCount - shared, knownKeys: known };
}

/** Why an incident of this size is past a limit, or null. */
function overLimit(s: Size, limits: CorrelationLimits, what: string): string | null {
  if (s.alertCount > limits.maxAlerts) {
    return `${what} would hold ${s.alertCount} alerts, more than the ${limits.maxAlerts} one incident may hold (maxAlertsPerIncident)`;
  }
  if (s.entityCount > limits.maxEntities) {
    return `${what} would see ${s.entityCount} entities, more than the ${limits.maxEntities} one incident may see (maxEntitiesPerIncident)`;
  }
  return null;
}

/**
 * Where a new alert goes. No open candidate: a new incident. Otherwise it joins the largest candidate
 * it can join within the limits (a larger one it cannot is reported as not joined; none it can: a new
 * incident), and each other candidate merges into that one unless a refusal rule applies — Defender's,
 * or the merged incident would exceed a limit. A refused incident stays as it is.
 */
export function decide(candidates: readonly Candidate[], alertKeys: readonly string[] = [], limits: CorrelationLimits = UNBOUNDED): Decision {
  const open = candidates.filter((c) => OPEN_STATUSES.includes(c.status));
  if (open.length === 0) return { kind: "new" };
  const sorted = [...open].sort(rank);
  const notJoined: JoinRefusal[] = [];
  let target: Candidate | undefined;
  let size: Size | undefined;
  for (const c of sorted) {
    const joined = withAlert(sizeOf(c), alertKeys);
    const why = overLimit(joined, limits, `incident ${c.id}`);
    if (why === null) {
      target = c;
      size = joined;
      break;
    }
    notJoined.push({ incident: c.id, why });
  }
  if (!target || !size) return { kind: "new", notJoined };
  const merges: Merge[] = [];
  const refused: MergeRefusal[] = [];
  // A merged incident's owner and classification become the target's, so later candidates are
  // checked against the target as it will be after the earlier merges.
  const result: Candidate = { ...target };
  for (const other of sorted.slice(sorted.indexOf(target) + 1)) {
    const grown = merged(size, sizeOf(other));
    const blocker = mergeBlocker(result, other) ?? overLimit(grown, limits, `merging incident ${other.id} into incident ${target.id}`);
    if (blocker) {
      refused.push({ incident: other.id, into: target.id, why: blocker });
      continue;
    }
    size = grown;
    merges.push({ from: other.id, into: target.id, reasons: reasonsFor(other.shared) });
    result.assignedTo ??= other.assignedTo;
    if (isUnset(result.classification)) result.classification = other.classification;
  }
  const decision: Decision = { kind: "join", incident: target.id, reasons: reasonsFor(target.shared), merges, refused };
  if (notJoined.length) decision.notJoined = notJoined;
  return decision;
}
