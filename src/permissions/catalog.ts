import data from "./security-permissions.json" with { type: "json" };
import type { Scheme } from "./contracts.js";

export type { Scheme };

/**
 * The permission catalog: Microsoft Graph's public permission data for the security endpoints
 * (copied from the reference in shared/, with its sources in `_meta`). Every Graph route names an
 * operation here; enforcement and the permissions reference are both derived from it.
 */

export interface Grant {
  permission: string;
  leastPrivileged: boolean;
}

export interface Operation {
  /** "METHOD /path" with {id} placeholders, as in the catalog. */
  key: string;
  grants: Record<Scheme, Grant[]>;
  /** Entra built-in roles that allow a signed-in user the method (delegated calls). */
  roles: string[];
  /** Set when Triage derives the operation from another, because Graph's data has no entry for it. */
  derivedFrom?: string;
  /** What the reference should say about the operation beyond its grants. */
  note?: string;
}

type IndexEntry = Partial<Record<Scheme, Grant[]>>;
const index = data.derivedPathIndex.index as Record<string, IndexEntry>;
const docsTables = data.docsPermissionTables.methods as Record<string, { entraRolesForDelegated?: string[] }>;

const READ_ROLES = ["Security Reader", "Global Reader", "Security Operator", "Security Administrator"];
const WRITE_ROLES = ["Security Operator", "Security Administrator"];

/**
 * Graph's permission data leaves some paths out: the $count segments and an incident's alerts. They
 * need what listing their collection needs ($count counts that listing; /incidents/{id}/alerts is the
 * same data as $expand=alerts).
 */
const DERIVED: Record<string, string> = {
  "GET /security/incidents/$count": "GET /security/incidents",
  "GET /security/alerts_v2/$count": "GET /security/alerts_v2",
  "GET /security/incidents/{id}/alerts": "GET /security/incidents/{id}",
  // Triage's own API: ingesting alerts needs what creating an alert in Graph needs; reading an
  // entity's audit trail or correlation needs what reading the entity needs.
  "POST /ingest/alerts": "POST /security/alerts_v2",
  "GET /triage/incidents/{id}/audit": "GET /security/incidents/{id}",
  "GET /triage/incidents/{id}/correlation": "GET /security/incidents/{id}",
  "GET /triage/alerts/{id}/audit": "GET /security/alerts_v2/{id}",
  // The hunting schema (beta getHuntingSchema) is what any hunting query may read.
  "GET /security/getHuntingSchema": "GET /security/getRunHuntingQuery",
  // The Hunting page's editor support (classification, diagnostics, completions of a query) reads only
  // the hunting schema, so it needs what a hunting query needs.
  "POST /triage/hunting/editor": "GET /security/getRunHuntingQuery",
};

function rolesFor(key: string): string[] {
  const docKey = key.replace("{id}", key.includes("alerts_v2") ? "{alertId}" : "{incidentId}");
  return docsTables[docKey]?.entraRolesForDelegated ?? (key.startsWith("GET ") ? READ_ROLES : WRITE_ROLES);
}

/**
 * The catalog marks "least" on whole path sets, so a ReadWrite permission looks least-privileged for
 * GET {id}; the API reference resolves it the intended way (Read.All least, ReadWrite.All higher),
 * and so does Triage: for a GET, a ReadWrite permission is never the least privileged.
 */
function grantsFor(key: string): Record<Scheme, Grant[]> {
  const entry = index[key];
  if (!entry) throw new Error(`No permission data for ${key}`);
  const fix = (gs: Grant[] = []) =>
    gs.map((g) => ({
      permission: g.permission,
      leastPrivileged: key.startsWith("GET ") && gs.some((o) => o.permission.endsWith(".Read.All")) ? g.permission.endsWith(".Read.All") : g.leastPrivileged,
    }));
  return { DelegatedWork: fix(entry.DelegatedWork), Application: fix(entry.Application) };
}

