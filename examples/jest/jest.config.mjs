// Jest runs one Triage for the whole run: global-setup.mjs starts it, global-teardown.mjs stops it.
export default {
  testEnvironment: "node",
  testMatch: ["**/*.test.cjs"],
  // The tests are plain CommonJS: nothing to transform.
  transform: {},
  globalSetup: "./global-setup.mjs",
  globalTeardown: "./global-teardown.mjs",
};
