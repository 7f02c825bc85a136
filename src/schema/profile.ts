/**
 * How strictly the Graph surface reads a request. `lenient` (the default) accepts Triage's
 * extensions: more filterable and sortable properties than Graph documents, and `$skip` past 500.
 * `strict` accepts only what the real service documents or has been seen to accept, and answers the
 * rest with the real service's error. The properties each profile accepts are marked on the
 * schemas themselves (TriageMeta.graphFilterable and graphSortable in meta.ts).
 */
export const PROFILES = ["lenient", "strict"] as const;
export type Profile = (typeof PROFILES)[number];
export const DEFAULT_PROFILE: Profile = "lenient";

/**
 * The largest `$skip` the strict profile accepts: Graph documents 500 for the security API, and
 * answers 400 beyond (graph-security-contract-addendum §7.2).
 */
export const STRICT_MAX_SKIP = 500;

export function isProfile(v: unknown): v is Profile {
  return typeof v === "string" && (PROFILES as readonly string[]).includes(v);
}
