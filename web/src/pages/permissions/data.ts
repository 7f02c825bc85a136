/** The explorer's data and its URL state: the compact list (loaded once), details per permission, the finder's answers. */
import { publicJson } from "../../api";
import type {
  FinderResult,
  GraphSchemeKey,
  PermissionDetails,
  PermissionFilters,
  PermissionsListing,
  PermissionSummary,
} from "../../../../src/permissions/contracts";
import { filterSummaries, summaryHaystack } from "../../../../src/permissions/listing";

export const SCHEME_LABEL: Record<GraphSchemeKey, string> = {
  DelegatedWork: "Delegated (work or school account)",
  DelegatedPersonal: "Delegated (personal Microsoft account)",
  Application: "Application",
};

export const SCHEME_SHORT: Record<GraphSchemeKey, string> = {
  DelegatedWork: "Delegated (work)",
  DelegatedPersonal: "Delegated (personal)",
  Application: "Application",
};

/** The list with each permission's search text, lower-cased, computed once. */
export interface Listing {
  data: PermissionsListing;
  hay: Map<string, string>;
}

let listingPromise: Promise<Listing> | null = null;
/** GET /permissions, unfiltered, once per page load (the server answers it with an ETag, so a reload revalidates). */
export function loadListing(): Promise<Listing> {
  listingPromise ??= publicJson<PermissionsListing>("/permissions")
    .then((data) => {
      const listing = { data, hay: new Map(data.all.map((s) => [s.name, summaryHaystack(s)])) };
      performance.mark("permissions-list-loaded");
      return listing;
    })
    .catch((e: unknown) => {
      listingPromise = null;
      throw e;
    });
  return listingPromise;
}

const details = new Map<string, Promise<PermissionDetails>>();
/** GET /permissions/{name}, when a page opens; kept for the page load. */
export function loadDetails(name: string): Promise<PermissionDetails> {
  const key = name.toLowerCase();
  let p = details.get(key);
  if (!p) {
    p = publicJson<PermissionDetails>(`/permissions/${encodeURIComponent(name)}`).catch((e: unknown) => {
      details.delete(key);
      throw e;
    });
    details.set(key, p);
  }
  return p;
}

export function lookup(call: string, signal?: AbortSignal): Promise<FinderResult> {
  return publicJson<FinderResult>(`/permissions/lookup?path=${encodeURIComponent(call)}`, signal);
}

export function search(listing: Listing, filters: PermissionFilters): PermissionSummary[] {
  return filterSummaries(listing.data.all, filters, (s) => listing.hay.get(s.name) ?? "");
}

/** The list page's state, all of it in the URL: /explorer?q=…&scheme=…&adminConsent=…&privilege=…&enforced=…&sel=…&call=… */
export interface ExplorerState {
  filters: PermissionFilters;
  /** The search box as typed (filters.q is it trimmed). */
  text: string;
  selected: string | null;
  call: string;
}

const SCHEMES: GraphSchemeKey[] = ["DelegatedWork", "DelegatedPersonal", "Application"];

function bool(v: string | null): boolean | undefined {
  return v === "true" ? true : v === "false" ? false : undefined;
}

/** Reads the state from a query string; values that are not valid are ignored, and lengths bounded. */
export function readState(search: string): ExplorerState {
  const p = new URLSearchParams(search);
  const text = (p.get("q") ?? "").slice(0, 200);
  const filters: PermissionFilters = {};
  if (text.trim()) filters.q = text.trim();
  const scheme = SCHEMES.find((s) => s.toLowerCase() === (p.get("scheme") ?? "").toLowerCase());
  if (scheme) filters.scheme = scheme;
  const adminConsent = bool(p.get("adminConsent"));
  if (adminConsent !== undefined) filters.adminConsent = adminConsent;
  const privilege = p.get("privilege");
  if (privilege && /^[1-4]$/.test(privilege)) filters.privilege = Number(privilege);
  const enforced = bool(p.get("enforced"));
  if (enforced !== undefined) filters.enforced = enforced;
  return { filters, text, selected: p.get("sel")?.slice(0, 200) || null, call: (p.get("call") ?? "").slice(0, 2048) };
}

export function stateUrl(s: ExplorerState): string {
  const p = new URLSearchParams();
  if (s.text) p.set("q", s.text);
  if (s.filters.scheme) p.set("scheme", s.filters.scheme);
  if (s.filters.adminConsent !== undefined) p.set("adminConsent", String(s.filters.adminConsent));
  if (s.filters.privilege !== undefined) p.set("privilege", String(s.filters.privilege));
  if (s.filters.enforced !== undefined) p.set("enforced", String(s.filters.enforced));
  if (s.selected) p.set("sel", s.selected);
  if (s.call) p.set("call", s.call);
  const q = p.toString();
  return `/explorer${q ? `?${q}` : ""}`;
}

export function permissionUrl(name: string): string {
  return `/explorer/${encodeURIComponent(name)}`;
}
