/**
 * The soak's load generator: one kind of request at a steady rate, in its own process, driven by a
 * JSON spec in the file named by argv[2] ("@path"). Prints its result as JSON on stdout.
 *
 * Why not autocannon's rate option: it lets each connection send its whole quota for a second as soon
 * as the second starts, so the server sees a burst every second and the latency measured is mostly
 * queueing inside the burst. Here requests are sent on a fixed schedule (open loop), and each one's
 * latency counts from when it was due, so a slow server shows as latency instead of as fewer requests.
 * The requests themselves come from bench/load.ts (the same paths, bodies and fresh alerts).
 */
import { readFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { requestsFor, type LoadSpec, type Request } from "./load.js";

export interface PacedSpec extends LoadSpec {
  /** Requests per second. */
  rate: number;
  /** Report status codes and latency per window of this many seconds too. */
  windowSeconds: number;
  /** Requests in flight at most; a request due beyond that is not sent and counts as skipped (bounded memory on both sides). */
  maxInFlight: number;
}

/** One window of a run: requests answered, their status codes, latency percentiles (ms). */
export interface LoadWindow {
  start: number;
  requests: number;
  statusCodes: Record<string, number>;
  p50: number;
  p99: number;
  max: number;
}

export interface PacedResult {
  /** Seconds the schedule ran. */
  duration: number;
  sent: number;
  "2xx": number;
  non2xx: number;
  /** Connection errors. */
  errors: number;
  timeouts: number;
  /** Due while maxInFlight requests were already waiting. */
  skipped: number;
  statusCodes: Record<string, number>;
  latency: { p50: number; p99: number; max: number };
  windows: LoadWindow[];
}

const TIMEOUT_MS = 30_000;
const TICK_MS = 5;

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarize(latencies: number[]): { p50: number; p99: number; max: number } {
  const sorted = Float64Array.from(latencies).sort();
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? 0 };
}

async function main(): Promise<void> {
  const arg = process.argv[2] ?? "";
  if (!arg.startsWith("@")) throw new Error("usage: soak-load.js @spec.json");
  const spec = JSON.parse(readFileSync(arg.slice(1), "utf8")) as PacedSpec;
  const template: Request = (await requestsFor(spec))[0]!;
  const url = new URL(spec.url);
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections });

  const result: PacedResult = {
    duration: 0,
    sent: 0,
    "2xx": 0,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    skipped: 0,
    statusCodes: {},
    latency: { p50: 0, p99: 0, max: 0 },
    windows: [],
  };
  const all: number[] = [];
  const windows: { statusCodes: Record<string, number>; latencies: number[] }[] = [];
  let inFlight = 0;
  const start = performance.now();

  const record = (due: number, status: number | null) => {
    const now = performance.now();
    const ms = now - due;
    const w = (windows[Math.floor((now - start) / 1000 / spec.windowSeconds)] ??= { statusCodes: {}, latencies: [] });
    if (status !== null) {
      result.statusCodes[status] = (result.statusCodes[status] ?? 0) + 1;
      w.statusCodes[status] = (w.statusCodes[status] ?? 0) + 1;
      if (status >= 200 && status < 300) result["2xx"]++;
      else result.non2xx++;
    }
    all.push(ms);
    w.latencies.push(ms);
  };

  const send = (due: number) => {
    const r = template.setupRequest ? template.setupRequest({ ...template }) : template;
    const body = r.body ?? template.body;
    const headers: Record<string, string | number> = { ...spec.headers, ...template.headers, ...r.headers };
    if (body !== undefined) headers["content-length"] = Buffer.byteLength(body);
    inFlight++;
    result.sent++;
    let settled = false;
    const settle = (status: number | null, failure?: "error" | "timeout") => {
      if (settled) return;
      settled = true;
      inFlight--;
      if (failure === "error") result.errors++;
      if (failure === "timeout") result.timeouts++;
      record(due, status);
    };
    const req = httpRequest(
      { agent, host: url.hostname, port: url.port, method: r.method ?? template.method ?? "GET", path: r.path ?? template.path, headers, timeout: TIMEOUT_MS },
      (res) => {
        res.resume();
        res.on("end", () => settle(res.statusCode ?? 0));
        res.on("error", () => settle(null, "error"));
      },
    );
    req.on("timeout", () => {
      settle(null, "timeout");
      req.destroy();
    });
    req.on("error", () => settle(null, "error"));
    req.end(body);
  };

  const durationMs = spec.duration * 1000;
  let issued = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - start;
      const due = Math.floor((Math.min(elapsed, durationMs) / 1000) * spec.rate);
      while (issued < due) {
        const dueAt = start + (issued / spec.rate) * 1000;
        issued++;
        if (inFlight >= spec.maxInFlight) result.skipped++;
        else send(dueAt);
      }
      if (elapsed >= durationMs) {
        clearInterval(timer);
        resolve();
      }
    }, TICK_MS);
  });
  result.duration = (performance.now() - start) / 1000;
  // The last requests get their answers (each is bounded by its own timeout).
  const until = performance.now() + TIMEOUT_MS + 1000;
  while (inFlight > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 20));
  agent.destroy();

  result.latency = summarize(all);
  result.windows = [...windows.entries()]
    .filter(([, w]) => w !== undefined)
    .map(([i, w]) => ({ start: i * spec.windowSeconds, requests: w.latencies.length, statusCodes: w.statusCodes, ...summarize(w.latencies) }));
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((e: unknown) => {
  process.stderr.write(`soak-load: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exitCode = 1;
});
