import type {
  FinderResult,
  GraphSchemeDetails,
  PermissionDetails,
  PermissionFilters,
  PermissionReference,
  PermissionSummary,
  PermissionsListing,
  PermissionsReference,
} from "./contracts.js";
import { codeExamples, powerShellCommands, registrationSteps } from "./examples.js";
import {
  ENFORCED,
  GRAPH_DATA_SOURCE,
  GRAPH_SCHEMES,
  GRAPH_SCHEME_NAMES,
  graphPermission,
  graphPermissions,
  type GraphPermission,
  type GraphScheme,
} from "./graph-data.js";
import { csvField, filterSummaries } from "./listing.js";
import { findPermission } from "./reference.js";

export { csvField, schemePasses, SUMMARY_CSV_COLUMNS, summariesCsv } from "./listing.js";

/**
 * The explorer over every Microsoft Graph permission: the compact list and its filters, and the
 * details of one permission. Pure: functions of the data, the catalog and the reference built from it.
 */

export const MAX_QUERY_LENGTH = 200;

export class FilterError extends Error {}

export const FILTER_NAMES = ["q", "scheme", "adminConsent", "privilege", "enforced"] as const;
export type FilterName = (typeof FILTER_NAMES)[number];

function booleanFilter(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value.toLowerCase() === "true") return true;
  if (value.toLowerCase() === "false") return false;
  throw new FilterError(`The filter '${name}' must be 'true' or 'false'.`);
}

/** The list options as text (a query string, the command line), checked; FilterError names what is wrong. */
export function parseFilters(values: Partial<Record<FilterName, string | undefined>>): PermissionFilters {
  const filters: PermissionFilters = {};
  const { q, scheme, privilege } = values;
  if (q !== undefined) {
    if (q.length > MAX_QUERY_LENGTH) throw new FilterError(`The filter 'q' is longer than ${MAX_QUERY_LENGTH} characters.`);
    if (q.trim()) filters.q = q.trim();
  }
  if (scheme !== undefined) {
    const known = GRAPH_SCHEMES.find((s) => s.toLowerCase() === scheme.toLowerCase());
    if (!known) throw new FilterError(`The scheme '${scheme.slice(0, 40)}' is not one of ${GRAPH_SCHEMES.join(", ")}.`);
    filters.scheme = known;
  }
  const adminConsent = booleanFilter("adminConsent", values.adminConsent);
  if (adminConsent !== undefined) filters.adminConsent = adminConsent;
  if (privilege !== undefined) {
    if (!/^[1-4]$/.test(privilege)) throw new FilterError("The filter 'privilege' must be a privilege level from 1 to 4.");
    filters.privilege = Number(privilege);
  }
  const enforced = booleanFilter("enforced", values.enforced);
  if (enforced !== undefined) filters.enforced = enforced;
  return filters;
}

function summaryOf(p: GraphPermission): PermissionSummary {
  const schemes: PermissionSummary["schemes"] = {};
  for (const s of GRAPH_SCHEMES) {
    const x = p.schemes[s];
    if (x)
      schemes[s] = {
        id: x.id,
        displayName: x.adminDisplayName,
        description: x.adminDescription,
        requiresAdminConsent: x.requiresAdminConsent,
        privilegeLevel: x.privilegeLevel,
      };
  }
  const methods = new Set<string>();
  const paths = new Set<string>();
  for (const set of p.pathSets) {
    for (const m of set.methods) methods.add(m);
    for (const gp of set.paths) paths.add(gp.path);
  }
  return {
    name: p.name,
    source: p.source,
    enforced: ENFORCED.has(p.name),
    authorizationType: p.authorizationType,
    schemes,
    methods: [...methods],
    paths: [...paths],
  };
}

let summaries: PermissionSummary[] | undefined;
function allSummaries(): PermissionSummary[] {
  summaries ??= graphPermissions().map(summaryOf);
  return summaries;
}

/** What a search looks in, per name: the name, ids, every display text and description, methods and paths. Built at the first search. */
let haystacks: Map<string, string> | undefined;
function allHaystacks(): Map<string, string> {
  if (!haystacks) {
    const list = allSummaries();
    haystacks = new Map(
      graphPermissions().map((p, i) => [
        p.name,
        [
          p.name,
          ...Object.values(p.schemes).flatMap((x) => [x.id ?? "", x.adminDisplayName, x.adminDescription, x.userDisplayName ?? "", x.userDescription ?? ""]),
          ...list[i]!.methods,
          ...list[i]!.paths,
        ]
          .join("\n")
          .toLowerCase(),
      ]),
    );
  }
  return haystacks;
}

/** The permissions matching the filters: by rank when searching (exact name first), else by name. */
export function listPermissions(filters: PermissionFilters): PermissionSummary[] {
  const list = allSummaries();
  if (!filters.q) return filterSummaries(list, filters, () => "");
  const hay = allHaystacks();
  return filterSummaries(list, filters, (s) => hay.get(s.name) ?? "");
}

export function permissionCount(): number {
  return allSummaries().length;
}

/** GET /permissions: the enforced reference (narrowed to the matching permissions) and the compact list. */
export function permissionsListing(reference: PermissionsReference, filters: PermissionFilters): PermissionsListing {
  const all = listPermissions(filters);
  const names = new Set(all.map((s) => s.name));
  return {
    ...reference,
    permissions: reference.permissions.filter((p) => names.has(p.name)),
    filters,
    total: permissionCount(),
    all,
    dataSource: { ...GRAPH_DATA_SOURCE },
  };
}

