import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const CHECK = join(ROOT, "scripts", "build-if-stale.js");
const dir = mkdtempSync(join(tmpdir(), "triage-start-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; until?: RegExp; timeoutMs?: number } = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    const stop = () => {
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${command} ${args.join(" ")} timed out:\n${output}`));
    }, opts.timeoutMs ?? 60_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (opts.until?.test(output)) stop();
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function file(path: string, mtime: Date): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, "");
  utimesSync(path, mtime, mtime);
}

describe("npm start", () => {
  // `npm test` builds first (pretest), as `npm ci` does (prepare): the build is fresh here.
  it("serves without building again when dist/ is up to date", async () => {
    const page = join(ROOT, "dist", "web", "client", "index.html");
    const check = await run(process.execPath, [CHECK, "--check"]);
    expect(check.code, "dist/ is older than the sources: run `npm run build` before the CLI tests").toBe(0);
    const before = statSync(page).mtimeMs;
    const r = await run("npm", ["start", "--", "--port", "0", "--http", "--demo-incidents", "5", "--log-level", "warn"], {
      env: { TRIAGE_DATA: join(dir, "data") },
      until: /listening on http/,
    });
    expect(r.output).toContain("listening on http");
    expect(r.output).not.toMatch(/tsc -p|vite build|Building/);
    expect(statSync(page).mtimeMs).toBe(before);
  });

  it("builds when dist/ is missing or older than a source", async () => {
    const tree = join(dir, "tree");
    const old = new Date(Date.now() - 3_600_000);
    const later = new Date(Date.now() - 60_000);
    file(join(tree, "src", "cli", "main.ts"), old);
    file(join(tree, "web", "src", "app.tsx"), old);
    file(join(tree, "package.json"), old);
    expect((await run(process.execPath, [CHECK, "--check", tree])).output).toContain("dist/ is missing");
    file(join(tree, "dist", "cli", "main.js"), later);
    file(join(tree, "dist", "web", "client", "index.html"), later);
    const fresh = await run(process.execPath, [CHECK, "--check", tree]);
    expect(fresh.code, fresh.output).toBe(0);
    file(join(tree, "web", "src", "app.tsx"), new Date());
    const edited = await run(process.execPath, [CHECK, "--check", tree]);
    expect(edited.code).toBe(3);
    expect(edited.output).toContain("sources changed");
  });
});
