/**
 * `npm run bench:observability`: what metrics and tracing cost on the benchmark's list query. Three
 * Triage servers on one seeded store — plain, with `--metrics-port`, with `--otel-endpoint` (to a
 * collector on loopback in this process that reads and discards the spans) — are loaded in turn,
 * round after round, with the order rotated each round, so that the machine's drift and other load
 * fall on all three alike.
 *
 *   npm run bench:observability -- [--size 10000] [--store sqlite|postgres] [--rounds 5] [--duration 10]
 *                                  [--warmup 2] [--connections 8] [--pg postgres://postgres@127.0.0.1:5432/]
 *
 * Prints req/s and req/CPU-s per round and their medians, each relative to the plain server, and the
 * load average; writes .bench/observability-results.json. See docs/benchmarks.md.
 */
import { createServer, type Server } from "node:http";
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { BENCH_DIR, BUILD_DIR, backendCpuDelta, cpuSeconds, fmt, postgresBackends, readFlags, runLoader } from "./common.js";
import type { AutocannonResult, LoadSpec } from "./load.js";
import { startTriage, type Running } from "./servers.js";
import { ensureApps, ensureSeeded, getToken, storeRef, type StoreKind } from "./stores.js";

const LIST = "/v1.0/security/incidents?$top=50&$filter=" + encodeURIComponent("status eq 'active'") + "&$orderby=" + encodeURIComponent("createdDateTime desc");

type Mode = "off" | "metrics" | "tracing";
const MODES: Mode[] = ["off", "metrics", "tracing"];

interface Options {
  size: number;
  store: StoreKind;
  rounds: number;
  duration: number;
  warmup: number;
  connections: number;
  pg: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    size: 10_000,
    store: "sqlite",
    rounds: 5,
    duration: 10,
    warmup: 2,
    connections: 8,
    pg: process.env.TRIAGE_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/",
  };
  readFlags(argv, (flag, { value, num }) => {
    switch (flag) {
      case "--size":
        o.size = num();
        break;
      case "--store":
        o.store = value() as StoreKind;
        break;
      case "--rounds":
        o.rounds = num();
        break;
      case "--duration":
        o.duration = num();
        break;
      case "--warmup":
        o.warmup = num();
        break;
      case "--connections":
        o.connections = num();
        break;
      case "--pg":
        o.pg = value();
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  });
  if (o.store !== "sqlite" && o.store !== "postgres") throw new Error("--store: sqlite or postgres");
  if (!Number.isInteger(o.rounds) || o.rounds < 1 || o.rounds > 50) throw new Error("--rounds: 1 to 50");
  return o;
}

const log = (s: string) => process.stderr.write(`[observability ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? NaN;

/** An OTLP/HTTP collector that reads each export and answers 200: the cost measured is Triage's alone. */
async function startSink(): Promise<{ server: Server; url: string; exports: () => number; bytes: () => number }> {
  let exports = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on("data", (d: Buffer) => (bytes += d.length));
    req.on("end", () => {
      exports++;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return { server, url: `http://127.0.0.1:${port}`, exports: () => exports, bytes: () => bytes };
}

