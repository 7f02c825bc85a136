import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { buildServer, type ServerConfig } from "../../src/server.js";
import type { Store } from "../../src/store/open.js";
import { openTestStore } from "./stores.js";
import { createTenant } from "../../src/store/tenants.js";
import { addSecret, createApp, grantAdminConsent } from "../../src/identity/directory.js";
import { defaultKeyFile, resolveKeyEncryption, type KeyEncryption } from "../../src/identity/key-encryption.js";

/** The app the tests call as: it may read and write incidents and alerts. */
export const TEST_APP = "test-automation";
export const ALL_PERMISSIONS = ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"];

export interface Response<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestTriage {
  url: string;
  tenantId: string;
  store: Store;
  dir: string;
  /** CLI arguments that open this server's store (`--data DIR` or `--db URL`). */
  storeArgs: string[];
  /** The key sealing the signing keys in the store: DIR/keys/master.key, where the CLI finds it with `--data DIR`. */
  keyEncryption: KeyEncryption;
  app: FastifyInstance;
  /**
   * Real HTTP to the running server, with a token of the test app in the default tenant unless the
   * headers carry their own `authorization` ("" sends none).
   */
  request<T = any>(method: string, path: string, opts?: { body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<Response<T>>;
  get<T = any>(path: string, headers?: Record<string, string>): Promise<Response<T>>;
  ingest(alerts: unknown[], tenantId?: string): Promise<Response>;
  newTenant(): Promise<string>;
  /** An app-only access token for a tenant, from the server's own token endpoint. */
  tokenFor(tenantId: string, permissions?: string[]): Promise<string>;
  /** Authorization headers for a tenant (full permissions unless given). */
  auth(tenantId: string, permissions?: string[]): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/**
 * A real Triage listening on loopback, on a temporary SQLite file or (TRIAGE_TEST_STORE=postgres) a
 * fresh PostgreSQL database.
 */
export async function startTriage(config: Partial<ServerConfig> = {}): Promise<TestTriage> {
  const dir = mkdtempSync(join(tmpdir(), "triage-test-"));
  const testStore = await openTestStore(dir);
  const store = testStore.store;
  const tenantId = randomUUID();
  await createTenant(store.db, tenantId, "Test tenant");
  const keyEncryption = resolveKeyEncryption({ defaultFile: defaultKeyFile(dir) }).encryption;
  const app = await buildServer({ store, keyEncryption, ...config });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;

  const tokens = new Map<string, string>();
  async function tokenFor(tenant: string, permissions = ALL_PERMISSIONS): Promise<string> {
    const key = `${tenant}|${permissions.join(",")}`;
    const cached = tokens.get(key);
    if (cached) return cached;
    const client = await createApp(store.db, { tenantId: tenant, displayName: TEST_APP, appPermissions: permissions });
    await grantAdminConsent(store.db, client.clientId);
    const { secret } = await addSecret(store.db, client.clientId);
    const res = await fetch(`${url}/${tenant}/oauth2/v2.0/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: client.clientId,
        client_secret: secret,
        scope: "https://graph.microsoft.com/.default",
      }),
    });
    const body = (await res.json()) as { access_token?: string };
    if (!body.access_token) throw new Error(`no token: ${JSON.stringify(body)}`);
    tokens.set(key, body.access_token);
    return body.access_token;
  }

  async function request(method: string, path: string, opts: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...opts.headers };
    if (headers.authorization === undefined) headers.authorization = `Bearer ${await tokenFor(tenantId)}`;
    if (headers.authorization === "") delete headers.authorization;
    let body: string | undefined = opts.rawBody;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["content-type"] ??= "application/json";
    }
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get("content-type") ?? "").startsWith("application/json") && text) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as any, text };
  }

  const t: TestTriage = {
    url,
    tenantId,
    store,
    dir,
    storeArgs: testStore.location.startsWith("postgres") ? ["--db", testStore.location, "--data", dir] : ["--data", dir],
    keyEncryption,
    app,
    request,
    get: (path, headers) => request("GET", path, { headers }),
    ingest: async (alerts, tenant) =>
      request("POST", "/ingest/alerts", { body: { value: alerts }, headers: tenant ? { authorization: `Bearer ${await tokenFor(tenant)}` } : {} }),
    async newTenant() {
      const id = randomUUID();
      await createTenant(store.db, id, "Other tenant");
      return id;
    },
    tokenFor,
    auth: async (tenant, permissions) => ({ authorization: `Bearer ${await tokenFor(tenant, permissions)}` }),
    async close() {
      await app.close();
      await store.close().catch(() => undefined);
      await testStore.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}
