#!/usr/bin/env node
// Builds (npm run build) only when dist/ is missing or older than its sources. `npm ci` already builds
// (the prepare script), so `npm ci && npm start` builds once; after an edit or a pull, `npm start`
// builds again. With --check it only says, by its exit code: 0 up to date, 3 stale.
// Usage: build-if-stale.js [--check] [root]
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const check = args.includes("--check");
const root = resolve(args.find((a) => a !== "--check") ?? fileURLToPath(new URL("..", import.meta.url)));

/** What the build reads: the server's and the web app's sources and the settings that shape them. */
const INPUT_DIRS = ["src", "web"];
const INPUT_FILES = ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"];
/** What it writes. tsc rewrites only the files that changed; the web app's page is written anew by
 * every build, after tsc succeeded, so its time is the time of the last finished build. */
const OUTPUTS = ["dist/cli/main.js", "dist/web/client/index.html"];
const FINISHED = "dist/web/client/index.html";
const SKIP = new Set(["node_modules", "dist"]);

function newestIn(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function stale() {
  const outputs = OUTPUTS.map((f) => join(root, f));
  if (!outputs.every((f) => existsSync(f))) return "dist/ is missing";
  const built = statSync(join(root, FINISHED)).mtimeMs;
  const inputs = Math.max(
    ...INPUT_DIRS.map((d) => newestIn(join(root, d))),
    ...INPUT_FILES.map((f) => join(root, f))
      .filter((f) => existsSync(f))
      .map((f) => statSync(f).mtimeMs),
  );
  return inputs > built ? "sources changed since the last build" : null;
}

const reason = stale();
if (check) {
  process.stdout.write(reason ? `stale: ${reason}\n` : "up to date\n");
  process.exit(reason ? 3 : 0);
}
if (reason) {
  process.stderr.write(`Building (${reason})…\n`);
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const r = spawnSync(npm, ["run", "build"], { cwd: root, stdio: "inherit", shell: process.platform === "win32" });
  process.exit(r.status ?? 1);
}
