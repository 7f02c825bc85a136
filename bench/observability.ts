/**
 * `npm run bench:observability`: what metrics and tracing cost on the benchmark's list query. Three
 * Triage servers on one seeded store — plain, with `--metrics-port`, with `--otel-endpoint` (to a
 * collector on loopback in this process that reads and discards the spans) — are loaded in turn,
 * round after round, with the order rotated each round, so that the machine's drift and other load
 * fall on all three alike.
 *
 *   npm run bench:observability -- [--size 10000] [--store sqlite|postgres] [--rounds 5] [--duration 10]
 *                                  [--warmup 2] [--connections 8] [--pg postgres://postgres@127.0.0.1:5432/]
 *                                  [--in-process [--requests 500]] [--micro]
 *
 * With --in-process, one process builds the three servers on one store and sends them the list request
 * through Fastify's inject (no sockets, no load generator), `--requests` at a time, alternating
 * `--rounds` times, and reports the process's CPU per request (read workers included): the most
 * precise comparison on a busy machine, since the three see the same conditions within a second.
 * With --micro, the instrumentation a list request runs is timed alone, in a loop (the least of several
 * runs): Fastify's hooks for metrics and tracing on a minimal route, and the store's read span, each
 * against the same route without them; the spans are exported to the loopback collector, so the
 * exporter's work is counted.
 *
 * Prints req/s and req/CPU-s per round and their medians, each relative to the plain server, and the
 * load average; writes .bench/observability-results.json. See docs/benchmarks.md.
 */
import { createServer, type Server } from "node:http";
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { BENCH_DIR, BUILD_DIR, backendCpuDelta, cpuSeconds, fmt, importDist, postgresBackends, readFlags, runLoader } from "./common.js";
import type { AutocannonResult, LoadSpec } from "./load.js";
import { startTriage, type Running } from "./servers.js";
import { ensureApps, ensureSeeded, getToken, pgDatabaseOf, storeRef, type BenchApp, type StoreKind, type StoreRef } from "./stores.js";
import type * as OpenMod from "../src/store/open.js";
import type * as ServerMod from "../src/server.js";
import type * as MetricsMod from "../src/http/metrics.js";
import type * as TracingMod from "../src/http/tracing.js";
import type * as TraceMod from "../src/store/trace.js";
import type * as KeyMod from "../src/identity/key-encryption.js";

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
  inProcess: boolean;
  requests: number;
  micro: boolean;
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
    inProcess: false,
    requests: 500,
    micro: false,
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
      case "--in-process":
        o.inProcess = true;
        break;
      case "--micro":
        o.micro = true;
        break;
      case "--requests":
        o.requests = num();
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

/** The three servers in this process, on one store, loaded through inject: CPU per request. */
async function inProcess(o: Options, ref: StoreRef, app: BenchApp, sink: Awaited<ReturnType<typeof startSink>>): Promise<void> {
  const { openStore } = await importDist<typeof OpenMod>("store/open.js");
  const { buildServer } = await importDist<typeof ServerMod>("server.js");
  const { Metrics } = await importDist<typeof MetricsMod>("http/metrics.js");
  const { startTracing } = await importDist<typeof TracingMod>("http/tracing.js");
  const { setTracing } = await importDist<typeof TraceMod>("store/trace.js");
  const { resolveKeyEncryption, defaultKeyFile } = await importDist<typeof KeyMod>("identity/key-encryption.js");
  // A store per server: the metrics server's statement timing must not run for the others.
  const stores = await Promise.all(MODES.map(() => openStore(ref.dbUrl ?? join(ref.dataDir, "triage.db"))));
  const keyEncryption = resolveKeyEncryption({ env: process.env.TRIAGE_KEY_ENCRYPTION_KEY, defaultFile: defaultKeyFile(ref.dataDir) }).encryption;
  const HOST = "triage.bench";
  const config = (i: number) => ({ store: stores[i]!, keyEncryption, logger: false as const, notifications: { deliver: false }, publicUrl: `http://${HOST}` });
  const servers = {
    off: await buildServer(config(0)),
    metrics: await buildServer({ ...config(1), metrics: new Metrics() }),
  } as Record<Mode, Awaited<ReturnType<typeof buildServer>>>;
  const tracing = await startTracing({ endpoint: sink.url, serviceVersion: "bench", instance: "bench" });
  servers.tracing = await buildServer(config(2));
  const api = await import("@opentelemetry/api");
  const tracer = api.trace.getTracer("triage");
  const base = await servers.off.listen({ host: "127.0.0.1", port: 0 });
  const token = await getToken(base, app);
  const headers = { authorization: `Bearer ${token}`, host: HOST };
  const loadStart = loadavg();
  const perRequest: Record<Mode, number[]> = { off: [], metrics: [], tracing: [] };
  try {
    const batch = async (mode: Mode) => {
      // Only the tracing server's round records spans; the others run as with tracing off.
      if (mode === "tracing") setTracing(api, tracer);
      else setTracing(undefined);
      const c0 = process.cpuUsage();
      for (let i = 0; i < o.requests; i++) {
        const r = await servers[mode].inject({ method: "GET", url: LIST, headers });
        if (r.statusCode !== 200) throw new Error(`${mode}: ${r.statusCode} ${r.body.slice(0, 300)}`);
      }
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / o.requests;
    };
    for (const mode of MODES) await batch(mode); // warm-up
    for (let round = 0; round < o.rounds; round++) {
      for (let i = 0; i < MODES.length; i++) {
        const mode = MODES[(i + round) % MODES.length]!;
        perRequest[mode].push(await batch(mode));
      }
    }
  } finally {
    setTracing(undefined);
    for (const s of Object.values(servers)) await s.close();
    await tracing.shutdown();
    for (const st of stores) await st.close();
  }
  const loadEnd = loadavg();
  const off = median(perRequest.off);
  // On a busy machine the least CPU a mode needed in any round is the nearest to its cost alone.
  const leastOff = Math.min(...perRequest.off);
  process.stdout.write(
    `\nList in one process (${ref.label}; ${o.rounds} alternating rounds of ${o.requests} requests per mode; CPU µs per request, medians):\n`,
  );
  for (const mode of MODES) {
    const m = median(perRequest[mode]);
    const least = Math.min(...perRequest[mode]);
    const ratios = perRequest[mode].map((x, i) => x / perRequest.off[i]!).sort((a, b) => a - b);
    process.stdout.write(
      `  ${mode.padEnd(8)} ${m.toFixed(0).padStart(5)} µs (least ${least.toFixed(0)} µs)${mode === "off" ? "" : `  ${(100 * (m / off - 1)).toFixed(1)} % more than off (least: ${(100 * (least / leastOff - 1)).toFixed(1)} %); per-round ratios ${ratios.map((x) => x.toFixed(3)).join(" ")}`}\n`,
    );
  }
  process.stdout.write(
    `\nSpans exported: ${fmt(sink.exports())} requests, ${fmt(sink.bytes() / 1024 / 1024, 1)} MB. Load average ${loadStart.map((x) => x.toFixed(2)).join(" ")} at start, ${loadEnd.map((x) => x.toFixed(2)).join(" ")} at the end.\n`,
  );
  const file = join(BENCH_DIR, "observability-inprocess-results.json");
  writeFileSync(file, JSON.stringify({ options: o, loadavgStart: loadStart, loadavgEnd: loadEnd, perRequest }, null, 2));
  process.stdout.write(`Raw results: ${file}\n`);
}

