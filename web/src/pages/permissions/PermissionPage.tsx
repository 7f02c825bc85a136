import { useState, type KeyboardEvent } from "react";
import { publicJson } from "../../api";
import type { Session } from "../../auth";
import type { CodeExampleDetails, GraphSchemeDetails, GraphSchemeKey, PermissionDetails } from "../../../../src/permissions/contracts";
import type { WebConfig } from "../../../../src/web/contracts";
import { copyText, ErrorMessage, Loading, useAsync, usePageTitle } from "../../components/ui";
import { Link, navigate } from "../../router";
import { loadDetails, SCHEME_LABEL } from "./data";
import { fetchText, Toolbar } from "./Toolbar";
import { TriageSection } from "./TriageSection";
import "../../permissions.css";

const SCHEMES: GraphSchemeKey[] = ["DelegatedWork", "DelegatedPersonal", "Application"];

const yesNo = (b: boolean) => (b ? "Yes" : "No");

const ROWS: [string, (s: GraphSchemeDetails) => string][] = [
  ["Permission id", (s) => s.id ?? "— (no id published)"],
  ["Admin consent display name", (s) => s.adminDisplayName],
  ["Admin consent description", (s) => s.adminDescription],
  ["User consent display name", (s) => s.userDisplayName ?? "—"],
  ["User consent description", (s) => s.userDescription ?? "—"],
  ["Admin consent required", (s) => yesNo(s.requiresAdminConsent)],
  ["Privilege level", (s) => (s.privilegeLevel === null ? "—" : `${s.privilegeLevel} of 4`)],
  ["Enabled", (s) => yesNo(s.isEnabled)],
  ["Hidden", (s) => yesNo(s.isHidden)],
];

