/** Advanced hunting: a KQL editor, a timespan, the results as a table and a chart; the URL carries the query. */
import { useEffect, useRef, useState } from "react";
import { api, ApiError, qs } from "../api";
import { navigate, useLocation } from "../router";
import { Loading, useAsync, usePageTitle } from "../components/ui";
import { ChartCard, StackedBars } from "../components/Charts";
import { cellText, chartOf, EXAMPLES, TIMESPANS, DEFAULT_TIMESPAN, type ChartSpec, type HuntingResults } from "../hunting";
import { errorPosition } from "../kql";
import { KqlEditor } from "../components/KqlEditor";
import "../hunting.css";

/** Rows shown at most; the rest are counted. */
const SHOWN = 500;

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
  const chart = run.data && !run.error ? chartOf(urlQuery, run.data) : null;
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
        <p id="kql-help" className="hint">
          Ctrl+Enter runs the query. Completions show as you type (Ctrl+Space asks for them): arrows choose, Tab or Enter accepts, Esc closes the list.
        </p>
        <KqlEditor value={text} onChange={setText} onRun={() => start()} errorAt={errorAt} textarea={textarea} onGoTo={goTo} />
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
        {!run.loading && !run.error && run.data && <Results data={run.data} chart={chart} />}
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
