import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { KeyRing } from "./keys.js";
import { rolesFromWids } from "../permissions/entra-roles.js";
import type { Principal } from "../permissions/principal.js";
import { GRAPH_APP_ID, GRAPH_RESOURCE } from "./tokens.js";

/** A trusted external Entra tenant (or a stand-in for one). */
export interface ExternalIssuer {
  tenantId: string;
  jwksUri: string;
  /** Accepted `aud` values; default Graph's app id and resource URI. */
  audiences?: string[];
  /** Accepted issuers by token version; `{tenantid}` is replaced by the token's tid. */
  issuers?: { "1.0"?: string; "2.0"?: string };
}

export interface ValidatorOptions {
  keys: KeyRing;
  /** Accepted `aud` values for Triage's own tokens. */
  audiences?: string[];
  clockSkewSeconds: number;
  external: ExternalIssuer[];
  /** Most verified tokens kept in memory (until they expire). */
  cacheSize?: number;
}

/** Why a token was refused; the message goes to the client in the 401 body. */
export class TokenError extends Error {}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Explicit allow-list: a token's own `alg` header is never trusted to pick the algorithm. */
const ALGORITHMS = ["RS256"];
const DEFAULT_AUDIENCES = [GRAPH_APP_ID, GRAPH_RESOURCE, `${GRAPH_RESOURCE}/`];
const ENTRA_ISSUERS = { "1.0": "https://sts.windows.net/{tenantid}/", "2.0": "https://login.microsoftonline.com/{tenantid}/v2.0" };
/** An unknown `kid` makes the key set be re-read at most this often. */
const REFRESH_COOLDOWN_MS = 10_000;

/**
 * Validates bearer tokens fully: signature by `kid` (Triage's own keys from the database, or a trusted
 * issuer's JWKS, fetched and cached by jose with a cooldown), RS256 only, exact audience, the issuer
 * for the token's version with its `tid` substituted, `tid` a GUID, `exp`/`nbf` with a small skew.
 * Tokens that passed are cached until they expire, so the work is done once per token.
 */
export class TokenValidator {
  private readonly remote = new Map<string, JWTVerifyGetKey>();
  private readonly cache = new Map<string, Principal>();
  private lastRefresh = 0;

  constructor(private readonly opts: ValidatorOptions) {}

  /**
   * The principal of a bearer token. `origins` are the origins (scheme://host:port) under which
   * Triage's own issuer may have issued it: the one the request came to, and any configured public one.
   */
  async validate(token: string, origins: readonly string[]): Promise<Principal> {
    const now = Math.floor(Date.now() / 1000);
    const key = `${origins.join(" ")}|${token}`;
    const cached = this.cache.get(key);
    if (cached) {
      if (cached.exp + this.opts.clockSkewSeconds > now) return cached;
      this.cache.delete(key);
    }
    const principal = await this.verify(token, origins);
    const max = this.opts.cacheSize ?? 10_000;
    if (this.cache.size >= max) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(key, principal);
    return principal;
  }

  private async verify(token: string, origins: readonly string[]): Promise<Principal> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      throw new TokenError("The access token is not a well-formed JWT.");
    }
    if (!header.alg || !ALGORITHMS.includes(header.alg)) throw new TokenError(`The token's signing algorithm '${String(header.alg)}' is not accepted.`);
    const tid = unverified.tid;
    if (typeof tid !== "string" || !GUID.test(tid)) throw new TokenError("The token has no valid tenant id (tid).");
    const iss = typeof unverified.iss === "string" ? unverified.iss : "";

    const own = origins.map((o) => `${o}/${tid}/v2.0`);
    let payload: JWTPayload;
    if (own.includes(iss)) {
      payload = await this.verifyWith(token, (h, t) => this.ownKey(h, t), iss, this.opts.audiences ?? DEFAULT_AUDIENCES);
    } else {
      const ext = this.opts.external.find((e) => e.tenantId.toLowerCase() === tid.toLowerCase());
      if (!ext) throw new TokenError(`The token's issuer '${iss}' is not trusted.`);
      const version = unverified.ver === "1.0" ? "1.0" : "2.0";
      const template = ext.issuers?.[version] ?? ENTRA_ISSUERS[version];
      const expected = template.replace("{tenantid}", tid);
      if (iss !== expected) throw new TokenError(`The token's issuer '${iss}' is not trusted.`);
      let keys = this.remote.get(ext.jwksUri);
      if (!keys) {
        keys = createRemoteJWKSet(new URL(ext.jwksUri), { cooldownDuration: REFRESH_COOLDOWN_MS, cacheMaxAge: 3_600_000 });
        this.remote.set(ext.jwksUri, keys);
      }
      payload = await this.verifyWith(token, keys, expected, ext.audiences ?? DEFAULT_AUDIENCES);
    }
    return principalOf(payload, tid.toLowerCase());
  }

  /** Triage's own key by kid; an unknown kid re-reads the key set (rotation on another node), with a cooldown. */
  private async ownKey(header: { kid?: string }, _token: unknown) {
    let keys = await this.opts.keys.publishedKeys();
    if (!keys.some((k) => k.kid === header.kid) && Date.now() - this.lastRefresh > REFRESH_COOLDOWN_MS) {
      this.lastRefresh = Date.now();
      keys = await this.opts.keys.publishedKeys(true);
    }
    return createLocalJWKSet({ keys })(header as never, _token as never);
  }

  private async verifyWith(token: string, keys: JWTVerifyGetKey, issuer: string, audience: string[]): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, keys, {
        algorithms: ALGORITHMS,
        issuer,
        audience,
        clockTolerance: this.opts.clockSkewSeconds,
        requiredClaims: ["exp", "iat", "tid"],
      });
      return payload;
    } catch (e) {
      throw new TokenError(describe(e));
    }
  }
}

function describe(e: unknown): string {
  if (e instanceof errors.JWTExpired) return "The access token has expired.";
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === "nbf") return "The access token is not yet valid.";
    if (e.claim === "aud") return "The access token's audience is not accepted.";
    if (e.claim === "iss") return "The token's issuer is not trusted.";
    return `The access token's '${e.claim}' claim is not valid.`;
  }
  if (e instanceof errors.JWKSNoMatchingKey) return "The access token was signed by an unknown key.";
  if (e instanceof errors.JWSSignatureVerificationFailed) return "The access token's signature is not valid.";
  if (e instanceof errors.JOSEAlgNotAllowed) return "The token's signing algorithm is not accepted.";
  if (e instanceof errors.JWKSTimeout || e instanceof errors.JOSEError) return "The access token could not be validated.";
  return "The access token could not be validated.";
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

function principalOf(p: JWTPayload, tenantId: string): Principal {
  const scp = typeof p.scp === "string" ? p.scp.split(" ").filter(Boolean) : [];
  const clientId = String(p.azp ?? p.appid ?? "");
  const kind = p.idtyp === "app" || (scp.length === 0 && p.idtyp !== "user") ? "app" : "user";
  const upn = (p.preferred_username ?? p.upn ?? p.unique_name) as string | undefined;
  return {
    tenantId,
    kind,
    clientId,
    displayName: kind === "user" ? (upn ?? String(p.oid ?? "")) : String(p.app_displayname ?? clientId),
    appRoles: kind === "app" ? stringList(p.roles) : [],
    scopes: kind === "user" ? scp : [],
    userRoles: kind === "user" ? rolesFromWids(stringList(p.wids)) : [],
    objectId: String(p.oid ?? p.sub ?? ""),
    exp: Number(p.exp),
  };
}
