/**
 * Vitest global setup for the client-library tests: one local CA for the whole run, trusted by every
 * test worker through NODE_EXTRA_CA_CERTS.
 *
 * Node reads NODE_EXTRA_CA_CERTS only when a process starts, so it cannot be set from inside a test. This
 * runs in Vitest's main process before any worker is forked; the forks copy `process.env` when they are
 * spawned and so start with the CA trusted, exactly like a user's process started with
 * `NODE_EXTRA_CA_CERTS=DATA/tls/ca.pem`. Each client test's server gets this CA copied into its data
 * directory (test/support/https-triage.ts), and `ensureLocalTls` then issues its leaf from it.
 *
 * Trusting one more private CA changes nothing for the other tests: the CA exists only for this run.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureLocalTls } from "../../src/identity/tls.js";

/** Where the run's CA lives (its `tls/` directory holds ca.pem and ca-key.pem). */
export const CA_DIR_ENV = "TRIAGE_TEST_CA_DIR";

export default async function setup(): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), "triage-clients-ca-"));
  const material = await ensureLocalTls(dir, []);
  const previous = process.env.NODE_EXTRA_CA_CERTS;
  let trusted = material.caPath;
  if (previous && existsSync(previous)) {
    // Keep whatever the developer already trusts (a corporate proxy's CA, say) and add ours.
    trusted = join(dir, "extra-ca-certs.pem");
    writeFileSync(trusted, `${readFileSync(previous, "utf8").trim()}\n${material.caCert}`);
  }
  process.env.NODE_EXTRA_CA_CERTS = trusted;
  process.env[CA_DIR_ENV] = join(dir, "tls");

  return () => {
    if (previous === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = previous;
    delete process.env[CA_DIR_ENV];
    rmSync(dir, { recursive: true, force: true });
  };
}
