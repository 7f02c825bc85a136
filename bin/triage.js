#!/usr/bin/env node
// Entry point for `npx triage`: runs the compiled CLI (built by `npm install` / `npm run build`).
import module from "node:module";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

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

// Started before the rest loads (see dist/cli/early.js), so that they run side by side.
const { startEarly } = await import("../dist/cli/early.js");
startEarly(process.argv);

const { main } = await import("../dist/cli/main.js");
main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
