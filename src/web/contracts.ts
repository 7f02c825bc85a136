/**
 * The JSON the web app reads from the /web/* endpoints and the admin API (/triage/admin/*).
 * Type-only and import-free: the web app compiles it too (with DOM libs and no Node types), so it
 * must stay that way.
 */

// ── GET /web/schema ─────────────────────────────────────────────────────────────────────────

export interface PropertyDoc {
  name: string;
  type: string;
  nullable: boolean;
  description: string;
  /** PATCH accepts it. */
  updatable: boolean;
  filterable: boolean;
  sortable: boolean;
  betaOnly: boolean;
  /** The members of an enum (or of an enum collection's elements), in Graph's order. */
  enumMembers: string[] | null;
}

export interface ResourceDoc {
  name: string;
  qualifiedName: string;
  /** The entity set under /security, or null for a complex type. */
  entitySet: string | null;
  defaultPageSize: number | null;
  maxPageSize: number | null;
  properties: PropertyDoc[];
  relationships: { name: string; target: string; how: string }[];
}

export interface SchemaInfo {
  resources: ResourceDoc[];
  evidence: { type: string; properties: { name: string; type: string }[] }[];
  evidenceBase: string[];
}

// ── GET /web/config and /web/config/tenants/{tenant} ───────────────────────────────────────

export interface TenantConfig {
  id: string;
  displayName: string;
  /** The tenant's web client (public, PKCE), or null when it has none yet (it is created at `triage serve` start). */
  clientId: string | null;
}

export interface WebConfig {
  defaultTenant: TenantConfig | null;
  redirectPath: string;
  scope: string;
}

// ── the admin API ───────────────────────────────────────────────────────────────────────────

export interface AppView {
  clientId: string;
  displayName: string;
  createdDateTime: string;
  publicClient: boolean;
  redirectUris: string[];
  /** Triage's own web app: it cannot be deleted nor its consent revoked here. */
  firstParty: boolean;
  requested: { application: string[]; delegated: string[] };
  consented: { application: string[]; delegated: string[] };
  secrets: { id: string; hint: string; createdDateTime: string; expiresDateTime: string }[];
  certificates: { thumbprint: string; expiresDateTime: string }[];
}

export interface UserView {
  id: string;
  userPrincipalName: string;
  displayName: string;
  roles: string[];
  hasPassword: boolean;
  createdDateTime: string;
}

/** POST /triage/admin/apps/{id}/secrets: the only time the secret's text is shown. */
export interface IssuedSecret {
  id: string;
  hint: string;
  secretText: string;
  expiresDateTime: string;
}

/** GET /triage/admin/apps and /triage/admin/users. */
export interface ValueList<T> {
  value: T[];
}
