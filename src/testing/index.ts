/**
 * `import { startTriage } from "triage/testing"`: an ephemeral Triage for a test suite (a fresh store in
 * a temporary folder, a free port, a tenant with an app per kind of access), in this process or as a
 * child process, with the helpers a test needs. docs/testing.md has the recipes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startEphemeral, type EphemeralAppName, type EphemeralInfo } from "../cli/ephemeral.js";
import type { ControlReply, ControlRequest } from "../cli/serve-ephemeral.js";
import type { SeedSummary } from "../cli/seed-store.js";
import type { AuditEntry } from "../schema/triage-api.js";
import type { IngestResult } from "../domain/ingest/result.js";
import type { FaultConfigInput, FaultEvent } from "../schema/faults.js";
import type { FaultConfigView } from "../triage-api/faults.js";
import { send, type HttpAnswer } from "./http.js";

export type { EphemeralApp, EphemeralAppName, EphemeralInfo } from "../cli/ephemeral.js";
export type { SeedSummary } from "../cli/seed-store.js";
export type { AuditEntry } from "../schema/triage-api.js";
export type { IngestResult } from "../domain/ingest/result.js";
export type { HttpAnswer } from "./http.js";
export type { FaultConfigInput, FaultEvent } from "../schema/faults.js";
export type { FaultConfigView } from "../triage-api/faults.js";

export interface StartTriageOptions {
  /**
   * "in-process" (the default) runs Triage in this process; "child-process" runs `triage serve
   * --ephemeral` beside it (its own event loop and memory; it stops if this process dies).
   */
  mode?: "in-process" | "child-process";
  /** Plain HTTP instead of HTTPS with a local CA (the Microsoft client libraries refuse HTTP). */
  http?: boolean;
  /** Triage's log level (pino's levels); "silent" by default in process, "warn" on a child's stderr. */
  logLevel?: string;
  /**
   * A folder with a CA (`ca.pem`, `ca-key.pem`) to issue the server certificate from, instead of a new
   * CA: trust it from the test process's start (NODE_EXTRA_CA_CERTS) and client libraries reach Triage.
   */
  caDir?: string;
  /** How long a child process may take to say it listens (default 60 s). */
  startTimeoutMs?: number;
}