function IdsTable({ d }: { d: PermissionDetails }) {
  const schemes = SCHEMES.filter((k) => d.schemes[k]);
  return (
    <section className="panel" aria-labelledby="ids-title">
      <h2 id="ids-title">Identifiers and consent</h2>
      <div className="table-wrap">
        <table className="ids-table">
          <caption className="sr-only">Identifiers and consent of {d.name}, per scheme</caption>
          <thead>
            <tr>
              <td />
              {schemes.map((k) => (
                <th key={k} scope="col" data-scheme={k}>
                  {SCHEME_LABEL[k]}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {ROWS.map(([title, cell]) => (
              <tr key={title}>
                <th scope="row">{title}</th>
                {schemes.map((k) => (
                  <td key={k} data-scheme={k} className={title === "Permission id" ? "mono break" : undefined}>
                    {cell(d.schemes[k]!)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="muted small">
        Authorization type {d.authorizationType}
        {d.ownerGroup ? ` · owner ${d.ownerGroup}` : ""} · source {d.source === "graph-data" ? "Microsoft's permission data" : "Triage's catalog"}
        {d.sourceUrl && (
          <>
            {" "}
            (<a href={d.sourceUrl}>{d.sourceUrl}</a>)
          </>
        )}
      </p>
    </section>
  );
}

function PathSets({ d }: { d: PermissionDetails }) {
  return (
    <section className="panel" aria-labelledby="paths-title">
      <h2 id="paths-title">Methods and paths it grants</h2>
      <p className="muted small">
        As Microsoft's data groups them: each set names the schemes and methods that apply to its paths. The data writes each path once, for v1.0 and beta alike
        {d.triage ? "; the v1.0 and beta methods Triage serves are under “In Triage”" : ""}.
      </p>
      {d.pathSets.length === 0 && <p className="muted">The data lists no paths for this permission.</p>}
      {d.pathSets.map((set, i) => (
        <div key={i} className="path-set" data-set={i}>
          <h3>
            <span className="mono">{set.methods.join(", ")}</span> · {set.schemes.map((k) => SCHEME_LABEL[k]).join(", ")}
          </h3>
          <div className="table-wrap">
            <table className="paths-table">
              <caption className="sr-only">
                {set.methods.join(", ")} paths for {set.schemes.join(", ")}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Path</th>
                  <th scope="col">Least privileged for</th>
                  <th scope="col">Also requires</th>
                </tr>
              </thead>
              <tbody>
                {set.paths.map((gp) => (
                  <tr key={gp.path} data-path={gp.path}>
                    <th scope="row" className="mono small break">
                      {gp.path}
                    </th>
                    <td className="small">{gp.least.length ? gp.least.map((k) => SCHEME_LABEL[k]).join(", ") : "—"}</td>
                    <td className="small">{gp.alsoRequires.join(", ") || "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ))}
    </section>
  );
}

function LeastFor({ d }: { d: PermissionDetails }) {
  return (
    <section className="panel" aria-labelledby="least-title">
      <h2 id="least-title">Where it is the least privileged choice</h2>
      {d.leastPrivilegedFor.length ? (
        <ul className="least-for">
          {d.leastPrivilegedFor.map((x) => (
            <li key={`${x.method} ${x.path}`}>
              <code>
                {x.method} {x.path}
              </code>{" "}
              <span className="muted small">({x.schemes.map((k) => SCHEME_LABEL[k]).join(", ")})</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">Nowhere: for each call it grants, the data marks a less privileged permission.</p>
      )}
    </section>
  );
}

function PowerShell({ d }: { d: PermissionDetails }) {
  return (
    <section className="panel" aria-labelledby="ps-title">
      <h2 id="ps-title">PowerShell</h2>
      <ul className="ps-commands">
        {d.powershell.map((c) => (
          <li key={c.command}>
            <span className="muted small">{c.purpose}</span>
            <pre className="code">{c.command}</pre>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Examples({ d }: { d: PermissionDetails }) {
  const ex = d.examples;
  const [lang, setLang] = useState(ex?.code[0]?.language ?? "");
  const [copied, setCopied] = useState(false);
  if (!ex)
    return (
      <section className="panel" aria-labelledby="examples-title">
        <h2 id="examples-title">Code examples</h2>
        <p className="muted">The data lists no call this permission grants that an example could show.</p>
      </section>
    );
  const tabKey = (e: KeyboardEvent<HTMLButtonElement>, i: number) => {
    const next = e.key === "ArrowRight" ? i + 1 : e.key === "ArrowLeft" ? i - 1 : null;
    if (next === null) return;
    e.preventDefault();
    const c = ex.code[(next + ex.code.length) % ex.code.length]!;
    setLang(c.language);
    document.getElementById(`code-tab-${c.language}`)?.focus();
  };
  const active: CodeExampleDetails = ex.code.find((c) => c.language === lang) ?? ex.code[0]!;
  return (
    <section className="panel" aria-labelledby="examples-title">
      <h2 id="examples-title">Code examples</h2>
      <p className="muted small">
        A call it grants:{" "}
        <code>
          {ex.method} https://graph.microsoft.com/{ex.version}
          {ex.path}
        </code>
        , with an access token carrying the permission.
      </p>
      <div role="tablist" aria-label="Language" className="tabs no-print">
        {ex.code.map((c, i) => (
          <button
            key={c.language}
            id={`code-tab-${c.language}`}
            type="button"
            role="tab"
            aria-selected={c.language === active.language}
            aria-controls={`code-panel-${c.language}`}
            tabIndex={c.language === active.language ? 0 : -1}
            className={c.language === active.language ? "tab active" : "tab"}
            onClick={() => setLang(c.language)}
            onKeyDown={(e) => tabKey(e, i)}
          >
            {c.label.replace(/ \(.*\)$/, "")}
          </button>
        ))}
      </div>
      {ex.code.map((c) => (
        <div
          key={c.language}
          id={`code-panel-${c.language}`}
          role="tabpanel"
          aria-labelledby={`code-tab-${c.language}`}
          hidden={c.language !== active.language}
          className="code-panel"
        >
          <h3 className="code-label">{c.label}</h3>
          <pre className="code" data-language={c.language}>
            {c.code}
          </pre>
        </div>
      ))}
      <button
        type="button"
        className="secondary no-print"
        onClick={() =>
          void copyText(active.code).then(() => {
            setCopied(true);
            setTimeout(() => setCopied(false), 2000);
          })
        }
      >
        {copied ? "Copied" : "Copy code"}
      </button>
    </section>
  );
}

function Registration({ d }: { d: PermissionDetails }) {
  return (
    <section className="panel" aria-labelledby="register-title">
      <h2 id="register-title">Register an app that uses it</h2>
      {SCHEMES.filter((k) => d.registration[k]).map((k) => (
        <div key={k} className="registration" data-scheme={k}>
          <h3>{SCHEME_LABEL[k]}</h3>
          <ol className="steps">
            {d.registration[k]!.map((step) => (
              <li key={step}>{step}</li>
            ))}
          </ol>
        </div>
      ))}
    </section>
  );
}

function JumpSearch() {
  const [q, setQ] = useState("");
  return (
    <form
      className="inline search-jump no-print"
      role="search"
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
        maxLength={200}
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
  );
}

/** One permission, from GET /permissions/{name} (loaded when the page opens). */
export function PermissionPage({ name, session }: { name: string; session: Session | null }) {
  usePageTitle(name);
  const data = useAsync(async () => {
    const [details, config] = await Promise.all([
      loadDetails(name).catch((e: unknown) => {
        if ((e as { status?: number }).status === 404) return null;
        throw e;
      }),
      session ? null : publicJson<WebConfig>("/web/config"),
    ]);
    return { details, tenantId: session?.tenantId ?? config?.defaultTenant?.id ?? "{tenant-id}" };
  }, [name, session?.tenantId]);

  if (data.error) return <ErrorMessage error={data.error} />;
  if (!data.data) return <Loading what={`Loading ${name}`} />;
  const d = data.data.details;
  if (!d)
    return (
      <div className="explorer">
        <JumpSearch />
        <h1>{name}</h1>
        <p>No permission by that name is in Microsoft's permission data or Triage's catalog.</p>
      </div>
    );
  const lead = (d.schemes.DelegatedWork ?? d.schemes.Application ?? d.schemes.DelegatedPersonal)?.description;
  const notes = d.notes.filter((n) => !n.startsWith("Triage enforces this permission"));
  return (
    <div className="explorer permission-page">
      <JumpSearch />
      <div className="page-head">
        <h1 className="mono">{d.name}</h1>
        <Toolbar
          label={`Export and share ${d.name}`}
          print
          exports={[
            { label: "Export JSON", filename: `${d.name}.json`, type: "application/json", content: () => JSON.stringify(d, null, 2) + "\n" },
            {
              label: "Export CSV",
              filename: `${d.name}.csv`,
              type: "text/csv",
              content: () => fetchText(`/permissions/${encodeURIComponent(d.name)}?format=csv&rows=paths`),
            },
          ]}
        />
      </div>
      <p className="perm-badges">
        {d.enforced && (
          <a href="#triage-title" className="badge least">
            Enforced by Triage
          </a>
        )}
        {d.authorizationType === "RSC" && <span className="badge">Resource-specific consent</span>}
        {d.source === "triage-catalog" && <span className="badge warn">From Triage's catalog</span>}
      </p>
      {lead && <p className="lead">{lead}</p>}
      <p className="muted print-url">{location.href}</p>
      {notes.map((n) => (
        <p key={n} className="note">
          {n}
        </p>
      ))}
      <IdsTable d={d} />
      <PathSets d={d} />
      <LeastFor d={d} />
      <PowerShell d={d} />
      <Examples d={d} />
      <Registration d={d} />
      {d.triage && <TriageSection p={d.triage} tenantId={data.data.tenantId} />}
    </div>
  );
}