/**
 * Triage's own directory administration (app registrations, consent, secrets, users and roles), which
 * the web app's admin pages use. The catalog (Graph's data for the security endpoints) has no
 * directory permissions, so these operations are delegated only: the app needs a security write
 * permission (SecurityIncident.ReadWrite.All or SecurityAlert.ReadWrite.All) and the signed-in user
 * must be a Security Administrator. No application permission grants them: an automation app holding
 * SecurityIncident.ReadWrite.All cannot register apps or grant itself consent.
 */
const ADMIN_ROLES = ["Security Administrator"];
const ADMIN_OPERATIONS = new Set([
  "GET /triage/admin/apps",
  "POST /triage/admin/apps",
  "DELETE /triage/admin/apps/{id}",
  "POST /triage/admin/apps/{id}/permissions",
  "POST /triage/admin/apps/{id}/consent",
  "DELETE /triage/admin/apps/{id}/consent",
  "POST /triage/admin/apps/{id}/secrets",
  "GET /triage/admin/users",
  "POST /triage/admin/users",
  "PATCH /triage/admin/users/{id}",
  // Fault injection and strictness profiles (docs/testing-faults.md): they change what every app of
  // the tenant gets from the Graph surface, so they are administration too.
  "GET /triage/admin/faults",
  "PUT /triage/admin/faults",
  "DELETE /triage/admin/faults",
  "GET /triage/admin/faults/events",
  "PUT /triage/admin/apps/{id}/faults",
  "DELETE /triage/admin/apps/{id}/faults",
  "GET /triage/admin/profiles",
  "PUT /triage/admin/profile",
  "PUT /triage/admin/apps/{id}/profile",
]);
/**
 * Automation rules change incidents on their own and send them out (and the SLA policy decides when
 * its breaches trigger them), so only administrators manage them: delegated only, like the directory administration, for a signed-in Security Administrator.
 */
const AUTOMATION_OPERATIONS = new Set([
  "GET /triage/automation/rules",
  "POST /triage/automation/rules",
  "GET /triage/automation/rules/{id}",
  "PATCH /triage/automation/rules/{id}",
  "DELETE /triage/automation/rules/{id}",
  "POST /triage/automation/rules/{id}/dryRun",
  "POST /triage/automation/dryRun",
  // The SLA policy (docs/sla.md): its breaches trigger rules, so it is managed with them.
  "GET /triage/sla/policy",
  "PUT /triage/sla/policy",
  "GET /triage/automation/jobs",
  "GET /triage/automation/jobs/{id}",
  "POST /triage/automation/jobs/{id}/retry",
]);
const AUTOMATION_NOTE =
  "Triage's automation rules and SLA policy, delegated only: the signed-in user must be a Security Administrator; no application permission grants it.";
const ADMIN_PERMISSIONS = ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"];
const ADMIN_NOTE =
  "Triage's directory administration, delegated only: the signed-in user must be a Security Administrator; no application permission grants it.";

/**
 * Change-notification subscriptions (Graph's /subscriptions). Graph's data lists them under
 * Microsoft Graph as a whole, not under the security endpoints, and what a subscription needs depends
 * on its resource: creating (and renewing, which reauthorizes) needs the read permission of the resource
 * it watches, which the route checks against that resource's own entry. The route itself admits any
 * caller holding a read (or read-write) permission for incidents or alerts.
 */
const SUBSCRIPTION_OPERATIONS = new Set([
  "POST /subscriptions",
  "GET /subscriptions",
  "GET /subscriptions/{id}",
  "PATCH /subscriptions/{id}",
  "DELETE /subscriptions/{id}",
  "POST /subscriptions/{id}/reauthorize",
]);
const SUBSCRIPTION_PERMISSIONS = ["SecurityIncident.Read.All", "SecurityAlert.Read.All", "SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"];
const SUBSCRIPTION_NOTE =
  "Change notifications: creating or renewing a subscription also needs the read permission of its resource (GET /security/incidents or GET /security/alerts_v2); an app sees only its own subscriptions.";

/**
 * The web app's live stream of the tenant's changes (GET /triage/changes): like a subscription, it is
 * admitted with a read (or read-write) permission for incidents or alerts, and carries only the changes
 * of the entities the caller may read, each checked against that entity's own read operation.
 */