export interface RequestOptions {
  /** Which app's token goes with the request (default "readWrite"); null sends none. */
  app?: EphemeralAppName | null;
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface TriageTestServer {
  /** URLs, tenant, apps and secrets, CA file: what `triage serve --ephemeral --json` prints. */
  info: EphemeralInfo;
  /** `info.url`: the base URL. */
  url: string;
  tenantId: string;
  /**
   * Environment variables for a process that talks to this Triage (a Python or .NET test, a CLI):
   * TRIAGE_URL, TRIAGE_AUTHORITY, TRIAGE_TENANT_ID, TRIAGE_CLIENT_ID and TRIAGE_CLIENT_SECRET (the
   * read-write app), and over HTTPS the CA for Node (NODE_EXTRA_CA_CERTS), Python requests
   * (REQUESTS_CA_BUNDLE) and OpenSSL (SSL_CERT_FILE).
   */
  env: Record<string, string>;
  /** An app-only access token of one of the apps (default "readWrite"), from the token endpoint. */
  token(app?: EphemeralAppName): Promise<string>;
  /** A request to Triage with an app's token; the answer's JSON parsed. Never throws on an HTTP status. */
  request<T = unknown>(method: string, path: string, opts?: RequestOptions): Promise<HttpAnswer<T>>;
  /** POST /ingest/alerts (Graph alerts); where each alert went. Throws unless Triage answers 200. */
  ingest(alerts: unknown | unknown[]): Promise<IngestResult[]>;
  /** Generated, realistic alerts through the ingestion path (default 20 incidents' worth, seed "triage-test"). */
  seed(opts?: { incidents?: number; seed?: string }): Promise<SeedSummary>;
  /** Removes every incident, alert, audit entry and subscription; apps, secrets and users stay, and the next incident is 1. */
  reset(): Promise<void>;
  /**
   * Sets (replaces) the fault rules of the tenant, or with `{ app }` of one app (`"read"`, `"readWrite"`,
   * `"merge"`, `"hunting"`, or a client id of the tenant), as `PUT /triage/admin/faults` takes them
   * (docs/testing-faults.md); `null` clears them. They apply from the next request. Resolves to the
   * configuration as stored (its seed, chosen when absent, included), or null when cleared; rejects
   * a configuration the admin API would refuse.
   */
  setFaults(config: FaultConfigInput | null, opts?: { app?: EphemeralAppName | string }): Promise<FaultConfigView | null>;
  /** Clears the fault rules of the tenant, or with `{ app }` of one app (the same as `setFaults(null, opts)`). */
  clearFaults(opts?: { app?: EphemeralAppName | string }): Promise<void>;
  /** The faults injected so far (the newest 10,000), oldest first; with `{ app }` only that app's requests'. */
  faultEvents(opts?: { app?: EphemeralAppName | string }): Promise<FaultEvent[]>;
  /** The whole audit trail of an incident or an alert, oldest first. */
  audit(entity: "incident" | "alert", id: string | number): Promise<AuditEntry[]>;
  /** Stops Triage and removes its folder. */
  stop(): Promise<void>;
}

/** The most audit pages `audit()` follows (each up to 500 entries). */
const MAX_AUDIT_PAGES = 100;
const BIN = fileURLToPath(new URL("../../bin/triage.js", import.meta.url));

interface Backend {
  info: EphemeralInfo;
  seed(o: { incidents?: number; seed?: string }): Promise<SeedSummary>;
  reset(): Promise<void>;
  setFaults(config: FaultConfigInput | null, clientId: string | undefined): Promise<FaultConfigView | null>;
  faultEvents(clientId: string | undefined): Promise<FaultEvent[]>;
  stop(): Promise<void>;
}

async function inProcess(o: StartTriageOptions): Promise<Backend> {
  const level = o.logLevel ?? "silent";
  const eph = await startEphemeral({ http: o.http, caDir: o.caDir, logger: level === "silent" ? false : { level } });
  // A suite that forgets stop() still leaves no folder behind.
  const removeFolder = () => rmSync(eph.info.dataDir, { recursive: true, force: true });
  process.on("exit", removeFolder);
  return {
    info: eph.info,
    seed: (s) => eph.seed(s),
    reset: () => eph.reset(),
    setFaults: (config, clientId) => eph.setFaults(config, clientId),
    faultEvents: (clientId) => eph.faultEvents(clientId),
    stop: async () => {
      process.off("exit", removeFolder);
      await eph.close();
    },
  };
}

/** A control request before it is numbered (Omit over each member of the union). */
type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

/** The last bytes a child wrote to stderr, for the error when it fails. */
function tail(text: string, max = 8192): string {
  return text.length > max ? text.slice(-max) : text;
}

async function childProcess(o: StartTriageOptions): Promise<Backend> {
  const args = [
    BIN,
    "serve",
    "--ephemeral",
    "--json",
    "--log-level",
    o.logLevel ?? "warn",
    ...(o.http ? ["--http"] : []),
    ...(o.caDir ? ["--ca-dir", o.caDir] : []),
  ];
  // The young generation's bound that bin/triage.js gives a server on Node 24 by starting again, which
  // it cannot do over the IPC channel (docs/operations.md#memory); Node 20 and 22 have it already.
  const child: ChildProcess = spawn(process.execPath, ["--max-semi-space-size=16", ...args], { stdio: ["ignore", "pipe", "pipe", "ipc"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr = tail(stderr + d)));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const pending = new Map<number, { resolve(r: ControlReply): void; reject(e: Error): void }>();
  let nextId = 1;
  child.on("message", (m: ControlReply) => {
    pending.get(m.id)?.resolve(m);
    pending.delete(m.id);
  });
  void exited.then((code) => {
    for (const p of pending.values()) p.reject(new Error(`Triage exited (${code}) before answering:\n${stderr}`));
    pending.clear();
  });

  const info = await new Promise<EphemeralInfo>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`triage serve --ephemeral did not start within ${o.startTimeoutMs ?? 60_000} ms:\n${stderr}`));
    }, o.startTimeoutMs ?? 60_000);
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const end = out.indexOf("\n");
      if (end < 0) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.slice(0, end)) as EphemeralInfo);
      } catch (e) {
        child.kill("SIGKILL");
        reject(new Error(`triage serve --ephemeral printed something other than JSON: ${out.slice(0, 200)}`, { cause: e }));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`triage serve --ephemeral exited (${code}):\n${stderr}`));
    });
  });

  async function control(req: WithoutId<ControlRequest>): Promise<unknown> {
    const id = nextId++;
    const reply = await new Promise<ControlReply>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      child.send({ ...req, id });
    });
    if (!reply.ok) throw new Error(`Triage refused ${req.op}: ${reply.error}`);
    return reply.result;
  }

  let stopping: Promise<void> | undefined;
  return {
    info,
    seed: async (s) => (await control({ op: "seed", ...s })) as SeedSummary,
    reset: async () => {
      await control({ op: "reset" });
    },
    setFaults: async (config, clientId) =>
      (await control({ op: "setFaults", config, ...(clientId === undefined ? {} : { clientId }) })) as FaultConfigView | null,
    faultEvents: async (clientId) => (await control({ op: "faultEvents", ...(clientId === undefined ? {} : { clientId }) })) as FaultEvent[],
    stop: () =>
      (stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        const code = await exited;
        clearTimeout(killer);
        // Killed outright, the child could not remove its folder.
        rmSync(info.dataDir, { recursive: true, force: true });
        if (code !== 0 && code !== null) throw new Error(`Triage exited with ${code}:\n${stderr}`);
      })()),
  };
}

