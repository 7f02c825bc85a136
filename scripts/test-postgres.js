#!/usr/bin/env node
// The PostgreSQL pass of the test suite. Without a reachable server it is skipped with a notice, so a
// newcomer's `npm test` says what it left out instead of failing on a connection error; under CI
// (CI set) a missing server is a failure, since the pass is required there.
import { spawnSync } from "node:child_process";
import pg from "pg";

const server = process.env.TRIAGE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432";

async function reachable() {
  const client = new pg.Client({ connectionString: `${server}/postgres`, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("select 1");
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const problem = await reachable();
if (problem) {
  const what = `no PostgreSQL server answers at ${server} (${problem})`;
  if (process.env.CI) {
    console.error(`test:postgres: ${what}; CI requires the PostgreSQL pass.`);
    process.exit(1);
  }
  console.error(`\nNOTICE: the PostgreSQL half of the tests was skipped: ${what}.`);
  console.error("Start PostgreSQL (trust authentication for the postgres user) or set TRIAGE_TEST_PG to run it.\n");
  process.exit(0);
}
const run = spawnSync("npx", ["vitest", "run", ...process.argv.slice(2)], { stdio: "inherit", env: { ...process.env, TRIAGE_TEST_STORE: "postgres" } });
process.exit(run.status ?? 1);
