import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { publicJson } from "../api";
import type { Session } from "../auth";
import type { MethodReference, PermissionReference, PermissionsReference, SchemeName, SchemeReference } from "../../../src/permissions/contracts";
import type { ResourceDoc, SchemaInfo, WebConfig } from "../../../src/web/contracts";
import { example, LANGUAGES, type Language } from "../examples";
import { Link, navigate, useLocation } from "../router";
import { copyText, download, ErrorMessage, Loading, Notice, useAsync, usePageTitle } from "../components/ui";

// ── the /permissions reference and the /web/schema information ─────────────────────────────

const SCHEME_NAMES: SchemeName[] = ["delegated", "application"];

let referencePromise: Promise<PermissionsReference> | null = null;
function loadReference(): Promise<PermissionsReference> {
  // Only the enforced permissions: their reference is all this page shows, and it leaves out the list of every Graph permission.
  referencePromise ??= publicJson<PermissionsReference>("/permissions?enforced=true").catch((e: unknown) => {
    referencePromise = null;
    throw e;
  });
  return referencePromise;
}

let schemaPromise: Promise<SchemaInfo> | null = null;
function loadSchema(): Promise<SchemaInfo> {
  schemaPromise ??= publicJson<SchemaInfo>("/web/schema").catch((e: unknown) => {
    schemaPromise = null;
    throw e;
  });
  return schemaPromise;
}

const API_LABEL: Record<string, string> = { "v1.0": "Microsoft Graph v1.0", beta: "Microsoft Graph beta", triage: "Triage's own API" };

function allMethods(p: PermissionReference): (MethodReference & { api: string })[] {
  return Object.entries(p.methods).flatMap(([api, ms]) => ms.map((m) => ({ ...m, api })));
}

/** Every text a search can match, lower-cased. */
function haystack(p: PermissionReference): string {
  const parts = [p.name, p.ownerGroup, ...p.notes];
  for (const s of SCHEME_NAMES) {
    const sc = p.schemes[s];
    parts.push(sc.id ?? "", sc.adminConsentDisplayName, sc.adminConsentDescription, sc.userConsentDisplayName ?? "", sc.userConsentDescription ?? "");
  }
  for (const m of allMethods(p)) parts.push(m.operation, m.cmdlet ?? "", m.api);
  return parts.join("\n").toLowerCase();
}

function matches(p: PermissionReference, terms: string[], hay: Map<string, string>): boolean {
  const h = hay.get(p.name) ?? "";
  return terms.every((t) => h.includes(t));
}

async function exportCsv(name: string | null): Promise<void> {
  const path = name ? `/permissions/${encodeURIComponent(name)}?format=csv` : "/permissions?format=csv";
  const res = await fetch(path, { headers: { accept: "text/csv" } });
  if (!res.ok) throw new Error(`Export failed: ${res.status}`);
  download(name ? `${name}.csv` : "triage-permissions.csv", await res.text(), "text/csv");
}

function Toolbar({ name, json }: { name: string | null; json: () => unknown }) {
  const [status, setStatus] = useState<{ text: string; error: boolean } | null>(null);
  const run = (fn: () => Promise<void> | void, done: string) => async () => {
    try {
      await fn();
      setStatus({ text: done, error: false });
    } catch (e) {
      setStatus({ text: e instanceof Error ? e.message : String(e), error: true });
    }
  };
  return (
    <div className="toolbar no-print">
      <button
        type="button"
        className="secondary"
        onClick={run(() => download(name ? `${name}.json` : "triage-permissions.json", JSON.stringify(json(), null, 2), "application/json"), "JSON exported.")}
      >
        Export JSON
      </button>
      <button type="button" className="secondary" onClick={run(() => exportCsv(name), "CSV exported.")}>
        Export CSV
      </button>
      <button type="button" className="secondary" onClick={run(() => copyText(location.href), "Link copied to the clipboard.")}>
        Copy URL
      </button>
      <button type="button" className="secondary" onClick={() => window.print()}>
        Print
      </button>
      {status && <Notice text={status.text} tone={status.error ? "error" : "ok"} />}
    </div>
  );
}

