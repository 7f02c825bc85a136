/**
 * `npm run soak`: a long run of mixed traffic against one real `triage serve`, to show that errors stay
 * at zero, latency does not drift and memory stays flat.
 *
 *   npm run soak -- [--minutes 10] [--db postgres://postgres@127.0.0.1:5432/] [--incidents 5000]
 *                   [--load 0.8] [--peak-seconds 10] [--sample-seconds 5] [--keep]
 *
 * A fresh store (SQLite under .bench/soak-sqlite, or with --db a fresh database `triage_soak` on that
 * PostgreSQL server) is seeded through `triage seed`; the server runs on loopback from the build in
 * dist/; apps authenticate with real tokens from its token endpoint. The mix first runs as fast as it
 * goes (every kind at once, closed loop, a few connections each) to measure each kind's peak rate in
 * the mix; then it runs for --minutes with each kind at --load × that rate, so the server is about
 * --load busy. Load runs in separate processes: the peak with autocannon (bench/load.ts), the soak at a
 * steady rate (bench/soak-load.ts). Prints a table and writes .bench/soak-<date>.json. See docs/security/soak.md.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { BENCH_DIR, BUILD_DIR, cpuSeconds, fmt, median, memoryMb, readFlags, runLoader, sleep } from "./common.js";
import type { AutocannonResult, LoadSpec } from "./load.js";
import type { LoadWindow, PacedResult, PacedSpec } from "./soak-load.js";
import { startTriage, type Running } from "./servers.js";
import { INGEST_TENANT, ensureApps, ensureSeeded, getToken, sampleIds, vacuumAnalyze, type BenchApps, type StoreRef } from "./stores.js";

// ------------------------------------------------------------------------------------------------
// Options

interface Options {
  minutes: number;
  db: string | null;
  incidents: number;
  load: number;
  peakSeconds: number;
  sampleSeconds: number;
  keep: boolean;
  /** Further `triage serve` options, e.g. "--read-workers 0", to soak another configuration. */
  serveArgs: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { minutes: 10, db: null, incidents: 5000, load: 0.8, peakSeconds: 10, sampleSeconds: 5, keep: false, serveArgs: [] };
  readFlags(argv, (flag, { value, num }) => {
    switch (flag) {
      case "--minutes":
        o.minutes = num();
        break;
      case "--db":
        o.db = value();
        break;
      case "--incidents":
        o.incidents = Math.round(num());
        break;
      case "--load":
        o.load = num();
        break;
      case "--peak-seconds":
        o.peakSeconds = num();
        break;
      case "--sample-seconds":
        o.sampleSeconds = num();
        break;
      case "--keep":
        o.keep = true;
        break;
      case "--serve-args":
        o.serveArgs = value().split(/\s+/).filter(Boolean);
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  });
  if (o.load > 1) throw new Error("--load is a fraction of the peak, at most 1");
  if (o.db && !/^postgres(ql)?:\/\//.test(o.db)) throw new Error("--db needs a postgres:// URL of the server");
  return o;
}

const log = (s: string) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

// ------------------------------------------------------------------------------------------------
// The mix

/** Tokens expire after an hour: longer runs are cut into segments, each with fresh tokens. */
const SEGMENT_MINUTES = 50;
/** Latency and status codes are also reported per window of this many seconds. */
const WINDOW_SECONDS = 60;
const INGEST_BATCH = 100;
/** Alerts the seed makes per incident (bench/stores.ts measures 2.3), to size the alert generator. */
const ALERTS_PER_INCIDENT = 2.3;

interface Kind {
  name: string;
  /**
   * Connections this kind has while the peak is measured: the server serves the connections in turn,
   * so these set the mix (reads most, then writes, one ingestion stream of 100-alert batches).
   */
  peakConnections: number;
  spec: Omit<LoadSpec, "url" | "duration" | "connections" | "headers">;
  app: "main" | "ingest";
}

const q = (path: string, query: Record<string, string>) =>
  `${path}?${Object.entries(query)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join("&")}`;

function kinds(ids: string[], soakSeed: string): Kind[] {
  const incidents = "/v1.0/security/incidents";
  const alerts = "/v1.0/security/alerts_v2";
  return [
    {
      name: "list",
      peakConnections: 4,
      app: "main",
      spec: {
        kind: "get",
        paths: [q(incidents, { $top: "50", $filter: "status eq 'active'", $orderby: "createdDateTime desc" }), q(incidents, { $top: "50" })],
      },
    },
    { name: "get", peakConnections: 4, app: "main", spec: { kind: "get", paths: ids.map((id) => `${incidents}/${id}?$expand=alerts`) } },
    {
      name: "filter",
      peakConnections: 2,
      app: "main",
      spec: {
        kind: "get",
        paths: [
          q(alerts, { $top: "50", $filter: "severity eq 'high' and status eq 'new'" }),
          q(alerts, { $top: "20", $filter: "evidence/any(e: e/verdict eq 'malicious')" }),
          q(incidents, { $top: "20", $filter: "severity eq 'high'", $orderby: "lastUpdateDateTime desc" }),
          q(incidents, { $top: "20", $filter: "createdDateTime ge 2026-10-01T00:00:00Z", $count: "true" }),
          q(incidents, { $top: "20", $filter: "assignedTo eq 'analyst7@contoso.com'" }),
        ],
      },
    },
    { name: "patch", peakConnections: 1, app: "main", spec: { kind: "patch", template: `${incidents}/{id}`, ids } },
    { name: "comment", peakConnections: 1, app: "main", spec: { kind: "comment", template: `${incidents}/{id}/comments`, ids } },
    // Into a tenant of its own, so the reads keep the seeded tenant's size; fresh alerts every run.
    { name: "ingest", peakConnections: 1, app: "ingest", spec: { kind: "ingest", batchSize: INGEST_BATCH, tenantId: INGEST_TENANT, seed: soakSeed } },
  ];
}

// ------------------------------------------------------------------------------------------------
// Running load

let specFiles = 0;

/** Runs a loader script (load.js: as fast as it goes; soak-load.js: at a steady rate) and returns its JSON result. */
function runChild<T>(script: string, spec: LoadSpec): Promise<T> {
  // Through a file: the spec carries every incident id, more than one argument may hold.
  const file = join(BENCH_DIR, `soak-load-${process.pid}-${specFiles++}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return runLoader<T>(join(BUILD_DIR, script), `@${file}`).finally(() => rmSync(file, { force: true }));
}

const runLoad = (spec: LoadSpec) => runChild<AutocannonResult>("load.js", spec);
const runPaced = (spec: PacedSpec) => runChild<PacedResult>("soak-load.js", spec);

function failures(r: AutocannonResult | PacedResult): number {
  return r.non2xx + r.errors + r.timeouts + ("skipped" in r ? r.skipped : 0);
}

function statusSummary(codes: Record<string, number>): string {
  return Object.entries(codes)
    .filter(([c]) => !c.startsWith("2"))
    .map(([c, n]) => `${c}×${n}`)
    .join(" ");
}

interface Peak {
  kind: string;
  rps: number;
  p50: number;
  p99: number;
  connections: number;
  failed: number;
}

/** The whole mix at once, as fast as it goes, after a short warm-up: each kind's rate in the mix. */
async function measurePeaks(server: Running, all: Kind[], tokens: Record<"main" | "ingest", string>, o: Options): Promise<Peak[]> {
  const specs = all.map((k): LoadSpec => ({
    ...k.spec,
    url: server.base,
    duration: o.peakSeconds,
    connections: k.peakConnections,
    headers: { authorization: `Bearer ${tokens[k.app]}` },
  }));
  await Promise.all(specs.map((spec) => runLoad({ ...spec, duration: 2, ...(spec.seed ? { seed: `${spec.seed}-warmup` } : {}) })));
  const results = await Promise.all(specs.map((spec) => runLoad({ ...spec, ...(spec.seed ? { seed: `${spec.seed}-peak` } : {}) })));
  return all.map((k, i) => {
    const r = results[i]!;
    const peak = { kind: k.name, rps: r["2xx"] / r.duration, p50: r.latency.p50, p99: r.latency.p99, connections: k.peakConnections, failed: failures(r) };
    log(`  peak ${k.name}: ${fmt(peak.rps)} req/s, p99 ${peak.p99} ms${peak.failed ? `, ${peak.failed} failed` : ""}`);
    return peak;
  });
}

interface Target {
  kind: string;
  rate: number;
  connections: number;
  /** Requests waiting at most (five seconds' worth): beyond, a due request is skipped and counted as failed. */
  maxInFlight: number;
}

/**
 * Each kind's rate is load × its peak rate in the mix, so the server is about `load` busy. Connections
 * follow Little's law from the peak run (latency = connections / rate), with headroom.
 */
function targets(all: Kind[], peaks: Peak[], load: number): Target[] {
  return all.map((k) => {
    const peak = peaks.find((p) => p.kind === k.name)!;
    // Fractions kept: a slow kind (ingestion on PostgreSQL: a few batches a second) rounded up would run at its peak.
    const rate = Math.max(0.1, Math.round(load * peak.rps * 100) / 100);
    // At least 50 ms: on a busy machine the latency under the mix is well above the peak run's.
    const latencySeconds = Math.max(0.05, peak.rps > 0 ? peak.connections / peak.rps : 1);
    const connections = Math.min(64, Math.max(2, Math.ceil(rate * latencySeconds * 4)));
    return { kind: k.name, rate, connections, maxInFlight: Math.min(5000, Math.max(64, Math.ceil(rate * 5))) };
  });
}

interface Sample {
  /** Seconds since the soak started. */
  t: number;
  rssMb: number;
  /** Server CPU use over the last interval, in % of one core. */
  cpuPct: number;
}

function sampler(pid: number, everySeconds: number): { stop: () => Sample[] } {
  const samples: Sample[] = [];
  const t0 = performance.now();
  let lastCpu = cpuSeconds(pid);
  let lastT = t0;
  const take = () => {
    const now = performance.now();
    const cpu = cpuSeconds(pid);
    samples.push({
      t: Math.round((now - t0) / 1000),
      rssMb: Math.round(memoryMb(pid).rss * 10) / 10,
      cpuPct: Math.round(((cpu - lastCpu) / ((now - lastT) / 1000)) * 100),
    });
    lastCpu = cpu;
    lastT = now;
  };
  take();
  const timer = setInterval(take, everySeconds * 1000);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

interface KindResult {
  kind: string;
  targetRate: number;
  connections: number;
  requests: number;
  achievedRate: number;
  failed: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  skipped: number;
  p50: number;
  p99: number;
  max: number;
  windows: LoadWindow[];
  alertsPerSec?: number;
}

/** Least-squares slope of RSS over time, in MB per minute. */
function slopePerMinute(samples: Sample[]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mt = samples.reduce((a, s) => a + s.t, 0) / n;
  const mr = samples.reduce((a, s) => a + s.rssMb, 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.t - mt) * (s.rssMb - mr);
    den += (s.t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60;
}

/** RSS ceiling the soak checks against. */
const RSS_CEILING_MB = 250;
/** "Flat": the last fifth's median RSS within this much of the first fifth's (MB, and fraction). */
const FLAT_MB = 20;
const FLAT_FRACTION = 0.1;

/** RSS climbs while the heap and caches fill under the new load: the verdict skips this much of the start. */
const WARMUP_SECONDS = 60;

function memoryVerdict(all: Sample[]) {
  const end = all[all.length - 1]?.t ?? 0;
  const warmup = Math.min(WARMUP_SECONDS, end * 0.2);
  const samples = all.filter((s) => s.t >= warmup);
  const fifth = Math.max(1, Math.floor(samples.length / 5));
  const first = median(samples.slice(0, fifth).map((s) => s.rssMb));
  const last = median(samples.slice(-fifth).map((s) => s.rssMb));
  const max = Math.max(...samples.map((s) => s.rssMb));
  const growth = last - first;
  const flat = growth <= Math.max(FLAT_MB, first * FLAT_FRACTION);
  return {
    warmupSeconds: Math.round(warmup),
    firstFifthMedianMb: first,
    lastFifthMedianMb: last,
    maxMb: max,
    growthMb: Math.round(growth * 10) / 10,
    slopeMbPerMin: Math.round(slopePerMinute(samples) * 100) / 100,
    flat,
    underCeiling: max <= RSS_CEILING_MB,
    ceilingMb: RSS_CEILING_MB,
  };
}

// ------------------------------------------------------------------------------------------------

function soakStore(o: Options): StoreRef {
  if (!o.db) {
    const dataDir = join(BENCH_DIR, "soak-sqlite");
    return { kind: "sqlite", size: o.incidents, dataDir, dbUrl: null, appFile: join(dataDir, "bench-apps.json"), label: `sqlite soak ${o.incidents}` };
  }
  const url = new URL(o.db);
  url.pathname = "/triage_soak";
  const dataDir = join(BENCH_DIR, "soak-postgres");
  return {
    kind: "postgres",
    size: o.incidents,
    dataDir,
    dbUrl: url.toString(),
    appFile: join(dataDir, "bench-apps.json"),
    label: `postgres soak ${o.incidents}`,
  };
}

async function dropStore(ref: StoreRef): Promise<void> {
  rmSync(ref.dataDir, { recursive: true, force: true });
  if (!ref.dbUrl) return;
  const url = new URL(ref.dbUrl);
  url.pathname = "/postgres";
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query("drop database if exists triage_soak with (force)");
  } finally {
    await admin.end();
  }
}

async function tokensFor(server: Running, apps: BenchApps): Promise<Record<"main" | "ingest", string>> {
  return { main: await getToken(server.base, apps.main), ingest: await getToken(server.base, apps.ingest) };
}

/** The server's warnings and errors (it runs with --log-level warn): counted, the first few kept. */
function serverLog(server: Running): { lines: () => number; first: string[] } {
  let count = 0;
  const first: string[] = [];
  let partial = "";
  const onData = (d: string) => {
    const parts = (partial + d).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      if (!line.trim()) continue;
      count++;
      if (first.length < 10) first.push(line.slice(0, 2000));
    }
  };
  server.child.stdout!.on("data", onData);
  server.child.stderr!.on("data", onData);
  return { lines: () => count, first };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const ref = soakStore(o);
  mkdirSync(BENCH_DIR, { recursive: true });
  log(`${ref.label}: a fresh store`);
  const seeded = await ensureSeeded(ref, log, true);
  if (ref.kind === "postgres") await vacuumAnalyze(ref);
  const apps = await ensureApps(ref, true);
  const ids = await sampleIds(ref, o.incidents);
  const server = await startTriage(ref, { serveArgs: o.serveArgs });
  const rssAtReady = memoryMb(server.pid).rss;
  const logs = serverLog(server);
  log(`${server.name} ready in ${fmt(server.readyMs)} ms at ${server.base}; ${ids.length} open incidents to read and write`);

  let report: object | null = null;
  try {
    const soakSeed = `soak-${startedAt.toISOString()}`;
    const all = kinds(ids, soakSeed);
    log(`measuring the mix's peak (${o.peakSeconds} s)`);
    const peaks = await measurePeaks(server, all, await tokensFor(server, apps), o);
    const plan = targets(all, peaks, o.load);
    log(`soak: ${o.minutes} min at ${o.load * 100}% of peak: ${plan.map((t) => `${t.kind} ${fmt(t.rate, 1)}/s`).join(", ")}`);

    const totalSeconds = Math.round(o.minutes * 60);
    const rssBefore = memoryMb(server.pid).rss;
    const cpuBefore = cpuSeconds(server.pid);
    const logLinesBefore = logs.lines();
    const loadBefore = loadavg()[0]!;
    const samples = sampler(server.pid, o.sampleSeconds);
    const segments: PacedResult[][] = [];
    for (let done = 0; done < totalSeconds;) {
      const seconds = Math.min(SEGMENT_MINUTES * 60, totalSeconds - done);
      const tokens = await tokensFor(server, apps);
      const results = await Promise.all(
        all.map((k, i) => {
          const t = plan[i]!;
          const spec: PacedSpec = {
            ...k.spec,
            url: server.base,
            duration: seconds,
            connections: t.connections,
            rate: t.rate,
            maxInFlight: t.maxInFlight,
            windowSeconds: WINDOW_SECONDS,
            headers: { authorization: `Bearer ${tokens[k.app]}` },
          };
          if (spec.kind === "ingest") {
            // Enough distinct alerts for the whole segment, with a margin.
            spec.seed = `${soakSeed}-${segments.length}`;
            spec.incidents = Math.ceil((t.rate * seconds * INGEST_BATCH * 1.5) / ALERTS_PER_INCIDENT) + 1000;
          }
          return runPaced(spec);
        }),
      );
      segments.push(results);
      done += seconds;
      log(
        `  ${fmt(done / 60, 1)} of ${o.minutes} min: ${results.map((r, i) => `${all[i]!.name} ${failures(r)} failed`).join(", ")}; RSS ${fmt(memoryMb(server.pid).rss)} MB`,
      );
    }
    const rss = samples.stop();
    const cpuUsed = cpuSeconds(server.pid) - cpuBefore;

    const perKind: KindResult[] = all.map((k, i) => {
      const rs = segments.map((s) => s[i]!);
      const statusCodes: Record<string, number> = {};
      for (const r of rs) for (const [c, n] of Object.entries(r.statusCodes)) statusCodes[c] = (statusCodes[c] ?? 0) + n;
      const requests = rs.reduce((a, r) => a + r["2xx"], 0);
      const res: KindResult = {
        kind: k.name,
        targetRate: plan[i]!.rate,
        connections: plan[i]!.connections,
        requests,
        // Over the loaders' own run time (the ingestion loader starts after generating its first batches).
        achievedRate: requests / rs.reduce((a, r) => a + r.duration, 0),
        failed: rs.reduce((a, r) => a + failures(r), 0),
        statusCodes,
        errors: rs.reduce((a, r) => a + r.errors, 0),
        timeouts: rs.reduce((a, r) => a + r.timeouts, 0),
        skipped: rs.reduce((a, r) => a + r.skipped, 0),
        // One segment unless the run is longer than SEGMENT_MINUTES: then the worst segment's figure.
        p50: Math.max(...rs.map((r) => r.latency.p50)),
        p99: Math.max(...rs.map((r) => r.latency.p99)),
        max: Math.max(...rs.map((r) => r.latency.max)),
        windows: rs.flatMap((r, s) => (r.windows ?? []).map((w) => ({ ...w, start: w.start + s * SEGMENT_MINUTES * 60 }))),
      };
      if (k.spec.kind === "ingest") res.alertsPerSec = res.achievedRate * INGEST_BATCH;
      return res;
    });
    const memory = memoryVerdict(rss);
    const failed = perKind.reduce((a, k) => a + k.failed, 0);
    const serverLogLines = logs.lines() - logLinesBefore;
    report = {
      startedAt: startedAt.toISOString(),
      options: o,
      store: { kind: ref.kind, label: ref.label, incidents: seeded.incidents },
      // The 1-minute load average when the soak started and ended: other work on the machine shows here.
      machine: { cpus: cpus().length, model: cpus()[0]?.model, loadAverageAtStart: loadBefore, loadAverageAtEnd: loadavg()[0], node: process.version },
      server: {
        readyMs: server.readyMs,
        rssAtReadyMb: rssAtReady,
        rssBeforeSoakMb: rssBefore,
        cpuSeconds: cpuUsed,
        cpuPctOfOneCore: Math.round((cpuUsed / totalSeconds) * 100),
        warnOrErrorLogLines: serverLogLines,
        firstLogLines: logs.first,
      },
      peaks,
      plan,
      results: perKind,
      failed,
      memory,
      rss,
      goals: { zeroErrors: failed === 0, rssFlat: memory.flat, rssUnderCeiling: memory.underCeiling },
    };
    printReport(o, perKind, peaks, memory, failed, cpuUsed / totalSeconds, serverLogLines, rss, { ready: rssAtReady, beforeSoak: rssBefore });
    printWindows(perKind, rss);
    process.stdout.write(`Machine: ${cpus().length} CPUs, 1-minute load average ${fmt(loadBefore, 1)} at the start, ${fmt(loadavg()[0], 1)} at the end\n`);
  } finally {
    await server.stop();
    if (!o.keep) await dropStore(ref);
  }
  mkdirSync(BENCH_DIR, { recursive: true });
  const file = join(BENCH_DIR, `soak-${startedAt.toISOString().replace(/[:]/g, "-").replace(/\..*/, "")}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2));
  log(`wrote ${file}`);
  await sleep(0);
}

function printReport(
  o: Options,
  perKind: KindResult[],
  peaks: Peak[],
  memory: ReturnType<typeof memoryVerdict>,
  failed: number,
  cpuShare: number,
  logLines: number,
  rss: Sample[],
  before: { ready: number; beforeSoak: number },
): void {
  const rows = [
    ["kind", "peak req/s", "target req/s", "achieved req/s", "requests", "failed", "p50 ms", "p99 ms", "max ms", "note"],
    ...perKind.map((k) => {
      const peak = peaks.find((p) => p.kind === k.kind)!;
      const codes = statusSummary(k.statusCodes);
      const notes = [
        codes,
        k.errors ? `${k.errors} connection errors` : "",
        k.timeouts ? `${k.timeouts} timeouts` : "",
        k.skipped ? `${k.skipped} not sent (too many waiting)` : "",
        k.achievedRate < k.targetRate * 0.95 ? "below target" : "",
        k.alertsPerSec ? `${fmt(k.alertsPerSec)} alerts/s` : "",
      ].filter(Boolean);
      return [
        k.kind,
        fmt(peak.rps, 1),
        fmt(k.targetRate, 1),
        fmt(k.achievedRate, 1),
        fmt(k.requests),
        fmt(k.failed),
        fmt(k.p50, 1),
        fmt(k.p99, 1),
        fmt(k.max, 1),
        notes.join("; "),
      ];
    }),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 || c === r.length - 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  const out: string[] = [];
  out.push("");
  out.push(`Soak: ${o.minutes} min at ${o.load * 100}% of each kind's peak rate in the mix; server CPU ${fmt(cpuShare * 100)}% of one core`);
  out.push(line(rows[0]!));
  for (const r of rows.slice(1)) out.push(line(r));
  out.push("");
  out.push(`RSS (MB) when ready ${fmt(before.ready)}, after the peak runs ${fmt(before.beforeSoak)}`);
  const every = Math.max(1, Math.ceil(rss.length / 12));
  out.push(
    `RSS (MB) every ${o.sampleSeconds * every} s: ${rss
      .filter((_, i) => i % every === 0 || i === rss.length - 1)
      .map((s) => `${s.t}s ${fmt(s.rssMb)}`)
      .join(", ")}`,
  );
  out.push(
    `RSS after the first ${memory.warmupSeconds} s: first fifth median ${fmt(memory.firstFifthMedianMb)} MB, last fifth ${fmt(memory.lastFifthMedianMb)} MB, max ${fmt(memory.maxMb)} MB, slope ${fmt(memory.slopeMbPerMin, 2)} MB/min`,
  );
  out.push(
    `Goals: errors ${failed === 0 ? "0 ✓" : `${failed} ✗`}; RSS flat ${memory.flat ? "✓" : "✗"}; RSS ≤ ${memory.ceilingMb} MB ${memory.underCeiling ? "✓" : "✗"}; server warnings/errors logged: ${logLines}`,
  );
  process.stdout.write(out.join("\n") + "\n");
}

/** Per window: requests, failures, the worst kind's p99, and the median RSS: drift shows here. */
function printWindows(perKind: KindResult[], rss: Sample[]): void {
  const starts = [...new Set(perKind.flatMap((k) => k.windows.map((w) => w.start)))].sort((a, b) => a - b);
  const out = ["", `window (s)  requests  failed  worst p99 ms (kind)   RSS median MB`];
  for (const start of starts) {
    const ws = perKind.map((k) => ({ kind: k.kind, w: k.windows.find((x) => x.start === start) })).filter((x) => x.w);
    const requests = ws.reduce((a, x) => a + x.w!.requests, 0);
    const failed = ws.reduce(
      (a, x) =>
        a +
        Object.entries(x.w!.statusCodes)
          .filter(([c]) => !c.startsWith("2"))
          .reduce((b, [, n]) => b + n, 0),
      0,
    );
    const worst = ws.reduce((a, x) => (x.w!.p99 > a.p99 ? { p99: x.w!.p99, kind: x.kind } : a), { p99: 0, kind: "" });
    const inWindow = rss.filter((r) => r.t >= start && r.t < start + WINDOW_SECONDS).map((r) => r.rssMb);
    out.push(
      `${String(start).padStart(10)}  ${fmt(requests).padStart(8)}  ${fmt(failed).padStart(6)}  ${`${fmt(worst.p99, 1)} (${worst.kind})`.padEnd(20)}  ${fmt(median(inWindow)).padStart(13)}`,
    );
  }
  process.stdout.write(out.join("\n") + "\n");
}

main().catch((e: unknown) => {
  log(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
});