interface Sample {
  round: number;
  mode: Mode;
  rps: number;
  perCpu: number;
  p99: number;
  failed: number;
  loadavg1: number;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const ref = storeRef(o.store, o.size, o.pg);
  await ensureSeeded(ref, log, false);
  const apps = await ensureApps(ref);
  const sink = await startSink();
  const pgDatabase = ref.dbUrl ? new URL(ref.dbUrl).pathname.slice(1) : null;
  const args: Record<Mode, string[]> = { off: [], metrics: ["--metrics-port", "0"], tracing: ["--otel-endpoint", sink.url] };
  const servers = new Map<Mode, Running>();
  const tokens = new Map<Mode, string>();
  const samples: Sample[] = [];
  const loadStart = loadavg();
  try {
    for (const mode of MODES) {
      const s = await startTriage(ref, { serveArgs: args[mode] });
      servers.set(mode, s);
      tokens.set(mode, await getToken(s.base, apps.main));
      log(`${mode}: ${s.base} ready in ${fmt(s.readyMs)} ms`);
    }
    for (let round = 0; round < o.rounds; round++) {
      // Rotated each round: no mode always runs first (or right after another's load).
      const order = MODES.map((_, i) => MODES[(i + round) % MODES.length]!);
      for (const mode of order) {
        const s = servers.get(mode)!;
        const spec: LoadSpec = {
          kind: "get",
          paths: [LIST],
          url: s.base,
          duration: o.duration,
          connections: o.connections,
          headers: { authorization: `Bearer ${tokens.get(mode)}` },
        };
        await runLoader<AutocannonResult>(join(BUILD_DIR, "load.js"), JSON.stringify({ ...spec, duration: o.warmup }));
        const cpu0 = cpuSeconds(s.pid);
        const db0 = pgDatabase ? postgresBackends(pgDatabase) : null;
        const r = await runLoader<AutocannonResult>(join(BUILD_DIR, "load.js"), JSON.stringify(spec));
        const cpu = cpuSeconds(s.pid) - cpu0 + (db0 ? backendCpuDelta(db0, postgresBackends(pgDatabase!)) : 0);
        const ok = r["2xx"];
        const sample: Sample = {
          round: round + 1,
          mode,
          rps: ok / o.duration,
          perCpu: ok / cpu,
          p99: r.latency.p99,
          failed: r.non2xx + r.errors + r.timeouts,
          loadavg1: loadavg()[0]!,
        };
        samples.push(sample);
        log(
          `round ${sample.round} ${mode}: ${fmt(sample.rps)} req/s, ${fmt(sample.perCpu)} req/CPU-s, p99 ${sample.p99} ms${sample.failed ? `, ${sample.failed} failed` : ""}; load ${sample.loadavg1.toFixed(2)}`,
        );
      }
    }
  } finally {
    for (const s of servers.values()) await s.stop();
    await new Promise((r) => sink.server.close(r));
  }
  const loadEnd = loadavg();
  const summary = MODES.map((mode) => {
    const mine = samples.filter((s) => s.mode === mode);
    return { mode, rps: median(mine.map((s) => s.rps)), perCpu: median(mine.map((s) => s.perCpu)), p99: median(mine.map((s) => s.p99)) };
  });
  const off = summary.find((s) => s.mode === "off")!;
  // Per round, each mode against the plain server's run of the same round: the spread of the ratio.
  const ratios = (mode: Mode, field: "rps" | "perCpu") =>
    samples
      .filter((s) => s.mode === mode)
      .map((s) => s[field] / samples.find((x) => x.mode === "off" && x.round === s.round)![field])
      .sort((a, b) => a - b);
  process.stdout.write(`\nList (${ref.label}, ${o.connections} connections, ${o.rounds} rounds of ${o.duration} s per mode; medians):\n`);
  for (const s of summary) {
    const r = s.mode === "off" ? "" : `  ${((100 * s.rps) / off.rps).toFixed(1)} % of off req/s, ${((100 * s.perCpu) / off.perCpu).toFixed(1)} % per CPU-s`;
    const spread =
      s.mode === "off"
        ? ""
        : `; per-round ratio ${ratios(s.mode, "rps")
            .map((x) => x.toFixed(3))
            .join(" ")} (req/s), ${ratios(s.mode, "perCpu")
            .map((x) => x.toFixed(3))
            .join(" ")} (per CPU-s)`;
    process.stdout.write(`  ${s.mode.padEnd(8)} ${fmt(s.rps).padStart(6)} req/s  ${fmt(s.perCpu).padStart(6)} req/CPU-s  p99 ${s.p99} ms${r}${spread}\n`);
  }
  process.stdout.write(
    `\nSpans exported: ${fmt(sink.exports())} requests, ${fmt(sink.bytes() / 1024 / 1024, 1)} MB. Load average ${loadStart.map((x) => x.toFixed(2)).join(" ")} at start, ${loadEnd.map((x) => x.toFixed(2)).join(" ")} at the end.\n`,
  );
  const file = join(BENCH_DIR, "observability-results.json");
  writeFileSync(file, JSON.stringify({ options: o, loadavgStart: loadStart, loadavgEnd: loadEnd, samples, summary }, null, 2));
  process.stdout.write(`Raw results: ${file}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
