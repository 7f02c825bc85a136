import { createHash, randomBytes } from "node:crypto";
import type { Db, GrantTable } from "../../store/tables.js";
import { findDeviceCodeRow, findGrantRow, insertGrant, revokeRefreshFamily, transitionGrant } from "../../store/identity/grants.js";
import { rememberAssertionId } from "../../store/identity/credential-state.js";

/** Codes and refresh tokens are stored only as their SHA-256. */
export function grantId(secret: string): string {
  return createHash("sha256").update(secret).digest("base64url");
}

export function newGrantSecret(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

export interface Grant<D> {
  id: string;
  kind: string;
  tenantId: string;
  clientId: string;
  userId: string | null;
  userCode: string | null;
  data: D;
  status: string;
  expiresAt: string;
  /** The sign-in a refresh token descends from (see revokeFamily). */
  familyId?: string | null;
}

export async function saveGrant<D>(db: Db, secret: string, g: Omit<Grant<D>, "id">): Promise<void> {
  await insertGrant(db, {
    id: grantId(secret),
    kind: g.kind,
    tenant_id: g.tenantId,
    client_id: g.clientId,
    user_id: g.userId,
    user_code: g.userCode,
    data: JSON.stringify(g.data),
    status: g.status,
    expires_at: g.expiresAt,
    family_id: g.familyId ?? null,
  });
}

function toGrant<D>(r: GrantTable): Grant<D> {
  return {
    id: r.id,
    kind: r.kind,
    tenantId: r.tenant_id,
    clientId: r.client_id,
    userId: r.user_id,
    userCode: r.user_code,
    data: JSON.parse(r.data) as D,
    status: r.status,
    expiresAt: r.expires_at,
    familyId: r.family_id,
  };
}

export async function findGrant<D>(db: Db, kind: string, secret: string): Promise<Grant<D> | undefined> {
  const r = await findGrantRow(db, kind, grantId(secret));
  return r && toGrant<D>(r);
}

export async function findByUserCode<D>(db: Db, userCode: string): Promise<Grant<D> | undefined> {
  const r = await findDeviceCodeRow(db, userCode);
  return r && toGrant<D>(r);
}

/**
 * Moves a grant from one status to another, only if it is still in `from`: a code or refresh token
 * can be redeemed once, even by two requests racing.
 */
export async function transition(db: Db, id: string, from: string, to: string, userId?: string): Promise<boolean> {
  return transitionGrant(db, id, from, to, userId);
}

/**
 * Revokes every live refresh token of a family: what one sign-in (a code, a password, a device code)
 * issued and every token rotated from it. RFC 9700 §4.14.2 and RFC 6749 §4.1.2: a spent refresh token
 * or a redeemed code presented again means one of the parties holding it is not the client.
 */
export async function revokeFamily(db: Db, familyId: string): Promise<number> {
  return revokeRefreshFamily(db, familyId);
}

/**
 * Records a client assertion's jti until `expiresAt` (epoch ms); false when it was already seen and
 * has not expired. One statement, so two nodes receiving the same assertion at once accept it once.
 */
export async function rememberAssertion(db: Db, clientId: string, jti: string, expiresAt: number, now = Date.now()): Promise<boolean> {
  const id = createHash("sha256").update(`${clientId.toLowerCase()}:${jti}`).digest("base64url");
  return rememberAssertionId(db, id, expiresAt, now);
}
