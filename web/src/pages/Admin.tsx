import { useState, type FormEvent } from "react";
import { api, publicJson } from "../api";
import type { Session } from "../auth";
import type { PermissionsReference } from "../../../src/permissions/contracts";
import type { AppView, IssuedSecret, UserView, ValueList } from "../../../src/web/contracts";
import { plural } from "../format";
import { ADMIN_ROLE, ROLES } from "../roles";
import { Link, useLocation } from "../router";
import { Confirm, copyText, Dialog, ErrorMessage, Loading, Notice, Time, useAsync, usePageTitle } from "../components/ui";

interface PermissionInfo {
  name: string;
  application: boolean;
  delegated: boolean;
}

async function permissionNames(signal: AbortSignal): Promise<PermissionInfo[]> {
  const ref = await publicJson<PermissionsReference>("/permissions", signal);
  return ref.permissions.map((p) => ({ name: p.name, application: p.schemes.application.provisioned, delegated: p.schemes.delegated.provisioned }));
}

export function AdminNav() {
  const { pathname } = useLocation();
  const tab = (to: string, text: string) => (
    <Link
      to={to}
      className={pathname === to || (to === "/admin/apps" && pathname === "/admin") ? "tab active" : "tab"}
      aria-current={pathname === to ? "page" : undefined}
    >
      {text}
    </Link>
  );
  return (
    <nav className="tabs" aria-label="Admin">
      {tab("/admin/apps", "App registrations")}
      {tab("/admin/users", "Users and roles")}
      {tab("/admin/automation", "Automation rules")}
      {tab("/admin/sla", "SLA")}
    </nav>
  );
}

function PermissionPicker({
  legend,
  options,
  value,
  onChange,
  idPrefix,
}: {
  legend: string;
  options: string[];
  value: string[];
  onChange: (v: string[]) => void;
  idPrefix: string;
}) {
  return (
    <fieldset className="check-group perm-picker">
      <legend>{legend}</legend>
      {options.map((o) => (
        <label key={o} className="check" htmlFor={`${idPrefix}-${o}`}>
          <input
            id={`${idPrefix}-${o}`}
            type="checkbox"
            checked={value.includes(o)}
            onChange={(e) => onChange(e.target.checked ? [...value, o] : value.filter((x) => x !== o))}
          />
          <code>{o}</code>
        </label>
      ))}
    </fieldset>
  );
}

function RegisterForm({ perms, onCreated }: { perms: PermissionInfo[]; onCreated: (a: AppView, consented: boolean) => void }) {
  const [name, setName] = useState("");
  const [publicClient, setPublicClient] = useState(false);
  const [redirects, setRedirects] = useState("");
  const [application, setApplication] = useState<string[]>([]);
  const [delegated, setDelegated] = useState<string[]>([]);
  const [consent, setConsent] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      let created = await api<AppView>("/triage/admin/apps", {
        method: "POST",
        body: {
          displayName: name.trim(),
          publicClient,
          redirectUris: redirects.split(/[\s,]+/).filter(Boolean),
          applicationPermissions: publicClient ? [] : application,
          delegatedPermissions: delegated,
        },
      });
      if (consent && (created.requested.application.length || created.requested.delegated.length)) {
        created = await api<AppView>(`/triage/admin/apps/${created.clientId}/consent`, { method: "POST" });
      }
      setName("");
      setApplication([]);
      setDelegated([]);
      setRedirects("");
      onCreated(created, consent);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <details className="panel register">
      <summary>Register an app</summary>
      <form onSubmit={submit} className="stack-sm">
        <ErrorMessage error={error} />
        <label htmlFor="app-name">Name</label>
        <input id="app-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        <label className="check">
          <input type="checkbox" checked={publicClient} onChange={(e) => setPublicClient(e.target.checked)} /> Public client (device code, authorization code
          with PKCE; no secret, no application permissions)
        </label>
        <label htmlFor="app-redirects">Redirect URIs (space-separated, optional)</label>
        <input id="app-redirects" value={redirects} onChange={(e) => setRedirects(e.target.value)} placeholder="http://localhost" />
        <div className="perm-columns">
          {!publicClient && (
            <PermissionPicker
              legend="Application permissions"
              idPrefix="new-app"
              options={perms.filter((p) => p.application).map((p) => p.name)}
              value={application}
              onChange={setApplication}
            />
          )}
          <PermissionPicker
            legend="Delegated permissions"
            idPrefix="new-del"
            options={perms.filter((p) => p.delegated).map((p) => p.name)}
            value={delegated}
            onChange={setDelegated}
          />
        </div>
        <label className="check">
          <input type="checkbox" checked={consent} onChange={(e) => setConsent(e.target.checked)} /> Grant admin consent now
        </label>
        <button type="submit" disabled={busy || !name.trim()}>
          Register
        </button>
      </form>
    </details>
  );
}

