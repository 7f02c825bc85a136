import data from "./security-permissions.json" with { type: "json" };
import { allOperationKeys, catalogSources, operation } from "./catalog.js";
import { CMDLETS } from "./cmdlets.js";
import type { Api, ApiVersion, MethodReference, PermissionReference, PermissionsReference, Scheme, SchemeName, SchemeReference } from "./contracts.js";

export type { Api, ApiVersion, MethodReference, PermissionReference, PermissionsReference, SchemeName, SchemeReference };

/**
 * The permissions reference: every permission in the catalog, what it is (ids, consent texts), and
 * the methods it grants per API version, with the flags enforcement uses. Built from the same
 * `operation(key)` the routes carry, so the reference cannot say something the server does not do.
 */

export const API_VERSIONS: readonly ApiVersion[] = ["v1.0", "beta"];
export const APIS: readonly Api[] = [...API_VERSIONS, "triage"];
/** Where each API's paths are served: /v1.0/security/…, /beta/security/…, /ingest/… */
const API_ROOTS: Record<Api, string> = { "v1.0": "/v1.0", beta: "/beta", triage: "" };
export const SCHEMES: Readonly<Record<SchemeName, Scheme>> = { delegated: "DelegatedWork", application: "Application" };
const SCHEME_NAMES = Object.keys(SCHEMES) as SchemeName[];

const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";
const LEGACY_RETIREMENT = "2026-10-15";

/**
 * Catalog operations Triage has no route for. Everything else in the catalog is implemented, in both
 * API versions; test/permissions/reference.test.ts checks this against the routes actually registered.
 */
const NOT_IMPLEMENTED = new Set([
  "GET /security/alerts",
  "GET /security/alerts/{id}",
  "PATCH /security/alerts/{id}",
  "POST /security/alerts/updatealerts",
  "POST /security/alerts_v2",
  "POST /security/alerts_v2/createAlert",
]);

/** The catalog operations Triage's routes serve (Graph ones in both versions). */
export function implementedOperationKeys(): string[] {
  return allOperationKeys().filter((k) => !NOT_IMPLEMENTED.has(k));
}

/** Operations that exist only in beta (the manual-alert create, the hunting functions); the rest exist in v1.0 and beta. */
const BETA_ONLY = new Set([
  "POST /security/alerts_v2",
  "POST /security/alerts_v2/createAlert",
  "GET /security/getRunHuntingQuery",
  "GET /security/getHuntingSchema",
]);

/** Graph paths live under /security; the catalog's other operations are Triage's own API. */
function isGraphPath(path: string): boolean {
  if (path === "/subscriptions" || path.startsWith("/subscriptions/")) return true;
  return path.startsWith("/security/");
}

function isLegacyAlertsPath(path: string): boolean {
  return path === "/security/alerts" || path.startsWith("/security/alerts/");
}

interface SchemeData {
  adminDisplayName: string;
  adminDescription: string;
  userDisplayName?: string;
  userDescription?: string;
  requiresAdminConsent: boolean;
  privilegeLevel: number;
}
interface PermissionData {
  schemes: Partial<Record<Scheme, SchemeData>>;
  ownerInfo: { ownerSecurityGroup: string };
  /** Set on a permission Triage adds from the API reference pages, which Graph's permission data lacks. */
  source?: string;
}
interface ProvisioningData {
  id: string;
  scheme: string;
  resourceAppId: string;
}

const permissionData = data.permissions as Record<string, PermissionData>;
const permissionIds = data.permissionIds as Record<string, Partial<Record<Scheme, string>>>;
const provisioning = data.provisioningInfo as Record<string, ProvisioningData[]>;

const METHOD_ORDER = ["GET", "PATCH", "POST", "PUT", "DELETE"];

function splitKey(key: string): { method: string; path: string } {
  const i = key.indexOf(" ");
  return { method: key.slice(0, i), path: key.slice(i + 1) };
}

function apisOf(key: string): Api[] {
  if (!isGraphPath(splitKey(key).path)) return ["triage"];
  return BETA_ONLY.has(key) ? ["beta"] : [...API_VERSIONS];
}

