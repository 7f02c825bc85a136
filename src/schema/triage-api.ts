/**
 * The JSON of Triage's own read API (/triage/incidents/{id}/audit, /triage/alerts/{id}/audit,
 * /triage/incidents/{id}/correlation). Type-only and import-free: the web app compiles it too (with
 * DOM libs and no Node types), so it must stay that way.
 */

export interface AuditEntry {
  seq: number;
  entityType: string;
  entityId: string;
  at: string;
  actor: string;
  requestId: string | null;
  property: string;
  before: unknown;
  after: unknown;
}

export interface AuditPage {
  value: AuditEntry[];
  /** Present when more entries follow: the same path with ?after= the last seq. */
  nextLink?: string;
}

/** One term of an incident's priorityScore, with the points it adds and why. */
export interface PriorityFactor {
  factor: "severity" | "alerts" | "assets" | "detectionSource" | "rarity";
  points: number;
  reason: string;
}

export interface Correlation {
  incidentId: string;
  priority: { score: number | null; factors: PriorityFactor[] };
  entities: { key: string; lastSeenDateTime: string }[];
  events: { seq: number; at: string; kind: string; alertId: string | null; otherIncidentId: string | null; reasons: string[]; detail: string | null }[];
}
