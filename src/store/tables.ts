import type { Generated } from "kysely";

/** Row shapes of Triage's tables. Enum columns hold the member's ordinal (declaration order). */
export interface TenantTable {
  id: string;
  display_name: string;
  created_at: string;
  next_incident_id: number;
  next_alert_seq: number;
}

export interface IncidentTable {
  tenant_id: string;
  id: number;
  status: number;
  severity: number;
  classification: number | null;
  determination: number | null;
  assigned_to: string | null;
  display_name: string | null;
  created_at: string;
  updated_at: string;
  priority_score: number | null;
  /** JSON: why the incident got its priority score (see domain/priority.ts). */
  priority_factors: string | null;
  redirect_incident_id: number | null;
  /** "alerts" while the severity follows the alerts; "analyst" once a PATCH set it. */
  severity_source: string;
  /** "alerts" while the name follows the alerts; "analyst" once a PATCH set it. */
  name_source: string;
  alert_count: number;
  /** Optimistic-concurrency counter, bumped on every write. */
  version: number;
  /** The Graph JSON of the incident (beta properties included, alerts excluded). */
  doc: string;
}

export interface AlertTable {
  tenant_id: string;
  id: string;
  /** Ingestion order within the tenant; bounds a paging snapshot. */
  seq: number;
  incident_id: number | null;
  status: number;
  severity: number;
  classification: number | null;
  determination: number | null;
  service_source: number;
  detection_source: number | null;
  assigned_to: string | null;
  title: string | null;
  detector_key: string | null;
  created_at: string;
  updated_at: string;
  first_activity_at: string | null;
  last_activity_at: string | null;
  version: number;
  doc: string;
}

export interface AuditTable {
  seq: Generated<number>;
  tenant_id: string;
  entity_type: string;
  entity_id: string;
  at: string;
  actor: string;
  request_id: string | null;
  property: string;
  before: string | null;
  after: string | null;
}

export interface IncidentEntityTable {
  tenant_id: string;
  entity_key: string;
  incident_id: number;
  last_seen_at: string;
}

export interface CorrelationEventTable {
  seq: Generated<number>;
  tenant_id: string;
  incident_id: number;
  at: string;
  kind: string;
  alert_id: string | null;
  other_incident_id: number | null;
  reasons: string;
  detail: string | null;
}

export interface DetectorStatTable {
  tenant_id: string;
  detector_key: string;
  alert_count: number;
}

export interface Database {
  tenants: TenantTable;
  incidents: IncidentTable;
  alerts: AlertTable;
  audit_log: AuditTable;
  incident_entities: IncidentEntityTable;
  correlation_events: CorrelationEventTable;
  detector_stats: DetectorStatTable;
}
