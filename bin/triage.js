#!/usr/bin/env node
// Entry point for `npx triage`: runs the compiled CLI (built by `npm install` / `npm run build`).
import { statSync } from "node:fs";
import module from "node:module";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

// V8's young generation can only be sized when Node starts. Node 20 and 22 give it semi-spaces of at
// most 16 MB; Node 24's V8 lets them grow to 64 MB, and under ingestion they do: the server's resident
// memory then peaked at 366–382 MB instead of 228–237 MB on Node 20, with the same alerts per CPU-second
// as with 16 MB (docs/operations.md#memory). So a server (`serve`, which runs for long) started on
// Node 24 or later without a size of its own starts again, in the same process (same id, same standard
// streams), with the size Node 20 uses. Not over an IPC channel (`triage/testing` passes the size
// itself), which does not survive the exec; not where Node cannot exec (Windows).
const SEMI_SPACE_MB = 16;
if (
  process.argv[2] === "serve" &&
  Number(process.versions.node.split(".")[0]) >= 24 &&
  typeof process.execve === "function" &&
  !process.env.NODE_CHANNEL_FD &&
  ![...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].some((a) => /^--max[-_](semi[-_]space|heap)[-_]size\b/.test(a))
) {
  try {
    process.execve(process.execPath, [process.execPath, `--max-semi-space-size=${SEMI_SPACE_MB}`, ...process.execArgv, ...process.argv.slice(1)], process.env);
  } catch {
    // Not allowed to exec (Node's permission model, a policy): the server runs with V8's own size.
  }
}

// Node ≥ 22.1 can keep the code it compiles for these modules, so that later starts skip compiling
// them (on Node 20 there is no such cache, and nothing happens). The cache is kept in the user's own
// cache folder, not in the shared temporary folder Node would pick, where another user could leave
// code for this process to run. NODE_COMPILE_CACHE, when set, chooses instead (Node reads it itself).
if (!process.env.NODE_COMPILE_CACHE && !process.env.NODE_DISABLE_COMPILE_CACHE) {
  try {
    const xdg = process.env.XDG_CACHE_HOME;
    module.enableCompileCache?.(join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), ".cache"), "triage", "node-compile-cache"));
  } catch {
    // A cache that cannot be made (no home folder, a read-only disk) only costs start time.
  }
}

// `npm run build` bundles the command line into dist/bundle/ (scripts/bundle.js says why): a few files
// load in a fraction of the time the ~1,270 modules they hold take on Node 20. The compiled modules of
// dist/ themselves run instead when there is no bundle, when it is older than the last compile (tsc
// run on its own since), or with TRIAGE_UNBUNDLED=1.
function bundled() {
  if (process.env.TRIAGE_UNBUNDLED) return false;
  try {
    const bundle = statSync(new URL("../dist/bundle/main.js", import.meta.url)).mtimeMs;
    return bundle >= statSync(new URL("../dist/.tsbuildinfo", import.meta.url)).mtimeMs;
  } catch {
    return false;
  }
}
const entry = bundled() ? "../dist/bundle/" : "../dist/cli/";

// Started before the rest loads (see dist/cli/early.js), so that they run side by side.
const { startEarly } = await import(`${entry}early.js`);
startEarly(process.argv);

const { main } = await import(`${entry}main.js`);
main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