function PermissionList({ title, requested, consented }: { title: string; requested: string[]; consented: string[] }) {
  if (!requested.length) return null;
  return (
    <div>
      <h4>{title}</h4>
      <ul className="perm-status">
        {requested.map((p) => (
          <li key={p}>
            <Link to={`/explorer/${encodeURIComponent(p)}`} className="mono">
              {p}
            </Link>{" "}
            {consented.includes(p) ? <span className="badge least">Consented</span> : <span className="badge warn">Not consented</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}

function AppCard({
  app,
  perms,
  onChange,
  onNotice,
}: {
  app: AppView;
  perms: PermissionInfo[];
  onChange: (a: AppView | null) => void;
  onNotice: (t: string) => void;
}) {
  const [adding, setAdding] = useState(false);
  const [application, setApplication] = useState<string[]>([]);
  const [delegated, setDelegated] = useState<string[]>([]);
  const [secret, setSecret] = useState<IssuedSecret | null>(null);
  const [confirm, setConfirm] = useState<"delete" | "revoke" | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [copied, setCopied] = useState(false);

  async function act<T>(fn: () => Promise<T>, done: (r: T) => void) {
    setBusy(true);
    setError(null);
    try {
      done(await fn());
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const pending = [
    ...app.requested.application.filter((p) => !app.consented.application.includes(p)),
    ...app.requested.delegated.filter((p) => !app.consented.delegated.includes(p)),
  ];
  const anyConsent = app.consented.application.length + app.consented.delegated.length > 0;
  const titleId = `app-${app.clientId}`;
  return (
    <li className="panel app-card" aria-labelledby={titleId}>
      <div className="app-head">
        <h3 id={titleId}>{app.displayName}</h3>
        <span className="badge">{app.publicClient ? "Public client" : "Confidential client"}</span>
        {app.firstParty && <span className="badge least">Triage web app</span>}
      </div>
      <dl className="facts">
        <dt>Client id</dt>
        <dd>
          <code className="break">{app.clientId}</code>
        </dd>
        <dt>Created</dt>
        <dd>
          <Time iso={app.createdDateTime} />
        </dd>
        {app.redirectUris.length > 0 && (
          <>
            <dt>Redirect URIs</dt>
            <dd className="break">{app.redirectUris.join(", ")}</dd>
          </>
        )}
        {!app.publicClient && (
          <>
            <dt>Secrets</dt>
            <dd>
              {app.secrets.length
                ? app.secrets.map((s) => (
                    <div key={s.id}>
                      <code>{s.hint}…</code> expires <Time iso={s.expiresDateTime} />
                    </div>
                  ))
                : "None"}
            </dd>
          </>
        )}
        {app.certificates.length > 0 && (
          <>
            <dt>Certificates</dt>
            <dd>{plural(app.certificates.length, "certificate")}</dd>
          </>
        )}
      </dl>
      <PermissionList title="Application permissions" requested={app.requested.application} consented={app.consented.application} />
      <PermissionList title="Delegated permissions" requested={app.requested.delegated} consented={app.consented.delegated} />
      {!app.requested.application.length && !app.requested.delegated.length && <p className="muted">Requests no permissions.</p>}
      <ErrorMessage error={error} />
      <div className="inline wrap">
        <button type="button" className="secondary" onClick={() => setAdding((a) => !a)} aria-expanded={adding}>
          Add permissions
        </button>
        <button
          type="button"
          disabled={busy || pending.length === 0}
          onClick={() =>
            act(
              () => api<AppView>(`/triage/admin/apps/${app.clientId}/consent`, { method: "POST" }),
              (a) => {
                onChange(a);
                onNotice(`Admin consent granted to ${app.displayName}.`);
              },
            )
          }
        >
          Grant admin consent
        </button>
        {!app.firstParty && (
          <button type="button" className="secondary" disabled={busy || !anyConsent} onClick={() => setConfirm("revoke")}>
            Revoke consent
          </button>
        )}
        {!app.publicClient && (
          <button
            type="button"
            className="secondary"
            disabled={busy}
            onClick={() =>
              act(
                () => api<IssuedSecret>(`/triage/admin/apps/${app.clientId}/secrets`, { method: "POST", body: { days: 180 } }),
                (s) => setSecret(s),
              )
            }
          >
            New secret
          </button>
        )}
        {!app.firstParty && (
          <button type="button" className="danger" disabled={busy} onClick={() => setConfirm("delete")}>
            Delete app
          </button>
        )}
      </div>
      {adding && (
        <form
          className="stack-sm add-perms"
          onSubmit={(e) => {
            e.preventDefault();
            void act(
              () => api<AppView>(`/triage/admin/apps/${app.clientId}/permissions`, { method: "POST", body: { application, delegated } }),
              (a) => {
                onChange(a);
                setAdding(false);
                setApplication([]);
                setDelegated([]);
                onNotice(`Permissions requested for ${app.displayName}; grant admin consent to put them in tokens.`);
              },
            );
          }}
        >
          <div className="perm-columns">
            {!app.publicClient && (
              <PermissionPicker
                legend="Application permissions"
                idPrefix={`${app.clientId}-app`}
                options={perms.filter((p) => p.application && !app.requested.application.includes(p.name)).map((p) => p.name)}
                value={application}
                onChange={setApplication}
              />
            )}
            <PermissionPicker
              legend="Delegated permissions"
              idPrefix={`${app.clientId}-del`}
              options={perms.filter((p) => p.delegated && !app.requested.delegated.includes(p.name)).map((p) => p.name)}
              value={delegated}
              onChange={setDelegated}
            />
          </div>
          <button type="submit" disabled={busy || (!application.length && !delegated.length)}>
            Request permissions
          </button>
        </form>
      )}
      <Dialog
        open={secret !== null}
        title={`New secret for ${app.displayName}`}
        onClose={() => {
          setSecret(null);
          setCopied(false);
          void api<ValueList<AppView>>("/triage/admin/apps").then((r) => onChange(r.value.find((a) => a.clientId === app.clientId) ?? app));
        }}
      >
        <p>Copy it now: Triage keeps only a hash, and this is the only time it is shown.</p>
        <p>
          <code className="secret break" data-testid="secret-value">
            {secret?.secretText}
          </code>
        </p>
        <p className="muted">
          Expires <Time iso={secret?.expiresDateTime} />.
        </p>
        <div className="actions">
          <button type="button" onClick={() => void copyText(secret?.secretText ?? "").then(() => setCopied(true))}>
            {copied ? "Copied" : "Copy secret"}
          </button>
          <button type="button" className="secondary" onClick={() => setSecret(null)}>
            Done
          </button>
        </div>
      </Dialog>
      <Confirm
        open={confirm !== null}
        title={confirm === "delete" ? `Delete ${app.displayName}?` : `Revoke consent for ${app.displayName}?`}
        body={
          confirm === "delete"
            ? "The registration, its secrets, certificates and consent are deleted, and its refresh tokens stop working. Access tokens already issued expire within the hour."
            : "New tokens will carry none of its permissions, and its refresh tokens stop working. Access tokens already issued expire within the hour."
        }
        confirmLabel={confirm === "delete" ? "Delete" : "Revoke"}
        onCancel={() => setConfirm(null)}
        onConfirm={() => {
          const what = confirm;
          setConfirm(null);
          if (what === "delete")
            void act(
              () => api(`/triage/admin/apps/${app.clientId}`, { method: "DELETE" }),
              () => {
                onChange(null);
                onNotice(`${app.displayName} deleted.`);
              },
            );
          if (what === "revoke")
            void act(
              () => api<AppView>(`/triage/admin/apps/${app.clientId}/consent`, { method: "DELETE" }),
              (a) => {
                onChange(a);
                onNotice(`Consent revoked for ${app.displayName}.`);
              },
            );
        }}
      />
    </li>
  );
}

export function AdminApps() {
  usePageTitle("App registrations");
  const [notice, setNotice] = useState("");
  const state = useAsync(async (signal) => {
    const [apps, perms] = await Promise.all([api<ValueList<AppView>>("/triage/admin/apps", { signal }), permissionNames(signal)]);
    return { apps: apps.value, perms };
  }, []);
  const data = state.data;
  const replace = (clientId: string, a: AppView | null) => {
    if (!data) return;
    state.setData({ ...data, apps: a ? data.apps.map((x) => (x.clientId === clientId ? a : x)) : data.apps.filter((x) => x.clientId !== clientId) });
  };
  return (
    <div className="admin">
      <h1>Administration</h1>
      <AdminNav />
      <h2>App registrations</h2>
      <p className="muted">
        Apps of this tenant, the permissions they request, and what an administrator consented to. Only consented permissions reach a token.
      </p>
      {notice && <Notice text={notice} />}
      <ErrorMessage error={state.error} />
      {!data && !state.error && <Loading what="Loading app registrations" />}
      {data && (
        <>
          <RegisterForm
            perms={data.perms}
            onCreated={(a) => {
              state.setData({ ...data, apps: [...data.apps, a] });
              setNotice(`${a.displayName} registered with client id ${a.clientId}.`);
            }}
          />
          <ul className="app-list">
            {data.apps.map((a) => (
              <AppCard key={a.clientId} app={a} perms={data.perms} onChange={(x) => replace(a.clientId, x)} onNotice={setNotice} />
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function UserRow({ user, self, onSaved }: { user: UserView; self: boolean; onSaved: (u: UserView) => void }) {
  const [roles, setRoles] = useState(user.roles);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const changed = [...roles].sort().join() !== [...user.roles].sort().join();
  async function save() {
    setBusy(true);
    setError(null);
    try {
      onSaved(await api<UserView>(`/triage/admin/users/${user.id}`, { method: "PATCH", body: { roles } }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <tr>
      <th scope="row">
        {user.displayName}
        <div className="muted small">{user.userPrincipalName}</div>
        {self && <span className="badge">You</span>}
      </th>
      <td>
        <fieldset className="role-checks">
          <legend className="sr-only">Roles of {user.userPrincipalName}</legend>
          {ROLES.map((r) => (
            <label key={r} className="check">
              <input
                type="checkbox"
                checked={roles.includes(r)}
                disabled={self && r === ADMIN_ROLE}
                onChange={(e) => setRoles(e.target.checked ? [...roles, r] : roles.filter((x) => x !== r))}
              />
              {r}
            </label>
          ))}
        </fieldset>
        <ErrorMessage error={error} />
      </td>
      <td>{user.hasPassword ? "Password" : "No password (external sign-in)"}</td>
      <td>
        <button type="button" className="secondary" disabled={busy || !changed} onClick={save} aria-label={`Save roles of ${user.userPrincipalName}`}>
          Save
        </button>
      </td>
    </tr>
  );
}

function NewUser({ onCreated }: { onCreated: (u: UserView) => void }) {
  const [upn, setUpn] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [roles, setRoles] = useState<string[]>(["Security Reader"]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onCreated(
        await api<UserView>("/triage/admin/users", {
          method: "POST",
          body: { userPrincipalName: upn.trim(), displayName: name.trim() || undefined, password: password || undefined, roles },
        }),
      );
      setUpn("");
      setName("");
      setPassword("");
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <details className="panel">
      <summary>Add a user</summary>
      <form onSubmit={submit} className="stack-sm">
        <ErrorMessage error={error} />
        <label htmlFor="new-upn">User principal name</label>
        <input id="new-upn" value={upn} onChange={(e) => setUpn(e.target.value)} placeholder="name@contoso.com" required autoComplete="off" />
        <label htmlFor="new-name">Display name</label>
        <input id="new-name" value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
        <label htmlFor="new-password">Password (at least 8 characters; leave empty for no password sign-in)</label>
        <input id="new-password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} minLength={8} autoComplete="new-password" />
        <fieldset className="role-checks">
          <legend>Roles</legend>
          {ROLES.map((r) => (
            <label key={r} className="check">
              <input type="checkbox" checked={roles.includes(r)} onChange={(e) => setRoles(e.target.checked ? [...roles, r] : roles.filter((x) => x !== r))} />
              {r}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={busy || !upn.trim()}>
          Add user
        </button>
      </form>
    </details>
  );
}

export function AdminUsers({ session }: { session: Session }) {
  usePageTitle("Users and roles");
  const [notice, setNotice] = useState("");
  const state = useAsync((signal) => api<ValueList<UserView>>("/triage/admin/users", { signal }).then((r) => r.value), []);
  const users = state.data;
  return (
    <div className="admin">
      <h1>Administration</h1>
      <AdminNav />
      <h2>Users and roles</h2>
      <p className="muted">
        Readers (Security Reader, Global Reader) see incidents and alerts; operators (Security Operator) also change them; Security Administrators also
        administer apps and users.
      </p>
      {notice && <Notice text={notice} />}
      <ErrorMessage error={state.error} />
      {!users && !state.error && <Loading what="Loading users" />}
      {users && (
        <>
          <NewUser
            onCreated={(u) => {
              state.setData([...users, u]);
              setNotice(`${u.userPrincipalName} added.`);
            }}
          />
          <div className="table-wrap">
            <table className="users-table">
              <caption className="sr-only">Users of this tenant and their Entra roles</caption>
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Roles</th>
                  <th scope="col">Sign-in</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {users.map((u) => (
                  <UserRow
                    key={`${u.id}-${u.roles.join()}`}
                    user={u}
                    self={u.id === session.user.id}
                    onSaved={(x) => {
                      state.setData(users.map((y) => (y.id === x.id ? x : y)));
                      setNotice(`Roles of ${x.userPrincipalName} saved.`);
                    }}
                  />
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}