/**
 * The instrumentation alone: three Fastify apps with one route that answers at once — bare, with
 * Metrics' hooks, with the tracing hooks and a store-read span inside — each sent the same injected
 * requests in alternating runs; the least CPU per request of each, minus the bare app's, is what the
 * instrumentation adds to any request (a list request adds one statement observation or span more).
 */
async function micro(o: Options, sink: Awaited<ReturnType<typeof startSink>>): Promise<void> {
  const { default: Fastify } = await import("fastify");
  const { Metrics } = await importDist<typeof MetricsMod>("http/metrics.js");
  const { startTracing, installHttpTracing } = await importDist<typeof TracingMod>("http/tracing.js");
  const { setTracing, traced } = await importDist<typeof TraceMod>("store/trace.js");
  const fakeStore = { observe: () => undefined, pools: () => [] } as unknown as Parameters<InstanceType<typeof Metrics>["install"]>[1];
  const metrics = new Metrics();
  const make = async (mode: Mode) => {
    const app = Fastify({ logger: false });
    if (mode === "metrics") metrics.install(app, fakeStore);
    if (mode === "tracing") installHttpTracing(app);
    app.get("/v1.0/security/incidents", async (_req, reply) => {
      // The list's one bounded statement: a span with tracing, a histogram observation with metrics.
      const rows = await traced("store.query", { "db.system.name": "sqlite", "triage.store.path": "bounded" }, async () => [[1]]);
      return reply.send(JSON.stringify(rows));
    });
    await app.ready();
    return app;
  };
  const tracing = await startTracing({ endpoint: sink.url, serviceVersion: "bench", instance: "bench" });
  const api = await import("@opentelemetry/api");
  const tracer = api.trace.getTracer("triage");
  setTracing(undefined);
  const apps = { off: await make("off"), metrics: await make("metrics") } as Record<Mode, Awaited<ReturnType<typeof make>>>;
  setTracing(api, tracer);
  apps.tracing = await make("tracing");
  const n = o.requests * 10;
  const runs: Record<Mode, number[]> = { off: [], metrics: [], tracing: [] };
  for (let round = 0; round < o.rounds + 1; round++) {
    for (let i = 0; i < MODES.length; i++) {
      const mode = MODES[(i + round) % MODES.length]!;
      if (mode === "tracing") setTracing(api, tracer);
      else setTracing(undefined);
      const c0 = process.cpuUsage();
      for (let k = 0; k < n; k++) await apps[mode].inject({ method: "GET", url: "/v1.0/security/incidents?$top=50" });
      // The spans' export is part of their cost: flush them within the measured time.
      if (mode === "tracing") await tracing.flush();
      const c = process.cpuUsage(c0);
      if (round > 0) runs[mode].push((c.user + c.system) / n);
    }
  }
  setTracing(undefined);
  await tracing.shutdown();
  const least = (m: Mode) => Math.min(...runs[m]);
  process.stdout.write(`\nInstrumentation alone (${o.rounds} alternating runs of ${n} injected requests; least CPU µs per request):\n`);
  for (const m of MODES)
    process.stdout.write(`  ${m.padEnd(8)} ${least(m).toFixed(1)} µs${m === "off" ? "" : `  +${(least(m) - least("off")).toFixed(1)} µs`}\n`);
  process.stdout.write(
    `Load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}.\n`,
  );
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.micro) {
    const sink = await startSink();
    try {
      await micro(o, sink);
    } finally {
      await new Promise((r) => sink.server.close(r));
    }
    return;
  }
  const ref = storeRef(o.store, o.size, o.pg);
  await ensureSeeded(ref, log, false);
  const apps = await ensureApps(ref);
  const sink = await startSink();
  if (o.inProcess) {
    try {
      await inProcess(o, ref, apps.main, sink);
    } finally {
      await new Promise((r) => sink.server.close(r));
    }
    return;
  }
  const pgDatabase = pgDatabaseOf(ref);
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
