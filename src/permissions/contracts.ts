/**
 * The JSON of GET /permissions and GET /permissions/{name}. Type-only and import-free: the web app
 * compiles it too (with DOM libs and no Node types), so it must stay that way.
 */

/** The catalog's scheme keys. */
export type Scheme = "DelegatedWork" | "Application";
export type ApiVersion = "v1.0" | "beta";
/** The Graph versions, and Triage's own API (ingestion, audit, correlation), which has no version. */
export type Api = ApiVersion | "triage";
export type SchemeName = "delegated" | "application";

export interface SchemeReference {
  /** The catalog's scheme key. */
  scheme: Scheme;
  /** The permission's GUID for this scheme; null when it is not provisioned. */
  id: string | null;
  provisioned: boolean;
  adminConsentDisplayName: string;
  adminConsentDescription: string;
  /** Delegated only: what a user sees when consenting; null for application permissions. */
  userConsentDisplayName: string | null;
  userConsentDescription: string | null;
  requiresAdminConsent: boolean;
  privilegeLevel: number;
}

export interface MethodReference {
  /** The catalog operation key, "METHOD /path". */
  operation: string;
  method: string;
  path: string;
  /** Per scheme: true when this permission is least privileged for the method, false when it grants it with more than needed, null when it does not grant it under that scheme. */
  leastPrivileged: Record<SchemeName, boolean | null>;
  /** Entra built-in roles, any one of which a signed-in user needs for the delegated call. */
  entraRoles: string[];
  implemented: boolean;
  /** The legacy /security/alerts API, retired by Microsoft. */
  retired: boolean;
  /** Set when Graph's data has no entry for the path and Triage applies another operation's permissions. */
  derivedFrom: string | null;
  /** The Microsoft Graph PowerShell cmdlet for this method in this version, or null (see notes; always null for Triage's own API). */
  cmdlet: string | null;
  notes: string[];
}

export interface PermissionReference {
  name: string;
  ownerGroup: string;
  /** False when the permission has no id in Graph's provisioning data (it cannot be granted yet). */
  provisioned: boolean;
  schemes: Record<SchemeName, SchemeReference>;
  /** The methods it grants, per Graph version, and on Triage's own API ("triage"). */
  methods: Record<Api, MethodReference[]>;
  notes: string[];
}

/** Where the catalog's data was copied from (the `_meta.sources` of security-permissions.json). */
export interface CatalogSource {
  repo: string;
  path: string;
  commit: string;
  commitDate: string;
  usedFor: string;
}

export interface PermissionsReference {
  resource: { appId: string; displayName: string };
  versions: ApiVersion[];
  /** The keys of each permission's `methods`, with the prefix their paths are served under. */
  apis: { api: Api; root: string; graph: boolean }[];
  schemes: Record<SchemeName, { scheme: Scheme; displayName: string; tokenClaim: "scp" | "roles" }>;
  permissions: PermissionReference[];
  sources: CatalogSource[];
}
