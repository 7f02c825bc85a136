import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { compactVerify, createLocalJWKSet } from "jose";
import type { Db } from "../../store/tables.js";
import { findTenant } from "../../store/tenants.js";
import type { KeyRing } from "../keys.js";
import { issuerFor } from "../tokens.js";
import { Issuer, redirectAllowed, type Form, type RequestContext } from "./issuer.js";
import { OAuthError, oauthErrorBody } from "./entra-error.js";
import { cspSourceOf, deviceCodePage, errorPage, formPostPage, pageHeaders, signInPage } from "./pages.js";
import { findApp, type App } from "../directory.js";
import { badRequest } from "../../errors/graph-error.js";
import { nulMessage } from "../../schema/json-limits.js";
import { Type } from "@sinclair/typebox";
import { json, type RouteDoc } from "../../schema/openapi.js";

export interface OAuthRouteOptions {
  db: Db;
  keys: KeyRing;
  issuer: Issuer;
  /** The origin (scheme://host:port) clients reach this server at, for a request. */
  origin(req: FastifyRequest): string;
}

const TENANT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route needs no token (discovery, token endpoint, sign-in pages, public references). */
    public?: boolean;
  }
}

// ── OpenAPI descriptions (schema/openapi.ts) ──
const TENANT_PARAM = { tenant: { description: "The tenant id (a GUID, any casing)." } };
const OBJ = Type.Object({}, { additionalProperties: true });
const HTML = { "text/html": Type.String() };
const FORM = "application/x-www-form-urlencoded";
const ENTRA_ERROR = Type.Object(
  {
    error: Type.String(),
    error_description: Type.String(),
    error_codes: Type.Array(Type.Integer()),
    timestamp: Type.String(),
    trace_id: Type.String(),
    correlation_id: Type.String(),
  },
  { description: "Entra's OAuth error body." },
);
const OAUTH_ERRORS = {
  400: { description: "An OAuth error, as Entra answers it.", content: json(ENTRA_ERROR) },
  401: { description: "Client authentication failed (Entra's error body).", content: json(ENTRA_ERROR) },
};
const TOKEN_TAG = "Token service" as const;