function SearchBox({ value, onChange, onDown, autoFocus }: { value: string; onChange: (v: string) => void; onDown?: () => void; autoFocus?: boolean }) {
  const ref = useRef<HTMLInputElement>(null);
  // "/" anywhere on the page jumps to the search box.
  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (e.key === "/" && !["INPUT", "TEXTAREA", "SELECT"].includes(target?.tagName ?? "")) {
        e.preventDefault();
        ref.current?.focus();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  const key = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Escape") {
      e.preventDefault();
      onChange("");
    } else if (e.key === "ArrowDown" && onDown) {
      e.preventDefault();
      onDown();
    }
  };
  return (
    <div className="search-box no-print">
      <label htmlFor="permission-search">Search permissions</label>
      <input
        id="permission-search"
        ref={ref}
        type="search"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={key}
        placeholder="Name, display text, id, method, path or cmdlet"
        autoComplete="off"
        spellCheck={false}
        autoFocus={autoFocus}
        aria-describedby="search-help"
      />
      <p id="search-help" className="hint">
        Type to filter; Escape clears; ↓ moves to the results; “/” comes back here.
      </p>
    </div>
  );
}

export function ExplorerIndex({ session }: { session: Session | null }) {
  usePageTitle("Permissions");
  const { search } = useLocation();
  const q = new URLSearchParams(search).get("q") ?? "";
  const ref = useAsync((_signal) => loadReference(), []);
  const hay = useMemo(() => new Map((ref.data?.permissions ?? []).map((p) => [p.name, haystack(p)])), [ref.data]);
  const terms = q.toLowerCase().split(/\s+/).filter(Boolean);
  const results = (ref.data?.permissions ?? []).filter((p) => matches(p, terms, hay));
  const list = useRef<HTMLUListElement>(null);
  void session;

  return (
    <div className="explorer">
      <div className="page-head">
        <h1>Permissions</h1>
        {ref.data && <Toolbar name={null} json={() => ref.data} />}
      </div>
      <p className="muted">
        Microsoft Graph's permissions for the security API, as Triage enforces them: every permission's ids, consent texts, the methods it grants on v1.0, beta
        and Triage's own API, and the resources it reaches.
      </p>
      <SearchBox
        value={q}
        onChange={(v) => navigate(`/explorer${v ? `?q=${encodeURIComponent(v)}` : ""}`, { replace: true })}
        onDown={() => list.current?.querySelector("a")?.focus()}
        autoFocus
      />
      <ErrorMessage error={ref.error} />
      {ref.loading && !ref.data && <Loading what="Loading the permissions reference" />}
      {ref.data && (
        <>
          <p className="result-count" role="status" aria-live="polite">
            {terms.length ? `${results.length} of ${ref.data.permissions.length} permissions match “${q}”` : `${ref.data.permissions.length} permissions`}
          </p>
          <ul className="permission-list" ref={list} aria-label="Permissions">
            {results.map((p) => {
              const methods = allMethods(p);
              const hits = terms.length ? methods.filter((m) => terms.some((t) => `${m.operation} ${m.cmdlet ?? ""}`.toLowerCase().includes(t))) : [];
              return (
                <li key={p.name}>
                  <Link to={`/explorer/${encodeURIComponent(p.name)}`} className="permission-link">
                    {p.name}
                  </Link>
                  <span className="muted"> — {p.schemes.application.adminConsentDisplayName}</span>
                  {!p.provisioned && <span className="badge warn">Not provisioned</span>}
                  <div className="perm-meta">
                    {methods.filter((m) => m.implemented).length} implemented methods · {methods.length} in all
                    {hits.length > 0 &&
                      ` · matches ${hits
                        .slice(0, 3)
                        .map((h) => `${h.api} ${h.operation}`)
                        .join(", ")}${hits.length > 3 ? "…" : ""}`}
                  </div>
                </li>
              );
            })}
          </ul>
        </>
      )}
    </div>
  );
}

// ── one permission ──────────────────────────────────────────────────────────────────────────

