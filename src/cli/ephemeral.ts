/**
 * A throwaway Triage for a test suite: a fresh SQLite store in a temporary folder, one tenant with an app
 * per kind of access, a free port, and everything removed when it stops. `triage serve --ephemeral`
 * and `startTriage` from `triage/testing` both start it.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import { buildServer, DEFAULT_TOKEN_LIFETIME_SECONDS } from "../server.js";
import type { Profile } from "../schema/profile.js";
import { openSqliteStore, type Store } from "../store/open.js";
import { createTenant } from "../store/tenants.js";
import { resetTenantData } from "../store/reset.js";
import { ensureLocalTls } from "../identity/tls.js";
import { KeyEncryption } from "../identity/key-encryption.js";
import { KeyRing } from "../identity/keys.js";
import { makeRsaKeysAhead } from "../identity/rsa-keys.js";
import { addSecret, createApp, createUser, grantAdminConsent } from "../identity/directory.js";
import { ensureWebClient } from "../web/client.js";
import { DEMO_END } from "../seed/demo-tenant.js";
import { CallerSettings } from "../http/caller-settings.js";
import { DEFAULT_PROFILE } from "../schema/profile.js";
import { clearFaultConfig, FAULT_EVENTS_KEPT, listFaultEvents, setFaultConfig, TENANT_SCOPE } from "../store/faults.js";
import { findApp } from "../identity/directory.js";
import { graphRouteTemplates } from "../permissions/catalog.js";
import { parseFaultConfig, type FaultEvent } from "../schema/faults.js";
import { GraphError } from "../errors/graph-error.js";
import { configView, type FaultConfigView } from "../triage-api/faults.js";
import { seedStore, type SeedSummary } from "./seed-store.js";

/** The scope a client asks for to get an app-only token for Graph. */
export const GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default";

/** The confidential apps an ephemeral Triage registers, each consented for these application permissions. */
export const EPHEMERAL_APPS = {
  /** Reads incidents and alerts. */
  read: ["SecurityIncident.Read.All", "SecurityAlert.Read.All"],
  /** Reads and changes incidents and alerts, and ingests alerts. */
  readWrite: ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"],
  /** Merges incidents and moves alerts (mergeIncidents, moveAlerts). */
  merge: ["SecurityData.Manage.All"],
  /** Runs advanced hunting queries. */
  hunting: ["ThreatHunting.Read.All"],
} as const;

export type EphemeralAppName = keyof typeof EPHEMERAL_APPS;

export interface EphemeralApp {
  clientId: string;
  clientSecret: string;
  /** The application permissions it is consented for. */
  permissions: string[];
}

/** What a test needs to reach an ephemeral Triage: the line `triage serve --ephemeral --json` prints. */
export interface EphemeralInfo {
  /** Base URL: `https://127.0.0.1:{port}` (or `http://` with --http). */
  url: string;
  /** The Graph base URL clients are given: `{url}/v1.0`. */
  graphUrl: string;
  /** The authority for MSAL and @azure/identity: `{url}/{tenantId}`. */
  authority: string;
  /** The token endpoint: `{authority}/oauth2/v2.0/token`. */
  tokenUrl: string;
  /** The scope for app-only tokens. */
  scope: string;
  tenantId: string;
  /** The local CA's certificate (PEM) to trust: NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE; null over HTTP. */
  caFile: string | null;
  /** The temporary folder holding the store and the CA; removed when the server stops. */
  dataDir: string;
  /** The process serving it. */
  pid: number;
  apps: Record<EphemeralAppName, EphemeralApp>;
  /** A public client (device code, authorization code with PKCE, password) with delegated read-write permissions. */
  publicClient: { clientId: string; permissions: string[] };
  /** A Security Operator who can sign in through the public client. */
  user: { upn: string; password: string; roles: string[] };
}