const DISCOVERY_DOC: RouteDoc = {
  tag: TOKEN_TAG,
  summary: "OpenID Connect discovery",
  params: TENANT_PARAM,
  responses: { 200: { description: "The tenant's OpenID configuration: issuer, endpoints, signing keys' URL.", content: json(OBJ) }, ...OAUTH_ERRORS },
};
const ADFS_DISCOVERY_DOC: RouteDoc = {
  ...DISCOVERY_DOC,
  summary: "OpenID Connect discovery for the Azure CLI's authority (https://HOST:PORT/adfs/tenants)",
  description:
    "The tenant's OpenID configuration, as at /{tenant}/v2.0/.well-known/openid-configuration; for `organizations` (which `az logout` reads) a document whose endpoints refuse. See docs/azure-cli.md.",
};
const KEYS_DOC: RouteDoc = {
  tag: TOKEN_TAG,
  summary: "The token signing keys (JWKS)",
  params: TENANT_PARAM,
  responses: { 200: { description: "The public keys tokens are signed with.", content: json(Type.Object({ keys: Type.Array(OBJ) })) }, ...OAUTH_ERRORS },
};
const TOKEN_DOC: RouteDoc = {
  tag: TOKEN_TAG,
  summary: "Issue tokens",
  description:
    "grant_type client_credentials (client_secret or client_assertion), authorization_code (with PKCE), refresh_token, password, or urn:ietf:params:oauth:grant-type:device_code; scope https://graph.microsoft.com/.default for app tokens.",
  params: TENANT_PARAM,
  body: {
    content: {
      [FORM]: Type.Object({
        grant_type: Type.String(),
        client_id: Type.Optional(Type.String()),
        client_secret: Type.Optional(Type.String()),
        client_assertion: Type.Optional(Type.String()),
        client_assertion_type: Type.Optional(Type.String()),
        scope: Type.Optional(Type.String()),
        code: Type.Optional(Type.String()),
        code_verifier: Type.Optional(Type.String()),
        redirect_uri: Type.Optional(Type.String()),
        refresh_token: Type.Optional(Type.String()),
        username: Type.Optional(Type.String()),
        password: Type.Optional(Type.String()),
        device_code: Type.Optional(Type.String()),
      }),
    },
  },
  responses: {
    200: {
      description: "The tokens.",
      content: json(
        Type.Object({
          token_type: Type.Literal("Bearer"),
          expires_in: Type.Integer(),
          access_token: Type.String(),
          scope: Type.Optional(Type.String()),
          refresh_token: Type.Optional(Type.String()),
          id_token: Type.Optional(Type.String()),
        }),
      ),
    },
    ...OAUTH_ERRORS,
  },
};
const DEVICE_CODE_DOC: RouteDoc = {
  tag: TOKEN_TAG,
  summary: "Start the device code flow",
  params: TENANT_PARAM,
  body: { content: { [FORM]: Type.Object({ client_id: Type.String(), scope: Type.Optional(Type.String()) }) } },
  responses: { 200: { description: "The device code, the user code and where to enter it.", content: json(OBJ) }, ...OAUTH_ERRORS },
};
const AUTHORIZE_DOC: RouteDoc = {
  tag: TOKEN_TAG,
  summary: "Authorization endpoint: the sign-in page",
  description:
    "OAuth 2.0 authorization code flow (response_type=code, PKCE S256), with client_id, redirect_uri, scope, state, nonce, response_mode, login_hint.",
  params: TENANT_PARAM,
  query: {
    client_id: { description: "The app's client id.", required: true },
    response_type: { description: "code.", required: true },
    redirect_uri: { description: "A redirect URI registered for the app." },
    scope: { description: "The scopes asked for." },
    state: { description: "Returned unchanged." },
    code_challenge: { description: "PKCE challenge (S256)." },
    code_challenge_method: { description: "S256." },
  },
  responses: { 200: { description: "The sign-in page.", content: HTML }, 400: { description: "A page saying what is wrong with the request.", content: HTML } },
};
const SIGN_IN_DOC: RouteDoc = {
  tag: TOKEN_TAG,
  summary: "Sign in (the sign-in page's form)",
  params: TENANT_PARAM,
  body: {
    content: {
      [FORM]: Type.Object(
        { username: Type.String(), password: Type.String() },
        { additionalProperties: true, description: "The authorize request's fields, with the user's credentials." },
      ),
    },
  },
  responses: {
    200: { description: "The sign-in page again with the error, or a form_post answer.", content: HTML },
    302: { description: "Back to the redirect URI with the code (or the error).", headers: { location: "The redirect URI with code and state." } },
  },
};
const LOGOUT_DOC: RouteDoc = {
  tag: TOKEN_TAG,
  summary: "Sign out",
  params: TENANT_PARAM,
  query: {
    post_logout_redirect_uri: { description: "Where to go afterwards (only a URI registered for the app)." },
    client_id: { description: "The app." },
    state: { description: "Returned unchanged." },
  },
  responses: { 200: { description: "A signed-out page.", content: HTML }, 302: { description: "To the registered post-logout redirect URI." } },
};
const DEVICE_PAGE_DOC: RouteDoc = {
  tag: TOKEN_TAG,
  summary: "Device code sign-in page",
  query: { code: { description: "The user code, pre-filled." } },
  responses: { 200: { description: "The page where a user enters the code and signs in.", content: HTML } },
};
const DEVICE_APPROVE_DOC: RouteDoc = {
  tag: TOKEN_TAG,
  summary: "Approve a device code (the page's form)",
  body: { content: { [FORM]: Type.Object({ code: Type.String(), username: Type.String(), password: Type.String() }) } },
  responses: { 200: { description: "Approved.", content: HTML }, 400: { description: "Not approved, with the reason.", content: HTML } },
};

/**
 * The token service, per tenant, on the server's own origin — the endpoints an Entra authority has:
 * OpenID discovery, JWKS, token, device code, authorize (with a sign-in page) and device sign-in.
 * Tenant path segments match case-insensitively (MSAL lowercases the authority).
 */
