import { useMemo, useState } from "react";
import { pageAll, qs } from "../api";
import { formatDay, formatDuration, plural } from "../format";
import { techniqueLabel } from "../mitre";
import { label, SEVERITIES } from "../model";
import { Link } from "../router";
import { ChartCard, HBars, StackedBars, type BarItem, type Series, type StackedPoint } from "../components/Charts";
import { ErrorMessage, Loading, useAsync, usePageTitle } from "../components/ui";

interface IncidentRow {
  id: string;
  status: string;
  severity: string;
  assignedTo: string | null;
  createdDateTime: string;
  lastUpdateDateTime: string;
}

interface AlertRow {
  id: string;
  incidentId: string | null;
  detectionSource: string | null;
  serviceSource: string;
  mitreTechniques: string[] | null;
  createdDateTime: string;
}

export const SEVERITY_COLORS: Record<string, string> = {
  high: "#c62828",
  medium: "#ef6c00",
  low: "#f2b400",
  informational: "#2f6fba",
  unknown: "#8a939e",
};
const SERIES: Series[] = SEVERITIES.map((s) => ({ key: s, label: label(s), color: SEVERITY_COLORS[s]! }));
const OPEN = new Set(["active", "inProgress", "awaitingAction"]);
const DAY = 86_400_000;
const MAX_DAYS = 120;

function dayKey(iso: string): string {
  return iso.slice(0, 10);
}

function count<T>(items: T[], key: (t: T) => string | string[] | null): Map<string, number> {
  const m = new Map<string, number>();
  for (const it of items) {
    const k = key(it);
    for (const x of Array.isArray(k) ? k : k === null ? [] : [k]) m.set(x, (m.get(x) ?? 0) + 1);
  }
  return m;
}

function top(m: Map<string, number>, n: number, name: (k: string) => string = (k) => k): BarItem[] {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, n)
    .map(([k, v]) => ({ label: name(k), value: v }));
}

