import { useEffect, useState } from "react";
import type { FinderResult, GraphSchemeKey } from "../../../../src/permissions/contracts";
import { ErrorMessage, Loading, useAsync } from "../../components/ui";
import { Link } from "../../router";
import { lookup, permissionUrl, SCHEME_LABEL } from "./data";

const SCHEMES: GraphSchemeKey[] = ["DelegatedWork", "DelegatedPersonal", "Application"];

/**
 * The least-privilege finder: a call as a developer writes it (`GET /users/adele@contoso.com/messages?$top=5`),
 * answered per scheme by GET /permissions/lookup. The call is part of the page's URL (`call=`).
 */
export function Finder({ call, onCall }: { call: string; onCall: (call: string) => void }) {
  const [text, setText] = useState(call);
  useEffect(() => setText(call), [call]);
  const answer = useAsync((signal) => (call.trim() ? lookup(call.trim(), signal) : Promise.resolve(null)), [call]);
  return (
    <section className="panel finder" aria-labelledby="finder-title">
      <h2 id="finder-title">Which permission does a call need?</h2>
      <form
        className="finder-form no-print"
        onSubmit={(e) => {
          e.preventDefault();
          onCall(text.trim());
        }}
      >
        <label htmlFor="finder-call">Call</label>
        <div className="inline wrap">
          <input
            id="finder-call"
            type="text"
            value={text}
            maxLength={2048}
            onChange={(e) => setText(e.target.value)}
            placeholder="GET /users/adele@contoso.com/messages?$top=5"
            autoComplete="off"
            spellCheck={false}
            aria-describedby="finder-help"
          />
          <button type="submit">Find</button>
          {call && (
            <button type="button" className="secondary" onClick={() => onCall("")}>
              Clear
            </button>
          )}
        </div>
        <p id="finder-help" className="hint">
          A method and a path as you would write them: ids, <code>/me</code>, a version prefix, a query string or the whole URL are all fine.
        </p>
      </form>
      <ErrorMessage error={answer.error} />
      {answer.loading && call && <Loading what="Looking the call up" />}
      {answer.data && !answer.loading && <FinderAnswer a={answer.data} />}
    </section>
  );
}

function FinderAnswer({ a }: { a: FinderResult }) {
  if (!a.found)
    return (
      <div className="finder-answer" data-found="false">
        <p className="finder-none" role="status">
          {a.message}
        </p>
        <p className="muted small">Check the path's spelling; the data lists the paths of Microsoft Graph's documentation, so a very new API may be missing.</p>
      </div>
    );
  return (
    <div className="finder-answer" data-found="true">
      <p role="status">
        <code>
          {a.method} {a.path}
        </code>{" "}
        {a.version && <span className="muted">({a.version})</span>} matches{" "}
        {a.templates.length === 1 ? "the template" : `${a.templates.length} templates, merged:`}{" "}
        {a.templates.map((t, i) => (
          <span key={t}>
            {i > 0 && ", "}
            <code className="finder-template">{t}</code>
          </span>
        ))}
        .
      </p>
      {a.alias && (
        <p className="note finder-alias">
          The data does not list the call as written; it was matched through the alias <code>{a.alias}</code>, the same resource.
        </p>
      )}
      <div className="finder-schemes">
        {SCHEMES.map((k) => {
          const s = a.schemes[k];
          return (
            <section key={k} className="finder-scheme" data-scheme={k} aria-label={SCHEME_LABEL[k]}>
              <h3>{SCHEME_LABEL[k]}</h3>
              {s.leastPrivileged ? (
                <>
                  <p className="finder-least">
                    Least privileged: <Link to={permissionUrl(s.leastPrivileged)}>{s.leastPrivileged}</Link>
                    <span className="muted small"> ({s.basis === "marker" ? "as the data marks it" : "the lowest privilege level; the data marks none"})</span>
                  </p>
                  <ol className="finder-candidates" aria-label={`Permissions granting it, ${SCHEME_LABEL[k]}, least privileged first`}>
                    {s.candidates.map((c) => (
                      <li key={c.permission}>
                        <Link to={permissionUrl(c.permission)}>{c.permission}</Link>{" "}
                        <span className="muted small">
                          privilege level {c.privilegeLevel ?? "unknown"}
                          {c.markedLeast ? " · marked least privileged" : ""}
                          {c.alsoRequires.length ? ` · also requires ${c.alsoRequires.join(", ")}` : ""}
                        </span>
                      </li>
                    ))}
                  </ol>
                </>
              ) : (
                <p className="muted">No permission of this kind grants the call.</p>
              )}
            </section>
          );
        })}
      </div>
    </div>
  );
}
