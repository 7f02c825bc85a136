/** Advanced hunting: a KQL editor, a timespan, the results as a table and a chart; the URL carries the query. */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode, type RefObject } from "react";
import { api, ApiError, qs } from "../api";
import { navigate, useLocation } from "../router";
import { Loading, useAsync, usePageTitle } from "../components/ui";
import { ChartCard, StackedBars, type Series, type StackedPoint } from "../components/Charts";
import { completions, errorPosition, renderKind, tokenize, type Completion, type SchemaTable } from "../kql";
import "../hunting.css";

export interface HuntingResults {
  schema: { name: string; type: string }[];
  results: Record<string, unknown>[];
}

export const TIMESPANS: { value: string; label: string }[] = [
  { value: "PT1H", label: "Last hour" },
  { value: "P1D", label: "Last day" },
  { value: "P7D", label: "Last 7 days" },
  { value: "P30D", label: "Last 30 days" },
  { value: "P90D", label: "Last 90 days" },
  { value: "P180D", label: "Last 180 days" },
];
const DEFAULT_TIMESPAN = "P7D";

export const EXAMPLES: { title: string; query: string }[] = [
  {
    title: "Latest high-severity alerts",
    query: 'AlertInfo\n| where Severity == "High"\n| project Timestamp, Title, Category, DetectionSource\n| order by Timestamp desc\n| take 50',
  },
  { title: "Alerts per day by severity", query: "AlertInfo\n| summarize Alerts = count() by bin(Timestamp, 1d), Severity\n| render columnchart" },
  {
    title: "Users in the most alerts",
    query: 'AlertEvidence\n| where EntityType == "User"\n| summarize Alerts = dcount(AlertId) by AccountUpn\n| top 10 by Alerts',
  },
  {
    title: "Files seen across alerts",
    query:
      'AlertEvidence\n| where EntityType == "File"\n| summarize Alerts = dcount(AlertId), Titles = make_set(Title) by SHA1, FileName\n| order by Alerts desc',
  },
];

/** Rows shown at most; the rest are counted. */
const SHOWN = 500;
const NUMERIC = new Set(["Int64", "Int32", "Double", "Decimal", "Long", "Int", "Real"]);
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];