export function DashboardPage() {
  usePageTitle("Dashboard");
  const [progress, setProgress] = useState(0);
  /** Days to show, ending on the latest day with activity; 0: everything (at most MAX_DAYS). */
  const [range, setRange] = useState(0);
  const data = useAsync(async (signal) => {
    const [incidents, alerts] = await Promise.all([
      pageAll<IncidentRow>(`/v1.0/security/incidents${qs({ $select: "id,status,severity,assignedTo,createdDateTime,lastUpdateDateTime", $top: 50 })}`, {
        signal,
        onPage: setProgress,
      }),
      pageAll<AlertRow>(
        `/v1.0/security/alerts_v2${qs({ $select: "id,incidentId,detectionSource,serviceSource,mitreTechniques,createdDateTime", $top: 1000 })}`,
        { signal },
      ),
    ]);
    return { incidents: incidents.filter((i) => i.status !== "redirected"), alerts };
  }, []);

  const view = useMemo(() => {
    if (!data.data) return null;
    const { incidents, alerts } = data.data;
    const resolved = incidents.filter((i) => i.status === "resolved");
    // The range ends on the latest day with activity (the demo's data ends in the past), or today.
    const latest = Math.max(0, ...incidents.map((i) => Date.parse(i.createdDateTime)), ...resolved.map((i) => Date.parse(i.lastUpdateDateTime)));
    const end = new Date(dayKey(new Date(latest || Date.now()).toISOString()) + "T00:00:00Z").getTime();
    const earliest = Math.min(end, ...incidents.map((i) => Date.parse(dayKey(i.createdDateTime) + "T00:00:00Z")));
    const days0 = range || Math.min(MAX_DAYS, Math.round((end - earliest) / DAY) + 1);
    const start = end - (days0 - 1) * DAY;
    const days: string[] = [];
    for (let t = start; t <= end; t += DAY) days.push(new Date(t).toISOString().slice(0, 10));
    const inRange = (iso: string) => {
      const k = dayKey(iso);
      return k >= days[0]! && k <= days[days.length - 1]!;
    };
    const perDay = (rows: IncidentRow[], when: (i: IncidentRow) => string): StackedPoint[] => {
      const byDay = new Map<string, Record<string, number>>();
      for (const r of rows) {
        const k = dayKey(when(r));
        const v = byDay.get(k) ?? {};
        v[r.severity] = (v[r.severity] ?? 0) + 1;
        byDay.set(k, v);
      }
      return days.map((d) => ({ label: formatDay(d), axis: formatDay(d, true), values: byDay.get(d) ?? {} }));
    };
    const open = incidents.filter((i) => OPEN.has(i.status));
    const openBySeverity: BarItem[] = SEVERITIES.map((s) => ({
      label: label(s),
      value: open.filter((i) => i.severity === s).length,
      color: SEVERITY_COLORS[s],
    })).filter((b) => b.value > 0);
    const byAssignee = top(
      count(open, (i) => i.assignedTo ?? "(unassigned)"),
      10,
    );
    // Resolution time: creation to the last update of a resolved incident (resolving is its last change).
    const durations = resolved.map((i) => ({ severity: i.severity, ms: Date.parse(i.lastUpdateDateTime) - Date.parse(i.createdDateTime) }));
    const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
    const mttr = mean(durations.map((d) => d.ms));
    const mttrBySeverity: BarItem[] = SEVERITIES.map((s) => {
      const ms = mean(durations.filter((d) => d.severity === s).map((d) => d.ms));
      return { label: label(s), value: Number.isFinite(ms) ? ms / 3_600_000 : 0, display: formatDuration(ms), color: SEVERITY_COLORS[s] };
    }).filter((b) => b.display !== "—");
    const rangeAlerts = alerts.filter((a) => inRange(a.createdDateTime));
    return {
      opened: perDay(
        incidents.filter((i) => inRange(i.createdDateTime)),
        (i) => i.createdDateTime,
      ),
      resolvedPerDay: perDay(
        resolved.filter((i) => inRange(i.lastUpdateDateTime)),
        (i) => i.lastUpdateDateTime,
      ),
      openedCount: incidents.filter((i) => inRange(i.createdDateTime)).length,
      resolvedCount: resolved.filter((i) => inRange(i.lastUpdateDateTime)).length,
      open,
      openBySeverity,
      byAssignee,
      mttr,
      mttrBySeverity,
      resolvedTotal: resolved.length,
      sources: top(
        count(rangeAlerts, (a) => a.detectionSource ?? a.serviceSource),
        8,
        label,
      ),
      techniques: top(
        count(rangeAlerts, (a) => a.mitreTechniques ?? []),
        10,
        techniqueLabel,
      ),
      alertCount: rangeAlerts.length,
      from: days[0]!,
      to: days[days.length - 1]!,
    };
  }, [data.data, range]);

  return (
    <div className="dashboard">
      <div className="page-head">
        <h1>Dashboard</h1>
        <div className="inline">
          <label htmlFor="range">Period</label>
          <select id="range" value={range} onChange={(e) => setRange(Number(e.target.value))}>
            <option value={0}>All (up to {MAX_DAYS} days)</option>
            {[7, 14, 30, 60, 90].map((d) => (
              <option key={d} value={d}>
                Last {d} days
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorMessage error={data.error} />
      {!view && !data.error && <Loading what={progress ? `Loading incidents (${progress})` : "Loading incidents and alerts"} />}
      {view && (
        <>
          <p className="muted">
            {formatDay(view.from)} to {formatDay(view.to)} (UTC days) · computed from {plural(data.data!.incidents.length, "incident")} and{" "}
            {plural(data.data!.alerts.length, "alert")}
          </p>
          <div className="kpis">
            <Link to="/incidents?status=active,inProgress,awaitingAction" className="kpi">
              <span className="kpi-value">{view.open.length}</span>
              <span className="kpi-label">Open incidents</span>
            </Link>
            <div className="kpi">
              <span className="kpi-value">{view.openedCount}</span>
              <span className="kpi-label">Opened in period</span>
            </div>
            <div className="kpi">
              <span className="kpi-value">{view.resolvedCount}</span>
              <span className="kpi-label">Resolved in period</span>
            </div>
            <div className="kpi">
              <span className="kpi-value">{formatDuration(view.mttr)}</span>
              <span className="kpi-label">Mean time to resolve ({plural(view.resolvedTotal, "incident")})</span>
            </div>
          </div>
          <div className="chart-grid">
            <ChartCard title="Incidents opened per day, by severity" className="wide">
              <StackedBars points={view.opened} series={SERIES} title="Incidents opened per day" empty="No incidents opened in this period." />
            </ChartCard>
            <ChartCard title="Incidents resolved per day, by severity" className="wide">
              <StackedBars points={view.resolvedPerDay} series={SERIES} title="Incidents resolved per day" empty="No incidents resolved in this period." />
            </ChartCard>
            <ChartCard title="Open incidents by severity">
              <HBars items={view.openBySeverity} title="Open incidents by severity" empty="No open incidents." />
            </ChartCard>
            <ChartCard title="Open incidents by assignee">
              <HBars items={view.byAssignee} title="Open incidents by assignee" empty="No open incidents." />
            </ChartCard>
            <ChartCard title="Mean time to resolve, by severity">
              <HBars items={view.mttrBySeverity} title="Mean time to resolve by severity" empty="No incident has been resolved yet." />
            </ChartCard>
            <ChartCard title="Top detection sources (alerts in period)">
              <HBars items={view.sources} title="Top detection sources" empty="No alerts in this period." />
            </ChartCard>
            <ChartCard title="Top MITRE ATT&CK techniques (alerts in period)">
              <HBars items={view.techniques} title="Top MITRE techniques" empty="No techniques in this period." />
            </ChartCard>
          </div>
        </>
      )}
    </div>
  );
}
