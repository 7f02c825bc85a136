/** The strictness profiles set for a tenant (client_id '') or one of its apps (schema/profile.ts). */
import type { Kysely } from "kysely";
import type { Database } from "./tables.js";
import { isProfile, type Profile } from "../schema/profile.js";

export interface StoredProfile {
  /** '' for the tenant's own. */
  clientId: string;
  profile: Profile;
  updatedAt: string;
}

/** Sets a profile, or (null) removes it so that the tenant's, or the server's, applies again. */
export async function setProfile(db: Kysely<Database>, tenantId: string, clientId: string, profile: Profile | null): Promise<void> {
  if (profile === null) {
    await db.deleteFrom("api_profiles").where("tenant_id", "=", tenantId).where("client_id", "=", clientId).execute();
    return;
  }
  const updated_at = new Date().toISOString();
  await db
    .insertInto("api_profiles")
    .values({ tenant_id: tenantId, client_id: clientId, profile, updated_at })
    .onConflict((oc) => oc.columns(["tenant_id", "client_id"]).doUpdateSet({ profile, updated_at }))
    .execute();
}

export async function listProfiles(db: Kysely<Database>, tenantId: string): Promise<StoredProfile[]> {
  const rows = await db.selectFrom("api_profiles").selectAll().where("tenant_id", "=", tenantId).orderBy("client_id").execute();
  return rows.filter((r) => isProfile(r.profile)).map((r) => ({ clientId: r.client_id, profile: r.profile as Profile, updatedAt: r.updated_at }));
}
