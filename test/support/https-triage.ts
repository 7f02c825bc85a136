/**
 * A real Triage over HTTPS on 127.0.0.1 for the client-library tests (test/clients): a temporary SQLite
 * store, a tenant, and a server certificate issued by the run's CA, which test/clients/global-setup.ts
 * made and put in NODE_EXTRA_CA_CERTS. The clients under test therefore see exactly what a user sees:
 * an https authority and Graph base URL on a host whose certificate their process trusts.
 */
import { randomUUID } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { buildServer, type ServerConfig } from "../../src/server.js";
import { ensureLocalTls, issueLeafCertificate } from "../../src/identity/tls.js";
import type { Store } from "../../src/store/open.js";
import { openTestStore } from "./stores.js";
import { createTenant } from "../../src/store/tenants.js";
import { addSecret, createApp, createUser, grantAdminConsent, requestPermissions } from "../../src/identity/directory.js";

export const GRAPH_SCOPE = "https://graph.microsoft.com/.default";
export const ALL_APP_PERMISSIONS = ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"];

export interface RegisteredApp {
  clientId: string;
  /** A client secret (confidential apps only). */
  secret: string | undefined;
}

export interface HttpsTriage {
  /** `https://127.0.0.1:{port}`: the Graph base URL's origin and the authority host. */
  url: string;
  /** The host name clients must list (customHosts, allowedHosts), without the port. */
  hostname: string;
  /** `127.0.0.1:{port}`: what msal's knownAuthorities needs. */
  host: string;
  tenantId: string;
  /** `https://127.0.0.1:{port}/{tenant}`: an msal authority. */
  authority: string;
  store: Store;
  app: FastifyInstance;
  /** An app registration with consented permissions (application and/or delegated). */
  registerApp(opts?: { permissions?: string[]; delegated?: string[]; publicClient?: boolean; name?: string }): Promise<RegisteredApp>;
  addUser(upn: string, password: string, roles?: string[]): Promise<void>;
  /** Graph JSON from the server, with the given bearer token (to check state independently of the client). */
  graph<T = any>(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** POST /ingest/alerts with the given bearer token; returns the per-alert results. */
  ingest(alerts: unknown[], token: string): Promise<{ id: string; incidentId: string }[]>;
  close(): Promise<void>;
}

/** The run's CA directory; the client tests cannot work without it, so say how to get it. */
function runCaDir(): string {
  const dir = process.env.TRIAGE_TEST_CA_DIR;
  if (!dir || !process.env.NODE_EXTRA_CA_CERTS) {
    throw new Error(
      "The client tests need the CA made by test/clients/global-setup.ts; run them through vitest with vitest.config.ts (npx vitest run test/clients).",
    );
  }
  return dir;
}

export async function startHttpsTriage(config: Partial<ServerConfig> = {}): Promise<HttpsTriage> {
  const caDir = runCaDir();
  const dir = mkdtempSync(join(tmpdir(), "triage-client-test-"));
  mkdirSync(join(dir, "tls"), { mode: 0o700 });
  for (const file of ["ca.pem", "ca-key.pem"]) copyFileSync(join(caDir, file), join(dir, "tls", file));
  const material = await ensureLocalTls(dir, []);
  if (material.caCreated) throw new Error("ensureLocalTls did not reuse the run's CA");

  const testStore = await openTestStore(dir);
  const store = testStore.store;
  const tenantId = randomUUID();
  await createTenant(store.db, tenantId, "Client test tenant");
  const app = await buildServer({ store, tls: { key: material.key, cert: material.ca }, ...config });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  const host = `127.0.0.1:${port}`;
  const url = `https://${host}`;

  async function graph(method: string, path: string, token: string, body?: unknown) {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  return {
    url,
    hostname: "127.0.0.1",
    host,
    tenantId,
    authority: `${url}/${tenantId}`,
    store,
    app,
    async registerApp(opts = {}) {
      const client = await createApp(store.db, {
        tenantId,
        displayName: opts.name ?? "client-library test",
        appPermissions: opts.permissions ?? (opts.publicClient ? [] : ALL_APP_PERMISSIONS),
        publicClient: opts.publicClient ?? false,
      });
      if (opts.delegated) await requestPermissions(store.db, client.clientId, { delegated: opts.delegated });
      await grantAdminConsent(store.db, client.clientId);
      const secret = opts.publicClient ? undefined : (await addSecret(store.db, client.clientId)).secret;
      return { clientId: client.clientId, secret };
    },
    async addUser(upn, password, roles = ["Security Operator"]) {
      await createUser(store.db, { tenantId, upn, password, roles });
    },
    graph,
    async ingest(alerts, token) {
      const res = await graph("POST", "/ingest/alerts", token, { value: alerts });
      if (res.status !== 200) throw new Error(`ingest failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.value;
    },
    async close() {
      await app.close();
      await store.close();
      await testStore.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A certificate and its PEM private key (PKCS#8) for an app's client assertions: what an app owner
 * uploads to the app registration and keeps the key of.
 */
export async function clientCertificate(): Promise<{ certPem: string; keyPem: string }> {
  const caDir = runCaDir();
  return issueLeafCertificate({
    caCertPem: readFileSync(join(caDir, "ca.pem"), "utf8"),
    caKeyPem: readFileSync(join(caDir, "ca-key.pem"), "utf8"),
    hosts: ["client-app.test"],
  });
}
