import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

/**
 * What `triage serve` loads before it is asked: the Kusto language service only with --warm-hunting
 * (it holds tens of megabytes), and --heap-growth's bounds. A real process, as operators start it.
 */
const BIN = fileURLToPath(new URL("../../bin/triage.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "triage-serve-memory-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LOADED = /advanced hunting's language service is loaded/;

/** Starts `triage serve` and reads its output until `until` matches or `ms` pass after it listens; then stops it. */
function serve(args: string[], opts: { until?: RegExp; ms: number }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "serve", "--http", "--port", "0", "--host", "127.0.0.1", "--data", join(dir, args.join("")), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`triage serve did not finish:\n${output}`));
    }, 90_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (opts.until?.test(output)) child.kill("SIGTERM");
      else if (!timer && /listening on http/.test(output)) timer = setTimeout(() => child.kill("SIGTERM"), opts.ms);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("close", (code) => {
      clearTimeout(guard);
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("triage serve's memory", () => {
  it("does not load the hunting language service until a hunting query needs it", async () => {
    const r = await serve(["--log-level", "info"], { ms: 4000 });
    expect(r.output).toMatch(/listening on http/);
    expect(r.output).not.toMatch(LOADED);
  }, 100_000);

  it("loads it as soon as it listens with --warm-hunting", async () => {
    const r = await serve(["--log-level", "info", "--warm-hunting"], { until: LOADED, ms: 60_000 });
    expect(r.output).toMatch(LOADED);
  }, 100_000);

  it("refuses a --heap-growth outside 0–400 and starts nothing", async () => {
    for (const bad of ["-1", "401", "ten"]) {
      const r = await serve([`--heap-growth=${bad}`], { ms: 0 });
      expect(r.code).not.toBe(0);
      expect(r.output).toMatch(/--heap-growth <percent>' argument .* is invalid/);
      expect(r.output).not.toMatch(/listening/);
      expect(existsSync(join(dir, `--heap-growth=${bad}`, "triage.db"))).toBe(false);
    }
  }, 100_000);
});
