/**
 * `npm run bench:hunting`: advanced hunting's typical queries through `POST /v1.0/security/runHuntingQuery`,
 * one request at a time, on the benchmark's seeded stores; prints p50 and p99 per query, store and size.
 *
 *   npm run bench:hunting -- [--sizes 100000[,1000000]] [--stores sqlite,postgres] [--iterations 20]
 *                            [--warmup 2] [--pg postgres://postgres@127.0.0.1:5432/] [--reseed]
 *                            [--hunting-timeout 30000]
 *
 * The server runs with its default hunting time limit (30 s) unless `--hunting-timeout` gives another; a
 * request stopped by it (504) is counted as timed out, its sample being the time to the 504, and the
 * query's line and row say how many were; after three such, a query is not asked again.
 * The stores are the ones `npm run bench` seeds and reuses (.bench/sqlite-N, triage_bench_N). Writes
 * the raw timings to .bench/hunting-results.json. See docs/benchmarks.md (Advanced hunting).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR, SEED_END, TENANT, TRIAGE_BIN, fmt, readFlags, run } from "./common.js";
import { startTriage } from "./servers.js";
import { ensureSeeded, getToken, storeArgs, storeRef, vacuumAnalyze, type BenchApp, type StoreKind, type StoreRef } from "./stores.js";

/** The 30 days the seeded timeline ends with: the queries' window, sent as the request's Timespan. */
const TIMESPAN = `${new Date(SEED_END.getTime() - 30 * 24 * 3600_000).toISOString().replace(".000Z", "Z")}/${SEED_END.toISOString().replace(".000Z", "Z")}`;

/** Typical hunting queries over the two tables, in the style of the public ones written for them. */
export const HUNTING_QUERIES: readonly { name: string; kql: string }[] = [
  {
    name: "filter",
    kql: `AlertInfo
| where Severity == "High" and Title has "credential"
| project Timestamp, AlertId, Title, Category, DetectionSource`,
  },
  {
    name: "by-source",
    kql: `AlertInfo
| summarize Alerts = count() by ServiceSource, DetectionSource
| order by Alerts desc`,
  },
  {
    name: "filter-summarize",
    kql: `AlertInfo
| where Severity in ("High", "Medium")
| summarize Alerts = count(), Categories = dcount(Category) by DetectionSource
| order by Alerts desc`,
  },
  {
    name: "by-hour",
    kql: `AlertInfo
| summarize Alerts = count() by bin(Timestamp, 1h)
| order by Timestamp asc`,
  },
  {
    name: "join",
    kql: `AlertInfo
| where Severity == "High"
| join kind=inner (AlertEvidence | where EntityType == "Machine" | project AlertId, DeviceName) on AlertId
| summarize Alerts = dcount(AlertId) by DeviceName
| top 10 by Alerts`,
  },
];

interface Options {
  sizes: number[];
  stores: StoreKind[];
  iterations: number;
  warmup: number;
  pg: string;
  reseed: boolean;
  /** The server's --hunting-timeout in ms; undefined: its default. */
  huntingTimeout: number | undefined;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    sizes: [100_000],
    stores: ["sqlite", "postgres"],
    iterations: 20,
    warmup: 2,
    pg: process.env.TRIAGE_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/",
    reseed: false,
    huntingTimeout: undefined,
  };
  readFlags(argv, (flag, { value, num }) => {
    switch (flag) {
      case "--sizes":
        o.sizes = value()
          .split(",")
          .map((s) => Number(s.replace(/_/g, "")));
        break;
      case "--stores":
        o.stores = value().split(",") as StoreKind[];
        break;
      case "--iterations":
        o.iterations = num();
        break;
      case "--warmup":
        o.warmup = num();
        break;
      case "--pg":
        o.pg = value();
        break;
      case "--reseed":
        o.reseed = true;
        break;
      case "--hunting-timeout":
        o.huntingTimeout = num();
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  });
  if (o.sizes.some((s) => !Number.isInteger(s) || s <= 0)) throw new Error("--sizes: whole numbers, comma-separated");
  if (o.stores.some((s) => s !== "sqlite" && s !== "postgres")) throw new Error("--stores: sqlite and/or postgres");
  return o;
}