function schemeDetails(p: GraphPermission, s: GraphScheme): GraphSchemeDetails | undefined {
  const x = p.schemes[s];
  if (!x) return undefined;
  return {
    ...x,
    schemeDisplayName: GRAPH_SCHEME_NAMES[s],
    displayName: x.adminDisplayName,
    description: x.adminDescription,
  };
}

const METHOD_PREFERENCE = ["GET", "POST", "PATCH", "PUT", "DELETE"];

/** The call the examples show: the first one the permission is least privileged for, a GET first; paths without "..." only. */
function exampleCall(p: GraphPermission): { method: string; path: string } | null {
  const calls: { method: string; path: string; least: boolean }[] = [];
  for (const set of p.pathSets)
    for (const gp of set.paths) if (!gp.path.includes("...")) for (const m of set.methods) calls.push({ method: m, path: gp.path, least: gp.least.length > 0 });
  calls.sort((a, b) => Number(b.least) - Number(a.least) || METHOD_PREFERENCE.indexOf(a.method) - METHOD_PREFERENCE.indexOf(b.method));
  return calls[0] ?? null;
}

/** Everything a permission page shows; undefined for a name neither the data nor the catalog has. */
export function permissionDetails(name: string, reference: PermissionsReference): PermissionDetails | undefined {
  const p = graphPermission(name);
  if (!p) return undefined;
  const schemes: PermissionDetails["schemes"] = {};
  const registration: PermissionDetails["registration"] = {};
  for (const s of GRAPH_SCHEMES) {
    const d = schemeDetails(p, s);
    if (!d) continue;
    schemes[s] = d;
    registration[s] = registrationSteps(p.name, s, d.requiresAdminConsent);
  }
  const leastPrivilegedFor = p.pathSets.flatMap((set) =>
    set.paths.filter((gp) => gp.least.length).flatMap((gp) => set.methods.map((method) => ({ method, path: gp.path, schemes: gp.least }))),
  );
  const calls = p.pathSets.flatMap((set) => set.paths.flatMap((gp) => set.methods.map((method) => ({ method, path: gp.path }))));
  const example = exampleCall(p);
  const triage: PermissionReference | null = ENFORCED.has(p.name) ? (findPermission(reference, p.name) ?? null) : null;
  const notes: string[] = [];
  if (p.source === "triage-catalog")
    notes.push(
      `Microsoft's permission data does not list this permission yet; its entry comes from Triage's catalog${p.sourceUrl ? `, after ${p.sourceUrl}` : ""}.`,
    );
  if (triage) notes.push("Triage enforces this permission on its own endpoints; see `triage` for the methods it grants there.", ...triage.notes);
  if (p.authorizationType === "RSC") notes.push("A resource-specific consent (RSC) permission: granted on one team, chat or meeting, not tenant-wide.");
  return {
    name: p.name,
    source: p.source,
    sourceUrl: p.sourceUrl,
    enforced: ENFORCED.has(p.name),
    authorizationType: p.authorizationType,
    ownerGroup: p.ownerGroup,
    schemes,
    pathSets: p.pathSets.map((set) => ({ schemes: [...set.schemes], methods: [...set.methods], paths: set.paths.map((gp) => ({ ...gp })) })),
    leastPrivilegedFor,
    powershell: powerShellCommands(p.name, Object.keys(schemes) as GraphScheme[], calls),
    examples: example ? { ...example, version: "v1.0", code: codeExamples(example.method, example.path) } : null,
    registration,
    triage,
    notes,
  };
}

export const PATH_CSV_COLUMNS = ["permission", "scheme", "method", "path", "leastPrivileged", "alsoRequires"] as const;

/** One permission's grants as the data has them: one row per scheme × method × path. */
export function pathsCsv(d: PermissionDetails): string {
  const rows = [PATH_CSV_COLUMNS.join(",")];
  for (const set of d.pathSets)
    for (const scheme of set.schemes)
      for (const method of set.methods)
        for (const gp of set.paths) rows.push([d.name, scheme, method, gp.path, gp.least.includes(scheme), gp.alsoRequires.join("; ")].map(csvField).join(","));
  return rows.join("\r\n") + "\r\n";
}

export const FINDER_CSV_COLUMNS = [
  "method",
  "path",
  "scheme",
  "rank",
  "permission",
  "leastPrivileged",
  "markedLeast",
  "privilegeLevel",
  "alsoRequires",
  "template",
] as const;

/** The finder's answer, one row per scheme × candidate (none when nothing grants the call). */
export function finderCsv(a: FinderResult): string {
  const rows = [FINDER_CSV_COLUMNS.join(",")];
  for (const scheme of GRAPH_SCHEMES)
    a.schemes[scheme].candidates.forEach((c, i) =>
      rows.push(
        [
          a.method,
          a.path,
          scheme,
          i + 1,
          c.permission,
          c.permission === a.schemes[scheme].leastPrivileged,
          c.markedLeast,
          c.privilegeLevel,
          c.alsoRequires.join("; "),
          c.template,
        ]
          .map(csvField)
          .join(","),
      ),
    );
  return rows.join("\r\n") + "\r\n";
}