function Least({ value }: { value: boolean | null }) {
  if (value === null) return <span className="muted">—</span>;
  return value ? <span className="badge least">Least privileged</span> : <span className="badge higher">Higher privileged</span>;
}

function exampleValue(type: string, enumMembers: string[] | null): unknown {
  const m = /^Collection\((.+)\)$/.exec(type);
  if (m) return [exampleValue(m[1]!, enumMembers)];
  if (enumMembers)
    return enumMembers
      .filter((x) => x !== "unknownFutureValue")
      .slice(0, 3)
      .join(" | ");
  switch (type) {
    case "Edm.String":
      return "String";
    case "Edm.DateTimeOffset":
      return "String (timestamp)";
    case "Edm.Int32":
    case "Edm.Int64":
      return 0;
    case "Edm.Double":
      return 0.0;
    case "Edm.Boolean":
      return false;
    default:
      return { "@odata.type": type };
  }
}

function jsonRepresentation(r: ResourceDoc, version: string): string {
  const obj: Record<string, unknown> = r.entitySet ? { "@odata.type": `#${r.qualifiedName}` } : {};
  for (const p of r.properties) {
    if (p.betaOnly && version !== "beta") continue;
    obj[p.name] = exampleValue(p.type, p.enumMembers);
  }
  return JSON.stringify(obj, null, 2);
}

function resourcesOf(p: PermissionReference): string[] {
  const out = new Set<string>();
  for (const m of allMethods(p)) {
    if (/^\/(security\/incidents|triage\/incidents)/.test(m.path)) out.add("incident");
    if (/^\/(security\/alerts_v2|triage\/alerts|ingest\/alerts)/.test(m.path)) out.add("alert");
    if (m.path.endsWith("/comments")) out.add("alertComment");
    if (/^\/security\/alerts(\/|$)/.test(m.path)) out.add("legacyAlert");
    if (m.path.startsWith("/triage/admin/")) out.add("directory");
  }
  return [...out];
}

