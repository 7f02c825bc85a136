import { useState, type KeyboardEvent } from "react";
import { publicJson } from "../../api";
import type { MethodReference, PermissionReference, SchemeName } from "../../../../src/permissions/contracts";
import type { ResourceDoc, SchemaInfo } from "../../../../src/web/contracts";
import { example, LANGUAGES, type Language } from "../../examples";
import { copyText, ErrorMessage, Loading, useAsync } from "../../components/ui";

/**
 * What a permission page adds for a permission Triage enforces: the methods it grants on Triage's
 * endpoints (v1.0, beta and Triage's own API), the resources they reach, code pointed at this Triage and
 * the registration steps here.
 */

const API_LABEL: Record<string, string> = { "v1.0": "Microsoft Graph v1.0", beta: "Microsoft Graph beta", triage: "Triage's own API" };
const APIS: { api: "v1.0" | "beta" | "triage"; root: string }[] = [
  { api: "v1.0", root: "/v1.0" },
  { api: "beta", root: "/beta" },
  { api: "triage", root: "" },
];

function allMethods(p: PermissionReference): (MethodReference & { api: string })[] {
  return Object.entries(p.methods).flatMap(([api, ms]) => ms.map((m) => ({ ...m, api })));
}

let schemaPromise: Promise<SchemaInfo> | null = null;
function loadSchema(): Promise<SchemaInfo> {
  schemaPromise ??= publicJson<SchemaInfo>("/web/schema").catch((e: unknown) => {
    schemaPromise = null;
    throw e;
  });
  return schemaPromise;
}

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
    document.getElementById(`triage-tab-${l}`)?.focus();
  };
  return (
    <div className="examples">
      <div className="inline wrap no-print">
        <label htmlFor="triage-example-method">Method</label>
        <select id="triage-example-method" value={choice} onChange={(e) => setChoice(e.target.value)}>
          {candidates.map((m) => (
            <option key={`${m.api} ${m.operation}`} value={`${m.api} ${m.operation}`}>
              {m.api} {m.operation}
            </option>
          ))}
        </select>
      </div>
      <div role="tablist" aria-label="Language of the Triage examples" className="tabs no-print">
        {LANGUAGES.map((l, i) => (
          <button
            key={l}
            id={`triage-tab-${l}`}
            type="button"
            role="tab"
            aria-selected={l === lang}
            aria-controls="triage-example-panel"
            tabIndex={l === lang ? 0 : -1}
            className={l === lang ? "tab active" : "tab"}
            onClick={() => setLang(l)}
            onKeyDown={(e) => tabKey(e, i)}
          >
            {l}
          </button>
        ))}
      </div>
      <div id="triage-example-panel" role="tabpanel" aria-labelledby={`triage-tab-${lang}`}>
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

/** The endpoint a method row links to: a GET without placeholders opens as is; others show their URL. */
function Endpoint({ m, root }: { m: MethodReference; root: string }) {
  const url = `${location.origin}${root}${m.path}`;
  const text = `${m.method} ${root}${m.path}`;
  if (m.method === "GET" && m.implemented && !m.path.includes("{")) return <a href={url}>{text}</a>;
  return <>{text}</>;
}

export function TriageSection({ p, tenantId }: { p: PermissionReference; tenantId: string }) {
  const schema = useAsync(() => loadSchema(), []);
  const reached = resourcesOf(p);
  return (
    <section className="panel triage-section" aria-labelledby="triage-title">
      <h2 id="triage-title">In Triage</h2>
      <p className="enforced-note">
        <strong>Triage enforces this permission.</strong> Its endpoints below accept a token carrying it, in <code>scp</code> (delegated) or <code>roles</code>{" "}
        (application); see the <a href={`${location.origin}/permissions/${encodeURIComponent(p.name)}`}>API's entry</a>.
      </p>
      {APIS.map(({ api, root }) => {
        const ms = p.methods[api] ?? [];
        if (!ms.length) return null;
        return (
          <div key={api} className="methods" data-api={api}>
            <h3>{API_LABEL[api]}</h3>
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
                        <Endpoint m={m} root={root} />
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

      <h3>Resources it reaches</h3>
      {reached.length === 0 && <p className="muted">None that Triage serves.</p>}
      {reached.includes("legacyAlert") && (
        <p className="note">The legacy alert resource (microsoft.graph.alert, /security/alerts) was retired; Triage does not serve it.</p>
      )}
      {reached.includes("directory") && <p>Triage's directory: app registrations, consent, secrets, users and their roles (the admin API).</p>}
      <ErrorMessage error={schema.error} />
      {schema.loading && !schema.data && <Loading what="Loading the resources" />}
      {schema.data?.resources
        .filter((r) => reached.includes(r.name))
        .map((r) => (
          <ResourceSection key={r.name} r={r} />
        ))}
      {schema.data && reached.includes("alert") && (
        <details className="panel">
          <summary>Evidence subtypes ({schema.data.evidence.length})</summary>
          <p className="muted small">Every evidence element has {schema.data.evidenceBase.join(", ")}; the subtypes add:</p>
          <ul className="evidence-types small">
            {schema.data.evidence.map((e) => (
              <li key={e.type}>
                <code>{e.type}</code>: {e.properties.map((x) => x.name).join(", ") || "(base properties only)"}
              </li>
            ))}
          </ul>
        </details>
      )}

      <h3 id="triage-examples-title">Calling Triage with it</h3>
      <p className="muted small">
        Pointed at this Triage ({location.origin}), tenant {tenantId}.
      </p>
      <CodeExamples p={p} tenantId={tenantId} />
      <h3>Registering an app in Triage</h3>
      <RegisterSteps p={p} tenantId={tenantId} />
    </section>
  );
}
