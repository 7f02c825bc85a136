import { createHash, randomBytes, randomUUID } from "node:crypto";
import { decodeJwt, type JWTPayload } from "jose";
import { expect } from "vitest";
import { addSecret, createApp, createUser, grantAdminConsent, type App } from "../../src/identity/directory.js";
import type { TestTriage } from "./triage.js";

/**
 * Driving Triage's token service the way clients do: form-encoded POSTs to the per-tenant endpoints,
 * HTML sign-in forms read and posted back as a browser would, and apps and users set up in the
 * directory for each test.
 */

export const GRAPH_DEFAULT = "https://graph.microsoft.com/.default";
export const ROLES = ["Security Reader", "Global Reader", "Security Operator", "Security Administrator"] as const;

export interface HttpResult {
  status: number;
  headers: Headers;
  /** Parsed JSON when the response is JSON, the text otherwise. */
  body: any;
  text: string;
}

async function read(res: globalThis.Response): Promise<HttpResult> {
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get("content-type") ?? "").startsWith("application/json") && text) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body, text };
}

/** A form-encoded POST; redirects are not followed (the test reads the Location). */
export async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<HttpResult> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString(),
    redirect: "manual",
  });
  return read(res);
}

export async function getPage(url: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return read(await fetch(url, { headers, redirect: "manual" }));
}

export function tokenUrl(t: TestTriage, tenant: string): string {
  return `${t.url}/${tenant}/oauth2/v2.0/token`;
}

export function oauthUrl(t: TestTriage, tenant: string, endpoint: "token" | "devicecode" | "authorize"): string {
  return `${t.url}/${tenant}/oauth2/v2.0/${endpoint}`;
}

/** POST to a tenant's token endpoint. */
export function token(t: TestTriage, tenant: string, form: Record<string, string>, query = ""): Promise<HttpResult> {
  return postForm(tokenUrl(t, tenant) + query, form);
}

/** Entra's error body: error, an AADSTS description, error_codes, timestamp, trace and correlation ids. */
export function expectEntraError(r: HttpResult, error: string, aadsts?: number, status?: number): void {
  expect(r.headers.get("content-type"), r.text).toMatch(/^application\/json/);
  const b = r.body;
  expect(b.error, r.text).toBe(error);
  expect(b.error_description).toMatch(/^AADSTS\d+: /);
  expect(Array.isArray(b.error_codes)).toBe(true);
  expect(b.error_codes.length).toBeGreaterThan(0);
  for (const c of b.error_codes) expect(typeof c).toBe("number");
  expect(b.error_description.startsWith(`AADSTS${b.error_codes[0]}: `)).toBe(true);
  if (aadsts !== undefined) expect(b.error_codes).toContain(aadsts);
  expect(b.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  expect(b.trace_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(typeof b.correlation_id).toBe("string");
  expect(b.correlation_id.length).toBeGreaterThan(0);
  expect(b.error_description).toContain(`Trace ID: ${b.trace_id}`);
  expect(b.error_description).toContain(`Correlation ID: ${b.correlation_id}`);
  if (status !== undefined) expect(r.status).toBe(status);
  else expect(r.status).toBeGreaterThanOrEqual(400);
}

export function claims(jwt: string): JWTPayload & Record<string, any> {
  return decodeJwt(jwt) as JWTPayload & Record<string, any>;
}

export function scpOf(accessToken: string): string[] {
  const scp = claims(accessToken).scp;
  return typeof scp === "string" ? scp.split(" ").filter(Boolean) : [];
}

export function clientInfoOf(value: string): { uid: string; utid: string } {
  return JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as { uid: string; utid: string };
}

/** An RFC 7636 verifier and its S256 challenge. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(48).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

// ── the directory ────────────────────────────────────────────────────────────────────────────────

export interface PublicClientOptions {
  delegated?: string[];
  redirectUris?: string[];
  /** Grant admin consent for the requested permissions (default true). */
  consent?: boolean;
  displayName?: string;
}

/** A public client (device code, PKCE, ROPC test users) requesting delegated permissions. */
export async function publicClient(t: TestTriage, tenant: string, opts: PublicClientOptions = {}): Promise<App> {
  const app = await createApp(t.store.db, {
    tenantId: tenant,
    displayName: opts.displayName ?? "Public test client",
    publicClient: true,
    delegatedPermissions: opts.delegated ?? [],
    redirectUris: opts.redirectUris ?? [],
  });
  if (opts.consent ?? true) await grantAdminConsent(t.store.db, app.clientId);
  return app;
}

/** A confidential client with application permissions and a secret. */
export async function confidentialClient(
  t: TestTriage,
  tenant: string,
  opts: { application?: string[]; delegated?: string[]; consent?: boolean; displayName?: string } = {},
): Promise<{ app: App; secret: string }> {
  const app = await createApp(t.store.db, {
    tenantId: tenant,
    displayName: opts.displayName ?? "Confidential test client",
    appPermissions: opts.application ?? [],
    delegatedPermissions: opts.delegated ?? [],
  });
  if (opts.consent ?? true) await grantAdminConsent(t.store.db, app.clientId);
  const { secret } = await addSecret(t.store.db, app.clientId);
  return { app, secret };
}

export interface TestUser {
  id: string;
  upn: string;
  password: string;
  tenantId: string;
}

export async function testUser(t: TestTriage, tenant: string, roles: readonly string[] = [], upn?: string): Promise<TestUser> {
  const password = `Pw-${randomBytes(9).toString("base64url")}`;
  const name = upn ?? `user-${randomUUID().slice(0, 8)}@contoso.test`;
  const user = await createUser(t.store.db, { tenantId: tenant, upn: name, password, roles: [...roles] });
  return { id: user.id, upn: user.upn, password, tenantId: tenant };
}

/** ROPC: the password grant, as MSAL's acquireTokenByUsernamePassword sends it. */
export function ropc(
  t: TestTriage,
  tenant: string,
  clientId: string,
  user: { upn: string; password: string },
  scope: string,
  extra: Record<string, string> = {},
  query = "",
): Promise<HttpResult> {
  return token(t, tenant, { grant_type: "password", client_id: clientId, username: user.upn, password: user.password, scope, ...extra }, query);
}

/** An app-only token from client_credentials for a fresh, consented app holding exactly `permissions`. */
export async function appToken(t: TestTriage, tenant: string, permissions: readonly string[]): Promise<string> {
  const { app, secret } = await confidentialClient(t, tenant, { application: [...permissions] });
  const r = await token(t, tenant, { grant_type: "client_credentials", client_id: app.clientId, client_secret: secret, scope: GRAPH_DEFAULT });
  if (r.status !== 200 || typeof r.body.access_token !== "string") throw new Error(`client_credentials failed: ${r.text}`);
  return r.body.access_token as string;
}

/** A delegated token from ROPC: a consented public client holding exactly `permissions`, a user holding exactly `roles`. */
export async function delegatedToken(t: TestTriage, tenant: string, permissions: readonly string[], roles: readonly string[]): Promise<string> {
  const app = await publicClient(t, tenant, { delegated: [...permissions] });
  const user = await testUser(t, tenant, roles);
  const r = await ropc(t, tenant, app.clientId, user, GRAPH_DEFAULT);
  if (r.status !== 200 || typeof r.body.access_token !== "string") throw new Error(`password grant failed: ${r.text}`);
  return r.body.access_token as string;
}

/** Caches tokens per (tenant, kind, permissions, roles): each one is made through the real endpoint once. */
export class TokenBox {
  private readonly cache = new Map<string, Promise<string>>();
  constructor(private readonly t: TestTriage) {}

  app(tenant: string, permissions: readonly string[]): Promise<string> {
    return this.get(`app|${tenant}|${[...permissions].sort().join(",")}`, () => appToken(this.t, tenant, permissions));
  }

  user(tenant: string, permissions: readonly string[], roles: readonly string[]): Promise<string> {
    return this.get(`user|${tenant}|${[...permissions].sort().join(",")}|${[...roles].sort().join(",")}`, () =>
      delegatedToken(this.t, tenant, permissions, roles),
    );
  }

  private get(key: string, make: () => Promise<string>): Promise<string> {
    let p = this.cache.get(key);
    if (!p) {
      p = make();
      this.cache.set(key, p);
    }
    return p;
  }
}

// ── HTML forms, as a browser reads them ─────────────────────────────────────────────────────────

function unescapeHtml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[e]!);
}

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([a-zA-Z_:-]+)(?:="([^"]*)")?/g)) {
    const name = m[1]!.toLowerCase();
    if (name === "input" || name === "form") continue;
    out[name] = unescapeHtml(m[2] ?? "");
  }
  return out;
}

