/**
 * `npm run bench:start`: how long `triage serve --ephemeral --json` takes to be ready — from spawning
 * the process to its line of JSON (it listens by then) — and how much CPU it used until then (all its
 * threads: the main thread loading modules, the thread pool making keys and hashes). Then the first
 * token request against it.
 *
 *   npm run bench:start -- [--runs 11] [--http] [--bin path/to/bin/triage.js]
 *
 * Over HTTPS by default, as test suites start it (three RSA keys: the CA's, the server's, the token
 * signing key); --http makes one (the signing key).
 *
 * Prints the median and the spread of each figure and the machine's load average: on a machine other
 * work shares, the wall time follows the load; the CPU time much less. See docs/benchmarks.md
 * (Ephemeral start).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { cpus, loadavg } from "node:os";
import { TRIAGE_BIN, cpuSeconds, readFlags } from "./common.js";

interface Start {
  readyMs: number;
  cpuMs: number;
  tokenMs: number;
}

interface Info {
  tokenUrl: string;
  caFile: string | null;
  scope: string;
  apps: { read: { clientId: string; clientSecret: string } };
}

/** A client-credentials token request; over HTTPS trusting the server's CA. */
async function tokenRequest(info: Info): Promise<void> {
  const body = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: info.apps.read.clientId,
    client_secret: info.apps.read.clientSecret,
    scope: info.scope,
  }).toString();
  const headers = { "content-type": "application/x-www-form-urlencoded" };
  if (!info.caFile) {
    const res = await fetch(info.tokenUrl, { method: "POST", headers, body });
    if (res.status !== 200) throw new Error(`token request answered ${res.status}: ${await res.text()}`);
    return;
  }
  const ca = readFileSync(info.caFile, "utf8");
  await new Promise<void>((resolve, reject) => {
    const req = request(info.tokenUrl, { method: "POST", headers, ca }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`token request answered ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function once(bin: string, http: boolean): Promise<Start> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [bin, "serve", "--ephemeral", "--json", ...(http ? ["--http"] : [])], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
      });
      child.on("exit", (code) => reject(new Error(`exited with ${code} before it was ready`)));
    });
    const readyMs = performance.now() - t0;
    const cpuMs = cpuSeconds(child.pid!) * 1000;
    const info = JSON.parse(line) as Info;
    const t1 = performance.now();
    await tokenRequest(info);
    return { readyMs, cpuMs, tokenMs: performance.now() - t1 };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode === null ? child.once("exit", r) : r(null)));
  }
}

function summary(name: string, values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number) => Math.round(s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
  return `${name.padEnd(22)} median ${String(at(0.5)).padStart(5)} ms   min ${String(at(0)).padStart(5)}   max ${String(Math.round(s[s.length - 1]!)).padStart(5)}`;
}

async function main(): Promise<void> {
  let runs = 11;
  let bin = TRIAGE_BIN;
  let http = false;
  readFlags(process.argv.slice(2), (flag, a) => {
    if (flag === "--runs") runs = a.num();
    else if (flag === "--bin") bin = a.value();
    else if (flag === "--http") http = true;
    else throw new Error(`unknown flag ${flag}`);
  });
  const before = loadavg()[0]!;
  const starts: Start[] = [];
  for (let i = 0; i < runs; i++) starts.push(await once(bin, http));
  console.log(`triage serve --ephemeral --json${http ? " --http" : ""}, ${runs} runs one after another (${bin})`);
  console.log(
    summary(
      "ready (wall)",
      starts.map((s) => s.readyMs),
    ),
  );
  console.log(
    summary(
      "CPU until ready",
      starts.map((s) => s.cpuMs),
    ),
  );
  console.log(
    summary(
      "first token (wall)",
      starts.map((s) => s.tokenMs),
    ),
  );
  console.log(`load average (1 min): ${before.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after, on ${cpus().length} cores`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
