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

/** The list, and each permission's search text (lower-cased), built on first use or when the browser is idle. */
export interface Listing {
  data: PermissionsListing;
  hay: Map<string, string> | null;
}

function hayOf(listing: Listing): Map<string, string> {
  listing.hay ??= new Map(listing.data.all.map((s) => [s.name, summaryHaystack(s)]));
  return listing.hay;
}

let listingPromise: Promise<Listing> | null = null;
/** GET /permissions, unfiltered, once per page load (the server answers it with an ETag, so a reload revalidates). */
export function loadListing(): Promise<Listing> {
  listingPromise ??= publicJson<PermissionsListing>("/permissions")
    .then((data) => {
      const listing: Listing = { data, hay: null };
      performance.mark("permissions-list-loaded");
      // The search text is not needed to draw the list: built after it, before the first keystroke as a rule.
      if ("requestIdleCallback" in window) requestIdleCallback(() => hayOf(listing), { timeout: 1000 });
      else setTimeout(() => hayOf(listing), 200);
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
  if (!filters.q) return filterSummaries(listing.data.all, filters, () => "");
  const hay = hayOf(listing);
  return filterSummaries(listing.data.all, filters, (s) => hay.get(s.name) ?? "");
}

export { permissionUrl, readState, stateUrl, type ExplorerState } from "./state";