const LIVE_OPERATIONS = new Set(["GET /triage/changes"]);
const LIVE_NOTE =
  "Triage's live change stream: it carries incident changes only to a caller who may GET /security/incidents, and alert changes only to one who may GET /security/alerts_v2.";

/**
 * The Azure Resource Manager stand-in the Azure CLI reads when it signs in (docs/azure-cli.md): `az
 * login` lists the tenant's subscriptions with the token it just got, and Triage has none. Admitted with
 * any permission that grants something of Triage (all but the retired SecurityEvents ones), so that
 * every app that may call Triage can sign in; a token with none, or a user without a security role, is
 * refused here too.
 */
const ARM_OPERATIONS = new Set(["GET /arm/subscriptions"]);
const ARM_NOTE =
  "Azure Resource Manager's subscription list as the Azure CLI reads it at sign-in: always empty (Triage has no subscriptions); admitted with any permission of this catalog but the retired SecurityEvents ones.";

export function operation(key: string): Operation {
  if (LIVE_OPERATIONS.has(key)) {
    const grants = SUBSCRIPTION_PERMISSIONS.map((permission) => ({ permission, leastPrivileged: permission.endsWith(".Read.All") }));
    return { key, grants: { DelegatedWork: grants, Application: grants }, roles: [...READ_ROLES], note: LIVE_NOTE };
  }
  if (ARM_OPERATIONS.has(key)) {
    const schemes = data.permissions as Record<string, { schemes: Partial<Record<Scheme, unknown>> }>;
    const grantsIn = (scheme: Scheme) =>
      permissionNames()
        .filter((permission) => !permission.startsWith("SecurityEvents.") && schemes[permission]?.schemes[scheme] !== undefined)
        .map((permission) => ({ permission, leastPrivileged: true }));
    return { key, grants: { DelegatedWork: grantsIn("DelegatedWork"), Application: grantsIn("Application") }, roles: [...READ_ROLES], note: ARM_NOTE };
  }
  if (SUBSCRIPTION_OPERATIONS.has(key)) {
    const grants = SUBSCRIPTION_PERMISSIONS.map((permission) => ({ permission, leastPrivileged: permission.endsWith(".Read.All") }));
    return { key, grants: { DelegatedWork: grants, Application: grants }, roles: [...READ_ROLES], note: SUBSCRIPTION_NOTE };
  }
  if (ADMIN_OPERATIONS.has(key)) {
    return {
      key,
      grants: { DelegatedWork: ADMIN_PERMISSIONS.map((permission) => ({ permission, leastPrivileged: true })), Application: [] },
      roles: [...ADMIN_ROLES],
      note: ADMIN_NOTE,
    };
  }
  if (AUTOMATION_OPERATIONS.has(key)) {
    return {
      key,
      grants: { DelegatedWork: ADMIN_PERMISSIONS.map((permission) => ({ permission, leastPrivileged: true })), Application: [] },
      roles: [...ADMIN_ROLES],
      note: AUTOMATION_NOTE,
    };
  }
  const base = DERIVED[key];
  if (base) return { key, grants: grantsFor(base), roles: rolesFor(base), derivedFrom: base };
  return { key, grants: grantsFor(key), roles: rolesFor(key) };
}

export function allOperationKeys(): string[] {
  return [
    ...Object.keys(index),
    ...Object.keys(DERIVED),
    ...ADMIN_OPERATIONS,
    ...AUTOMATION_OPERATIONS,
    ...SUBSCRIPTION_OPERATIONS,
    ...LIVE_OPERATIONS,
    ...ARM_OPERATIONS,
  ];
}

export const catalogSources = data._meta.sources;

/** Every permission name in the catalog. */
export function permissionNames(): string[] {
  return Object.keys(data.permissions);
}

/** The Graph route templates of the catalog's operations (`/security/incidents/{id}`…): what a fault rule may target. */
export function graphRouteTemplates(): string[] {
  const paths = allOperationKeys()
    .map((k) => k.slice(k.indexOf(" ") + 1))
    .filter((p) => p.startsWith("/security/") || p === "/subscriptions" || p.startsWith("/subscriptions/"));
  return [...new Set(paths)].sort();
}
