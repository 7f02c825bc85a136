/**
 * Record shapes the rules and the store both speak: what a change to an entity is, what an audit
 * entry and a correlation event record, an incident and an alert as read from or written to their
 * rows, and the facts an incident's derived properties are computed from. The domain decides on
 * these and the store persists them, and neither may import the other, so they live here on the
 * ground floor; the row mapping itself stays in the store (store/incident-rows.ts, store/alert-rows.ts).
 */
import type { AlertSeverity } from "./enums.js";

/** One property's change, as the audit trail records it. */
export interface PropertyChange {
  property: string;
  before: unknown;
  after: unknown;
}

/** Who changed which entity, when: each of its property changes becomes one audit row. */
export interface AuditContext {
  tenantId: string;
  entityType: "incident" | "alert";
  entityId: string;
  at: string;
  actor: string;
  requestId: string | null;
}

/** One entity's changes, to be audited together. */
export interface AuditRecord {
  context: AuditContext;
  changes: readonly PropertyChange[];
}

/** A step in an incident's correlation history (created, an alert joined, merged, refused…). */
export interface CorrelationEvent {
  tenantId: string;
  incidentId: number;
  at: string;
  kind: string;
  alertId: string | null;
  otherIncidentId: number | null;
  reasons: readonly string[];
  detail: string | null;
}

/** An incident as its row holds it, apart from what its document derives (the promoted columns, the ready JSON). */
export interface IncidentRecord {
  id: number;
  /** createdDateTime as stored: fixed-width UTC. */
  createdAt: string;
  doc: Record<string, unknown>;
  /** "alerts" while the severity follows the alerts; "analyst" once a PATCH set it. */
  severitySource: "alerts" | "analyst";
  /** "alerts" while the name follows the alerts; "analyst" once a PATCH set it. */
  nameSource: "alerts" | "analyst";
  alertCount: number;
  /** JSON: why the incident got its priority score, or null. */
  priorityFactors: string | null;
}

/** An alert as its row holds it, apart from what its document derives. */
export interface AlertRecord {
  id: string;
  /** Ingestion order within the tenant. */
  seq: number;
  incidentId: number | null;
  /** createdDateTime as stored: fixed-width UTC (an incident's alerts are read in this order). */
  createdAt: string;
  doc: Record<string, unknown>;
  detectorKey: string;
  /** The triage properties an analyst has set: an alert sent again keeps them. */
  analystSet: ReadonlySet<string>;
}

/** What an incident's derived properties are computed from, one entry per alert. */
export interface AlertFacts {
  id: string;
  /** Alerts count in this order (created, then ingestion order): the name lists categories in it. */
  createdAt: string;
  seq: number;
  title: string;
  category: string;
  severity: AlertSeverity;
  detectionSource: string;
  detectorKey: string;
}

/** A value's first alert on an incident's timeline (created, then ingestion order). */
export interface FirstSeen {
  value: string;
  at: string;
  seq: number;
}

/**
 * What an incident's derived properties are computed from, summed up over its alerts: exactly what
 * the derivation reads (domain/incident-derive.ts), in a form a joining alert updates without the
 * others (domain/incident-summary.ts). Kept per incident by the store (migration 021).
 */
export interface IncidentSummary {
  alertCount: number;
  /** The highest of the alerts' severities. */
  severity: AlertSeverity;
  /** The two smallest distinct titles (or the one): the name needs only whether the alerts share one, and which. */
  titles: string[];
  /** The distinct non-empty categories, each with its first alert (the name lists them in that order). */
  categories: FirstSeen[];
  /** The distinct detection sources, each with its first alert (the priority's tie-break). */
  detectionSources: FirstSeen[];
  /** The distinct detectors, whose current counts the priority's rarity reads. */
  detectorKeys: string[];
  /** Devices, and accounts or mailboxes, the incident has seen. */
  devices: number;
  accounts: number;
}
