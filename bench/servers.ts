/**
 * The servers under test, each a child process on loopback: Triage (`triage serve --http`), the
 * baseline, and json-server. Startup is timed from spawn to the "listening" line and to the first
 * successful health check.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { BUILD_DIR, ROOT, TENANT, TRIAGE_BIN, stopProcess, waitHealthy } from "./common.js";
import { sqliteFile, storeArgs, type StoreRef } from "./stores.js";

export interface Running {
  name: string;
  child: ChildProcess;
  pid: number;
  base: string;
  /** ms from spawn to the listening line, and to the first 200 from the health check. */
  listeningMs: number;
  readyMs: number;
  /** The last 10,000 characters of its stdout. */
  output(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Spawns a server and waits for it: `listening` picks the base URL out of its stdout (or is given it),
 * then `healthPath` must answer 200.
 */
async function start(
  name: string,
  args: string[],
  opts: { healthPath: string; listening?: RegExp; base?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<Running> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...opts.env } });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code, signal) => reject(new Error(`${name} exited (${code ?? signal}) before it was ready: ${stderr.trim().slice(-2000)}`))),
  );
  exited.catch(() => undefined);
  let out = "";
  const listening = new Promise<string>((resolve) => {
    if (opts.base) resolve(opts.base);
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out = (out + d).slice(-10_000);
      const m = opts.listening?.exec(out);
      if (m) resolve(m[1]!);
    });
  });
  const timeout = opts.timeoutMs ?? 120_000;
  const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${name} did not start within ${timeout} ms`)), timeout).unref());
  try {
    const base = (await Promise.race([listening, exited, timer])).replace(/\/+$/, "");
    const listeningMs = performance.now() - t0;
    await Promise.race([waitHealthy(`${base}${opts.healthPath}`, timeout), exited]);
    const readyMs = performance.now() - t0;
    return { name, child, pid: child.pid!, base, listeningMs, readyMs, output: () => out, stop: () => stopProcess(child) };
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  }
}

/** The certificate chain and key a baseline serves over HTTPS: Triage's own, from the same data directory. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/**
 * TRIAGE_BENCH_SERVE_BIN serves from another build's bin/triage.js (a copy of an earlier build, for
 * before/after runs on the same stores); seeding and the CLI always use this checkout's. `env`: more
 * environment for the server (NODE_EXTRA_CA_CERTS, say); `https`: Triage's default transport.
 */
export function startTriage(
  ref: StoreRef,
  opts: { profileDir?: string; serveArgs?: string[]; env?: NodeJS.ProcessEnv; https?: boolean } = {},
): Promise<Running> {
  const bin = process.env.TRIAGE_BENCH_SERVE_BIN ?? TRIAGE_BIN;
  const prof = opts.profileDir ? ["--cpu-prof", "--cpu-prof-dir", opts.profileDir] : [];
  return start(
    `triage (${ref.label}${opts.https ? ", https" : ""})`,
    [
      ...prof,
      bin,
      "serve",
      ...(opts.https ? [] : ["--http"]),
      ...storeArgs(ref),
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--log-level",
      "warn",
      ...(opts.serveArgs ?? []),
    ],
    { healthPath: "/healthz", listening: /Triage is listening on (https?:\/\/\S+)/, env: opts.env },
  );
}

const tlsEnv = (tls?: TlsFiles): NodeJS.ProcessEnv => (tls ? { BENCH_TLS_CERT: tls.cert, BENCH_TLS_KEY: tls.key } : {});

/** The SQLite baseline on the store's file; over HTTPS with `tls`. */
export function startBaseline(ref: StoreRef, tls?: TlsFiles): Promise<Running> {
  return start(`baseline (${ref.size}${tls ? ", https" : ""})`, [join(BUILD_DIR, "baseline-server.js"), sqliteFile(ref), TENANT], {
    healthPath: "/healthz",
    listening: /listening on (https?:\/\/\S+)/,
    env: tlsEnv(tls),
  });
}

/** The PostgreSQL baseline on the store's database; over HTTPS with `tls`. */
export function startPgBaseline(ref: StoreRef, tls?: TlsFiles): Promise<Running> {
  return start(`baseline (${ref.label}${tls ? ", https" : ""})`, [join(BUILD_DIR, "baseline-pg-server.js"), ref.dbUrl!, TENANT], {
    healthPath: "/healthz",
    listening: /listening on (https?:\/\/\S+)/,
    env: tlsEnv(tls),
  });
}

export async function startJsonServer(dbJson: string): Promise<Running> {
  const port = await freePort();
  // json-server keeps the whole db in memory; --quiet turns off its per-request log.
  return start(
    "json-server",
    [
      "--max-old-space-size=8192",
      join(ROOT, "node_modules", "json-server", "lib", "cli", "bin.js"),
      dbJson,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--quiet",
    ],
    { healthPath: "/incidents?_limit=1", base: `http://127.0.0.1:${port}`, timeoutMs: 600_000 },
  );
}
