#!/usr/bin/env node
// The last step of `npm run build`: bundles the compiled command line (dist/cli/early.js and
// dist/cli/main.js, with Triage's other modules and most of its dependencies) into dist/bundle/, a few
// files that bin/triage.js loads when they are there (it falls back to dist/cli/main.js otherwise).
//
// Why a service bundles itself: start time on Node 20. `triage serve --ephemeral`, which test suites
// start once per run, loads about 1,270 ES modules (Triage's ~260, Kysely's 263, TypeBox's 247,
// Fastify with Ajv); finding, reading and compiling them one by one was about 0.8 s of CPU before it
// could listen. Node ≥ 22 keeps compiled code between starts (bin/triage.js enables its compile
// cache), Node 20 does not; a bundle is a handful of files instead (docs/benchmarks.md, Ephemeral
// start). The unbundled dist/ stays what `triage/testing` imports and what the bundle is made from.
//
// Kept out of the bundle, loaded from node_modules as before:
// - better-sqlite3: a native addon; the read workers also require it (and re2js) by path.
// - what Triage loads lazily on purpose, so that a start does not pay for it: the Kusto language
//   service (createRequire in src/hunting/kusto.ts), node-forge (src/identity/tls.ts), msal,
//   nodemailer, prom-client, OpenTelemetry and pg.
// Files read by their URL relative to a module (package.json, the web client, the permission data)
// resolve from dist/bundle/ as from dist/<folder>/: the bundle sits at the same depth.
//
// rolldown comes with Vite (the web app's build), pinned in package.json.
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { rolldown } from "rolldown";

const root = fileURLToPath(new URL("..", import.meta.url));
const OUT = `${root}dist/bundle`;

/** Packages (and their subpaths) left to Node's own loading. */
const EXTERNAL = ["better-sqlite3", "@kusto/language-service-next", "node-forge", "@azure/msal-node", "nodemailer", "prom-client", "@opentelemetry/", "pg"];

function external(id) {
  if (id.startsWith("node:")) return true;
  return EXTERNAL.some((p) => (p.endsWith("/") ? id.startsWith(p) : id === p || id.startsWith(`${p}/`)));
}

rmSync(OUT, { recursive: true, force: true });
const bundle = await rolldown({
  input: { early: `${root}dist/cli/early.js`, main: `${root}dist/cli/main.js` },
  platform: "node",
  external,
  logLevel: "warn",
});
await bundle.write({ dir: OUT, format: "esm", entryFileNames: "[name].js", chunkFileNames: "[name]-[hash].js", sourcemap: true });
await bundle.close();