const log = (s: string) => process.stderr.write(`[bench:hunting ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

/** An app of the seeded tenant granted ThreatHunting.Read.All, made once per store. */
async function huntingApp(ref: StoreRef, fresh: boolean): Promise<BenchApp> {
  const file = join(ref.dataDir, "bench-hunting-app.json");
  if (!fresh && existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as BenchApp;
  const out = await run(process.execPath, [
    TRIAGE_BIN,
    "apps",
    "create",
    ...storeArgs(ref),
    "--tenant",
    TENANT,
    "--name",
    "Triage hunting benchmark",
    "--permission",
    "ThreatHunting.Read.All",
    "--admin-consent",
    "--json",
  ]);
  const app = JSON.parse(out) as BenchApp;
  mkdirSync(ref.dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(app, null, 2));
  return app;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface Row {
  query: string;
  store: StoreKind;
  size: number;
  incidents: number;
  rows: number;
  p50: number;
  p99: number;
  max: number;
  /** Requests (warm-up included) stopped by the server's hunting time limit; their samples are the time to the 504. */
  timedOut: number;
  samples: number[];
}

async function measure(ref: StoreRef, incidents: number, opts: Options, seededNow: boolean): Promise<Row[]> {
  const app = await huntingApp(ref, seededNow);
  // Throttling is off unless `--throttle` is given; the hunting time limit is the server's default unless given.
  const triage = await startTriage(ref, {
    serveArgs: opts.huntingTimeout === undefined ? [] : ["--hunting-timeout", String(opts.huntingTimeout)],
  });
  const out: Row[] = [];
  try {
    const token = await getToken(triage.base, app);
    const post = async (kql: string) => {
      const t0 = performance.now();
      const res = await fetch(`${triage.base}/v1.0/security/runHuntingQuery`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ Query: kql, Timespan: TIMESPAN }),
      });
      const text = await res.text();
      const ms = performance.now() - t0;
      if (res.status === 504) return { ms, rows: 0, timedOut: true };
      if (res.status !== 200) throw new Error(`${ref.label}: ${res.status} ${text.slice(0, 400)}\n${kql}`);
      return { ms, rows: (JSON.parse(text) as { results: unknown[] }).results.length, timedOut: false };
    };
    for (const q of HUNTING_QUERIES) {
      let rows = 0;
      let timedOut = 0;
      for (let i = 0; i < opts.warmup; i++) {
        const r = await post(q.kql);
        rows = r.rows;
        if (r.timedOut) timedOut++;
      }
      const samples: number[] = [];
      for (let i = 0; i < opts.iterations; i++) {
        const r = await post(q.kql);
        samples.push(r.ms);
        if (r.timedOut) timedOut++;
        else rows = r.rows;
        // A query the limit stops every time is not asked again and again: three tries tell.
        if (timedOut >= 3 && i >= 2) break;
      }
      const sorted = [...samples].sort((a, b) => a - b);
      const row = {
        query: q.name,
        store: ref.kind,
        size: ref.size,
        incidents,
        rows,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted.at(-1)!,
        timedOut,
        samples,
      };
      log(
        timedOut > 0
          ? `${ref.label} ${q.name}: ${timedOut} of ${samples.length + opts.warmup} requests stopped by the hunting time limit (504); p50 ${fmt(row.p50)} ms`
          : `${ref.label} ${q.name}: p50 ${fmt(row.p50)} ms, p99 ${fmt(row.p99)} ms (${fmt(rows)} rows)`,
      );
      out.push(row);
    }
  } finally {
    await triage.stop();
  }
  return out;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  mkdirSync(BENCH_DIR, { recursive: true });
  log(`window ${TIMESPAN}; ${opts.iterations} requests per query after ${opts.warmup} of warm-up, one at a time`);
  const results: Row[] = [];
  for (const size of opts.sizes) {
    for (const kind of opts.stores) {
      const ref = storeRef(kind, size, opts.pg);
      const seeded = await ensureSeeded(ref, log, opts.reseed);
      if (kind === "postgres") await vacuumAnalyze(ref);
      results.push(...(await measure(ref, seeded.incidents, opts, seeded.seededNow)));
    }
  }
  writeFileSync(join(BENCH_DIR, "hunting-results.json"), JSON.stringify({ at: new Date().toISOString(), timespan: TIMESPAN, opts, results }, null, 2));
  const lines = ["| Query | Store | Incidents | Rows | p50 ms | p99 ms |", "|---|---|--:|--:|--:|--:|"];
  for (const r of results) {
    const ms = (v: number) => (r.timedOut > 0 ? `${r.timedOut} timed out; ${fmt(v)}` : fmt(v));
    lines.push(`| ${r.query} | ${r.store} | ${fmt(r.incidents)} | ${fmt(r.rows)} | ${ms(r.p50)} | ${ms(r.p99)} |`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