export interface EphemeralOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Plain HTTP instead of HTTPS with a local CA. */
  http?: boolean;
  /**
   * A folder holding a CA (`ca.pem`, `ca-key.pem`, as in a data folder's `tls/`) to issue the server
   * certificate from, instead of a new CA: a suite that trusts one CA from its start (NODE_EXTRA_CA_CERTS)
   * can then reach every ephemeral Triage it starts.
   */
  caDir?: string;
  logger?: FastifyServerOptions["logger"];
  /** How strictly the Graph surface reads requests (schema/profile.ts); lenient when absent. */
  profile?: Profile | undefined;
}

export interface Ephemeral {
  info: EphemeralInfo;
  store: Store;
  app: FastifyInstance;
  seed(o?: { incidents?: number; seed?: string }): Promise<SeedSummary>;
  reset(): Promise<void>;
  /**
   * Sets (replaces) the fault configuration of the tenant, or of one of its apps (`clientId`), checked
   * as the admin API checks it; null clears it. It applies from the next request (docs/testing-faults.md).
   * What was stored, or null when cleared.
   */
  setFaults(config: unknown, clientId?: string): Promise<FaultConfigView | null>;
  /** The faults injected in the tenant (the newest FAULT_EVENTS_KEPT are kept), oldest first; optionally one app's. */
  faultEvents(clientId?: string): Promise<FaultEvent[]>;
  /** Stops the server, closes the store and removes the folder; safe to call twice. */
  close(): Promise<void>;
}

const PUBLIC_CLIENT_PERMISSIONS = ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"];
const USER_ROLES = ["Security Operator"];

/** Registers an app consented for `permissions`, with a secret. */
async function confidentialApp(store: Store, tenantId: string, name: string, permissions: readonly string[]): Promise<EphemeralApp> {
  const app = await createApp(store.db, { tenantId, displayName: `Test ${name}`, appPermissions: [...permissions] });
  await grantAdminConsent(store.db, app.clientId);
  // One year: a suite that keeps a server running over a long day never sees its secret expire.
  // Its secret is made here (~200 random bits) and lives as long as the folder: a cheaper hash is safe (identity/hash.ts).
  const { secret } = await addSecret(store.db, app.clientId, 365, undefined, "generated");
  return { clientId: app.clientId, clientSecret: secret, permissions: [...permissions] };
}

/**
 * Starts an ephemeral Triage. What costs time runs side by side on the thread pool: the three RSA keys
 * (the CA's, the server certificate's, the token signing key; `triage serve --ephemeral` starts them
 * before its modules load, cli/early.ts) are made while the store opens and the apps are registered,
 * and the secrets and the password are hashed at once (with the cheaper cost of hash.ts: they are
 * generated, high-entropy and thrown away with the folder). Nothing else is warmed up before the server answers.
 */
