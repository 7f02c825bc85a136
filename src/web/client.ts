import { createHash } from "node:crypto";
import type { Db } from "../store/tables.js";
import { createApp, findApp, grantAdminConsent, type App } from "../identity/directory.js";
import { listTenants } from "../store/tenants.js";

/**
 * Triage's web app signs users in as a first-party public client of each tenant (authorization code
 * with PKCE), like any other app: it has a registration, consented delegated permissions, and the
 * signed-in user's Entra role decides what it may do.
 */
export const WEB_CLIENT_NAME = "Triage web app";
/** The redirect URI the web app registers: a path, which the authorize endpoint matches on its own origin. */
export const WEB_REDIRECT_PATH = "/signin-callback";
/** Read and change incidents and alerts; merge incidents and move alerts (SecurityData.Manage.All); hunt (ThreatHunting.Read.All). */
export const WEB_DELEGATED_PERMISSIONS = ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All", "SecurityData.Manage.All", "ThreatHunting.Read.All"];
/** What the web app asks the token endpoint for: every consented delegated permission, an id token, a refresh token. */
export const WEB_SCOPE = "https://graph.microsoft.com/.default openid profile offline_access";

/**
 * The web client's id in a tenant: derived from the tenant id (a name-based UUID, version 8), so it
 * is the same on every node and every start, and creating it is idempotent.
 */
export function webClientId(tenantId: string): string {
  const h = createHash("sha256").update(`triage-web-app:${tenantId.toLowerCase()}`).digest("hex").split("");
  h[12] = "8";
  h[16] = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  const s = h.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

export function isWebClient(app: Pick<App, "clientId" | "tenantId">): boolean {
  return app.clientId === webClientId(app.tenantId);
}

/**
 * Registers the tenant's web client when it is missing, with its delegated permissions consented.
 * An existing registration is left as it is (an administrator's later changes stand).
 */
export async function ensureWebClient(db: Db, tenantId: string): Promise<App> {
  const clientId = webClientId(tenantId);
  const existing = await findApp(db, clientId);
  if (existing) return existing;
  try {
    const app = await createApp(db, {
      tenantId,
      clientId,
      displayName: WEB_CLIENT_NAME,
      publicClient: true,
      redirectUris: [WEB_REDIRECT_PATH],
      delegatedPermissions: WEB_DELEGATED_PERMISSIONS,
    });
    await grantAdminConsent(db, app.clientId);
    return app;
  } catch (e) {
    // Another node registered it at the same moment.
    const raced = await findApp(db, clientId);
    if (raced) return raced;
    throw e;
  }
}

/** The web client of every tenant in the store (at `serve` start). */
export async function ensureWebClients(db: Db): Promise<void> {
  for (const t of await listTenants(db)) await ensureWebClient(db, t.id);
}
