/**
 * Signing in to Triage's token service as the tenant's web client: the authorization code flow with
 * PKCE (S256), as a public client, then refresh tokens (rotated on use). The session lives in
 * localStorage so that a link opened in a new tab is signed in too; signing out clears it in every tab.
 */
import type { WebConfig } from "../../src/web/contracts";
import { ADMIN_ROLE, MANAGE_PERMISSION, ROLE_IDS, WRITE_ROLES } from "./roles";
import { sha256 } from "./sha256";

export interface SessionUser {
  id: string;
  name: string;
  upn: string;
  roles: string[];
  scopes: string[];
}

export interface Session {
  tenantId: string;
  clientId: string;
  accessToken: string;
  refreshToken: string | null;
  /** Epoch milliseconds. */
  expiresAt: number;
  user: SessionUser;
}

interface Pending {
  state: string;
  verifier: string;
  tenantId: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  returnTo: string;
}

const SESSION_KEY = "triage.session";
const PENDING_KEY = "triage.signin";

// ── the session store, observable ─────────────────────────────────────────────────────────────

const listeners = new Set<() => void>();
let current: Session | null = read();

function read(): Session | null {
  try {
    const raw = localStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

function write(s: Session | null): void {
  current = s;
  if (s) localStorage.setItem(SESSION_KEY, JSON.stringify(s));
  else localStorage.removeItem(SESSION_KEY);
  for (const l of listeners) l();
}

window.addEventListener("storage", (e) => {
  if (e.key !== SESSION_KEY) return;
  current = read();
  for (const l of listeners) l();
});

export function subscribeSession(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function getSession(): Session | null {
  return current;
}

export function canWrite(s: Session | null): boolean {
  if (!s) return false;
  return s.user.roles.some((r) => WRITE_ROLES.includes(r)) && s.user.scopes.some((p) => p.endsWith(".ReadWrite.All"));
}

/**
 * Why the signed-in user may not merge incidents or move alerts, or null when they may: the API
 * wants SecurityData.Manage.All in the token and the Security Operator or Security Administrator role.
 */
export function manageRefusal(s: Session | null): string | null {
  if (!s) return "You are signed out.";
  if (!s.user.roles.some((r) => WRITE_ROLES.includes(r))) {
    return `Merging incidents and moving alerts needs the ${WRITE_ROLES.join(" or ")} role; you have ${s.user.roles.join(", ") || "no role"}.`;
  }
  if (!s.user.scopes.includes(MANAGE_PERMISSION)) {
    return `Merging incidents and moving alerts needs the ${MANAGE_PERMISSION} permission, which this tenant's web app registration lacks: an administrator can add it and grant consent (Admin, Apps, Triage web app), then you sign in again.`;
  }
  return null;
}

export function isAdmin(s: Session | null): boolean {
  return !!s && s.user.roles.includes(ADMIN_ROLE);
}

// ── helpers ─────────────────────────────────────────────────────────────────────────────────

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function challengeOf(verifier: string): Promise<string> {
  const data = new TextEncoder().encode(verifier);
  // crypto.subtle exists only in secure contexts (HTTPS, or loopback HTTP); fall back to a plain implementation.
  const digest = crypto.subtle ? new Uint8Array(await crypto.subtle.digest("SHA-256", data)) : sha256(data);
  return base64url(digest);
}

function claimsOf(jwt: string): Record<string, unknown> {
  const part = jwt.split(".")[1] ?? "";
  const json = decodeURIComponent(
    Array.from(atob(part.replace(/-/g, "+").replace(/_/g, "/")), (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""),
  );
  return JSON.parse(json) as Record<string, unknown>;
}

interface TokenResponse {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  error?: string;
  error_description?: string;
}

function sessionFrom(tenantId: string, clientId: string, body: TokenResponse): Session {
  if (!body.access_token) throw new Error(body.error_description ?? body.error ?? "The token service sent no access token.");
  const c = claimsOf(body.access_token);
  const wids = Array.isArray(c.wids) ? (c.wids as string[]) : [];
  return {
    tenantId,
    clientId,
    accessToken: body.access_token,
    refreshToken: body.refresh_token ?? null,
    expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000,
    user: {
      id: String(c.oid ?? ""),
      name: String(c.name ?? c.preferred_username ?? ""),
      upn: String(c.preferred_username ?? c.upn ?? ""),
      roles: wids.map((w) => ROLE_IDS[w.toLowerCase()]).filter((r): r is string => !!r),
      scopes: typeof c.scp === "string" ? c.scp.split(" ").filter(Boolean) : [],
    },
  };
}

async function postToken(tenantId: string, form: Record<string, string>): Promise<TokenResponse> {
  const res = await fetch(`/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  return (await res.json()) as TokenResponse;
}

// ── the flow ────────────────────────────────────────────────────────────────────────────────

export async function beginSignIn(opts: { tenantId: string; clientId: string; config: WebConfig; returnTo: string; loginHint?: string }): Promise<void> {
  const verifier = randomString(48);
  const pending: Pending = {
    state: randomString(16),
    verifier,
    tenantId: opts.tenantId,
    clientId: opts.clientId,
    redirectUri: `${location.origin}${opts.config.redirectPath}`,
    scope: opts.config.scope,
    returnTo: opts.returnTo,
  };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const q = new URLSearchParams({
    client_id: pending.clientId,
    response_type: "code",
    redirect_uri: pending.redirectUri,
    scope: pending.scope,
    state: pending.state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: "S256",
    response_mode: "query",
  });
  if (opts.loginHint) q.set("login_hint", opts.loginHint);
  location.assign(`/${encodeURIComponent(opts.tenantId)}/oauth2/v2.0/authorize?${q.toString()}`);
}

let completing: Promise<string> | null = null;

/** On /signin-callback: redeems the code (once, even if called twice) and answers where to go next. */
export function completeSignIn(search: string): Promise<string> {
  completing ??= (async () => {
    const q = new URLSearchParams(search);
    const raw = sessionStorage.getItem(PENDING_KEY);
    const pending = raw ? (JSON.parse(raw) as Pending) : null;
    if (q.get("error")) throw new Error(q.get("error_description") ?? q.get("error") ?? "Sign-in failed.");
    if (!pending || q.get("state") !== pending.state) throw new Error("This sign-in response does not match a sign-in started here. Please sign in again.");
    const code = q.get("code");
    if (!code) throw new Error("The sign-in response has no authorization code.");
    sessionStorage.removeItem(PENDING_KEY);
    const body = await postToken(pending.tenantId, {
      grant_type: "authorization_code",
      client_id: pending.clientId,
      code,
      redirect_uri: pending.redirectUri,
      code_verifier: pending.verifier,
      scope: pending.scope,
    });
    write(sessionFrom(pending.tenantId, pending.clientId, body));
    return pending.returnTo || "/incidents";
  })();
  return completing;
}

let refreshing: Promise<Session | null> | null = null;

/** A new access token from the refresh token; null (signed out) when that is no longer possible. */
export function refresh(): Promise<Session | null> {
  refreshing ??= (async () => {
    const s = current;
    if (!s?.refreshToken) return null;
    // Another tab may have refreshed already (the refresh token rotates on use).
    const stored = read();
    if (stored && stored.accessToken !== s.accessToken && stored.expiresAt - Date.now() > 60_000) {
      write(stored);
      return stored;
    }
    const body = await postToken(s.tenantId, { grant_type: "refresh_token", client_id: s.clientId, refresh_token: s.refreshToken });
    if (!body.access_token) {
      const again = read();
      if (again && again.refreshToken !== s.refreshToken && again.expiresAt > Date.now()) {
        write(again);
        return again;
      }
      write(null);
      return null;
    }
    const next = sessionFrom(s.tenantId, s.clientId, body);
    write(next);
    return next;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** A valid access token, refreshed a minute before it expires. */
export async function accessToken(): Promise<string | null> {
  const s = current;
  if (!s) return null;
  if (s.expiresAt - Date.now() > 60_000) return s.accessToken;
  return (await refresh())?.accessToken ?? null;
}

export function signOut(): void {
  const s = current;
  write(null);
  sessionStorage.removeItem(PENDING_KEY);
  // The token service returns only to a URI registered for the client it is told about.
  const q = s ? new URLSearchParams({ client_id: s.clientId, post_logout_redirect_uri: `${location.origin}/` }) : null;
  if (s && q) location.assign(`/${encodeURIComponent(s.tenantId)}/oauth2/v2.0/logout?${q.toString()}`);
  else location.assign("/");
}