export async function startEphemeral(o: EphemeralOptions = {}): Promise<Ephemeral> {
  const dataDir = mkdtempSync(join(tmpdir(), "triage-ephemeral-"));
  let store: Store | undefined;
  let app: FastifyInstance | undefined;
  const remove = () => rmSync(dataDir, { recursive: true, force: true });
  try {
    // The keys made ahead, if the command line started none (startTriage in process).
    makeRsaKeysAhead((o.http ? 0 : o.caDir ? 1 : 2) + 1);
    if (o.caDir && !o.http) {
      mkdirSync(join(dataDir, "tls"), { mode: 0o700 });
      for (const file of ["ca.pem", "ca-key.pem"]) copyFileSync(join(o.caDir, file), join(dataDir, "tls", file));
    }
    const tls = o.http ? Promise.resolve(null) : ensureLocalTls(dataDir, []);
    // A failure here must not leave the key generation unobserved.
    tls.catch(() => undefined);
    // Removed on exit: its commits need not wait for the disk.
    store = await openSqliteStore(join(dataDir, "triage.db"), { throwaway: true });
    // The signing keys live only as long as the folder: a key in memory seals them.
    const keyEncryption = new KeyEncryption(randomBytes(32));
    const tenantId = randomUUID();
    await createTenant(store.db, tenantId, "Test tenant");
    const s = store;
    const password = `Test-${randomBytes(12).toString("base64url")}`;
    const upn = "analyst@test.triage";
    const [read, readWrite, merge, hunting, publicClient] = await Promise.all([
      confidentialApp(s, tenantId, "read", EPHEMERAL_APPS.read),
      confidentialApp(s, tenantId, "read-write", EPHEMERAL_APPS.readWrite),
      confidentialApp(s, tenantId, "merge", EPHEMERAL_APPS.merge),
      confidentialApp(s, tenantId, "hunting", EPHEMERAL_APPS.hunting),
      (async () => {
        const pub = await createApp(s.db, {
          tenantId,
          displayName: "Test public client",
          publicClient: true,
          redirectUris: ["http://localhost"],
          delegatedPermissions: PUBLIC_CLIENT_PERMISSIONS,
        });
        await grantAdminConsent(s.db, pub.clientId);
        return { clientId: pub.clientId, permissions: PUBLIC_CLIENT_PERMISSIONS };
      })(),
      createUser(s.db, { tenantId, upn, displayName: "Test analyst", password, roles: USER_ROLES, passwordCost: "generated" }),
      ensureWebClient(s.db, tenantId),
      // The token signing key, made now rather than on the first token request.
      new KeyRing(s.db, DEFAULT_TOKEN_LIFETIME_SECONDS, undefined, keyEncryption).rotate(),
    ]);
    const material = await tls;
    // Kept here so that setFaults applies at once, not when the cache next expires.
    const settings = new CallerSettings(store, o.profile ?? DEFAULT_PROFILE);
    app = await buildServer({
      settings,
      store,
      tls: material ? { key: material.key, cert: material.ca } : undefined,
      keyEncryption,
      logger: o.logger ?? false,
      profile: o.profile,
    });
    const address = await app.listen({ host: o.host ?? "127.0.0.1", port: o.port ?? 0 });
    const url = address.replace("://0.0.0.0", "://127.0.0.1").replace("://[::]", "://[::1]");
    const authority = `${url}/${tenantId}`;
    const info: EphemeralInfo = {
      url,
      graphUrl: `${url}/v1.0`,
      authority,
      tokenUrl: `${authority}/oauth2/v2.0/token`,
      scope: GRAPH_DEFAULT_SCOPE,
      tenantId,
      caFile: material?.caPath ?? null,
      dataDir,
      pid: process.pid,
      apps: { read, readWrite, merge, hunting },
      publicClient,
      user: { upn, password, roles: USER_ROLES },
    };
    let closing: Promise<void> | undefined;
    const opened = { store, app };
    const scopeOf = async (clientId: string | undefined) => {
      if (clientId === undefined) return TENANT_SCOPE;
      const found = await findApp(opened.store.db, clientId);
      if (!found || found.tenantId !== tenantId) throw new Error(`No app with client id ${JSON.stringify(clientId)} in the test tenant.`);
      return found.clientId;
    };
    return {
      info,
      store,
      app,
      seed: (run = {}) => seedStore(opened.store, { tenantId, incidents: run.incidents ?? 20, seed: run.seed ?? "triage-test", end: DEMO_END }),
      reset: () => resetTenantData(opened.store.db, tenantId),
      async setFaults(config, clientId) {
        const scope = await scopeOf(clientId);
        try {
          if (config === null) {
            await clearFaultConfig(opened.store.db, tenantId, scope);
            return null;
          }
          let parsed;
          try {
            parsed = parseFaultConfig(config, graphRouteTemplates());
          } catch (e) {
            // The admin API's 400, as an error a test shows.
            if (e instanceof GraphError) throw new Error(`Triage refused the fault configuration: ${e.message}`);
            throw e;
          }
          return configView(await setFaultConfig(opened.store.db, tenantId, scope, parsed, "triage/testing"));
        } finally {
          settings.forget(tenantId);
        }
      },
      faultEvents: async (clientId) =>
        listFaultEvents(opened.store.db, tenantId, { clientId: clientId === undefined ? undefined : await scopeOf(clientId), limit: FAULT_EVENTS_KEPT }),
      close: () =>
        (closing ??= (async () => {
          try {
            await opened.app.close();
            await opened.store.close();
          } finally {
            remove();
          }
        })()),
    };
  } catch (e) {
    await app?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    remove();
    throw e;
  }
}