export async function registerOAuthRoutes(app: FastifyInstance, opts: OAuthRouteOptions): Promise<void> {
  // Token requests are form-encoded; parse them with the standard URLSearchParams.
  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: 256 * 1024 }, (_req, body, done) => {
    const fields = Object.fromEntries(new URLSearchParams(body as string));
    // PostgreSQL cannot compare text holding NUL (a 500 where SQLite answers): refused alike on both.
    const nul = Object.entries(fields).find(([k, v]) => k.includes("\u0000") || v.includes("\u0000"));
    // Refused by each route in its own dialect: Entra's OAuth error on the token endpoints, Graph's on the pages.
    if (nul) return done(null, new RefusedForm(nulMessage(`The form field '${nul[0].split("\u0000").join("\\u0000")}'`)));
    done(null, fields);
  });
  const doc = (d: RouteDoc) => ({ config: { public: true, openapi: d } });

  async function tenantOf(req: FastifyRequest): Promise<string> {
    const raw = (req.params as { tenant: string }).tenant;
    const id = raw.toLowerCase();
    if (!TENANT.test(id) || !(await findTenant(opts.db, id))) {
      throw new OAuthError(
        "invalid_request",
        90002,
        `Tenant '${raw}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    return id;
  }

  function ctxOf(req: FastifyRequest, tenantId: string): RequestContext {
    const origin = opts.origin(req);
    return { origin, tenantId, tokenUrl: `${origin}/${(req.params as { tenant: string }).tenant}/oauth2/v2.0/token`, source: req.ip };
  }

  function sendOAuthError(req: FastifyRequest, reply: FastifyReply, e: unknown) {
    if (!(e instanceof OAuthError)) throw e;
    const cid = (req.query as Record<string, string | undefined>)["client-request-id"] ?? req.headers["client-request-id"];
    if (e.retryAfterSeconds !== undefined) void reply.header("retry-after", String(e.retryAfterSeconds));
    return reply
      .code(e.status)
      .type("application/json; charset=utf-8")
      .send(JSON.stringify(oauthErrorBody(e, typeof cid === "string" ? cid : undefined)));
  }

  async function discovery(req: FastifyRequest, reply: FastifyReply) {
    try {
      return sendDiscovery(reply, opts.origin(req), await tenantOf(req));
    } catch (e) {
      return sendOAuthError(req, reply, e);
    }
  }

  /**
   * The Azure CLI's authority (docs/azure-cli.md). `organizations` is what the CLI names when it
   * has no tenant at hand (`az logout` builds its MSAL app with it): its document is served so that
   * signing out works, and its endpoints refuse like any unknown tenant — Triage issues no token
   * outside a tenant.
   */
  async function adfsDiscovery(req: FastifyRequest, reply: FastifyReply) {
    try {
      const raw = (req.params as { tenant: string }).tenant;
      if (raw.toLowerCase() === "organizations") return sendDiscovery(reply, opts.origin(req), "organizations");
      return sendDiscovery(reply, opts.origin(req), await tenantOf(req));
    } catch (e) {
      return sendOAuthError(req, reply, e);
    }
  }

  function sendDiscovery(reply: FastifyReply, origin: string, tenantId: string) {
    const base = `${origin}/${tenantId}`;
    return reply.type("application/json; charset=utf-8").send(
      JSON.stringify({
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt"],
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_modes_supported: ["query", "fragment", "form_post"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        response_types_supported: ["code"],
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        // Entra's multi-tenant documents name the issuer with a placeholder for the token's tenant.
        issuer: issuerFor(origin, tenantId === "organizations" ? "{tenantid}" : tenantId),
        request_uri_parameter_supported: false,
        userinfo_endpoint: null,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        http_logout_supported: false,
        frontchannel_logout_supported: false,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        claims_supported: ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid", "name", "preferred_username", "nonce", "ver", "roles", "scp", "wids"],
        code_challenge_methods_supported: ["S256"],
        grant_types_supported: ["client_credentials", "password", "authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
        tenant_region_scope: null,
        cloud_instance_name: "triage.local",
        cloud_graph_host_name: new URL(origin).host,
        msgraph_host: new URL(origin).host,
      }),
    );
  }
  app.get("/:tenant/v2.0/.well-known/openid-configuration", doc(DISCOVERY_DOC), discovery);
  app.get("/:tenant/.well-known/openid-configuration", doc(DISCOVERY_DOC), discovery);
  // The same document under an authority whose first segment is `adfs`: MSAL for Python skips its
  // instance discovery at login.microsoftonline.com for such an authority, which the Azure CLI before
  // 2.53 cannot turn off otherwise (docs/azure-cli.md). The tenant is checked as on every route.
  app.get("/adfs/tenants/:tenant/.well-known/openid-configuration", doc(ADFS_DISCOVERY_DOC), adfsDiscovery);

  app.get("/:tenant/discovery/v2.0/keys", doc(KEYS_DOC), async (req, reply) => {
    try {
      await tenantOf(req);
      return reply.type("application/json; charset=utf-8").send(JSON.stringify({ keys: await opts.keys.publishedKeys() }));
    } catch (e) {
      return sendOAuthError(req, reply, e);
    }
  });

  app.post("/:tenant/oauth2/v2.0/token", doc(TOKEN_DOC), async (req, reply) => {
    try {
      const tenantId = await tenantOf(req);
      const body = await opts.issuer.token(formOf(req), ctxOf(req, tenantId));
      return reply.header("cache-control", "no-store").type("application/json; charset=utf-8").send(JSON.stringify(body));
    } catch (e) {
      return sendOAuthError(req, reply, e);
    }
  });

  app.post("/:tenant/oauth2/v2.0/devicecode", doc(DEVICE_CODE_DOC), async (req, reply) => {
    try {
      const tenantId = await tenantOf(req);
      const body = await opts.issuer.deviceAuthorization(formOf(req), ctxOf(req, tenantId));
      return reply.header("cache-control", "no-store").type("application/json; charset=utf-8").send(JSON.stringify(body));
    } catch (e) {
      return sendOAuthError(req, reply, e);
    }
  });

  // Authorization code flow: GET shows the sign-in page, POST checks the password and redirects.
  const AUTHORIZE_FIELDS = [
    "client_id",
    "response_type",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "response_mode",
    "prompt",
    "login_hint",
  ];
  function authorizeFields(src: Record<string, unknown>): Form {
    const out: Form = {};
    for (const k of AUTHORIZE_FIELDS) if (typeof src[k] === "string") out[k] = src[k] as string;
    return out;
  }

  function redirectWith(reply: FastifyReply, q: Form, params: Record<string, string | undefined>) {
    const target = q.redirect_uri!;
    const all = { ...params, state: q.state };
    if (q.response_mode === "form_post") {
      return reply
        .headers(pageHeaders({ formAction: [cspSourceOf(target) ?? "'none'"], script: true }))
        .type("text/html; charset=utf-8")
        .send(formPostPage(target, all));
    }
    const encoded = new URLSearchParams(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined)).toString();
    const url = q.response_mode === "fragment" ? `${target}#${encoded}` : `${target}${target.includes("?") ? "&" : "?"}${encoded}`;
    return reply.redirect(url, 302);
  }

  app.get("/:tenant/oauth2/v2.0/authorize", doc(AUTHORIZE_DOC), async (req, reply) => {
    const q = authorizeFields(req.query as Record<string, unknown>);
    try {
      const tenantId = await tenantOf(req);
      const { app: client, redirectUri } = await opts.issuer.checkAuthorizeRequest(q, ctxOf(req, tenantId));
      return reply
        .headers(signInHeaders(redirectUri))
        .type("text/html; charset=utf-8")
        .send(signInPage({ appName: client.displayName, tenantId, action: req.url.split("?")[0]!, fields: q, username: q.login_hint }));
    } catch (e) {
      if (e instanceof OAuthError) return reply.code(400).headers(pageHeaders()).type("text/html; charset=utf-8").send(errorPage(e.description));
      throw e;
    }
  });

  app.post("/:tenant/oauth2/v2.0/authorize", doc(SIGN_IN_DOC), async (req, reply) => {
    if (req.body instanceof RefusedForm) throw badRequest(req.body.why);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const q = authorizeFields(body);
    try {
      const tenantId = await tenantOf(req);
      const ctx = ctxOf(req, tenantId);
      const result = await opts.issuer.issueCode(q, ctx, String(body.username ?? ""), String(body.password ?? ""));
      if ("error" in result) {
        const client = await findApp(opts.db, q.client_id ?? "");
        // issueCode checked the request (redirect URI included) before the password.
        return reply
          .code(200)
          .headers(signInHeaders(q.redirect_uri ?? ""))
          .type("text/html; charset=utf-8")
          .send(
            signInPage({
              appName: client?.displayName ?? "Triage",
              tenantId,
              action: req.url.split("?")[0]!,
              fields: q,
              error: result.error,
              username: String(body.username ?? ""),
            }),
          );
      }
      return redirectWith(reply, q, { code: result.code, session_state: undefined });
    } catch (e) {
      if (e instanceof OAuthError) return reply.code(400).headers(pageHeaders()).type("text/html; charset=utf-8").send(errorPage(e.description));
      throw e;
    }
  });

  /**
   * The client a logout request names: `client_id`, or the audience of an `id_token_hint` this
   * service signed (OIDC RP-initiated logout; an expired hint still names its client). Both given
   * must agree. Null when no client of the tenant is named.
   */
  async function logoutClient(tenantId: string, q: Record<string, string | undefined>): Promise<App | null> {
    let clientId = q.client_id?.trim().toLowerCase() || undefined;
    if (q.id_token_hint) {
      let claims: { aud?: unknown; tid?: unknown };
      try {
        const { payload } = await compactVerify(q.id_token_hint, createLocalJWKSet({ keys: await opts.keys.publishedKeys() }));
        claims = JSON.parse(new TextDecoder().decode(payload)) as { aud?: unknown; tid?: unknown };
      } catch {
        return null;
      }
      if (typeof claims.aud !== "string" || claims.tid !== tenantId) return null;
      if (clientId && clientId !== claims.aud.toLowerCase()) return null;
      clientId = claims.aud.toLowerCase();
    }
    if (!clientId) return null;
    const client = await findApp(opts.db, clientId);
    return client && client.tenantId === tenantId ? client : null;
  }

  // Signing out: back to the client only at a URI registered for it, else a signed-out page.
  app.get("/:tenant/oauth2/v2.0/logout", doc(LOGOUT_DOC), async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const target = typeof q.post_logout_redirect_uri === "string" ? q.post_logout_redirect_uri : "";
    if (target) {
      const tenantId = await tenantOf(req).catch(() => null);
      const client = tenantId ? await logoutClient(tenantId, q) : null;
      if (client && postLogoutRedirectAllowed(client, target, opts.origin(req))) {
        const url = typeof q.state === "string" ? `${target}${target.includes("?") ? "&" : "?"}${new URLSearchParams({ state: q.state }).toString()}` : target;
        return reply.redirect(url, 302);
      }
    }
    return reply.headers(pageHeaders()).type("text/html; charset=utf-8").send(errorPage("You have signed out."));
  });

  // Device code sign-in: the user enters the code shown by the device, then signs in.
  app.get("/devicelogin", doc(DEVICE_PAGE_DOC), async (req, reply) => {
    const code = (req.query as Record<string, string | undefined>).code;
    return reply
      .headers(pageHeaders({ formAction: ["'self'"] }))
      .type("text/html; charset=utf-8")
      .send(deviceCodePage({ action: "/devicelogin", userCode: code }));
  });
  app.post("/devicelogin", doc(DEVICE_APPROVE_DOC), async (req, reply) => {
    if (req.body instanceof RefusedForm) throw badRequest(req.body.why);
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    const result = await opts.issuer.approveDevice(body.code ?? "", body.username ?? "", body.password ?? "", req.ip);
    const html = result.ok
      ? deviceCodePage({ action: "/devicelogin", done: `${result.appName} can now act on your behalf.` })
      : deviceCodePage({ action: "/devicelogin", error: result.why, userCode: body.code });
    return reply
      .code(result.ok ? 200 : 400)
      .headers(pageHeaders({ formAction: ["'self'"] }))
      .type("text/html; charset=utf-8")
      .send(html);
  });
}

