import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The client-library tests need NODE_EXTRA_CA_CERTS set before the workers start (see the file).
    globalSetup: ["test/clients/global-setup.ts"],
  },
});
