/** Small hand-rolled SVG charts: stacked bars over time and horizontal bars; each with its data as a table. */
import type { ReactNode } from "react";

import type { Series, StackedPoint } from "../chart-data";

export type { Series, StackedPoint };

function niceMax(n: number): number {
  if (n <= 4) return 4;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 3, 4, 5, 6, 8, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

function DataTable({ caption, head, rows }: { caption: string; head: string[]; rows: (string | number)[][] }) {
  return (
    <details className="chart-data">
      <summary>Data</summary>
      <table>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {r.map((c, j) =>
                j === 0 ? (
                  <th key={j} scope="row">
                    {c}
                  </th>
                ) : (
                  <td key={j}>{c}</td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

export function ChartCard({ title, children, className }: { title: string; children: ReactNode; className?: string }) {
  const id = `chart-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return (
    <figure className={`chart-card ${className ?? ""}`} aria-labelledby={id}>
      <figcaption id={id}>{title}</figcaption>
      {children}
    </figure>
  );
}

export function Legend({ series }: { series: Series[] }) {
  return (
    <ul className="legend">
      {series.map((s) => (
        <li key={s.key}>
          <span className="swatch" style={{ background: s.color }} aria-hidden="true" />
          {s.label}
        </li>
      ))}
    </ul>
  );
}

/** Stacked columns, one per point (a day), stacked by series (severity). */
export function StackedBars({ points, series, title, empty }: { points: StackedPoint[]; series: Series[]; title: string; empty: string }) {
  const W = 640;
  const H = 200;
  const pad = { l: 32, r: 8, t: 8, b: 26 };
  const totals = points.map((p) => series.reduce((n, s) => n + (p.values[s.key] ?? 0), 0));
  const sum = totals.reduce((a, b) => a + b, 0);
  const nice = niceMax(Math.max(0, ...totals));
  const max = nice % 2 ? nice + 1 : nice;
  const bw = (W - pad.l - pad.r) / Math.max(1, points.length);
  const y = (v: number) => H - pad.b - (v / max) * (H - pad.t - pad.b);
  const ticks = [0, max / 2, max];
  const every = Math.max(1, Math.ceil(points.length / 8));
  return (
    <>
      <svg viewBox={`0 0 ${W} ${H}`} className="chart" role="img" aria-label={`${title}: ${sum} in ${points.length} days`}>
        {ticks.map((t) => (
          <g key={t}>
            <line x1={pad.l} x2={W - pad.r} y1={y(t)} y2={y(t)} className="grid" />
            <text x={pad.l - 4} y={y(t) + 4} textAnchor="end" className="axis">
              {Math.round(t)}
            </text>
          </g>
        ))}
        {points.map((p, i) => {
          let acc = 0;
          return (
            <g key={p.label} className="bar-group">
              <title>{`${p.label}: ${series.map((s) => `${s.label} ${p.values[s.key] ?? 0}`).join(", ")}`}</title>
              {series.map((s) => {
                const v = p.values[s.key] ?? 0;
                if (!v) return null;
                const y0 = y(acc);
                acc += v;
                const y1 = y(acc);
                return (
                  <rect key={s.key} className="bar" x={pad.l + i * bw + bw * 0.12} width={bw * 0.76} y={y1} height={Math.max(0.5, y0 - y1)} fill={s.color} />
                );
              })}
              {i % every === 0 && (
                <text x={pad.l + i * bw + bw / 2} y={H - 8} textAnchor="middle" className="axis">
                  {p.axis ?? p.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      {sum === 0 && <p className="chart-empty">{empty}</p>}
      <Legend series={series} />
      <DataTable
        caption={title}
        head={["Day", ...series.map((s) => s.label), "Total"]}
        rows={points.map((p, i) => [p.label, ...series.map((s) => p.values[s.key] ?? 0), totals[i]!])}
      />
    </>
  );
}

export interface BarItem {
  label: string;
  value: number;
  color?: string;
  /** Shown instead of the value (a duration, say). */
  display?: string;
}

/** Horizontal bars, largest first as given. */
export function HBars({ items, title, empty, unit = "" }: { items: BarItem[]; title: string; empty: string; unit?: string }) {
  if (!items.length) return <p className="chart-empty">{empty}</p>;
  const max = Math.max(...items.map((i) => i.value), 1);
  const row = 26;
  const W = 480;
  const labelW = 190;
  const H = items.length * row + 4;
  return (
    <>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        className="chart hbars"
        role="img"
        aria-label={`${title}: ${items.map((i) => `${i.label} ${i.display ?? i.value}`).join(", ")}`}
      >
        {items.map((it, i) => {
          const w = ((W - labelW - 60) * it.value) / max;
          const text = it.label.length > 28 ? `${it.label.slice(0, 27)}…` : it.label;
          return (
            <g key={it.label} transform={`translate(0 ${i * row + 2})`}>
              <title>{`${it.label}: ${it.display ?? it.value}${unit}`}</title>
              <text x={labelW - 8} y={row / 2 + 4} textAnchor="end" className="axis label">
                {text}
              </text>
              <rect className="bar" x={labelW} y={4} height={row - 8} width={Math.max(1, w)} fill={it.color ?? "#2f6fba"} rx={2} />
              <text x={labelW + Math.max(1, w) + 6} y={row / 2 + 4} className="axis value">
                {it.display ?? it.value}
                {unit}
              </text>
            </g>
          );
        })}
      </svg>
      <DataTable caption={title} head={["", "Value"]} rows={items.map((i) => [i.label, `${i.display ?? i.value}${unit}`])} />
    </>
  );
}
