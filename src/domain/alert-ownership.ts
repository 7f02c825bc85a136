/**
 * Who owns which property of an alert. The source that sends an alert owns what it detected; an
 * analyst owns the triage state. Sending an alert again (same id) updates what the source owns and
 * never undoes an analyst's decision: an analyst's PATCH is the later, deliberate act, as in Defender,
 * where a product re-raising an alert does not reopen or reclassify what the SOC closed.
 */
import { diff, type PropertyChange } from "./changes.js";

/**
 * The triage state: what PATCH may change on an alert. A source may give them when it first sends an
 * alert (an alert exported from Graph carries its status and classification) and keeps them in step
 * while no analyst has changed them; once an analyst has, the analyst's value stays.
 */
export const ANALYST_PROPERTIES: readonly string[] = ["status", "classification", "determination", "assignedTo", "customDetails"];

/**
 * Assigned by Triage, never taken from a resent alert. Comments are the alert's history: a source
 * may bring comments when it first sends an alert, but sending it again cannot rewrite them.
 */
const KEPT_FROM_STORED: readonly string[] = ["id", "tenantId", "incidentId", "incidentWebUrl", "comments"];

/** Changes to this property are not audited on their own: every change moves it. */
const NOT_AUDITED = "lastUpdateDateTime";

function later(a: unknown, b: unknown): unknown {
  if (typeof a !== "string") return b;
  if (typeof b !== "string") return a;
  return a > b ? a : b;
}

/**
 * resolvedDateTime belongs with status: set when the alert is resolved (the source's own time if it
 * gave one, else when it became resolved here), kept while it stays resolved, cleared when it is not.
 */
function resolvedDateTime(before: Record<string, unknown> | null, next: Record<string, unknown>, given: unknown, now: string): string | null {
  if (next.status !== "resolved") return null;
  if (before?.status === "resolved" && typeof before.resolvedDateTime === "string") return typeof given === "string" ? given : before.resolvedDateTime;
  return typeof given === "string" ? given : now;
}

/** A new alert as the source sent it, with resolvedDateTime consistent with its status. */
export function acceptNewAlert<T extends Record<string, unknown>>(incoming: T, now: string): T {
  return { ...incoming, resolvedDateTime: resolvedDateTime(null, incoming, incoming.resolvedDateTime, now) };
}

export interface ReingestOutcome {
  next: Record<string, unknown>;
  /** What changed, for the audit trail (lastUpdateDateTime aside). */
  changes: PropertyChange[];
}

/**
 * An alert sent again: the source's properties take the new values (a property it leaves out takes its
 * default: the resent alert is the source's whole current view), the properties an analyst has set keep
 * the analyst's value, and what Triage assigned stays. An empty customDetails says nothing and keeps
 * the stored one. lastUpdateDateTime never goes back.
 */
export function reingestAlert(
  stored: Record<string, unknown>,
  incoming: Record<string, unknown>,
  analystSet: ReadonlySet<string>,
  now: string,
): ReingestOutcome {
  const next: Record<string, unknown> = { ...incoming };
  for (const p of KEPT_FROM_STORED) next[p] = stored[p];
  for (const p of ANALYST_PROPERTIES) if (analystSet.has(p)) next[p] = stored[p];
  const details = incoming.customDetails;
  if (!analystSet.has("customDetails") && (details === null || (typeof details === "object" && Object.keys(details).length === 0))) {
    next.customDetails = stored.customDetails;
  }
  next.resolvedDateTime = analystSet.has("status") ? (stored.resolvedDateTime ?? null) : resolvedDateTime(stored, next, incoming.resolvedDateTime, now);
  next.lastUpdateDateTime = later(stored.lastUpdateDateTime, incoming.lastUpdateDateTime);
  const audited = Object.fromEntries(Object.entries(next).filter(([k]) => k !== NOT_AUDITED));
  const changes = diff(stored, audited);
  if (changes.length === 0 && next.lastUpdateDateTime === stored.lastUpdateDateTime) return { next: stored, changes: [] };
  return { next, changes };
}

/** The analyst-owned properties after a PATCH changed `changed`. */
export function analystSetAfter(analystSet: ReadonlySet<string>, changed: readonly PropertyChange[]): Set<string> {
  const out = new Set(analystSet);
  for (const c of changed) if (ANALYST_PROPERTIES.includes(c.property)) out.add(c.property);
  return out;
}
