/**
 * The incidents table's row mapping, in one place: a row read as an incident record, and an incident
 * record written as a row (its promoted columns and ready JSON derived from its document by
 * columns.ts). Every reader and writer of incident rows — the PATCH and comment paths, ingestion's
 * load and write — goes through these two functions, so a column can never be filled two ways.
 */
import type { IncidentRecord } from "../schema/records.js";
import { incidentResource } from "../schema/incident.js";
import { columnsOf, promotedColumns } from "./columns.js";
import type { IncidentTable } from "./tables.js";

export function incidentRecordOf(row: IncidentTable): IncidentRecord {
  return {
    id: row.id,
    createdAt: row.created_at,
    doc: JSON.parse(row.doc) as Record<string, unknown>,
    severitySource: row.severity_source === "analyst" ? "analyst" : "alerts",
    nameSource: row.name_source === "analyst" ? "analyst" : "alerts",
    alertCount: row.alert_count,
    priorityFactors: row.priority_factors,
  };
}

/**
 * The row an incident record is written as, at `version`. `base` is the row as read, for an update:
 * only the columns that differ from it are written (guarded-update.ts).
 */
export function incidentRowOf(tenantId: string, record: IncidentRecord, version: number, base?: IncidentTable): IncidentTable {
  return {
    ...base,
    tenant_id: tenantId,
    id: record.id,
    ...(columnsOf(incidentResource, record.doc) as Omit<
      IncidentTable,
      "tenant_id" | "id" | "redirect_incident_id" | "priority_factors" | "severity_source" | "name_source" | "alert_count" | "version"
    >),
    redirect_incident_id: record.doc.redirectIncidentId == null ? null : Number(record.doc.redirectIncidentId),
    priority_factors: record.priorityFactors,
    severity_source: record.severitySource,
    name_source: record.nameSource,
    alert_count: record.alertCount,
    version,
  };
}

/** The status column's values for these statuses (for reading incidents by status). */
export function incidentStatusOrdinals(statuses: readonly string[]): number[] {
  return statuses.map((status) => promotedColumns(incidentResource, { status }).status as number);
}
