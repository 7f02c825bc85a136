import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["*.test.mjs"],
    // Starting Triage takes a moment on a busy machine.
    hookTimeout: 60_000,
  },
});