function schemeReference(name: string, scheme: Scheme): SchemeReference {
  const s = permissionData[name]?.schemes[scheme];
  if (!s) throw new Error(`The catalog has no ${scheme} scheme for ${name}`);
  const id = permissionIds[name]?.[scheme] || null;
  const prov = provisioning[name]?.find((p) => p.scheme === scheme);
  return {
    scheme,
    id,
    provisioned: id !== null && prov !== undefined && prov.id === id && prov.resourceAppId === "",
    adminConsentDisplayName: s.adminDisplayName,
    adminConsentDescription: s.adminDescription,
    userConsentDisplayName: s.userDisplayName ?? null,
    userConsentDescription: s.userDescription ?? null,
    requiresAdminConsent: s.requiresAdminConsent,
    privilegeLevel: s.privilegeLevel,
  };
}

function methodReference(name: string, key: string, api: Api, implemented: ReadonlySet<string>): MethodReference | null {
  const op = operation(key);
  const leastPrivileged = {} as Record<SchemeName, boolean | null>;
  for (const s of SCHEME_NAMES) leastPrivileged[s] = op.grants[SCHEMES[s]].find((g) => g.permission === name)?.leastPrivileged ?? null;
  if (SCHEME_NAMES.every((s) => leastPrivileged[s] === null)) return null;

  const { method, path } = splitKey(key);
  const retired = isLegacyAlertsPath(path);
  const isImplemented = implemented.has(key);
  const graph = api !== "triage";
  const cmdlets = graph ? CMDLETS[key] : undefined;
  const notes: string[] = [];
  if (!graph) notes.push(`Triage's own API, not Microsoft Graph${op.derivedFrom ? `: it takes the permissions of ${op.derivedFrom}` : ""}.`);
  else if (op.derivedFrom) notes.push(`Graph's permission data has no entry for this path; Triage applies the permissions of ${op.derivedFrom}.`);
  if (op.note) notes.push(op.note);
  if (BETA_ONLY.has(key))
    notes.push(key === "POST /security/alerts_v2" ? "Beta only: creates a manual alert." : "Beta only; listed in Graph's permission data, not on an API page.");
  if (retired) notes.push(`Legacy alerts API (microsoft.graph.alert): retired on ${LEGACY_RETIREMENT} per Microsoft's alerts v1→v2 migration guide.`);
  if (!isImplemented) notes.push("Triage does not implement this method.");
  if (graph && !cmdlets) notes.push("PowerShell: no cmdlet mapped.");
  for (const note of [cmdlets?.note, api === "beta" ? cmdlets?.betaNote : undefined]) if (note) notes.push(`PowerShell: ${note}`);

  return {
    operation: key,
    method,
    path,
    leastPrivileged,
    entraRoles: [...op.roles],
    implemented: isImplemented,
    retired,
    derivedFrom: op.derivedFrom ?? null,
    cmdlet: api === "triage" ? null : (cmdlets?.[api] ?? null),
    notes,
  };
}

function permissionNotes(name: string, schemes: Record<SchemeName, SchemeReference>): string[] {
  const notes: string[] = [];
  const unprovisioned = SCHEME_NAMES.filter((s) => !schemes[s].provisioned);
  const documented = permissionData[name]?.source;
  if (documented) {
    notes.push(
      `Documented on the API reference pages (${documented}) but absent from Graph's permission data that this catalog is built from: Triage adds it from the pages, which publish no permission ids, so it has none here.`,
    );
  } else if (unprovisioned.length) {
    const appIds = [...new Set((provisioning[name] ?? []).map((p) => p.resourceAppId).filter(Boolean))];
    notes.push(
      `Not provisioned as a Microsoft Graph permission (${unprovisioned.join(", ")}): Graph's provisioning data has no id for it` +
        (appIds.length ? ` and names resource app ${appIds.join(", ")}` : "") +
        ", so it cannot be granted to an app yet.",
    );
  }
  if (name.startsWith("SecurityEvents.")) {
    notes.push(`Guards only the legacy /security/alerts API, retired on ${LEGACY_RETIREMENT}; it does not grant /security/alerts_v2 or /security/incidents.`);
  }
  return notes;
}

function compareKeys(a: string, b: string): number {
  const x = splitKey(a);
  const y = splitKey(b);
  if (x.path !== y.path) return x.path < y.path ? -1 : 1;
  return METHOD_ORDER.indexOf(x.method) - METHOD_ORDER.indexOf(y.method);
}

