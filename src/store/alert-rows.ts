/**
 * The alerts table's row mapping, in one place: a row read as an alert record, and an alert record
 * written as a row (its promoted columns and ready JSON derived from its document by columns.ts, its
 * analyst-owned properties as sorted JSON text). The PATCH and comment paths and ingestion's load and
 * write all go through these functions.
 */
import type { AlertRecord } from "../schema/records.js";
import { alertResource } from "../schema/alert.js";
import { columnsOf } from "./columns.js";
import type { AlertTable } from "./tables.js";

export function alertRecordOf(row: AlertTable): AlertRecord {
  return {
    id: row.id,
    seq: row.seq,
    incidentId: row.incident_id,
    createdAt: row.created_at,
    doc: JSON.parse(row.doc) as Record<string, unknown>,
    detectorKey: row.detector_key ?? "unknown",
    analystSet: decodeAnalystSet(row.analyst_properties),
  };
}

/**
 * The row an alert record is written as, at `version`. `base` is the row as read, for an update:
 * only the columns that differ from it are written (guarded-update.ts).
 */
export function alertRowOf(tenantId: string, record: AlertRecord, version: number, base?: AlertTable): AlertTable {
  return {
    ...base,
    tenant_id: tenantId,
    seq: record.seq,
    ...(columnsOf(alertResource, record.doc) as Omit<AlertTable, "tenant_id" | "seq" | "detector_key" | "version" | "analyst_properties">),
    detector_key: record.detectorKey,
    version,
    analyst_properties: encodeAnalystSet(record.analystSet),
  };
}

/** The stored form of an analyst-owned property set (sorted, so equal sets are equal text). */
function encodeAnalystSet(set: ReadonlySet<string>): string {
  return JSON.stringify([...set].sort());
}

function decodeAnalystSet(text: string | null | undefined): Set<string> {
  if (!text) return new Set();
  const v = JSON.parse(text) as unknown;
  return new Set(Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
}
