import { createHash, randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "../../store/tables.js";

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
}

export async function saveGrant<D>(db: Kysely<Database>, secret: string, g: Omit<Grant<D>, "id">): Promise<void> {
  await db
    .insertInto("grants")
    .values({
      id: grantId(secret),
      kind: g.kind,
      tenant_id: g.tenantId,
      client_id: g.clientId,
      user_id: g.userId,
      user_code: g.userCode,
      data: JSON.stringify(g.data),
      status: g.status,
      expires_at: g.expiresAt,
    })
    .execute();
}

function toGrant<D>(r: Database["grants"]): Grant<D> {
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
  };
}

export async function findGrant<D>(db: Kysely<Database>, kind: string, secret: string): Promise<Grant<D> | undefined> {
  const r = await db.selectFrom("grants").selectAll().where("id", "=", grantId(secret)).where("kind", "=", kind).executeTakeFirst();
  return r && toGrant<D>(r);
}

export async function findByUserCode<D>(db: Kysely<Database>, userCode: string): Promise<Grant<D> | undefined> {
  const r = await db.selectFrom("grants").selectAll().where("kind", "=", "device_code").where("user_code", "=", userCode).executeTakeFirst();
  return r && toGrant<D>(r);
}

/**
 * Moves a grant from one status to another, only if it is still in `from`: a code or refresh token
 * can be redeemed once, even by two requests racing.
 */
export async function transition(db: Kysely<Database>, id: string, from: string, to: string, userId?: string): Promise<boolean> {
  const res = await db
    .updateTable("grants")
    .set(userId ? { status: to, user_id: userId } : { status: to })
    .where("id", "=", id)
    .where("status", "=", from)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

export async function purgeExpired(db: Kysely<Database>, now = new Date()): Promise<void> {
  await db.deleteFrom("grants").where("expires_at", "<", now.toISOString()).execute();
}
