import { startTriage } from "triage/testing";

/**
 * Starts an ephemeral Triage before any test file runs. Jest loads this file as an ES module in its own
 * process; the tests see Triage through the environment (TRIAGE_INFO: the URLs, tenant, apps, secrets
 * and CA file), which the processes that run them inherit.
 */
export default async function globalSetup() {
  const triage = await startTriage();
  globalThis.triage = triage; // for global-teardown.mjs, which runs in this same context
  process.env.TRIAGE_INFO = JSON.stringify(triage.info);
}
