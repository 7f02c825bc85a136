import { createRequire } from "node:module";
import data from "./security-permissions.json" with { type: "json" };
import { permissionNames } from "./catalog.js";
// Type-only: the build still carries the files, which are read at first use (below), not at start.
import type rawPermissions from "./graph-data/permissions.json";
import type rawProvisioning from "./graph-data/provisioningInfo.json";

/**
 * Microsoft Graph's permission data (graph-data/, copied byte for byte from
 * microsoftgraph/microsoft-graph-devx-content, see graph-data/README.md), typed, with the ids of its
 * provisioning file, merged with Triage's enforcing catalog. The build carries it and nothing is
 * fetched at run time; its 4.6 MB are parsed at first use (the explorer, the finder), not when Triage
 * starts.
 */

export type GraphScheme = "DelegatedWork" | "DelegatedPersonal" | "Application";
export const GRAPH_SCHEMES: readonly GraphScheme[] = ["DelegatedWork", "DelegatedPersonal", "Application"];
export const GRAPH_SCHEME_NAMES: Readonly<Record<GraphScheme, string>> = {
  DelegatedWork: "Delegated (work or school account)",
  DelegatedPersonal: "Delegated (personal Microsoft account)",
  Application: "Application (app-only)",
};

/** Where a permission's entry comes from: Microsoft's data, or Triage's catalog when the data lacks it. */
export type PermissionSource = "graph-data" | "triage-catalog";

export interface GraphSchemeInfo {
  scheme: GraphScheme;
  /** The GUID from provisioningInfo.json; null when it has none (not provisioned as a Graph permission). */
  id: string | null;
  adminDisplayName: string;
  adminDescription: string;
  userDisplayName: string | null;
  userDescription: string | null;
  requiresAdminConsent: boolean;
  /** 1 (least) to 4 (most); null where the data gives none. */
  privilegeLevel: number | null;
  isHidden: boolean;
  isEnabled: boolean;
  /** Set when the provisioning data places the permission on another resource app than Microsoft Graph. */
  resourceAppId: string | null;
}

export interface GraphPath {
  /** As the data writes it: lower- or camel-case segments, {id}-style placeholders, "..." for any depth. */
  path: string;
  /** The schemes for which this permission is the least privileged one (the data's least= marker). */
  least: GraphScheme[];
  /** Other permissions the call also needs (the data's AlsoRequires=). */
  alsoRequires: string[];
}

export interface GraphPathSet {
  schemes: GraphScheme[];
  methods: string[];
  paths: GraphPath[];
}

export interface GraphPermission {
  name: string;
  source: PermissionSource;
  /** For a permission from Triage's catalog: where its facts were taken from (Microsoft Learn). */
  sourceUrl: string | null;
  /** "oAuth2", or "RSC" for resource-specific consent. */
  authorizationType: string;
  ownerGroup: string | null;
  schemes: Partial<Record<GraphScheme, GraphSchemeInfo>>;
  pathSets: GraphPathSet[];
}

interface RawScheme {
  adminDisplayName?: string;
  adminDescription?: string;
  userDisplayName?: string;
  userDescription?: string;
  requiresAdminConsent?: boolean;
  privilegeLevel?: number;
}
interface RawPermission {
  authorizationType?: string;
  schemes?: Partial<Record<string, RawScheme>>;
  pathSets?: { schemeKeys?: string[]; methods?: string[]; paths?: Record<string, string> }[];
  ownerInfo?: { ownerSecurityGroup?: string };
  /** Only in Triage's catalog, for a permission Microsoft's data lacks: the page its facts come from. */
  source?: string;
}
interface RawDeployment {
  id: string;
  scheme: string;
  environment: string;
  isHidden: boolean;
  isEnabled: boolean;
  resourceAppId: string;
}

function isScheme(s: string): s is GraphScheme {
  return (GRAPH_SCHEMES as readonly string[]).includes(s);
}

/** "least=DelegatedWork,Application;AlsoRequires=Policy.Read.All" → its two parts. */
export function parseMarker(value: string): { least: GraphScheme[]; alsoRequires: string[] } {
  const out = { least: [] as GraphScheme[], alsoRequires: [] as string[] };
  for (const part of value.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const values = part
      .slice(eq + 1)
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean);
    if (key === "least") out.least = values.filter(isScheme);
    else if (key === "alsorequires") out.alsoRequires = values;
  }
  return out;
}

/** The public cloud's deployment of a scheme (environments are "public", "PPE;public", … or empty). */
function deploymentOf(deployments: readonly RawDeployment[], scheme: GraphScheme): RawDeployment | undefined {
  let mine = deployments.filter((d) => d.scheme === scheme);
  // A delegated permission is one scope for work and personal accounts alike; the provisioning data
  // lists a separate DelegatedPersonal entry for a few permissions only, and the work one otherwise.
  if (mine.length === 0 && scheme === "DelegatedPersonal") mine = deployments.filter((d) => d.scheme === "DelegatedWork");
  const inPublic = (d: RawDeployment) => d.environment.toLowerCase().split(";").includes("public");
  return mine.find(inPublic) ?? mine.find((d) => d.environment === "") ?? mine[0];
}