/** A cell as text: strings as they are, null as empty, anything else as JSON. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

function Highlighted({ text, tables, errorAt }: { text: string; tables: ReadonlySet<string>; errorAt: number | null }) {
  const tokens = tokenize(text, tables);
  const out: ReactNode[] = [];
  let marked = errorAt === null;
  for (const t of tokens) {
    const hit = !marked && errorAt! >= t.start && errorAt! < t.start + t.text.length && t.kind !== "space";
    if (hit) marked = true;
    out.push(
      <span key={t.start} className={`kql-${t.kind}${hit ? " kql-error" : ""}`}>
        {t.text}
      </span>,
    );
  }
  if (!marked)
    out.push(
      <span key="end" className="kql-error kql-error-end">
        {" "}
      </span>,
    );
  // A trailing newline needs a character after it to take its height.
  out.push("\n");
  return <>{out}</>;
}

function Editor({
  value,
  onChange,
  onRun,
  schema,
  errorAt,
  textarea,
}: {
  value: string;
  onChange: (v: string) => void;
  onRun: () => void;
  schema: SchemaTable[];
  errorAt: number | null;
  textarea: RefObject<HTMLTextAreaElement | null>;
}) {
  const pre = useRef<HTMLPreElement>(null);
  const [menu, setMenu] = useState<{ start: number; items: Completion[]; active: number } | null>(null);
  const tables = useMemo(() => new Set(schema.map((t) => t.name)), [schema]);

  const suggest = (text: string, caret: number) => {
    const c = completions(text, caret, schema);
    setMenu(c.items.length ? { ...c, active: 0 } : null);
  };
  const accept = (item: Completion) => {
    const ta = textarea.current;
    if (!ta || !menu) return;
    const caret = ta.selectionStart;
    const next = value.slice(0, menu.start) + item.label + value.slice(caret);
    onChange(next);
    setMenu(null);
    const at = menu.start + item.label.length;
    requestAnimationFrame(() => {
      ta.focus();
      ta.setSelectionRange(at, at);
    });
  };
  const keyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
      e.preventDefault();
      setMenu(null);
      onRun();
      return;
    }
    if ((e.ctrlKey || e.metaKey) && e.key === " ") {
      e.preventDefault();
      suggest(value, e.currentTarget.selectionStart);
      return;
    }
    if (!menu) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const n = menu.items.length;
      setMenu({ ...menu, active: (menu.active + (e.key === "ArrowDown" ? 1 : n - 1)) % n });
    } else if (e.key === "Tab" || e.key === "Enter") {
      e.preventDefault();
      accept(menu.items[menu.active]!);
    } else if (e.key === "Escape") {
      e.preventDefault();
      setMenu(null);
    }
  };
  const sync = () => {
    if (pre.current && textarea.current) {
      pre.current.scrollTop = textarea.current.scrollTop;
      pre.current.scrollLeft = textarea.current.scrollLeft;
    }
  };
  return (
    <div className="kql-editor">
      <pre ref={pre} className="kql-highlight" aria-hidden="true">
        <Highlighted text={value} tables={tables} errorAt={errorAt} />
      </pre>
      <textarea
        ref={textarea}
        id="kql"
        className="kql-input"
        value={value}
        spellCheck={false}
        autoCapitalize="off"
        autoComplete="off"
        aria-describedby="kql-help"
        aria-autocomplete="list"
        aria-controls={menu ? "kql-completions" : undefined}
        aria-activedescendant={menu ? `kql-completion-${menu.active}` : undefined}
        onChange={(e) => {
          onChange(e.target.value);
          suggest(e.target.value, e.target.selectionStart);
        }}
        onKeyDown={keyDown}
        onScroll={sync}
        onBlur={() => setTimeout(() => setMenu(null), 150)}
      />
      {menu && (
        <ul id="kql-completions" className="kql-completions" role="listbox" aria-label="Completions">
          {menu.items.map((item, i) => (
            <li
              key={item.label}
              id={`kql-completion-${i}`}
              role="option"
              aria-selected={i === menu.active}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(item);
              }}
            >
              <span className={`kql-kind kql-kind-${item.kind}`}>{item.kind}</span> {item.label}
              {item.detail && <span className="muted"> {item.detail}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

interface ChartSpec {
  title: string;
  points: StackedPoint[];
  series: Series[];
}

/** A chart when the answer is a summary over time (a datetime column and numbers) or the query asks for one. */
export function chartOf(query: string, data: HuntingResults): ChartSpec | null {
  const render = renderKind(query);
  const time = data.schema.find((c) => c.type === "DateTime");
  const numbers = data.schema.filter((c) => NUMERIC.has(c.type));
  const strings = data.schema.filter((c) => c.type === "String");
  const summarized = /\|\s*summarize\b/.test(query);
  if (!numbers.length || !data.results.length) return null;
  if (!render && !(time && summarized)) return null;
  const x = time ?? strings[0];
  if (!x) return null;
  const split = numbers.length === 1 ? strings.find((s) => s.name !== x.name) : undefined;
  const keyOf = (v: unknown) => cellText(v) || "(empty)";
  let seriesNames: string[];
  if (split) {
    const totals = new Map<string, number>();
    for (const r of data.results) totals.set(keyOf(r[split.name]), (totals.get(keyOf(r[split.name])) ?? 0) + Number(r[numbers[0]!.name] ?? 0));
    seriesNames = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
    if (seriesNames.length > COLORS.length) seriesNames = [...seriesNames.slice(0, COLORS.length - 1), "Other"];
  } else seriesNames = numbers.slice(0, COLORS.length).map((n) => n.name);
  const known = new Set(seriesNames);
  const byX = new Map<string, Record<string, number>>();
  for (const r of data.results) {
    const label = cellText(r[x.name]);
    const values = byX.get(label) ?? {};
    byX.set(label, values);
    if (split) {
      const k = known.has(keyOf(r[split.name])) ? keyOf(r[split.name]) : "Other";
      values[k] = (values[k] ?? 0) + Number(r[numbers[0]!.name] ?? 0);
    } else for (const n of seriesNames) values[n] = (values[n] ?? 0) + Number(r[n] ?? 0);
  }
  const labels = [...byX.keys()];
  if (x === time) labels.sort();
  const points = labels.map((label) => ({ label, axis: x === time ? label.slice(5, 10) : label.slice(0, 12), values: byX.get(label)! }));
  const series = seriesNames.map((key, i) => ({ key, label: key, color: COLORS[i % COLORS.length]! }));
  return { title: `${split ? `${numbers[0]!.name} by ${split.name}` : seriesNames.join(", ")} per ${x.name}`, points, series };
}

function HuntingError({ error, query, onGoTo }: { error: unknown; query: string; onGoTo: (offset: number) => void }) {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ApiError && error.status === 403) {
    const scope = /Missing scope/i.test(message);
    return (
      <div className="error-box hunting-denied" role="alert">
        <strong>Advanced hunting is not available to you.</strong>{" "}
        {scope ? (
          <>
            The web app's registration in this tenant was made before hunting was added and has not been granted <code>ThreatHunting.Read.All</code>. A Security
            Administrator can add it to the "Triage web app" on the Admin page (request the permission and grant consent); then sign out and in again.
          </>
        ) : (
          <>
            Hunting needs one of the roles Security Reader, Global Reader, Security Operator or Security Administrator; your account has{" "}
            {message.match(/the user has '([^']*)'/)?.[1] || "none of them"}. Ask an administrator for one of these roles.
          </>
        )}
        <p className="muted">{message}</p>
      </div>
    );
  }
  const pos = errorPosition(message, query);
  return (
    <div className="error-box hunting-error" role="alert">
      <span className="hunting-error-message">{message}</span>
      {pos && (
        <p>
          <button type="button" className="secondary" onClick={() => onGoTo(pos.offset)}>
            Go to line {pos.line}, column {pos.column}
          </button>
        </p>
      )}
    </div>
  );
}

