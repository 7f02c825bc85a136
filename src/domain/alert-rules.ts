import { diff, type PropertyChange } from "./changes.js";

export interface AlertPatchOutcome {
  next: Record<string, unknown>;
  changes: PropertyChange[];
}

/**
 * Applies validated changes to an alert. Resolving stamps resolvedDateTime; reopening clears it.
 * customDetails is replaced as a whole, as PATCH replaces any property value.
 */
export function patchAlert(doc: Record<string, unknown>, changes: Record<string, unknown>, now: string): AlertPatchOutcome {
  const effective = diff(doc, changes);
  if (effective.length === 0) return { next: doc, changes: [] };
  const next: Record<string, unknown> = { ...doc };
  for (const c of effective) next[c.property] = c.after;
  const statusChange = effective.find((c) => c.property === "status");
  if (statusChange) next.resolvedDateTime = statusChange.after === "resolved" ? now : null;
  next.lastUpdateDateTime = now;
  return { next, changes: effective };
}
