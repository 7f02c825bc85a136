import type { GraphSchemeKey, PermissionFilters, PermissionSummary } from "./contracts.js";

/**
 * The explorer's search, filters and summary CSV over the compact list, as pure functions of the list:
 * no data import, so the web app runs the very same ranking and CSV on the client (the server's
 * explorer.ts uses them too). `hay` is what a search looks in, lower-cased, per permission name.
 */

export const SCHEME_KEYS: readonly GraphSchemeKey[] = ["DelegatedWork", "DelegatedPersonal", "Application"];

/** What a search looks in for a summary: name, ids, display texts, descriptions, methods and paths. */
export function summaryHaystack(s: PermissionSummary): string {
  const parts = [s.name];
  for (const x of Object.values(s.schemes)) parts.push(x.id ?? "", x.displayName, x.description);
  return [...parts, ...s.methods, ...s.paths].join("\n").toLowerCase();
}

/** 0 exact name or id, 1 name prefix, 2 name contains, 3 every term found elsewhere; null no match. */
export function rank(s: PermissionSummary, q: string, terms: readonly string[], hay: string): number | null {
  const name = s.name.toLowerCase();
  if (name === q || Object.values(s.schemes).some((x) => x.id === q)) return 0;
  if (name.startsWith(q)) return 1;
  if (name.includes(q)) return 2;
  return terms.every((t) => hay.includes(t)) ? 3 : null;
}

/** Whether one scheme of a permission passes the scheme, admin-consent and privilege filters. */
export function schemePasses(s: PermissionSummary, k: GraphSchemeKey, f: PermissionFilters): boolean {
  const x = s.schemes[k];
  if (!x || (f.scheme && f.scheme !== k)) return false;
  if (f.adminConsent !== undefined && x.requiresAdminConsent !== f.adminConsent) return false;
  if (f.privilege !== undefined && x.privilegeLevel !== f.privilege) return false;
  return true;
}

/** The permissions matching the filters: by rank when searching (exact name first, a stable sort), else in list order. */
export function filterSummaries(list: readonly PermissionSummary[], filters: PermissionFilters, hay: (s: PermissionSummary) => string): PermissionSummary[] {
  const q = filters.q?.trim().toLowerCase() ?? "";
  const terms = q.split(/\s+/).filter(Boolean);
  const ranked: { s: PermissionSummary; r: number }[] = [];
  for (const s of list) {
    if (filters.enforced !== undefined && s.enforced !== filters.enforced) continue;
    if (!SCHEME_KEYS.some((k) => schemePasses(s, k, filters))) continue;
    const r = q ? rank(s, q, terms, hay(s)) : 0;
    if (r !== null) ranked.push({ s, r });
  }
  return ranked.sort((a, b) => a.r - b.r).map((x) => x.s);
}

/** RFC 4180: a field with a comma, quote, CR or LF is quoted, its quotes doubled. */
export function csvField(value: string | number | boolean | null): string {
  const s = value === null ? "" : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const SUMMARY_CSV_COLUMNS = [
  "permission",
  "scheme",
  "permissionId",
  "enforced",
  "source",
  "authorizationType",
  "requiresAdminConsent",
  "privilegeLevel",
  "displayName",
  "description",
  "methods",
  "pathCount",
] as const;

/** One row per permission × scheme, only the schemes that pass the filters; CRLF line ends. */
export function summariesCsv(list: readonly PermissionSummary[], filters: PermissionFilters = {}): string {
  const rows = [SUMMARY_CSV_COLUMNS.join(",")];
  for (const s of list) {
    for (const k of SCHEME_KEYS) {
      const x = s.schemes[k];
      if (!x || !schemePasses(s, k, filters)) continue;
      const row = [
        s.name,
        k,
        x.id,
        s.enforced,
        s.source,
        s.authorizationType,
        x.requiresAdminConsent,
        x.privilegeLevel,
        x.displayName,
        x.description,
        s.methods.join(" "),
        s.paths.length,
      ];
      rows.push(row.map(csvField).join(","));
    }
  }
  return rows.join("\r\n") + "\r\n";
}