function ResourceSection({ r }: { r: ResourceDoc }) {
  const [version, setVersion] = useState("v1.0");
  return (
    <section className="panel resource" aria-labelledby={`res-${r.name}`}>
      <h3 id={`res-${r.name}`}>
        {r.name} <span className="muted mono">({r.qualifiedName})</span>
      </h3>
      {r.entitySet && (
        <p className="muted">
          Collection <code>/security/{r.entitySet}</code>: {r.defaultPageSize} per page by default, at most {r.maxPageSize}.
        </p>
      )}
      {r.relationships.length > 0 && (
        <>
          <h4>Relationships</h4>
          <ul>
            {r.relationships.map((x) => (
              <li key={x.name}>
                <code>{x.name}</code> → {x.target}: {x.how}
              </li>
            ))}
          </ul>
        </>
      )}
      <details className="props">
        <summary>Properties ({r.properties.length})</summary>
        <div className="table-wrap">
          <table className="props-table">
            <caption className="sr-only">Properties of {r.name}</caption>
            <thead>
              <tr>
                <th scope="col">Property</th>
                <th scope="col">Type</th>
                <th scope="col">Query and update</th>
                <th scope="col">Description</th>
              </tr>
            </thead>
            <tbody>
              {r.properties.map((p) => (
                <tr key={p.name}>
                  <th scope="row">
                    <code>{p.name}</code>
                  </th>
                  <td className="mono small">
                    {p.type}
                    {p.nullable ? " (nullable)" : ""}
                  </td>
                  <td className="small">
                    {[p.updatable && "PATCH", p.filterable && "$filter", p.sortable && "$orderby", p.betaOnly && "beta only"].filter(Boolean).join(", ") || "—"}
                  </td>
                  <td className="small">
                    {p.description}
                    {p.enumMembers && <div className="muted">Values: {p.enumMembers.join(", ")}</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
      <details className="json-rep">
        <summary>JSON representation</summary>
        {r.properties.some((p) => p.betaOnly) && (
          <div className="inline">
            <label htmlFor={`ver-${r.name}`}>Version</label>
            <select id={`ver-${r.name}`} value={version} onChange={(e) => setVersion(e.target.value)}>
              <option value="v1.0">v1.0</option>
              <option value="beta">beta</option>
            </select>
          </div>
        )}
        <pre className="code">{jsonRepresentation(r, version)}</pre>
      </details>
    </section>
  );
}

function CodeExamples({ p, tenantId }: { p: PermissionReference; tenantId: string }) {
  const candidates = allMethods(p).filter((m) => m.implemented);
  const preferred =
    candidates.find((m) => m.api === "v1.0" && m.leastPrivileged.application) ?? candidates.find((m) => m.leastPrivileged.delegated) ?? candidates[0];
  const [choice, setChoice] = useState(preferred ? `${preferred.api} ${preferred.operation}` : "");
  const [lang, setLang] = useState<Language>("JavaScript");
  const [copied, setCopied] = useState(false);
  const method = candidates.find((m) => `${m.api} ${m.operation}` === choice) ?? preferred;
  if (!method) return <p className="muted">Triage implements none of this permission's methods, so there is nothing to call.</p>;
  const scheme: SchemeName = method.leastPrivileged.application !== null ? "application" : "delegated";
  const code = example(lang, { origin: location.origin, tenantId, api: method.api, method: method.method, path: method.path, cmdlet: method.cmdlet, scheme });
  const tabKey = (e: KeyboardEvent<HTMLButtonElement>, i: number) => {
    const next = e.key === "ArrowRight" ? i + 1 : e.key === "ArrowLeft" ? i - 1 : null;
    if (next === null) return;
    e.preventDefault();
    const l = LANGUAGES[(next + LANGUAGES.length) % LANGUAGES.length]!;
    setLang(l);
    document.getElementById(`tab-${l}`)?.focus();
  };
  return (
    <div className="examples">
      <div className="inline wrap no-print">
        <label htmlFor="example-method">Method</label>
        <select id="example-method" value={choice} onChange={(e) => setChoice(e.target.value)}>
          {candidates.map((m) => (
            <option key={`${m.api} ${m.operation}`} value={`${m.api} ${m.operation}`}>
              {m.api} {m.operation}
            </option>
          ))}
        </select>
      </div>
      <div role="tablist" aria-label="Language" className="tabs no-print">
        {LANGUAGES.map((l, i) => (
          <button
            key={l}
            id={`tab-${l}`}
            type="button"
            role="tab"
            aria-selected={l === lang}
            aria-controls="example-panel"
            tabIndex={l === lang ? 0 : -1}
            className={l === lang ? "tab active" : "tab"}
            onClick={() => setLang(l)}
            onKeyDown={(e) => tabKey(e, i)}
          >
            {l}
          </button>
        ))}
      </div>
      <div id="example-panel" role="tabpanel" aria-labelledby={`tab-${lang}`}>
        <p className="muted small">
          {scheme === "application"
            ? "App-only (client credentials) with an app granted this permission."
            : "Delegated: a signed-in user, through an app granted this permission."}{" "}
          Replace <code>CLIENT_ID</code>/<code>CLIENT_SECRET</code> with your app's.
        </p>
        <pre className="code" data-language={lang}>
          {code}
        </pre>
        <button
          type="button"
          className="secondary no-print"
          onClick={() =>
            void copyText(code).then(() => {
              setCopied(true);
              setTimeout(() => setCopied(false), 2000);
            })
          }
        >
          {copied ? "Copied" : "Copy code"}
        </button>
      </div>
    </div>
  );
}

function RegisterSteps({ p, tenantId }: { p: PermissionReference; tenantId: string }) {
  const app = p.schemes.application.provisioned;
  const del = p.schemes.delegated.provisioned;
  return (
    <ol className="steps">
      <li>
        In the web app, <strong>Admin → App registrations</strong> (Security Administrator): register an app, add <code>{p.name}</code> as an{" "}
        {app ? "application" : ""}
        {app && del ? " or " : ""}
        {del ? "delegated" : ""} permission, and <strong>grant admin consent</strong>. For an app-only client, add a secret: it is shown once.
      </li>
      <li>
        Or with the command line:
        <pre className="code">
          {`npx triage apps create --tenant ${tenantId} --name "My integration" \\\n  ${app ? `--permission ${p.name}` : `--delegated ${p.name} --public-client --redirect-uri http://localhost`} --admin-consent --json`}
        </pre>
      </li>
      <li>
        Get a token from <code>{`${location.origin}/${tenantId}/oauth2/v2.0/token`}</code> with scope <code>https://graph.microsoft.com/.default</code>:
        app-only tokens carry the permission in <code>roles</code>, delegated ones in <code>scp</code> (and the user needs one of the Entra roles listed above).
      </li>
      <li>
        Call <code>{location.origin}/v1.0/…</code> with <code>Authorization: Bearer …</code>, as in the examples.
      </li>
    </ol>
  );
}

export function PermissionPage({ name, session }: { name: string; session: Session | null }) {
  const data = useAsync(async () => {
    const [reference, schema, config] = await Promise.all([loadReference(), loadSchema(), session ? null : publicJson<WebConfig>("/web/config")]);
    return { reference, schema, tenantId: session?.tenantId ?? config?.defaultTenant?.id ?? "{tenant-id}" };
  }, [session?.tenantId]);
  const [q, setQ] = useState("");
  usePageTitle(name);
  const p = data.data?.reference.permissions.find((x) => x.name.toLowerCase() === name.toLowerCase());

  if (data.error) return <ErrorMessage error={data.error} />;
  if (!data.data) return <Loading what="Loading the permissions reference" />;
  if (!p) {
    return (
      <div>
        <h1>{name}</h1>
        <p>There is no permission by that name in Triage's catalog.</p>
        <p>
          <Link to="/explorer">All permissions</Link>
        </p>
      </div>
    );
  }
  const { reference, schema, tenantId } = data.data;
  const reached = resourcesOf(p);
  const cmdlets = [
    ...new Map(
      allMethods(p)
        .filter((m) => m.cmdlet)
        .map((m) => [m.cmdlet!, m]),
    ).values(),
  ];

  return (
    <div className="explorer permission-page">
      <form
        className="inline search-jump no-print"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(`/explorer${q ? `?q=${encodeURIComponent(q)}` : ""}`);
        }}
      >
        <Link to="/explorer">← All permissions</Link>
        <label htmlFor="jump-search" className="sr-only">
          Search permissions
        </label>
        <input
          id="jump-search"
          type="search"
          value={q}
          onChange={(e) => setQ(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Escape") setQ("");
          }}
          placeholder="Search permissions"
        />
        <button type="submit" className="secondary">
          Search
        </button>
      </form>
      <div className="page-head">
        <h1 className="mono">{p.name}</h1>
        <Toolbar name={p.name} json={() => p} />
      </div>
      <p className="lead">{p.schemes.application.adminConsentDescription}</p>
      <p className="muted print-url">{location.href}</p>
      {p.notes.map((n) => (
        <p key={n} className="note">
          {n}
        </p>
      ))}

      <section className="panel" aria-labelledby="ids-title">
        <h2 id="ids-title">Identifiers and consent</h2>
        <div className="table-wrap">
          <table className="ids-table">
            <thead>
              <tr>
                <th scope="col" />
                {SCHEME_NAMES.map((s) => (
                  <th key={s} scope="col">
                    {reference.schemes[s].displayName}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {(
                [
                  ["Permission id", (s: SchemeReference) => <code className="break">{s.id ?? "— (not provisioned)"}</code>],
                  ["Token claim", (_s: SchemeReference, n: SchemeName) => <code>{reference.schemes[n].tokenClaim}</code>],
                  ["Admin consent display name", (s: SchemeReference) => s.adminConsentDisplayName],
                  ["Admin consent description", (s: SchemeReference) => s.adminConsentDescription],
                  ["User consent display name", (s: SchemeReference) => s.userConsentDisplayName ?? "—"],
                  ["User consent description", (s: SchemeReference) => s.userConsentDescription ?? "—"],
                  ["Admin consent required", (s: SchemeReference) => (s.requiresAdminConsent ? "Yes" : "No")],
                  ["Provisioned", (s: SchemeReference) => (s.provisioned ? "Yes" : "No")],
                  ["Privilege level", (s: SchemeReference) => s.privilegeLevel],
                ] as const
              ).map(([title, cell]) => (
                <tr key={title}>
                  <th scope="row">{title}</th>
                  {SCHEME_NAMES.map((s) => (
                    <td key={s}>{cell(p.schemes[s], s)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p className="muted small">Owner: {p.ownerGroup}</p>
      </section>

      <section className="panel" aria-labelledby="methods-title">
        <h2 id="methods-title">Methods it grants</h2>
        {reference.apis.map(({ api, root }) => {
          const ms = p.methods[api] ?? [];
          if (!ms.length) return null;
          return (
            <div key={api} className="methods">
              <h3>{API_LABEL[api] ?? api}</h3>
              <div className="table-wrap">
                <table className="methods-table">
                  <caption className="sr-only">
                    {API_LABEL[api]} methods granted by {p.name}
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Method</th>
                      <th scope="col">Delegated</th>
                      <th scope="col">Application</th>
                      <th scope="col">Entra roles (delegated)</th>
                      <th scope="col">Cmdlet</th>
                      <th scope="col">Notes</th>
                    </tr>
                  </thead>
                  <tbody>
                    {ms.map((m) => (
                      <tr key={m.operation} className={m.implemented ? undefined : "not-implemented"}>
                        <th scope="row" className="mono small">
                          {m.method} {root}
                          {m.path}
                          {!m.implemented && <span className="badge warn">Not implemented</span>}
                        </th>
                        <td>
                          <Least value={m.leastPrivileged.delegated} />
                        </td>
                        <td>
                          <Least value={m.leastPrivileged.application} />
                        </td>
                        <td className="small">{m.entraRoles.join(", ")}</td>
                        <td className="mono small">{m.cmdlet ?? "—"}</td>
                        <td className="small">{m.notes.join(" ")}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          );
        })}
      </section>

      <section className="panel" aria-labelledby="resources-title">
        <h2 id="resources-title">Resources it reaches</h2>
        {reached.length === 0 && <p className="muted">None that Triage serves.</p>}
        {reached.includes("legacyAlert") && (
          <p className="note">The legacy alert resource (microsoft.graph.alert, /security/alerts) was retired; Triage does not serve it.</p>
        )}
        {reached.includes("directory") && <p>Triage's directory: app registrations, consent, secrets, users and their roles (the admin API).</p>}
        {schema.resources
          .filter((r) => reached.includes(r.name))
          .map((r) => (
            <ResourceSection key={r.name} r={r} />
          ))}
        {reached.includes("alert") && (
          <details className="panel">
            <summary>Evidence subtypes ({schema.evidence.length})</summary>
            <p className="muted small">Every evidence element has {schema.evidenceBase.join(", ")}; the subtypes add:</p>
            <ul className="evidence-types small">
              {schema.evidence.map((e) => (
                <li key={e.type}>
                  <code>{e.type}</code>: {e.properties.map((x) => x.name).join(", ") || "(base properties only)"}
                </li>
              ))}
            </ul>
          </details>
        )}
      </section>

      <section className="panel" aria-labelledby="cmdlets-title">
        <h2 id="cmdlets-title">PowerShell cmdlets</h2>
        {cmdlets.length ? (
          <ul>
            {cmdlets.map((m) => (
              <li key={m.cmdlet}>
                <code>{m.cmdlet}</code> — {m.method} {m.path} ({m.api})
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">No Microsoft Graph PowerShell cmdlet maps to these methods.</p>
        )}
      </section>

      <section className="panel" aria-labelledby="examples-title">
        <h2 id="examples-title">Code examples</h2>
        <p className="muted small">
          Pointed at this Triage ({location.origin}), tenant {tenantId}.
        </p>
        <CodeExamples p={p} tenantId={tenantId} />
      </section>

      <section className="panel" aria-labelledby="register-title">
        <h2 id="register-title">Register an app that uses it</h2>
        <RegisterSteps p={p} tenantId={tenantId} />
      </section>
    </div>
  );
}
