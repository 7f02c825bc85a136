import { configDefaults, defineConfig } from "vitest/config";

/** The multi-node tests run real processes on one PostgreSQL database: only with TRIAGE_TEST_STORE=postgres. */
const postgres = process.env.TRIAGE_TEST_STORE === "postgres";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...(postgres ? [] : ["test/multinode/**"])],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The client-library tests need NODE_EXTRA_CA_CERTS set before the workers start (see the file).
    globalSetup: ["test/clients/global-setup.ts"],
  },
});
