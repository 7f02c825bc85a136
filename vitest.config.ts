import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { configDefaults, defineConfig } from "vitest/config";

/** The integration suite runs once per store; TRIAGE_TEST_STORE=postgres selects PostgreSQL. */
const postgres = process.env.TRIAGE_TEST_STORE === "postgres";

/**
 * A test file that starts a server or opens a store (it imports the test support, the store or the
 * server) runs on both stores, so a new one is covered on PostgreSQL without being listed anywhere;
 * the pure unit tests run once, on the SQLite pass.
 */
const TOUCHES_A_STORE = /from\s+["'][^"']*(\/support\/|\/src\/store\/|\/src\/server)/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return testFiles(path);
    return e.name.endsWith(".test.ts") ? [path] : [];
  });
}

const storeTests = testFiles("test").filter((f) => TOUCHES_A_STORE.test(readFileSync(f, "utf8")));

export default defineConfig({
  test: {
    include: postgres ? storeTests : ["test/**/*.test.ts"],
    // The multi-node tests run real processes on one PostgreSQL database: only on the PostgreSQL pass.
    exclude: [...configDefaults.exclude, ...(postgres ? [] : ["test/multinode/**"])],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The client-library tests need NODE_EXTRA_CA_CERTS set before the workers start (see the file).
    globalSetup: ["test/clients/global-setup.ts"],
  },
});
