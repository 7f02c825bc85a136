import { GraphError } from "../errors/graph-error.js";
import { diff, type PropertyChange } from "./changes.js";

export interface IncidentState {
  doc: Record<string, unknown>;
  severitySource: "alerts" | "analyst";
  nameSource: "alerts" | "analyst";
}

export interface PatchOutcome {
  next: IncidentState;
  changes: PropertyChange[];
}

/** The text Graph puts in lastModifiedBy for a change made through the API. */
export function modifiedBy(actor: string): string {
  return `API-App:${actor}`;
}

/**
 * Applies validated changes to an incident. A redirected (merged) incident is frozen: its alerts live
 * in the incident it points to, and that one is the one to edit. Nothing changes when nothing differs.
 */
export function patchIncident(state: IncidentState, changes: Record<string, unknown>, actor: string, now: string): PatchOutcome {
  const doc = state.doc;
  if (doc.status === "redirected") {
    throw new GraphError(
      400,
      "BadRequest",
      `Incident ${String(doc.id)} was merged into incident ${String(doc.redirectIncidentId)} and can no longer be updated; update incident ${String(doc.redirectIncidentId)} instead.`,
    );
  }
  const effective = diff(doc, changes);
  if (effective.length === 0) return { next: state, changes: [] };
  const nextDoc: Record<string, unknown> = { ...doc };
  for (const c of effective) nextDoc[c.property] = c.after;
  nextDoc.lastUpdateDateTime = now;
  nextDoc.lastModifiedBy = modifiedBy(actor);
  return {
    next: {
      doc: nextDoc,
      severitySource: effective.some((c) => c.property === "severity") ? "analyst" : state.severitySource,
      nameSource: effective.some((c) => c.property === "displayName") ? "analyst" : state.nameSource,
    },
    changes: effective,
  };
}