export function HuntingPage({ search }: { search: string }) {
  usePageTitle("Hunting");
  const params = new URLSearchParams(search);
  const urlQuery = params.get("query") ?? "";
  const urlTimespan = params.get("timespan") ?? DEFAULT_TIMESPAN;
  const [text, setText] = useState(urlQuery || EXAMPLES[0]!.query);
  const [timespan, setTimespan] = useState(urlTimespan);
  const [tick, setTick] = useState(0);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const { pathname } = useLocation();

  // Back and forward restore the query and timespan of that URL.
  useEffect(() => {
    if (urlQuery) setText(urlQuery);
    setTimespan(urlTimespan);
  }, [urlQuery, urlTimespan]);

  const schema = useAsync(
    (signal) =>
      api<{ tables: SchemaTable[] }>("/beta/security/getHuntingSchema", { signal }).then(
        (s) => s.tables,
        () => [] as SchemaTable[],
      ),
    [],
  );

  const run = useAsync(
    (signal) =>
      urlQuery
        ? api<HuntingResults>("/v1.0/security/runHuntingQuery", { method: "POST", body: { Query: urlQuery, Timespan: urlTimespan }, signal })
        : Promise.resolve(null),
    [urlQuery, urlTimespan, tick],
  );

  const start = (q = text, t = timespan) => {
    if (!q.trim()) return;
    const to = `${pathname}${qs({ query: q, timespan: t })}`;
    if (q === urlQuery && t === urlTimespan) setTick((n) => n + 1);
    else navigate(to);
  };
  const goTo = (offset: number) => {
    const ta = textarea.current;
    if (!ta) return;
    ta.focus();
    ta.setSelectionRange(offset, offset + 1);
  };

  const errorMessage = run.error instanceof Error ? run.error.message : "";
  const errorAt = run.error && text === urlQuery ? (errorPosition(errorMessage, text)?.offset ?? null) : null;
  const chart = run.data ? chartOf(urlQuery, run.data) : null;
  const timespans = TIMESPANS.some((t) => t.value === timespan) ? TIMESPANS : [...TIMESPANS, { value: timespan, label: timespan }];

  return (
    <div className="hunting">
      <div className="page-head">
        <h1>Hunting</h1>
        <p className="muted">KQL over AlertInfo and AlertEvidence, as in Microsoft Defender's advanced hunting.</p>
      </div>
      <form
        className="hunting-form"
        onSubmit={(e) => {
          e.preventDefault();
          start();
        }}
      >
        <label htmlFor="kql">Query</label>
        <Editor value={text} onChange={setText} onRun={() => start()} schema={schema.data ?? []} errorAt={errorAt} textarea={textarea} />
        <p id="kql-help" className="hint">
          Ctrl+Enter runs the query; Tab accepts a completion, Ctrl+Space asks for one.
        </p>
        <div className="hunting-controls">
          <label htmlFor="timespan">Time range</label>
          <select id="timespan" value={timespan} onChange={(e) => setTimespan(e.target.value)}>
            {timespans.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
          <button type="submit" disabled={run.loading && !!urlQuery}>
            Run
          </button>
        </div>
      </form>
      <details className="hunting-examples">
        <summary>Example queries</summary>
        <ul>
          {EXAMPLES.map((ex) => (
            <li key={ex.title}>
              <button
                type="button"
                className="link-button"
                onClick={() => {
                  setText(ex.query);
                  start(ex.query);
                }}
              >
                {ex.title}
              </button>
            </li>
          ))}
        </ul>
      </details>
      <section className="hunting-results" aria-live="polite" aria-busy={run.loading}>
        {run.loading && urlQuery && <Loading what="Running the query" />}
        {!run.loading && run.error !== null && <HuntingError error={run.error} query={urlQuery} onGoTo={goTo} />}
        {!run.loading && run.data && <Results data={run.data} chart={chart} />}
      </section>
    </div>
  );
}

function Results({ data, chart }: { data: HuntingResults; chart: ChartSpec | null }) {
  const shown = data.results.slice(0, SHOWN);
  return (
    <>
      {chart && (
        <ChartCard title={chart.title} className="hunting-chart">
          <StackedBars points={chart.points} series={chart.series} title={chart.title} empty="Nothing to chart." />
        </ChartCard>
      )}
      <p className="muted hunting-count">
        {data.results.length.toLocaleString()} {data.results.length === 1 ? "row" : "rows"}
        {data.results.length > SHOWN ? `; the first ${SHOWN} are shown` : ""}
      </p>
      <div className="table-wrap">
        <table className="hunting-table">
          <thead>
            <tr>
              {data.schema.map((c) => (
                <th key={c.name} scope="col" title={c.type}>
                  {c.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((r, i) => (
              <tr key={i}>
                {data.schema.map((c) => (
                  <td key={c.name}>{cellText(r[c.name])}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
