/**
 * Helpers shared by the benchmark scripts: where things are, process accounting from /proc, child
 * processes. The benchmark is compiled by `tsc -p bench/tsconfig.json` to .bench/build/ and runs the
 * project's own build in dist/.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "triage") return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("bench: cannot find the triage package root");
    dir = up;
  }
}

/** The repository root (where package.json, bin/ and dist/ are). */
export const ROOT = findRoot();
/** Seeded stores, exports, raw results: git-ignored. */
export const BENCH_DIR = join(ROOT, ".bench");
/** Compiled bench scripts. */
export const BUILD_DIR = join(BENCH_DIR, "build", "bench");
/** The Triage the benchmark runs: this checkout's, or another build named by TRIAGE_BENCH_BIN (to compare two). */
export const TRIAGE_BIN = process.env.TRIAGE_BENCH_BIN ?? join(ROOT, "bin", "triage.js");

/** The demo tenant `triage seed` fills by default. */
export const TENANT = "c7a1d2e4-5b6f-4a8c-9d0e-1f2a3b4c5d6e";
/** The seed's timeline end (the CLI's DEMO_END). */
export const SEED_END = new Date("2026-11-01T00:00:00Z");

/** Imports a module of the project's build (dist/), typed by its source. */
export async function importDist<T>(relative: string): Promise<T> {
  return (await import(pathToFileURL(join(ROOT, "dist", relative)).href)) as T;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The median of `xs`, the mean of the middle two for an even count; 0 for none. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const CLOCK_TICK = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which is in parentheses and may contain spaces).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICK;
  } catch {
    return 0;
  }
}

/** VmRSS and VmHWM (peak RSS) of a process, in MB. */
export function memoryMb(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
    return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
  } catch {
    return { rss: 0, peak: 0 };
  }
}

/**
 * CPU seconds used by the PostgreSQL backends serving `database` (their command line names it), so
 * that PostgreSQL runs can be charged the database's work too. Backends that exit in between are missed.
 */
export function postgresBackends(database: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmd.startsWith("postgres: ") && cmd.includes(` ${database} `)) out.set(Number(entry), cpuSeconds(Number(entry)));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU seconds the backends used between two `postgresBackends` snapshots. */
export function backendCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, cpu] of after) sum += cpu - (before.get(pid) ?? 0);
  return sum;
}

/** Runs a command to completion and returns its stdout; rejects with its stderr on failure. */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; inheritStderr?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env, stdio: ["ignore", "pipe", opts.inheritStderr ? "inherit" : "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}: ${err.trim()}`))));
  });
}

/** Sends SIGTERM and waits for the process to exit (SIGKILL after `graceMs`). */
export async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * A request to a server on loopback: `fetch` for http://, and for https:// a request that accepts the
 * server's certificate whoever issued it (Triage's local CA, which this process does not trust).
 */
export async function loopbackRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; text: string }> {
  if (!url.startsWith("https:")) {
    const res = await fetch(url, init);
    return { status: res.status, text: await res.text() };
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: init.method ?? "GET", headers: init.headers, rejectUnauthorized: false }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

/** Polls `url` until it answers 200, or throws after `timeoutMs`. */
export async function waitHealthy(url: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await loopbackRequest(url);
      if (res.status === 200) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await sleep(5);
  }
}

export function fmt(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "–";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** What a flag's handler may read: the next argument as text or as a positive number, or a peek at it. */
export interface FlagArgs {
  value(): string;
  num(): number;
  /** The next argument when it is a value rather than another flag. */
  peek(): string | undefined;
}

/** Walks `--flag [value]` arguments, handing each flag to `onFlag`, which throws on one it does not know. */
export function readFlags(argv: string[], onFlag: (flag: string, args: FlagArgs) => void): void {
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const num = () => {
      const n = Number(value());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number`);
      return n;
    };
    const peek = () => (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("--") ? argv[i + 1] : undefined);
    onFlag(flag, { value, num, peek });
  }
}

/** Runs a load script in its own Node process and returns the JSON it prints. */
export function runLoader<T>(script: string, arg: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, [script, arg], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`load failed: ${err.trim()}`));
      try {
        resolve(JSON.parse(out) as T);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}
