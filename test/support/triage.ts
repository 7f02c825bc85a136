import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { buildServer, type ServerConfig } from "../../src/server.js";
import { openSqliteStore, type Store } from "../../src/store/open.js";
import { createTenant } from "../../src/store/tenants.js";

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
  app: FastifyInstance;
  /** Real HTTP to the running server, as the default tenant unless headers say otherwise. */
  request<T = any>(method: string, path: string, opts?: { body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<Response<T>>;
  get<T = any>(path: string, headers?: Record<string, string>): Promise<Response<T>>;
  ingest(alerts: unknown[], tenantId?: string): Promise<Response>;
  newTenant(): Promise<string>;
  close(): Promise<void>;
}

/** A real Triage on a temporary SQLite file, listening on loopback. */
export async function startTriage(config: Partial<ServerConfig> = {}): Promise<TestTriage> {
  const dir = mkdtempSync(join(tmpdir(), "triage-test-"));
  const store = await openSqliteStore(join(dir, "triage.db"));
  const tenantId = randomUUID();
  await createTenant(store.db, tenantId, "Test tenant");
  const app = await buildServer({ store, defaultTenant: tenantId, ...config });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;

  async function request(method: string, path: string, opts: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...opts.headers };
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
    app,
    request,
    get: (path, headers) => request("GET", path, { headers }),
    ingest: (alerts, tenant) => request("POST", "/ingest/alerts", { body: { value: alerts }, headers: tenant ? { "x-triage-tenant": tenant } : {} }),
    async newTenant() {
      const id = randomUUID();
      await createTenant(store.db, id, "Other tenant");
      return id;
    },
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}
