/**
 * An incident's recommended hunting queries (beta `recommendedHuntingQueries`): KQL over AlertInfo and
 * AlertEvidence that looks for the incident's devices, accounts and IP addresses, and for its alerts'
 * titles, in other alerts of the tenant. A pure function of the incident's alerts as Graph serves them
 * (with their evidence); the values it searches for are read from the evidence fields the hunting
 * tables derive their columns from (store/hunting-sql.ts), so every query finds the incident's own
 * alerts among its results.
 */

export interface RecommendedHuntingQuery {
  kqlText: string;
}

/** The most values one list of a query holds; an incident with more devices (accounts, …) searches for the first ones. */
export const MAX_VALUES_PER_QUERY = 25;
/** Longer values are left out of the queries (no real host, account or title is this long). */
export const MAX_VALUE_LENGTH = 512;
/** The window looks this far back from the incident's first alert… */
export const LOOKBACK_DAYS = 30;
/** …and this far past its last one. */
export const LOOKAHEAD_DAYS = 1;

const DAY_MS = 24 * 3600 * 1000;

/** A KQL string literal: backslash and quote escaped, control characters as escapes. */
export function kqlString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

function dynamicList(values: readonly string[]): string {
  return `dynamic([${values.map(kqlString).join(", ")}])`;
}

/** Distinct non-empty strings in first-seen order, bounded in count and length. */
class Values {
  private readonly seen = new Set<string>();
  readonly list: string[] = [];
  add(v: unknown): void {
    if (typeof v !== "string" || v === "" || v.length > MAX_VALUE_LENGTH) return;
    if (this.list.length >= MAX_VALUES_PER_QUERY || this.seen.has(v)) return;
    this.seen.add(v);
    this.list.push(v);
  }
  get empty(): boolean {
    return this.list.length === 0;
  }
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** SQL's coalesce over JSON fields: the first that is present and not null. */
function first(...values: unknown[]): unknown {
  return values.find((v) => v !== undefined && v !== null);
}

function timeOf(alert: Record<string, unknown>): number | undefined {
  const t = typeof alert.createdDateTime === "string" ? Date.parse(alert.createdDateTime) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

/** `2026-11-01T10:00:00Z` as a KQL datetime literal, to the second. */
function datetime(ms: number): string {
  return `datetime(${new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")})`;
}

const ALERT_COLUMNS = "Timestamp, AlertId, Title, Severity, Category, ServiceSource, DetectionSource";

/** Alerts whose evidence matches `condition`, one row per alert, newest first. */
function byEvidence(lets: string[], window: string, condition: string): string {
  return [
    ...lets,
    "AlertEvidence",
    `| where Timestamp between (${window})`,
    `| where ${condition}`,
    "| summarize EvidenceCount = count() by AlertId",
    `| join kind=inner (AlertInfo | where Timestamp between (${window})) on AlertId`,
    `| project ${ALERT_COLUMNS}, EvidenceCount`,
    "| order by Timestamp desc",
  ].join("\n");
}

/**
 * The recommended hunting queries of an incident with these alerts (Graph alert documents, with
 * `evidence`): alerts on its devices, alerts involving its accounts, alerts naming its IP addresses,
 * and alerts with the same titles from the same detection sources, each within the incident's time
 * window widened by LOOKBACK_DAYS before and LOOKAHEAD_DAYS after. An incident without alerts has none.
 */
export function recommendedHuntingQueries(alerts: readonly Record<string, unknown>[]): RecommendedHuntingQuery[] {
  const times = alerts.map(timeOf).filter((t): t is number => t !== undefined);
  if (times.length === 0) return [];
  const from = Math.floor(Math.min(...times) / 1000) * 1000 - LOOKBACK_DAYS * DAY_MS;
  const to = Math.ceil(Math.max(...times) / 1000) * 1000 + LOOKAHEAD_DAYS * DAY_MS;
  const window = `${datetime(from)} .. ${datetime(to)}`;

  const deviceNames = new Values();
  const deviceIds = new Values();
  const upns = new Values();
  const sids = new Values();
  const objectIds = new Values();
  const accountNames = new Values();
  const ips = new Values();
  const titles = new Values();
  const sources = new Values();

  for (const alert of alerts) {
    titles.add(alert.title);
    sources.add(alert.detectionSource);
    const evidence = Array.isArray(alert.evidence) ? alert.evidence : [];
    for (const raw of evidence) {
      const e = obj(raw);
      if (!e) continue;
      deviceNames.add(first(e.deviceDnsName, e.hostName));
      deviceIds.add(e.mdeDeviceId);
      ips.add(e.ipAddress);
      const account = obj(e.userAccount);
      const upn = first(account?.userPrincipalName, e.upn);
      // An account is searched for by its most specific identifier: a bare account name ("admin")
      // is shared by unrelated accounts of other domains.
      if (typeof upn === "string" && upn !== "") upns.add(upn);
      else if (typeof account?.userSid === "string" && account.userSid !== "") sids.add(account.userSid);
      else if (typeof account?.azureAdUserId === "string" && account.azureAdUserId !== "") objectIds.add(account.azureAdUserId);
      else accountNames.add(account?.accountName);
    }
  }

  const out: RecommendedHuntingQuery[] = [];
  if (!deviceNames.empty || !deviceIds.empty) {
    const lets: string[] = [];
    const conditions: string[] = [];
    if (!deviceNames.empty) {
      lets.push(`let deviceNames = ${dynamicList(deviceNames.list)};`);
      conditions.push("DeviceName in~ (deviceNames)");
    }
    if (!deviceIds.empty) {
      lets.push(`let deviceIds = ${dynamicList(deviceIds.list)};`);
      conditions.push("DeviceId in~ (deviceIds)");
    }
    out.push({ kqlText: byEvidence(lets, window, conditions.join(" or ")) });
  }
  if (!upns.empty || !sids.empty || !objectIds.empty || !accountNames.empty) {
    const lets: string[] = [];
    const conditions: string[] = [];
    const add = (name: string, column: string, values: Values, op: string) => {
      if (values.empty) return;
      lets.push(`let ${name} = ${dynamicList(values.list)};`);
      conditions.push(`${column} ${op} (${name})`);
    };
    add("accountUpns", "AccountUpn", upns, "in~");
    add("accountSids", "AccountSid", sids, "in~");
    add("accountObjectIds", "AccountObjectId", objectIds, "in~");
    add("accountNames", "AccountName", accountNames, "in~");
    out.push({ kqlText: byEvidence(lets, window, conditions.join(" or ")) });
  }
  if (!ips.empty) {
    out.push({ kqlText: byEvidence([`let ips = ${dynamicList(ips.list)};`], window, "RemoteIP in (ips)") });
  }
  if (!titles.empty) {
    const lines = [`let titles = ${dynamicList(titles.list)};`];
    const conditions = ["Title in (titles)"];
    if (!sources.empty) {
      lines.push(`let detectionSources = ${dynamicList(sources.list)};`);
      conditions.push("DetectionSource in (detectionSources)");
    }
    lines.push(
      "AlertInfo",
      `| where Timestamp between (${window})`,
      `| where ${conditions.join(" and ")}`,
      `| project ${ALERT_COLUMNS}`,
      "| order by Timestamp desc",
    );
    out.push({ kqlText: lines.join("\n") });
  }
  return out;
}
