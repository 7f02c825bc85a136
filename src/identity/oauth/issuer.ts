import { createHash, randomInt, randomUUID, timingSafeEqual } from "node:crypto";
import { X509Certificate } from "node:crypto";
import { decodeProtectedHeader, importX509, jwtVerify } from "jose";
import type { Db } from "../../store/tables.js";
import type { KeyRing } from "../keys.js";
import { appCertificates, checkPassword, checkSecret, consentedPermissions, findApp, findUser, type App, type User } from "../directory.js";
import { accessToken, clientInfo, idToken, newOpaqueToken, type AppSubject, type UserSubject } from "../tokens.js";
import { grantedScopeString, parseScopes, type RequestedScopes } from "./scopes.js";
import { findByUserCode, findGrant, saveGrant, transition, grantId, revokeFamily, rememberAssertion, type Grant } from "./grants.js";
import {
  accountLocked,
  invalidClient,
  invalidGrant,
  invalidRequest,
  invalidScope,
  OAuthError,
  temporarilyUnavailable,
  unauthorizedClient,
  unsupportedGrant,
} from "./entra-error.js";
import { CredentialGuard, type Attempt } from "../credential-guard.js";
import { dummyHash } from "../hash.js";

export interface IssuerOptions {
  db: Db;
  keys: KeyRing;
  /** Access and id token lifetime. */
  tokenLifetimeSeconds: number;
  refreshLifetimeSeconds: number;
  /** How often device-code clients are told to poll. */
  deviceCodeIntervalSeconds: number;
  deviceCodeLifetimeSeconds: number;
  /** Lockout and the hashing pool every password and client-secret check goes through. */
  guard?: CredentialGuard;
}

/** Where a token request came in: the issuer is built from it. */
export interface RequestContext {
  origin: string;
  tenantId: string;
  /** The token endpoint URL as the client called it: the audience of client assertions. */
  tokenUrl: string;
  /** The caller's address, counted for per-source lockout. */
  source?: string | undefined;
}

export type Form = Record<string, string | undefined>;

interface DelegatedGrantData {
  scopes: string[];
  oidc: string[];
  /** Asked for `.default`: the response's `scope` names it too, as Entra's does (MSAL finds cached tokens by it). */
  useDefault?: boolean;
  nonce?: string;
}

interface AuthCodeData extends DelegatedGrantData {
  redirectUri: string;
  codeChallenge: string | null;
  codeChallengeMethod: string | null;
}

interface DeviceCodeData extends DelegatedGrantData {
  interval: number;
  lastPoll: number;
}

const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/**
 * Triage's Entra-compatible token service: the grant types MSAL and @azure/identity use, with
 * Entra's response and error shapes. Permissions reach a token only after admin consent.
 */
export class Issuer {
  private readonly guard: CredentialGuard;

  constructor(private readonly opts: IssuerOptions) {
    this.guard = opts.guard ?? new CredentialGuard(opts.db);
    // The dummy hash is made now, so that the first unknown user is not the one answered faster or slower.
    void dummyHash();
  }

  /** Maps a refused credential check to Entra's answer. */
  private refused(r: Exclude<Attempt<unknown>, { ok: true }>, kind: "user" | "client", invalid: () => OAuthError): OAuthError {
    if (r.reason === "busy") return temporarilyUnavailable();
    if (r.reason === "locked") {
      return kind === "user"
        ? accountLocked("invalid_grant", "Your account is temporarily locked to prevent unauthorized use.", r.retryAfterSeconds)
        : accountLocked("invalid_client", "Sign-in with this app's client secret is temporarily locked after too many failed attempts.", r.retryAfterSeconds);
    }
    return invalid();
  }

  /** A spent code or refresh token came back: revoke what its sign-in issued, then refuse it. */
  private async replayed(familyId: string, why: string, aadsts: number): Promise<OAuthError> {
    await revokeFamily(this.opts.db, familyId);
    return invalidGrant(`${why} Every refresh token issued from it has been revoked.`, aadsts);
  }

  /** A password check under lockout; the user, or why not. */
  private async signIn(tenantId: string, username: string, password: string, source: string | undefined): Promise<Attempt<User>> {
    const account = `user:${tenantId}:${username.trim().toLowerCase()}`;
    return this.guard.attempt(account, source, () => checkPassword(this.opts.db, tenantId, username, password));
  }

