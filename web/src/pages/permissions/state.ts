/** The explorer list's state and its URL: pure, so node tests run it too. */
import type { GraphSchemeKey, PermissionFilters } from "../../../../src/permissions/contracts.js";

/** Rows the list draws at first ("Show more" draws more): drawing all 900 on each keystroke would cost more than the search. */
export const FIRST_ROWS = 50;

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