export interface HtmlForm {
  method: string;
  action: string;
  /** Every named input with its value (hidden ones and pre-filled visible ones). */
  fields: Record<string, string>;
  hidden: Record<string, string>;
  /** Names of the inputs that are not hidden (what the user types into). */
  visible: string[];
}

/** The first <form> of a page, with its inputs. */
export function parseForm(html: string): HtmlForm {
  const start = html.search(/<form\b/i);
  if (start < 0) throw new Error(`no form in page:\n${html}`);
  const end = html.indexOf("</form>", start);
  const formHtml = html.slice(start, end < 0 ? undefined : end);
  const formTag = /<form\b[^>]*>/i.exec(formHtml)![0];
  const fa = attributes(formTag);
  const fields: Record<string, string> = {};
  const hidden: Record<string, string> = {};
  const visible: string[] = [];
  for (const m of formHtml.matchAll(/<input\b[^>]*>/gi)) {
    const a = attributes(m[0]);
    if (!a.name) continue;
    fields[a.name] = a.value ?? "";
    if (a.type === "hidden") hidden[a.name] = a.value ?? "";
    else visible.push(a.name);
  }
  return { method: (fa.method ?? "get").toLowerCase(), action: fa.action ?? "", fields, hidden, visible };
}

/** The text of the page's role="alert" element, if any. */
export function pageError(html: string): string | null {
  const m = /<p class="error" role="alert">([^<]*)<\/p>/.exec(html);
  return m ? unescapeHtml(m[1]!) : null;
}

/** Submits a parsed form as a browser would: its fields plus what the user typed, form-encoded, to its action. */
export function submit(baseUrl: string, pageUrl: string, form: HtmlForm, typed: Record<string, string>): Promise<HttpResult> {
  expect(form.method).toBe("post");
  const target = new URL(form.action || pageUrl, pageUrl);
  expect(target.origin).toBe(new URL(baseUrl).origin);
  return postForm(target.toString(), { ...form.fields, ...typed });
}
