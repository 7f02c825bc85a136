#!/usr/bin/env node
// The suite's Node-sensitive part on the other Node.js lines Triage supports (package.json `engines`).
//
// `npm test` runs on whichever Node is installed, and most users run a newer line than the oldest one
// supported. This script takes each other line's official build from the npm registry (the
// `node-<platform>-<arch>` package, pinned below), installs Triage in a copy of the checkout with it
// as a user would (`npm ci`: better-sqlite3 compiled for that line's ABI against the headers the
// package ships, then the build), and runs the test files that touch what differs between lines: the
// native SQLite driver and its worker threads, the command line (its compile cache on 22 and later,
// HTTPS by default), TLS, WebCrypto and the JOSE library, outbound HTTPS and the rich notifications'
// encryption, and the official client libraries (fetch, TLS trust, MSAL). The rest of the suite is
// plain JavaScript over the same APIs and runs once, on the installed Node.
//
//   node scripts/test-node-lines.js                 # every line below, the default files
//   node scripts/test-node-lines.js --lines 24      # one line
//   node scripts/test-node-lines.js test/store      # other files or folders, as vitest takes them
//
// Each line's copy lives in .node-lines/ (not committed) and is reused while package-lock.json is
// unchanged. Without a build for this platform in the registry, or with the registry out of reach, a
// line is skipped with a notice; under CI (CI set) that is a failure.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The build of each other line that is tested: the newest of the line when it was last pinned. */
const LINES = { 22: "22.23.5", 24: "24.22.3", 26: "26.12.1" };

/** Files that exercise what differs between Node lines (the comment at the top says why each). */
const DEFAULT_FILES = [
  "test/engines.test.ts",
  "test/store",
  "test/cli",
  "test/http",
  "test/identity",
  "test/clients",
  "test/graph/subscriptions.test.ts",
  "test/graph/subscriptions-rich.test.ts",
  "test/features/outbound.test.ts",
];

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cache = join(root, ".node-lines");

function parseArgs(argv) {
  const o = { lines: Object.keys(LINES), files: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--lines") {
      const wanted = (argv[++i] ?? "").split(",").filter(Boolean);
      const unknown = wanted.filter((l) => !(l in LINES));
      if (wanted.length === 0 || unknown.length > 0) fail(`--lines takes some of ${Object.keys(LINES).join(", ")}`);
      o.lines = wanted;
    } else o.files.push(argv[i]);
  }
  if (o.files.length === 0) o.files = DEFAULT_FILES;
  return o;
}

function fail(message) {
  console.error(`test:node-lines: ${message}`);
  process.exit(1);
}

function run(command, args, options) {
  const r = spawnSync(command, args, { stdio: "inherit", ...options });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

/** The line's Node, unpacked from the registry's package once; `{ skipped }`, saying why, when it cannot be had here. */
function nodeOf(version) {
  const dir = join(cache, `node-v${version}`);
  const bin = join(dir, "bin", "node");
  if (existsSync(bin)) return { dir, bin };
  if (process.platform === "win32") return { skipped: "the registry's Windows builds are not unpacked by this script" };
  const pkg = `node-${process.platform}-${process.arch}@${version}`;
  const tmp = join(cache, `pack-${version}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  // npm checks the tarball against the registry's integrity hash before writing it.
  const packed = spawnSync("npm", ["pack", pkg, "--pack-destination", tmp, "--silent"], { encoding: "utf8" });
  const tarball = packed.status === 0 ? readdirSync(tmp).find((f) => f.endsWith(".tgz")) : undefined;
  if (!tarball) return { skipped: `npm could not fetch ${pkg}: ${(packed.stderr || "no tarball").trim().split("\n").pop()}` };
  mkdirSync(dir, { recursive: true });
  if (run("tar", ["xzf", join(tmp, tarball), "-C", dir, "--strip-components=1"]) !== 0) fail(`could not unpack ${tarball}`);
  rmSync(tmp, { recursive: true, force: true });
  const v = spawnSync(bin, ["--version"], { encoding: "utf8" }).stdout?.trim();
  if (v !== `v${version}`) fail(`${bin} says ${v ?? "nothing"}, not v${version}`);
  return { dir, bin };
}

/** The checkout's files (tracked, and new ones git does not ignore), as a user's copy would hold them. */
function sourceFiles() {
  const r = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) fail(`git ls-files failed: ${r.stderr}`);
  return r.stdout.split("\0").filter((f) => f && existsSync(join(root, f)));
}

/** A copy of the checkout installed with the line's Node: `npm ci` when the lockfile changed, else a build. */
function install(line, node) {
  const work = join(cache, `checkout-${line}`);
  const lock = createHash("sha256")
    .update(readFileSync(join(root, "package-lock.json")))
    .digest("hex");
  const marker = join(work, "node_modules", ".installed-lock");
  const reuse = existsSync(marker) && readFileSync(marker, "utf8") === `${node.bin} ${lock}`;
  if (existsSync(work)) for (const e of readdirSync(work)) if (!(reuse && e === "node_modules")) rmSync(join(work, e), { recursive: true, force: true });
  for (const f of sourceFiles()) cpSync(join(root, f), join(work, f), { recursive: true });
  const env = {
    ...process.env,
    PATH: `${join(node.dir, "bin")}:${process.env.PATH}`,
    // node-gyp compiles better-sqlite3 against the headers the line's package ships (no download).
    npm_config_nodedir: node.dir,
  };
  const status = reuse ? run("npm", ["run", "build", "--silent"], { cwd: work, env }) : run("npm", ["ci", "--no-audit", "--no-fund"], { cwd: work, env });
  if (status !== 0) fail(`installing Triage with Node ${line} failed`);
  if (!reuse) writeFileSync(marker, `${node.bin} ${lock}`);
  return { work, env };
}

const o = parseArgs(process.argv.slice(2));
mkdirSync(cache, { recursive: true });
const failed = [];
for (const line of o.lines) {
  const version = LINES[line];
  console.log(`\ntest:node-lines: Node ${version}`);
  const node = nodeOf(version);
  if (node.skipped) {
    if (process.env.CI) fail(`Node ${version}: ${node.skipped}; CI requires every line.`);
    console.error(`\nNOTICE: the tests on Node ${line} were skipped: ${node.skipped}.\n`);
    continue;
  }
  const { work, env } = install(line, node);
  const status = run(node.bin, [join(work, "node_modules", "vitest", "vitest.mjs"), "run", ...o.files], { cwd: work, env });
  if (status !== 0) failed.push(version);
}
if (failed.length > 0) fail(`tests failed on Node ${failed.join(", ")}`);