/** The sign-in page posts to itself, and the redirect that follows goes to the client's redirect URI. */
function signInHeaders(redirectUri: string): Record<string, string> {
  const target = cspSourceOf(redirectUri);
  return pageHeaders({ formAction: target ? ["'self'", target] : ["'self'"] });
}

/**
 * Where a client may be sent after signing out: a URI it may receive sign-in responses at; and an
 * app registered with a path (Triage's web app) lives on Triage's own origin, so any page of that
 * origin — never another — is its to return to.
 */
export function postLogoutRedirectAllowed(client: App, uri: string, origin: string): boolean {
  if (redirectAllowed(client, uri, origin)) return true;
  if (!client.redirectUris.some((r) => r.startsWith("/") && !r.startsWith("//"))) return false;
  try {
    return new URL(uri).origin === new URL(origin).origin && (uri === origin || uri.startsWith(`${origin}/`));
  } catch {
    return false;
  }
}

/** A form body that holds a character no field may hold; each route refuses it in its own error shape. */
class RefusedForm {
  constructor(readonly why: string) {}
}

function formOf(req: FastifyRequest): Form {
  const body = req.body;
  if (body instanceof RefusedForm) throw new OAuthError("invalid_request", 900144, body.why);
  if (typeof body !== "object" || body === null) throw new OAuthError("invalid_request", 900144, "The request body must be application/x-www-form-urlencoded.");
  return body as Form;
}