function schemeInfo(scheme: GraphScheme, s: RawScheme, d: RawDeployment | undefined): GraphSchemeInfo {
  return {
    scheme,
    id: d?.id ? d.id : null,
    adminDisplayName: (s.adminDisplayName ?? "").trim(),
    adminDescription: (s.adminDescription ?? "").trim(),
    userDisplayName: s.userDisplayName?.trim() || null,
    userDescription: s.userDescription?.trim() || null,
    requiresAdminConsent: s.requiresAdminConsent ?? true,
    privilegeLevel: typeof s.privilegeLevel === "number" ? s.privilegeLevel : null,
    isHidden: d?.isHidden ?? false,
    isEnabled: d?.isEnabled ?? true,
    resourceAppId: d?.resourceAppId ? d.resourceAppId : null,
  };
}

function fromRaw(name: string, p: RawPermission, deployments: readonly RawDeployment[], source: PermissionSource): GraphPermission {
  const schemes: Partial<Record<GraphScheme, GraphSchemeInfo>> = {};
  for (const scheme of GRAPH_SCHEMES) {
    const s = p.schemes?.[scheme];
    if (s) schemes[scheme] = schemeInfo(scheme, s, deploymentOf(deployments, scheme));
  }
  const pathSets = (p.pathSets ?? []).map((ps): GraphPathSet => ({
    schemes: (ps.schemeKeys ?? []).filter(isScheme),
    methods: (ps.methods ?? []).map((m) => m.toUpperCase()),
    paths: Object.entries(ps.paths ?? {}).map(([path, value]) => ({ path, ...parseMarker(value) })),
  }));
  const sourceUrl = source === "triage-catalog" ? (p.source ?? null) : null;
  return {
    name,
    source,
    sourceUrl,
    authorizationType: p.authorizationType ?? "oAuth2",
    ownerGroup: p.ownerInfo?.ownerSecurityGroup ?? null,
    schemes,
    pathSets,
  };
}

const requireJson = createRequire(import.meta.url);
const catalogFile = data as unknown as {
  permissions: Record<string, RawPermission>;
  provisioningInfo: Record<string, RawDeployment[]>;
};

/** The names of the permissions Triage enforces (its catalog). */
export const ENFORCED: ReadonlySet<string> = new Set(permissionNames());

// Through ../permissions/: the same folder from this module, and from dist/bundle/, where the bundled
// command line (scripts/bundle.js) holds this module one folder beside it.
function load(): GraphPermission[] {
  const permissionsFile = requireJson("../permissions/graph-data/permissions.json") as typeof rawPermissions as unknown as {
    permissions: Record<string, RawPermission>;
  };
  const provisioningFile = requireJson("../permissions/graph-data/provisioningInfo.json") as typeof rawProvisioning as unknown as {
    permissionDeployments: Record<string, RawDeployment[]>;
  };
  const deployments = provisioningFile.permissionDeployments;
  const all = Object.entries(permissionsFile.permissions).map(([name, p]) => fromRaw(name, p, deployments[name] ?? [], "graph-data"));
  const known = new Set(all.map((p) => p.name));
  // A permission Triage enforces that Microsoft's data lacks comes from the catalog, which names its source.
  for (const name of ENFORCED) {
    if (known.has(name)) continue;
    const p = catalogFile.permissions[name];
    if (p) all.push(fromRaw(name, p, catalogFile.provisioningInfo[name] ?? [], "triage-catalog"));
  }
  return all.sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : a.name.toLowerCase() > b.name.toLowerCase() ? 1 : 0));
}

/** Every permission, by name (sorted case-insensitively). Built once, at first use. */
let cache: { list: GraphPermission[]; byName: Map<string, GraphPermission> } | undefined;
function loaded() {
  if (!cache) {
    const list = load();
    cache = { list, byName: new Map(list.map((p) => [p.name.toLowerCase(), p])) };
  }
  return cache;
}

export function graphPermissions(): readonly GraphPermission[] {
  return loaded().list;
}

export function graphPermission(name: string): GraphPermission | undefined {
  return loaded().byName.get(name.toLowerCase());
}

/** The lowest privilege level among a permission's schemes (for sorting), or null. */
export function privilegeOf(p: GraphPermission, scheme?: GraphScheme): number | null {
  if (scheme) return p.schemes[scheme]?.privilegeLevel ?? null;
  const levels = Object.values(p.schemes)
    .map((s) => s.privilegeLevel)
    .filter((l): l is number => l !== null);
  return levels.length ? Math.min(...levels) : null;
}

export const GRAPH_DATA_SOURCE = {
  repo: "microsoftgraph/microsoft-graph-devx-content",
  paths: ["permissions/new/permissions.json", "permissions/new/provisioningInfo.json"],
  commit: "6cbd6bbd665a877560fdefbad74f3bdb5b57af88",
  commitDate: "2026-08-07",
  license: "MIT",
} as const;
