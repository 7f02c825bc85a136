import { randomBytes, randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import type { KeyRing } from "./keys.js";
import { ENTRA_ROLES, type EntraRole } from "../permissions/entra-roles.js";

/** Microsoft Graph's application id: the audience of every token Triage issues for the API. */
export const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";
export const GRAPH_RESOURCE = "https://graph.microsoft.com";

export interface AppSubject {
  kind: "app";
  tenantId: string;
  clientId: string;
  appName: string;
  /** Consented application permissions. */
  roles: string[];
}

export interface UserSubject {
  kind: "user";
  tenantId: string;
  clientId: string;
  appName: string;
  userId: string;
  upn: string;
  displayName: string;
  userRoles: EntraRole[];
  /** Consented delegated permissions granted to this token. */
  scopes: string[];
}

export type Subject = AppSubject | UserSubject;

export function issuerFor(origin: string, tenantId: string): string {
  return `${origin}/${tenantId}/v2.0`;
}

/** A unique token identifier, like Entra's `uti`. */
function uti(): string {
  return randomBytes(16).toString("base64url");
}

/**
 * An access token shaped like an Entra v2.0 access token for Microsoft Graph: RS256, `kid` header,
 * aud = Graph's app id, iss = this server's tenant issuer, and `roles` (app-only) or `scp` (delegated).
 */
export async function accessToken(keys: KeyRing, origin: string, subject: Subject, lifetimeSeconds: number, now = Date.now()): Promise<string> {
  const key = await keys.signingKey();
  const iat = Math.floor(now / 1000);
  const claims: Record<string, unknown> = {
    aud: GRAPH_APP_ID,
    iss: issuerFor(origin, subject.tenantId),
    iat,
    nbf: iat,
    exp: iat + lifetimeSeconds,
    tid: subject.tenantId,
    azp: subject.clientId,
    azpacr: "1",
    app_displayname: subject.appName,
    uti: uti(),
    ver: "2.0",
  };
  if (subject.kind === "app") {
    Object.assign(claims, { idtyp: "app", oid: subject.clientId, sub: subject.clientId, roles: subject.roles });
  } else {
    Object.assign(claims, {
      idtyp: "user",
      oid: subject.userId,
      sub: subject.userId,
      name: subject.displayName,
      preferred_username: subject.upn,
      upn: subject.upn,
      scp: subject.scopes.join(" "),
      wids: subject.userRoles.map((r) => ENTRA_ROLES[r]),
    });
  }
  return new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: key.kid }).sign(key.privateKey);
}

/** The OpenID Connect id token the delegated flows return to the client application. */
export async function idToken(keys: KeyRing, origin: string, subject: UserSubject, lifetimeSeconds: number, nonce?: string, now = Date.now()): Promise<string> {
  const key = await keys.signingKey();
  const iat = Math.floor(now / 1000);
  const claims: Record<string, unknown> = {
    aud: subject.clientId,
    iss: issuerFor(origin, subject.tenantId),
    iat,
    nbf: iat,
    exp: iat + lifetimeSeconds,
    tid: subject.tenantId,
    oid: subject.userId,
    sub: subject.userId,
    name: subject.displayName,
    preferred_username: subject.upn,
    ver: "2.0",
  };
  if (nonce) claims.nonce = nonce;
  return new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: key.kid }).sign(key.privateKey);
}

/** MSAL's client_info: base64url of {"uid","utid"}, which it keys the account cache on. */
export function clientInfo(subject: UserSubject): string {
  return Buffer.from(JSON.stringify({ uid: subject.userId, utid: subject.tenantId })).toString("base64url");
}

export function newOpaqueToken(): string {
  return `${randomUUID()}.${randomBytes(24).toString("base64url")}`;
}
