#!/usr/bin/env node
// Entry point for `npx triage`: runs the compiled CLI (built by `npm install` / `npm run build`).
import { main } from "../dist/cli/main.js";

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);
