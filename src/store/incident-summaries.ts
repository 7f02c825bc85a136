/**
 * Incidents' derivation summaries (migration 021; the shape is schema/records.ts `IncidentSummary`,
 * the rules domain/incident-summary.ts): read by ingestion to update an incident from the alerts that
 * join it alone, written wherever an incident is derived. An incident without a summary is derived
 * from all its alerts, so a writer that changes an incident's alerts or entities without deriving it
 * (a load of Graph records) drops its summary instead.
 */
import { sql, type Kysely, type Transaction } from "kysely";
import type { Database, IncidentSummaryTable, IncidentTable } from "./tables.js";
import type { FirstSeen, IncidentSummary } from "../schema/records.js";
import { alertSeverity } from "../schema/enums.js";
import { isPostgres } from "./dialect.js";
import { placeholders, statementText, runText } from "./statement-text.js";
import { chunks, IN_LIST, ROWS_PER_INSERT } from "./chunks.js";
import { quoted, upsertRows } from "./insert-rows.js";

type Db = Kysely<Database> | Transaction<Database>;

function firstsOf(json: string): FirstSeen[] {
  return (JSON.parse(json) as [string, string, number][]).map(([value, at, seq]) => ({ value, at, seq: Number(seq) }));
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function summaryOf(r: IncidentSummaryTable): IncidentSummary {
  return {
    alertCount: Number(r.alert_count),
    severity: alertSeverity.members[Number(r.severity)] ?? "unknown",
    titles: (JSON.parse(r.titles) as string[]).sort(byCodeUnit),
    categories: firstsOf(r.categories),
    detectionSources: firstsOf(r.detection_sources),
    detectorKeys: (JSON.parse(r.detector_keys) as string[]).sort(byCodeUnit),
    devices: Number(r.devices),
    accounts: Number(r.accounts),
  };
}

function rowOf(tenantId: string, incidentId: number, s: IncidentSummary): IncidentSummaryTable {
  const firsts = (xs: readonly FirstSeen[]) => JSON.stringify(xs.map((x) => [x.value, x.at, x.seq]));
  return {
    tenant_id: tenantId,
    incident_id: incidentId,
    alert_count: s.alertCount,
    severity: Math.max(0, alertSeverity.members.indexOf(s.severity)),
    titles: JSON.stringify(s.titles),
    categories: firsts(s.categories),
    detection_sources: firsts(s.detectionSources),
    detector_keys: JSON.stringify(s.detectorKeys),
    devices: s.devices,
    accounts: s.accounts,
  };
}

/** The summaries the incidents have (an incident without one is absent). */
export async function readSummaries(db: Db, tenantId: string, incidentIds: readonly number[]): Promise<Map<number, IncidentSummary>> {
  const out = new Map<number, IncidentSummary>();
  for (const part of chunks(incidentIds, IN_LIST)) {
    const pg = isPostgres(db);
    const text = statementText(`summaries|${pg}|${part.length}`, () => {
      return `select * from incident_summaries where tenant_id = ${placeholders(pg, 1)} and incident_id in (${placeholders(pg, part.length, 2)})`;
    });
    const { rows } = await runText<IncidentSummaryTable>(db, text, [tenantId, ...part]);
    for (const r of rows) out.set(Number(r.incident_id), summaryOf(r));
  }
  return out;
}

const SUMMARY_COLUMNS = [
  "alert_count",
  "severity",
  "titles",
  "categories",
  "detection_sources",
  "detector_keys",
  "devices",
  "accounts",
] as const satisfies readonly (keyof IncidentSummaryTable)[];
const SUMMARY_PREFIX = "summary.";

/**
 * An incident's row with its summary (undefined if it has none), read in one statement: without a
 * lock, two statements could read them at two moments (a write at once, features/at-once.ts).
 */
export async function readIncidentAndSummary(
  db: Db,
  tenantId: string,
  incidentId: number,
): Promise<{ row: IncidentTable; summary: IncidentSummary | undefined } | undefined> {
  const summaryColumns = sql.raw(SUMMARY_COLUMNS.map((c) => `s.${quoted(c)} as ${quoted(SUMMARY_PREFIX + c)}`).join(", "));
  const { rows } = await sql<Record<string, unknown>>`select i.*, ${summaryColumns}
    from incidents i left join incident_summaries s on s.tenant_id = i.tenant_id and s.incident_id = i.id
    where i.tenant_id = ${tenantId} and i.id = ${incidentId}`.execute(db);
  const found = rows[0];
  if (!found) return undefined;
  const row: Record<string, unknown> = {};
  const summary: Record<string, unknown> = { tenant_id: tenantId, incident_id: incidentId };
  for (const [k, v] of Object.entries(found)) {
    if (k.startsWith(SUMMARY_PREFIX)) summary[k.slice(SUMMARY_PREFIX.length)] = v;
    else row[k] = v;
  }
  return { row: row as unknown as IncidentTable, summary: summary.titles == null ? undefined : summaryOf(summary as unknown as IncidentSummaryTable) };
}

/** A summary already stored is replaced: every column of the row but its key. */
function replaceSummary(row: IncidentSummaryTable): string {
  const set = Object.keys(row)
    .filter((c) => c !== "tenant_id" && c !== "incident_id")
    .map((c) => `${quoted(c)} = excluded.${quoted(c)}`);
  return `on conflict ("tenant_id", "incident_id") do update set ${set.join(", ")}`;
}

/** Writes each incident's summary, or drops it where the summary is null (too large to keep). */
export async function writeSummaries(db: Db, tenantId: string, summaries: ReadonlyMap<number, IncidentSummary | null>): Promise<void> {
  const rows: IncidentSummaryTable[] = [];
  const dropped: number[] = [];
  for (const [id, s] of summaries) {
    if (s === null) dropped.push(id);
    else rows.push(rowOf(tenantId, id, s));
  }
  rows.sort((a, b) => a.incident_id - b.incident_id);
  if (rows[0]) await upsertRows(db, "incident_summaries", rows, ROWS_PER_INSERT / 4, replaceSummary(rows[0]));
  await dropSummaries(db, tenantId, dropped);
}

/** Drops the incidents' summaries: they are derived from all their alerts until one is written again. */
export async function dropSummaries(db: Db, tenantId: string, incidentIds: Iterable<number | null>): Promise<void> {
  const ids = [...new Set([...incidentIds].filter((id): id is number => id !== null))];
  for (const part of chunks(ids, IN_LIST)) {
    await db.deleteFrom("incident_summaries").where("tenant_id", "=", tenantId).where("incident_id", "in", part).execute();
  }
}