/**
 * Starts an ephemeral Triage and resolves once it answers: a fresh SQLite store in a temporary folder,
 * a free port on 127.0.0.1, a tenant with apps `read`, `readWrite`, `merge` and `hunting`, a public client
 * and a Security Operator user. Call `stop()` when done (an `afterAll`).
 */
export async function startTriage(options: StartTriageOptions = {}): Promise<TriageTestServer> {
  const backend = options.mode === "child-process" ? await childProcess(options) : await inProcess(options);
  const { info } = backend;
  const ca = info.caFile ? readFileSync(info.caFile, "utf8") : undefined;
  const tokens = new Map<EphemeralAppName, Promise<string>>();

  async function fetchToken(app: EphemeralAppName): Promise<string> {
    const creds = info.apps[app];
    if (!creds) throw new Error(`No app ${JSON.stringify(app)}: one of ${Object.keys(info.apps).join(", ")}`);
    const res = await send<{ access_token?: string }>(info.tokenUrl, {
      method: "POST",
      ca,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: creds.clientId,
        client_secret: creds.clientSecret,
        scope: info.scope,
      }).toString(),
    });
    if (res.status !== 200 || !res.body.access_token) throw new Error(`Triage gave no token to the ${app} app: ${res.status} ${res.text}`);
    return res.body.access_token;
  }

  function token(app: EphemeralAppName = "readWrite"): Promise<string> {
    let t = tokens.get(app);
    if (!t) {
      // Tokens live an hour; one per app serves a test run. A failed request is not remembered.
      t = fetchToken(app);
      t.catch(() => tokens.delete(app));
      tokens.set(app, t);
    }
    return t;
  }

  async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<HttpAnswer<T>> {
    const app = opts.app === undefined ? "readWrite" : opts.app;
    const headers: Record<string, string> = { ...opts.headers };
    if (app !== null) headers.authorization ??= `Bearer ${await token(app)}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["content-type"] ??= "application/json";
    }
    return send<T>(info.url + path, { method, ca, headers, body });
  }

  /** An app's name, or a client id as given. */
  const clientIdOf = (app: EphemeralAppName | string | undefined): string | undefined =>
    app === undefined ? undefined : Object.hasOwn(info.apps, app) ? info.apps[app as EphemeralAppName].clientId : app;

  const env: Record<string, string> = {
    TRIAGE_URL: info.url,
    TRIAGE_AUTHORITY: info.authority,
    TRIAGE_TENANT_ID: info.tenantId,
    TRIAGE_CLIENT_ID: info.apps.readWrite.clientId,
    TRIAGE_CLIENT_SECRET: info.apps.readWrite.clientSecret,
    ...(info.caFile ? { NODE_EXTRA_CA_CERTS: info.caFile, REQUESTS_CA_BUNDLE: info.caFile, SSL_CERT_FILE: info.caFile } : {}),
  };

  return {
    info,
    url: info.url,
    tenantId: info.tenantId,
    env,
    token,
    request,
    async ingest(alerts) {
      const res = await request<{ value: IngestResult[] }>("POST", "/ingest/alerts", { body: { value: Array.isArray(alerts) ? alerts : [alerts] } });
      if (res.status !== 200) throw new Error(`ingestion answered ${res.status}: ${res.text}`);
      return res.body.value;
    },
    seed: (s = {}) => backend.seed(s),
    reset: () => backend.reset(),
    setFaults: (config, opts = {}) => backend.setFaults(config, clientIdOf(opts.app)),
    async clearFaults(opts = {}) {
      await backend.setFaults(null, clientIdOf(opts.app));
    },
    faultEvents: (opts = {}) => backend.faultEvents(clientIdOf(opts.app)),
    async audit(entity, id) {
      const entries: AuditEntry[] = [];
      let path: string | undefined = `/triage/${entity === "incident" ? "incidents" : "alerts"}/${encodeURIComponent(String(id))}/audit?top=500`;
      for (let page = 0; path && page < MAX_AUDIT_PAGES; page++) {
        const res: HttpAnswer<{ value: AuditEntry[]; nextLink?: string }> = await request("GET", path);
        if (res.status !== 200) throw new Error(`the audit trail of ${entity} ${id} answered ${res.status}: ${res.text}`);
        entries.push(...res.body.value);
        path = res.body.nextLink;
      }
      return entries;
    },
    stop: () => backend.stop(),
  };
}
