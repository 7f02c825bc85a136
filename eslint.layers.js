/**
 * The floors of src/, top to bottom. A module may import its own folder and any folder on a lower floor,
 * never one on a higher floor or a neighbour on its own floor (unless `peers` allows it). The folder
 * READMEs and docs/architecture.md describe the same floors; this table is what enforces them.
 */
export const FLOORS = [
  // triage/testing: an ephemeral Triage for test suites, built on the command line's ephemeral server.
  { floor: "test harness", folders: ["testing"] },
  { floor: "command line", folders: ["cli"] },
  { floor: "composition", folders: ["server"] },
  { floor: "HTTP surfaces", folders: ["graph", "web", "triage-api", "ingest"] },
  { floor: "HTTP plumbing", folders: ["http"] },
  { floor: "features", folders: ["features"] },
  { floor: "identity", folders: ["identity"] },
  // The domain's rules are plain functions over records: no I/O, so not even the store's types.
  { floor: "rules", folders: ["domain", "odata", "permissions", "seed", "hunting"], narrower: { domain: ["schema", "errors"] } },
  { floor: "store", folders: ["store"] },
  { floor: "query plan", folders: ["query"] },
  { floor: "schema", folders: ["schema"] },
  { floor: "errors", folders: ["errors"] },
];

/** Only the store speaks SQL: these modules, and a query builder's entry points, are the store's alone. */
export const SQL_MODULES = ["kysely", "better-sqlite3", "pg"];
export const QUERY_BUILDER_CALLS = ["selectFrom", "insertInto", "updateTable", "deleteFrom", "replaceInto", "mergeInto"];

function element(folder) {
  if (folder === "server") return { type: "server", pattern: "src/server.*", partialMatch: false };
  return { type: folder, pattern: `src/${folder}/**`, partialMatch: false };
}

export const elements = FLOORS.flatMap((f) => f.folders.map(element));

/** The folders a folder may import besides itself: every lower floor, or the narrower list its floor gives it. */
export function allowedImports(folder) {
  const i = FLOORS.findIndex((f) => f.folders.includes(folder));
  return FLOORS[i].narrower?.[folder] ?? FLOORS.slice(i + 1).flatMap((g) => g.folders);
}

export const policies = FLOORS.flatMap((f) =>
  f.folders.map((folder) => ({
    from: { element: { type: folder } },
    allow: { to: { element: { types: { anyOf: [folder, ...allowedImports(folder)] } } } },
  })),
);
