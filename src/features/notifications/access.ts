/**
 * Whether a subscription's app may still read what it subscribed to, as a request of it would be
 * authorized now: the app must still be registered, and its consented permissions (application ones
 * for an app-only subscription; delegated ones and the user's roles for a signed-in user's) must still
 * grant the resource's read. Checked when a subscription is claimed for a delivery (in the claim's
 * transaction), so nothing is sent to an app whose registration was deleted or whose consent was revoked.
 */
import { consentedPermissions, findApp, findUser } from "../../identity/directory.js";
import { authorize } from "../../permissions/authorize.js";
import { operation } from "../../permissions/catalog.js";
import type { Principal } from "../../permissions/principal.js";
import type { StoreDb } from "../../store/transaction.js";
import type { SubscriptionTable } from "../../store/subscriptions.js";
import { GraphError } from "../../errors/graph-error.js";
import { readOperationOf } from "./subscriptions.js";

export async function subscriberMayRead(db: StoreDb, sub: SubscriptionTable): Promise<boolean> {
  const app = await findApp(db, sub.app_id);
  if (!app || app.tenantId !== sub.tenant_id) return false;
  let principal: Principal;
  const base = { tenantId: sub.tenant_id, clientId: app.clientId, displayName: app.displayName, objectId: sub.creator_id, exp: 0 };
  // An app-only token's object id is the app's client id; a signed-in user's is the user's id.
  if (sub.creator_id.toLowerCase() === sub.app_id.toLowerCase()) {
    const appRoles = await consentedPermissions(db, sub.tenant_id, app.clientId, "Application");
    principal = { ...base, kind: "app", appRoles, scopes: [], userRoles: [] };
  } else {
    const user = await findUser(db, sub.tenant_id, sub.creator_id);
    if (!user) return false;
    const scopes = await consentedPermissions(db, sub.tenant_id, app.clientId, "DelegatedWork");
    principal = { ...base, kind: "user", appRoles: [], scopes, userRoles: user.roles };
  }
  try {
    authorize(principal, operation(readOperationOf({ entityType: sub.entity_type, entityId: sub.entity_id })));
    return true;
  } catch (e) {
    if (e instanceof GraphError && e.status === 403) return false;
    throw e;
  }
}

/**
 * `subscriberMayRead` for each of `subs`, in order, reading once per app, user and kind of resource:
 * a claim often holds many subscriptions of one app.
 */
export function subscribersMayRead(db: StoreDb, subs: readonly SubscriptionTable[]): Promise<boolean[]> {
  const checks = new Map<string, Promise<boolean>>();
  return Promise.all(
    subs.map((sub) => {
      const key = JSON.stringify([sub.tenant_id, sub.app_id, sub.creator_id, sub.entity_type, sub.entity_id === null]);
      let check = checks.get(key);
      if (!check) checks.set(key, (check = subscriberMayRead(db, sub)));
      return check;
    }),
  );
}
