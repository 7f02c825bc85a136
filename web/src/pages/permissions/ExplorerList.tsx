import { useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import type { GraphSchemeKey, PermissionFilters, PermissionSummary } from "../../../../src/permissions/contracts";
import { summariesCsv } from "../../../../src/permissions/listing";
import { ErrorMessage, Loading, useAsync, usePageTitle } from "../../components/ui";
import { Link, navigate, useLocation } from "../../router";
import { loadListing, permissionUrl, readState, SCHEME_SHORT, search, stateUrl, type ExplorerState } from "./data";
import { Finder } from "./Finder";
import { FIRST_ROWS } from "./state";
import { Toolbar } from "./Toolbar";
import "../../permissions.css";

const SCHEMES: GraphSchemeKey[] = ["DelegatedWork", "DelegatedPersonal", "Application"];

let listDrawn = false;

function schemeLine(s: PermissionSummary): string {
  return SCHEMES.filter((k) => s.schemes[k])
    .map((k) => {
      const x = s.schemes[k]!;
      return `${SCHEME_SHORT[k]}: ${x.requiresAdminConsent ? "admin consent" : "user consent"}${x.privilegeLevel ? `, level ${x.privilegeLevel}` : ""}`;
    })
    .join(" · ");
}

function firstText(s: PermissionSummary): string {
  const x = s.schemes.DelegatedWork ?? s.schemes.Application ?? s.schemes.DelegatedPersonal;
  return x?.displayName ?? "";
}

function jsonFile(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

function Filters({ state, set }: { state: ExplorerState; set: (f: PermissionFilters) => void }) {
  const f = state.filters;
  const pick = (patch: Partial<PermissionFilters>) => {
    const next: PermissionFilters = { ...f, ...patch };
    for (const k of Object.keys(next) as (keyof PermissionFilters)[]) if (next[k] === undefined) delete next[k];
    set(next);
  };
  const boolOf = (v: string) => (v === "" ? undefined : v === "true");
  return (
    <fieldset className="perm-filters no-print">
      <legend>Filters</legend>
      <div className="perm-filter">
        <label htmlFor="filter-scheme">Scheme</label>
        <select id="filter-scheme" value={f.scheme ?? ""} onChange={(e) => pick({ scheme: (e.target.value || undefined) as GraphSchemeKey | undefined })}>
          <option value="">Any</option>
          {SCHEMES.map((k) => (
            <option key={k} value={k}>
              {SCHEME_SHORT[k]}
            </option>
          ))}
        </select>
      </div>
      <div className="perm-filter">
        <label htmlFor="filter-consent">Admin consent</label>
        <select
          id="filter-consent"
          value={f.adminConsent === undefined ? "" : String(f.adminConsent)}
          onChange={(e) => pick({ adminConsent: boolOf(e.target.value) })}
        >
          <option value="">Any</option>
          <option value="true">Required</option>
          <option value="false">Not required</option>
        </select>
      </div>
      <div className="perm-filter">
        <label htmlFor="filter-privilege">Privilege level</label>
        <select
          id="filter-privilege"
          value={f.privilege === undefined ? "" : String(f.privilege)}
          onChange={(e) => pick({ privilege: e.target.value ? Number(e.target.value) : undefined })}
        >
          <option value="">Any</option>
          {[1, 2, 3, 4].map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </div>
      <div className="perm-filter">
        <label htmlFor="filter-enforced">Enforced by Triage</label>
        <select id="filter-enforced" value={f.enforced === undefined ? "" : String(f.enforced)} onChange={(e) => pick({ enforced: boolOf(e.target.value) })}>
          <option value="">Any</option>
          <option value="true">Enforced by Triage</option>
          <option value="false">Not enforced</option>
        </select>
      </div>
      {(f.scheme || f.adminConsent !== undefined || f.privilege !== undefined || f.enforced !== undefined) && (
        <button type="button" className="secondary" onClick={() => set(f.q ? { q: f.q } : {})}>
          Clear filters
        </button>
      )}
    </fieldset>
  );
}

/**
 * The explorer over every Microsoft Graph permission: the compact list loaded once and searched on the
 * client as the user types (the server's ranking: an exact name or id first), the filters, the finder;
 * all of the state in the URL.
 */
export function ExplorerList() {
  usePageTitle("Permissions");
  const { search: qs } = useLocation();
  const state = useMemo(() => readState(qs), [qs]);
  const listing = useAsync(() => loadListing(), []);
  const results = useMemo(() => (listing.data ? search(listing.data, state.filters) : []), [listing.data, state.filters]);
  const [limit, setLimit] = useState(FIRST_ROWS);
  const input = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const selectedIndex = state.selected ? results.findIndex((s) => s.name === state.selected) : -1;
  const shown = results.slice(0, Math.max(limit, selectedIndex + 1));

  const go = (patch: Partial<ExplorerState>, replace = true) => navigate(stateUrl({ ...state, ...patch }), { replace });

  // The time from a keystroke to its results on screen (User Timing: "permission-search").
  useLayoutEffect(() => {
    if (performance.getEntriesByName("permission-search-input", "mark").length) {
      performance.measure("permission-search", "permission-search-input");
      performance.clearMarks("permission-search-input");
    }
  }, [results]);
  useEffect(() => {
    if (listing.data && !listDrawn) {
      listDrawn = true;
      performance.mark("permissions-list-ready");
    }
  }, [listing.data]);
  const filterKey = JSON.stringify(state.filters);
  useEffect(() => setLimit(FIRST_ROWS), [filterKey]);

  // "/" anywhere on the page jumps to the search box.
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !["INPUT", "TEXTAREA", "SELECT"].includes(t?.tagName ?? "") && !t?.isContentEditable) {
        e.preventDefault();
        input.current?.focus();
        input.current?.select();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  // Keep the selected row in view.
  useEffect(() => {
    if (selectedIndex >= 0) document.getElementById(`perm-${selectedIndex}`)?.scrollIntoView({ block: "nearest" });
  }, [selectedIndex]);

  const move = (delta: number): number | null => {
    if (!results.length) return null;
    const next = selectedIndex < 0 ? (delta > 0 ? 0 : results.length - 1) : Math.min(results.length - 1, Math.max(0, selectedIndex + delta));
    go({ selected: results[next]!.name });
    return next;
  };

  const onSearchKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Escape") {
      e.preventDefault();
      performance.mark("permission-search-input");
      go({ text: "", filters: { ...state.filters, q: undefined }, selected: null });
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      move(e.key === "ArrowDown" ? 1 : -1);
    } else if (e.key === "Enter") {
      const target = results[selectedIndex >= 0 ? selectedIndex : 0];
      if (target) {
        e.preventDefault();
        navigate(permissionUrl(target.name));
      }
    }
  };

  // On the result links, the arrows move from one to the next.
  const onListKey = (e: KeyboardEvent<HTMLUListElement>) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    e.preventDefault();
    const next = move(e.key === "ArrowDown" ? 1 : -1);
    if (next !== null) requestAnimationFrame(() => document.querySelector<HTMLAnchorElement>(`#perm-${next} a`)?.focus());
  };

  const all = listing.data?.data.all ?? [];
  const filtered = Object.keys(state.filters).length > 0;
  return (
    <div className="explorer perm-explorer">
      <div className="page-head">
        <h1>Permissions</h1>
      </div>
      <p className="muted">
        Every Microsoft Graph permission from Microsoft's permission data: its ids, consent, privilege level and the calls it grants; the ones Triage enforces
        are marked. Search by name, display text, description, id, path or method.
      </p>

      <Finder call={state.call} onCall={(call) => go({ call }, false)} />
      <div className="search-box no-print" role="search">
        <label htmlFor="permission-search">Search permissions</label>
        <input
          id="permission-search"
          ref={input}
          type="search"
          value={state.text}
          maxLength={200}
          onChange={(e) => {
            performance.mark("permission-search-input");
            const text = e.target.value;
            go({ text, filters: { ...state.filters, q: text.trim() || undefined }, selected: null });
          }}
          onKeyDown={onSearchKey}
          placeholder="Name, display text, description, id, path or method"
          autoComplete="off"
          spellCheck={false}
          autoFocus={!state.call}
          aria-describedby="search-help"
          aria-controls="permission-results"
          aria-activedescendant={selectedIndex >= 0 ? `perm-${selectedIndex}` : undefined}
        />
        <p id="search-help" className="hint">
          “/” focuses the search; Escape clears it; ↑ and ↓ move through the results; Enter opens the selected one.
        </p>
      </div>
      <Filters state={state} set={(filters) => go({ filters, text: filters.q ? state.text : "", selected: null })} />

      <ErrorMessage error={listing.error} />
      {listing.loading && !listing.data && <Loading what="Loading the permissions" />}
      {listing.data && (
        <>
          <div className="perm-results-head">
            <p className="result-count" role="status" aria-live="polite">
              {filtered ? `${results.length} of ${all.length} permissions match` : `${all.length} permissions`}
            </p>
            <Toolbar
              label="Export and share"
              exports={[
                { label: "Results JSON", filename: "permissions-results.json", type: "application/json", content: () => jsonFile(results) },
                { label: "Results CSV", filename: "permissions-results.csv", type: "text/csv", content: () => summariesCsv(results, state.filters) },
                { label: "All JSON", filename: "permissions-all.json", type: "application/json", content: () => jsonFile(all) },
                { label: "All CSV", filename: "permissions-all.csv", type: "text/csv", content: () => summariesCsv(all) },
              ]}
            />
          </div>
          <ul className="permission-list" id="permission-results" ref={list} aria-label="Permissions" onKeyDown={onListKey}>
            {shown.map((s, i) => {
              const q = state.filters.q?.toLowerCase();
              const path = q && q.includes("/") ? s.paths.find((p) => p.toLowerCase().includes(q)) : undefined;
              return (
                <li
                  key={s.name}
                  id={`perm-${i}`}
                  className={i === selectedIndex ? "selected" : undefined}
                  aria-current={i === selectedIndex ? "true" : undefined}
                >
                  <Link to={permissionUrl(s.name)} className="permission-link" onFocus={() => i !== selectedIndex && go({ selected: s.name })}>
                    {s.name}
                  </Link>
                  {s.enforced && <span className="badge least">Enforced by Triage</span>}
                  {s.authorizationType === "RSC" && <span className="badge">Resource-specific</span>}
                  <span className="perm-text"> {firstText(s)}</span>
                  <div className="perm-meta">
                    {schemeLine(s)}
                    {path && (
                      <>
                        {" "}
                        · grants <code>{path}</code>
                      </>
                    )}
                  </div>
                </li>
              );
            })}
          </ul>
          {results.length > shown.length && (
            <p className="no-print">
              <button type="button" className="secondary" onClick={() => setLimit((n) => n + FIRST_ROWS * 10)}>
                Show more ({results.length - shown.length} not shown)
              </button>
            </p>
          )}
          {results.length === 0 && <p className="muted">No permission matches. Try fewer words, or clear the filters.</p>}
        </>
      )}
      <p className="muted small">
        Data: Microsoft's{" "}
        <a href="https://github.com/microsoftgraph/microsoft-graph-devx-content" rel="noreferrer">
          microsoft-graph-devx-content
        </a>{" "}
        (MIT). <Link to="/explorer?enforced=true">The permissions Triage enforces</Link>.
      </p>
    </div>
  );
}