/** The whole reference; pure: a function of the catalog alone. */
export function buildPermissionsReference(): PermissionsReference {
  const keys = allOperationKeys().sort(compareKeys);
  const implemented = new Set(implementedOperationKeys());
  const permissions = Object.keys(permissionData).map((name): PermissionReference => {
    const schemes = { delegated: schemeReference(name, "DelegatedWork"), application: schemeReference(name, "Application") };
    const methods = {} as Record<Api, MethodReference[]>;
    for (const api of APIS) {
      methods[api] = keys
        .filter((k) => apisOf(k).includes(api))
        .map((k) => methodReference(name, k, api, implemented))
        .filter((m): m is MethodReference => m !== null);
    }
    return {
      name,
      ownerGroup: permissionData[name]!.ownerInfo.ownerSecurityGroup,
      provisioned: SCHEME_NAMES.every((s) => schemes[s].provisioned),
      schemes,
      methods,
      notes: permissionNotes(name, schemes),
    };
  });
  return {
    resource: { appId: GRAPH_APP_ID, displayName: "Microsoft Graph" },
    versions: [...API_VERSIONS],
    apis: APIS.map((api) => ({ api, root: API_ROOTS[api], graph: api !== "triage" })),
    schemes: {
      delegated: { scheme: "DelegatedWork", displayName: data._meta.schemeNames.DelegatedWork, tokenClaim: "scp" },
      application: { scheme: "Application", displayName: data._meta.schemeNames.Application, tokenClaim: "roles" },
    },
    permissions,
    sources: catalogSources,
  };
}

/** One permission by name, case-insensitively. */
export function findPermission(ref: PermissionsReference, name: string): PermissionReference | undefined {
  const lower = name.toLowerCase();
  return ref.permissions.find((p) => p.name.toLowerCase() === lower);
}

export const CSV_COLUMNS = [
  "permission",
  "scheme",
  "permissionId",
  "provisioned",
  "requiresAdminConsent",
  "privilegeLevel",
  "ownerGroup",
  "adminConsentDisplayName",
  "adminConsentDescription",
  "userConsentDisplayName",
  "userConsentDescription",
  "version",
  "method",
  "path",
  "operation",
  "leastPrivileged",
  "entraRoles",
  "implemented",
  "retired",
  "derivedFrom",
  "cmdlet",
  "notes",
] as const;

/** RFC 4180: a field with a comma, quote, CR or LF is quoted, its quotes doubled. */
function csvField(value: string | number | boolean | null): string {
  const s = value === null ? "" : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * One row per permission × scheme × method × version (v1.0, beta, or "triage" for Triage's own
 * unversioned API), only where the scheme grants the method; CRLF line ends.
 */
export function permissionsCsv(permissions: readonly PermissionReference[]): string {
  const rows: string[] = [CSV_COLUMNS.join(",")];
  for (const p of permissions) {
    for (const s of SCHEME_NAMES) {
      const sc = p.schemes[s];
      for (const api of APIS) {
        for (const m of p.methods[api]) {
          const least = m.leastPrivileged[s];
          if (least === null) continue;
          const row: Record<(typeof CSV_COLUMNS)[number], string | number | boolean | null> = {
            permission: p.name,
            scheme: s,
            permissionId: sc.id,
            provisioned: sc.provisioned,
            requiresAdminConsent: sc.requiresAdminConsent,
            privilegeLevel: sc.privilegeLevel,
            ownerGroup: p.ownerGroup,
            adminConsentDisplayName: sc.adminConsentDisplayName,
            adminConsentDescription: sc.adminConsentDescription,
            userConsentDisplayName: sc.userConsentDisplayName,
            userConsentDescription: sc.userConsentDescription,
            version: api,
            method: m.method,
            path: m.path,
            operation: m.operation,
            leastPrivileged: least,
            entraRoles: s === "delegated" ? m.entraRoles.join("; ") : null,
            implemented: m.implemented,
            retired: m.retired,
            derivedFrom: m.derivedFrom,
            cmdlet: m.cmdlet,
            notes: [...p.notes, ...m.notes].join(" "),
          };
          rows.push(CSV_COLUMNS.map((c) => csvField(row[c])).join(","));
        }
      }
    }
  }
  return rows.join("\r\n") + "\r\n";
}