  async token(form: Form, ctx: RequestContext): Promise<Record<string, unknown>> {
    const grantType = form.grant_type;
    switch (grantType) {
      case "client_credentials":
        return this.clientCredentials(form, ctx);
      case "password":
        return this.password(form, ctx);
      case "authorization_code":
        return this.authorizationCode(form, ctx);
      case "refresh_token":
        return this.refreshToken(form, ctx);
      case "device_code":
      case "urn:ietf:params:oauth:grant-type:device_code":
        return this.deviceCode(form, ctx);
      case undefined:
        throw invalidRequest("The request body must contain the following parameter: 'grant_type'.");
      default:
        throw unsupportedGrant(grantType);
    }
  }

  // ── clients ───────────────────────────────────────────────────────────────────────────────────

  private async app(form: Form, ctx: RequestContext): Promise<App> {
    const clientId = form.client_id?.trim().toLowerCase();
    if (!clientId) throw invalidRequest("The request body must contain the following parameter: 'client_id'.");
    const app = await findApp(this.opts.db, clientId);
    if (!app || app.tenantId !== ctx.tenantId) {
      throw unauthorizedClient(`Application with identifier '${clientId}' was not found in the directory '${ctx.tenantId}'.`);
    }
    return app;
  }

  /**
   * Confidential clients prove who they are with a secret or a certificate-signed assertion; public
   * clients (device code, PKCE, test users) may not, and send neither.
   */
  private async authenticateClient(app: App, form: Form, ctx: RequestContext, required: boolean): Promise<void> {
    if (form.client_secret !== undefined) {
      const secret = form.client_secret;
      const r = await this.guard.attempt(`client:${app.clientId}`, ctx.source, async () =>
        (await checkSecret(this.opts.db, app.clientId, secret)) ? true : undefined,
      );
      if (!r.ok) {
        throw this.refused(r, "client", () =>
          invalidClient(
            `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
          ),
        );
      }
      return;
    }
    if (form.client_assertion !== undefined) {
      if (form.client_assertion_type !== CLIENT_ASSERTION_TYPE) throw invalidRequest(`client_assertion_type must be '${CLIENT_ASSERTION_TYPE}'.`);
      await this.checkAssertion(app, form.client_assertion, ctx);
      return;
    }
    if (required || !app.publicClient) {
      throw invalidClient("The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
  }

  /** A client assertion: a JWT signed with the key of a certificate registered on the app. */
  private async checkAssertion(app: App, assertion: string, ctx: RequestContext): Promise<void> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      throw invalidClient("The client assertion is not a well-formed JWT.");
    }
    const certs = await appCertificates(this.opts.db, app.clientId);
    // Base64url with or without its one padding character: MSAL for Python (and so the Azure CLI) pads.
    const unpadded = (v: unknown) => (typeof v === "string" && /^[A-Za-z0-9_-]+=?$/.test(v) ? v.replace(/=$/, "") : undefined);
    const x5t = unpadded(header.x5t);
    const x5tS256 = unpadded(header["x5t#S256"]);
    const cert = certs.find((c) => {
      const raw = new X509Certificate(c.pem).raw;
      return (x5t && c.thumbprint === x5t) || (x5tS256 && createHash("sha256").update(raw).digest("base64url") === x5tS256);
    });
    if (!cert) throw invalidClient(`The certificate with identifier used to sign the client assertion is not registered on application '${app.clientId}'.`);
    if (Date.parse(cert.expiresAt) < Date.now()) throw invalidClient("The certificate used to sign the client assertion has expired.");
    const alg = header.alg === "PS256" ? "PS256" : "RS256";
    try {
      const key = await importX509(cert.pem, alg);
      const { payload } = await jwtVerify(assertion, key, {
        algorithms: ["RS256", "PS256"],
        issuer: app.clientId,
        subject: app.clientId,
        audience: [ctx.tokenUrl, ctx.tokenUrl.split("?")[0]!],
        clockTolerance: 300,
        requiredClaims: ["exp", "jti"],
      });
      // Kept in the store until the assertion could no longer pass (exp plus the clock tolerance), so a
      // replay to any node on the same database is refused.
      if (!(await rememberAssertion(this.opts.db, app.clientId, String(payload.jti), Number(payload.exp) * 1000 + 300_000))) {
        throw invalidClient("The client assertion was already used (its jti was seen before).");
      }
    } catch (e) {
      if (e instanceof OAuthError) throw e;
      throw invalidClient(`The client assertion could not be validated: ${(e as Error).message}.`);
    }
  }

  // ── subjects ──────────────────────────────────────────────────────────────────────────────────

  private async appSubject(app: App, scopes: RequestedScopes): Promise<AppSubject> {
    if (!scopes.useDefault) {
      throw invalidScope(
        "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
        1002012,
      );
    }
    const roles = await consentedPermissions(this.opts.db, app.tenantId, app.clientId, "Application");
    return { kind: "app", tenantId: app.tenantId, clientId: app.clientId, appName: app.displayName, roles };
  }

  /** Delegated permissions: .default means all consented; named ones must each be consented. */
  private async delegatedScopes(app: App, scopes: RequestedScopes): Promise<string[]> {
    const consented = await consentedPermissions(this.opts.db, app.tenantId, app.clientId, "DelegatedWork");
    if (scopes.useDefault || scopes.permissions.length === 0) return consented;
    const missing = scopes.permissions.filter((p) => !consented.includes(p));
    if (missing.length) {
      throw invalidGrant(
        `The user or administrator has not consented to use the application with ID '${app.clientId}' named '${app.displayName}' for ${missing.join(", ")}. Send an interactive authorization request for this user and resource.`,
        65001,
      );
    }
    return scopes.permissions;
  }

  private userSubject(app: App, user: User, scopes: string[]): UserSubject {
    return {
      kind: "user",
      tenantId: app.tenantId,
      clientId: app.clientId,
      appName: app.displayName,
      userId: user.id,
      upn: user.upn,
      displayName: user.displayName,
      userRoles: user.roles,
      scopes,
    };
  }

  private async respondApp(subject: AppSubject, scopes: RequestedScopes, ctx: RequestContext) {
    const lifetime = this.opts.tokenLifetimeSeconds;
    return {
      token_type: "Bearer",
      expires_in: lifetime,
      ext_expires_in: lifetime,
      scope: grantedScopeString(scopes, subject.roles, false),
      access_token: await accessToken(this.opts.keys, ctx.origin, subject, lifetime),
    };
  }

  /** Delegated responses carry an id token and client_info (MSAL builds its account from them) and, with offline_access, a refresh token. */
  private async respondUser(subject: UserSubject, req: DelegatedGrantData, ctx: RequestContext, familyId: string) {
    const lifetime = this.opts.tokenLifetimeSeconds;
    const body: Record<string, unknown> = {
      token_type: "Bearer",
      scope: grantedScopeString({ useDefault: req.useDefault === true, permissions: [], oidc: req.oidc }, subject.scopes, true),
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: await accessToken(this.opts.keys, ctx.origin, subject, lifetime),
      id_token: await idToken(this.opts.keys, ctx.origin, subject, lifetime, req.nonce),
      client_info: clientInfo(subject),
    };
    if (req.oidc.includes("offline_access")) {
      const refresh = newOpaqueToken();
      await saveGrant<DelegatedGrantData>(this.opts.db, refresh, {
        kind: "refresh_token",
        tenantId: subject.tenantId,
        clientId: subject.clientId,
        userId: subject.userId,
        userCode: null,
        data: { scopes: subject.scopes, oidc: req.oidc, useDefault: req.useDefault === true },
        status: "active",
        expiresAt: new Date(Date.now() + this.opts.refreshLifetimeSeconds * 1000).toISOString(),
        familyId,
      });
      body.refresh_token = refresh;
    }
    return body;
  }

  // ── grants ────────────────────────────────────────────────────────────────────────────────────

  private async clientCredentials(form: Form, ctx: RequestContext) {
    const app = await this.app(form, ctx);
    await this.authenticateClient(app, form, ctx, true);
    const scopes = parseScopes(form.scope);
    return this.respondApp(await this.appSubject(app, scopes), scopes, ctx);
  }

  /** Resource-owner password credentials, for test users. */
  private async password(form: Form, ctx: RequestContext) {
    const app = await this.app(form, ctx);
    await this.authenticateClient(app, form, ctx, false);
    if (!form.username || !form.password) throw invalidRequest("The request body must contain the following parameters: 'username' and 'password'.");
    const r = await this.signIn(ctx.tenantId, form.username, form.password, ctx.source);
    if (!r.ok) throw this.refused(r, "user", () => invalidGrant("Error validating credentials due to invalid username or password.", 50126));
    const scopes = parseScopes(form.scope);
    const granted = await this.delegatedScopes(app, scopes);
    return this.respondUser(this.userSubject(app, r.value, granted), { scopes: granted, oidc: scopes.oidc, useDefault: scopes.useDefault }, ctx, randomUUID());
  }

  private async authorizationCode(form: Form, ctx: RequestContext) {
    const app = await this.app(form, ctx);
    await this.authenticateClient(app, form, ctx, false);
    if (!form.code) throw invalidRequest("The request body must contain the following parameter: 'code'.");
    const grant = await findGrant<AuthCodeData>(this.opts.db, "authorization_code", form.code);
    if (!grant || grant.clientId !== app.clientId || grant.tenantId !== ctx.tenantId) throw invalidGrant("The provided authorization code is invalid.", 70000);
    if (grant.status === "redeemed") throw await this.replayed(grant.id, "The provided authorization code was already redeemed.", 54005);
    if (Date.parse(grant.expiresAt) < Date.now()) throw invalidGrant("The provided authorization code has expired.", 70008);
    if (form.redirect_uri !== grant.data.redirectUri)
      throw invalidGrant("The redirect URI does not match the one the authorization code was issued for.", 50148);
    if (grant.data.codeChallenge) {
      const verifier = form.code_verifier ?? "";
      const computed = createHash("sha256").update(verifier).digest();
      const expected = Buffer.from(grant.data.codeChallenge, "base64url");
      if (computed.length !== expected.length || !timingSafeEqual(computed, expected))
        throw invalidGrant("The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.", 501481);
    } else if (app.publicClient) {
      throw invalidGrant("Public clients must use PKCE.", 9002325);
    }
    if (!(await transition(this.opts.db, grant.id, "issued", "redeemed")))
      throw await this.replayed(grant.id, "The provided authorization code was already redeemed.", 54005);
    const user = grant.userId ? await findUser(this.opts.db, ctx.tenantId, grant.userId) : undefined;
    if (!user) throw invalidGrant("The user of this authorization code no longer exists.", 50034);
    // The code's id names the family: a replay of the code finds and revokes what it issued.
    return this.respondUser(this.userSubject(app, user, grant.data.scopes), grant.data, ctx, grant.id);
  }

  private async refreshToken(form: Form, ctx: RequestContext) {
    const app = await this.app(form, ctx);
    await this.authenticateClient(app, form, ctx, false);
    if (!form.refresh_token) throw invalidRequest("The request body must contain the following parameter: 'refresh_token'.");
    const grant = await findGrant<DelegatedGrantData>(this.opts.db, "refresh_token", form.refresh_token);
    if (!grant || grant.clientId !== app.clientId || grant.tenantId !== ctx.tenantId)
      throw invalidGrant("The refresh token is invalid or was revoked.", 9002313);
    const family = familyOf(grant);
    if (grant.status === "used") throw await this.replayed(family, "The refresh token was already used.", 9002313);
    if (grant.status !== "active") throw invalidGrant("The refresh token is invalid or was revoked.", 9002313);
    if (Date.parse(grant.expiresAt) < Date.now()) throw invalidGrant("The refresh token has expired due to inactivity.", 700082);
    if (!(await transition(this.opts.db, grant.id, "active", "used"))) throw await this.replayed(family, "The refresh token was already used.", 9002313);
    const user = grant.userId ? await findUser(this.opts.db, ctx.tenantId, grant.userId) : undefined;
    if (!user) throw invalidGrant("The user of this refresh token no longer exists.", 50034);
    const requested = parseScopes(form.scope);
    // A refreshed token carries at most what was granted, and still only what is consented now.
    const consented = await this.delegatedScopes(app, { useDefault: true, permissions: [], oidc: [] });
    const wanted = requested.permissions.length ? requested.permissions : grant.data.scopes;
    const scopes = wanted.filter((p) => grant.data.scopes.includes(p) && consented.includes(p));
    const oidc = [...new Set([...grant.data.oidc, ...requested.oidc])];
    const useDefault = requested.useDefault || (requested.permissions.length === 0 && grant.data.useDefault === true);
    return this.respondUser(this.userSubject(app, user, scopes), { scopes, oidc, useDefault }, ctx, family);
  }

  // ── device code ───────────────────────────────────────────────────────────────────────────────

  async deviceAuthorization(form: Form, ctx: RequestContext): Promise<Record<string, unknown>> {
    const app = await this.app(form, ctx);
    if (!app.publicClient) await this.authenticateClient(app, form, ctx, true);
    const scopes = parseScopes(form.scope);
    const granted = await this.delegatedScopes(app, scopes);
    const deviceCode = newOpaqueToken();
    const alphabet = "BCDFGHJKLMNPQRSTVWXZ23456789";
    const userCode = Array.from({ length: 9 }, () => alphabet[randomInt(alphabet.length)]).join("");
    const lifetime = this.opts.deviceCodeLifetimeSeconds;
    const interval = this.opts.deviceCodeIntervalSeconds;
    await saveGrant<DeviceCodeData>(this.opts.db, deviceCode, {
      kind: "device_code",
      tenantId: ctx.tenantId,
      clientId: app.clientId,
      userId: null,
      userCode,
      data: { scopes: granted, oidc: scopes.oidc, useDefault: scopes.useDefault, interval, lastPoll: 0 },
      status: "pending",
      expiresAt: new Date(Date.now() + lifetime * 1000).toISOString(),
    });
    const verificationUri = `${ctx.origin}/devicelogin`;
    return {
      user_code: userCode,
      device_code: deviceCode,
      verification_uri: verificationUri,
      expires_in: lifetime,
      interval,
      message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`,
    };
  }

  private async deviceCode(form: Form, ctx: RequestContext) {
    const app = await this.app(form, ctx);
    await this.authenticateClient(app, form, ctx, false);
    const code = form.device_code;
    if (!code) throw invalidRequest("The request body must contain the following parameter: 'device_code'.");
    const grant = await findGrant<DeviceCodeData>(this.opts.db, "device_code", code);
    if (!grant || grant.clientId !== app.clientId || grant.tenantId !== ctx.tenantId) throw invalidGrant("The device code is invalid.", 70000);
    if (Date.parse(grant.expiresAt) < Date.now())
      throw new OAuthError("expired_token", 70020, "The provided value for the input parameter 'device_code' is not valid. This device code has expired.");
    if (grant.status === "pending")
      throw new OAuthError("authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.");
    if (grant.status === "denied") throw new OAuthError("authorization_declined", 70000, "The user declined the sign-in request.");
    if (grant.status !== "approved" || !(await transition(this.opts.db, grant.id, "approved", "redeemed"))) {
      throw await this.replayed(grant.id, "The device code was already redeemed.", 54005);
    }
    const user = grant.userId ? await findUser(this.opts.db, ctx.tenantId, grant.userId) : undefined;
    if (!user) throw invalidGrant("The user of this device code no longer exists.", 50034);
    return this.respondUser(this.userSubject(app, user, grant.data.scopes), grant.data, ctx, grant.id);
  }

  /** The user entered a device's code and signed in: the device's next poll gets tokens. */
  async approveDevice(
    userCode: string,
    username: string,
    password: string,
    source?: string,
  ): Promise<{ ok: true; appName: string } | { ok: false; why: string }> {
    const code = userCode.replace(/[\s-]/g, "").toUpperCase();
    const grant = await findByUserCode<DeviceCodeData>(this.opts.db, code);
    if (!grant || grant.status !== "pending" || Date.parse(grant.expiresAt) < Date.now()) return { ok: false, why: "That code is not valid or has expired." };
    const r = await this.signIn(grant.tenantId, username, password, source);
    if (!r.ok) return { ok: false, why: signInRefusal(r) };
    const user = r.value;
    if (!(await transition(this.opts.db, grant.id, "pending", "approved", user.id))) return { ok: false, why: "That code was already used." };
    const app = await findApp(this.opts.db, grant.clientId);
    return { ok: true, appName: app?.displayName ?? grant.clientId };
  }

  // ── authorization code ────────────────────────────────────────────────────────────────────────

  /** Checks an authorization request before the sign-in page is shown; errors here are not redirected. */
  async checkAuthorizeRequest(q: Form, ctx: RequestContext): Promise<{ app: App; redirectUri: string; scopes: RequestedScopes }> {
    const app = await this.app(q, ctx);
    const redirectUri = q.redirect_uri ?? "";
    if (!redirectAllowed(app, redirectUri, ctx.origin)) {
      throw invalidRequest(
        `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${app.clientId}'.`,
        50011,
      );
    }
    if (q.response_type !== "code") throw invalidRequest("Only response_type=code is supported.", 900144);
    if (app.publicClient && !q.code_challenge)
      throw invalidRequest("Proof Key for Code Exchange is required for public clients: send code_challenge.", 9002325);
    if (q.code_challenge && (q.code_challenge_method ?? "plain") !== "S256") throw invalidRequest("Only code_challenge_method=S256 is supported.", 5000);
    const scopes = parseScopes(q.scope);
    await this.delegatedScopes(app, scopes);
    return { app, redirectUri, scopes };
  }

  /** After a successful sign-in: a one-time code, valid for five minutes. */
  async issueCode(q: Form, ctx: RequestContext, username: string, password: string): Promise<{ code: string } | { error: string }> {
    const { app, redirectUri, scopes } = await this.checkAuthorizeRequest(q, ctx);
    const r = await this.signIn(ctx.tenantId, username, password, ctx.source);
    if (!r.ok) return { error: signInRefusal(r) };
    const user = r.value;
    const granted = await this.delegatedScopes(app, scopes);
    const code = newOpaqueToken();
    const data: AuthCodeData = {
      scopes: granted,
      oidc: scopes.oidc,
      useDefault: scopes.useDefault,
      redirectUri,
      codeChallenge: q.code_challenge ?? null,
      codeChallengeMethod: q.code_challenge_method ?? null,
    };
    if (q.nonce) data.nonce = q.nonce;
    await saveGrant<AuthCodeData>(this.opts.db, code, {
      kind: "authorization_code",
      tenantId: ctx.tenantId,
      clientId: app.clientId,
      userId: user.id,
      userCode: null,
      data,
      status: "issued",
      expiresAt: new Date(Date.now() + 300_000).toISOString(),
    });
    return { code };
  }
}

/** A refresh token's family: its own, or (issued before families were kept) the token itself. */
function familyOf(grant: Grant<unknown>): string {
  return grant.familyId ?? grant.id;
}

/** What the sign-in pages say when a password check is refused. */
function signInRefusal(r: Exclude<Attempt<unknown>, { ok: true }>): string {
  if (r.reason === "locked") return `Your account is temporarily locked to prevent unauthorized use. Try again in ${r.retryAfterSeconds} seconds.`;
  if (r.reason === "busy") return "Too many sign-in attempts are being checked. Try again in a moment.";
  return "The user name or password is incorrect.";
}

/**
 * Registered redirect URIs match exactly; loopback URIs of public clients match on any port (RFC 8252).
 * A registered path alone (such as the web app's "/signin-callback") matches that path on the origin
 * the authorization request came to — `origin`, Triage's own — so Triage's web app signs in on
 * whatever origin serves it (a port, a host name, a public URL) without registering each one.
 */
export function redirectAllowed(app: App, uri: string, origin?: string): boolean {
  const paths = app.redirectUris.filter((r) => r.startsWith("/"));
  if (app.redirectUris.includes(uri) && !paths.includes(uri)) return true;
  if (origin && paths.some((p) => !p.startsWith("//") && `${origin}${p}` === uri)) return true;
  if (!app.publicClient) return false;
  try {
    const u = new URL(uri);
    if (u.protocol !== "http:" || !["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) return false;
    return app.redirectUris
      .filter((r) => !paths.includes(r))
      .some((r) => {
        const reg = new URL(r);
        return reg.protocol === "http:" && reg.hostname === u.hostname && reg.pathname === u.pathname;
      });
  } catch {
    return false;
  }
}

export { grantId };
