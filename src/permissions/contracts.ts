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

// ── Every Microsoft Graph permission (Microsoft's permission data, merged with Triage's catalog) ──

/** The data's scheme keys: delegated for work or school accounts, delegated for personal accounts, application. */
export type GraphSchemeKey = "DelegatedWork" | "DelegatedPersonal" | "Application";
/** Microsoft's permission data, or Triage's catalog for a permission Triage enforces that the data lacks. */
export type PermissionSourceName = "graph-data" | "triage-catalog";

/** One scheme in the compact list: enough to search, filter and show a result. */
export interface SchemeSummary {
  id: string | null;
  displayName: string;
  description: string;
  requiresAdminConsent: boolean;
  privilegeLevel: number | null;
}

/** One permission in the compact list of GET /permissions (`all`): searchable on the client. */
export interface PermissionSummary {
  name: string;
  source: PermissionSourceName;
  /** Triage enforces it on its own endpoints (its catalog has it). */
  enforced: boolean;
  authorizationType: string;
  schemes: Partial<Record<GraphSchemeKey, SchemeSummary>>;
  /** The methods it grants, on any path. */
  methods: string[];
  /** Every path it grants a method on, as the data writes it. */
  paths: string[];
}

/** The list options of GET /permissions; the page uses the same ones. */
export interface PermissionFilters {
  q?: string;
  scheme?: GraphSchemeKey;
  adminConsent?: boolean;
  privilege?: number;
  enforced?: boolean;
}

export interface GraphSchemeDetails extends SchemeSummary {
  scheme: GraphSchemeKey;
  /** The scheme's name for people: "Delegated (work or school account)", … */
  schemeDisplayName: string;
  adminDisplayName: string;
  adminDescription: string;
  userDisplayName: string | null;
  userDescription: string | null;
  isHidden: boolean;
  isEnabled: boolean;
  resourceAppId: string | null;
}

export interface GraphPathDetails {
  path: string;
  least: GraphSchemeKey[];
  alsoRequires: string[];
}

export interface PathSetDetails {
  schemes: GraphSchemeKey[];
  methods: string[];
  paths: GraphPathDetails[];
}

export interface CodeExampleDetails {
  language: string;
  label: string;
  code: string;
}

/** GET /permissions/{name}: everything a permission page shows. */
export interface PermissionDetails {
  name: string;
  source: PermissionSourceName;
  /** For a permission from Triage's catalog: the page its facts were taken from. */
  sourceUrl: string | null;
  enforced: boolean;
  authorizationType: string;
  ownerGroup: string | null;
  schemes: Partial<Record<GraphSchemeKey, GraphSchemeDetails>>;
  /** The methods and paths it grants, grouped as the data groups them. */
  pathSets: PathSetDetails[];
  /** Where the data marks it the least privileged choice. */
  leastPrivilegedFor: { method: string; path: string; schemes: GraphSchemeKey[] }[];
  powershell: { purpose: string; command: string }[];
  /** Code examples for one call it grants (the first it is least privileged for, a GET if it has one). */
  examples: { method: string; path: string; version: ApiVersion; code: CodeExampleDetails[] } | null;
  /** Steps to give an app registration the permission, per scheme. */
  registration: Partial<Record<GraphSchemeKey, string[]>>;
  /** For a permission Triage enforces: Triage's reference (its methods on Triage's endpoints); null otherwise. */
  triage: PermissionReference | null;
  notes: string[];
}

export interface FinderCandidate {
  permission: string;
  privilegeLevel: number | null;
  markedLeast: boolean;
  alsoRequires: string[];
  template: string;
}

/** GET /permissions/lookup: the least-privilege finder's answer. */
export interface FinderResult {
  method: string;
  path: string;
  version: ApiVersion | null;
  found: boolean;
  templates: string[];
  alias: string | null;
  schemes: Record<GraphSchemeKey, { leastPrivileged: string | null; basis: "marker" | "privilege-level" | null; candidates: FinderCandidate[] }>;
  message: string;
}

/** Where the Graph permission data was copied from. */
export interface GraphDataSource {
  repo: string;
  paths: readonly string[];
  commit: string;
  commitDate: string;
  license: string;
}

/**
 * GET /permissions: the reference of the permissions Triage enforces (`permissions`, as before) and the
 * compact list of every permission (`all`), both narrowed by the filters given.
 */
export interface PermissionsListing extends PermissionsReference {
  filters: PermissionFilters;
  /** How many permissions there are before filtering. */
  total: number;
  all: PermissionSummary[];
  dataSource: GraphDataSource;
}
