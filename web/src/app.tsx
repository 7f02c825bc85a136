import { lazy, Suspense, useEffect, useRef, useState, useSyncExternalStore, type FormEvent, type ReactNode } from "react";
import { beginSignIn, completeSignIn, getSession, isAdmin, signOut, subscribeSession, type Session } from "./auth";
import type { TenantConfig, WebConfig } from "../../src/web/contracts";
import { publicJson } from "./api";
import { Link, navigate, useLocation } from "./router";
import { ErrorMessage, Loading, useAsync, usePageTitle } from "./components/ui";
import { QueuePage } from "./pages/Queue";
import { IncidentPage } from "./pages/Incident";
import { DashboardPage } from "./pages/Dashboard";
import { ExplorerList } from "./pages/permissions/ExplorerList";
import { PermissionPage } from "./pages/permissions/PermissionPage";
import { AdminApps, AdminUsers } from "./pages/Admin";

// The Hunting page (its editor and charts) loads on first visit, so other pages do not carry it.
const HuntingPage = lazy(() => import("./pages/Hunting").then((m) => ({ default: m.HuntingPage })));
// So is the automation rules page, which only administrators open.
const AdminAutomation = lazy(() => import("./pages/AutomationRules").then((m) => ({ default: m.AdminAutomation })));
const AdminSla = lazy(() => import("./pages/SlaPolicy").then((m) => ({ default: m.AdminSla })));

export function useSession(): Session | null {
  return useSyncExternalStore(subscribeSession, getSession);
}

function NavLink({ to, children, match }: { to: string; children: ReactNode; match: string }) {
  const { pathname } = useLocation();
  const active = pathname === match || pathname.startsWith(`${match}/`);
  return (
    <Link to={to} className={active ? "nav-link active" : "nav-link"} aria-current={active ? "page" : undefined}>
      {children}
    </Link>
  );
}

function Header({ session }: { session: Session | null }) {
  const { pathname, search } = useLocation();
  return (
    <header className="app-header">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <Link to={session ? "/incidents" : "/"} className="brand">
        <span className="brand-mark" aria-hidden="true">
          T
        </span>
        Triage
      </Link>
      <nav aria-label="Main">
        {session && (
          <>
            <NavLink to="/incidents" match="/incidents">
              Incidents
            </NavLink>
            <NavLink to="/dashboard" match="/dashboard">
              Dashboard
            </NavLink>
            <NavLink to="/hunting" match="/hunting">
              Hunting
            </NavLink>
          </>
        )}
        <NavLink to="/explorer" match="/explorer">
          Permissions
        </NavLink>
        {/* Served by the server (GET /docs), not a route of the app: a full page load. */}
        <a href="/docs" className="nav-link">
          API reference
        </a>
        {isAdmin(session) && (
          <NavLink to="/admin/apps" match="/admin">
            Admin
          </NavLink>
        )}
      </nav>
      <div className="user-box">
        {session ? (
          <>
            <span className="user-name" title={`${session.user.upn} in tenant ${session.tenantId}`}>
              {session.user.name || session.user.upn}
              <span className="user-role">{session.user.roles.join(", ") || "No role"}</span>
            </span>
            <button type="button" className="secondary" onClick={signOut}>
              Sign out
            </button>
          </>
        ) : (
          pathname.startsWith("/explorer") && (
            <button type="button" onClick={() => navigate(`/?returnTo=${encodeURIComponent(pathname + search)}`)}>
              Sign in
            </button>
          )
        )}
      </div>
    </header>
  );
}

function SignIn({ returnTo }: { returnTo: string }) {
  usePageTitle("Sign in");
  const config = useAsync((signal) => publicJson<WebConfig>("/web/config", signal), []);
  // The field shows the default tenant from the first render of the form (not after an effect, which
  // left a frame with an empty field) until the user types; clearing it leaves it clear.
  const [typed, setTenant] = useState<string | null>(null);
  const tenant = typed ?? config.data?.defaultTenant?.id ?? "";
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!config.data) return;
    setError(null);
    setBusy(true);
    try {
      const id = tenant.trim().toLowerCase();
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id))
        throw new Error("A tenant id is a GUID, such as c7a1d2e4-5b6f-4a8c-9d0e-1f2a3b4c5d6e.");
      const t = config.data.defaultTenant?.id === id ? config.data.defaultTenant : await publicJson<TenantConfig>(`/web/config/tenants/${id}`);
      if (!t.clientId) throw new Error("This tenant has no web app registration yet. Restart Triage (triage serve registers it for every tenant).");
      await beginSignIn({ tenantId: id, clientId: t.clientId, config: config.data, returnTo });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <div className="signin">
      <h1>Sign in to Triage</h1>
      <p className="muted">Security incidents and alerts, through the Microsoft Graph security API.</p>
      {config.loading && <Loading what="Loading configuration" />}
      <ErrorMessage error={config.error ?? error} />
      {config.data && (
        <form onSubmit={submit} className="stack">
          <label htmlFor="tenant">Tenant</label>
          <input
            id="tenant"
            name="tenant"
            value={tenant}
            onChange={(e) => setTenant(e.target.value)}
            spellCheck={false}
            autoComplete="off"
            required
            aria-describedby="tenant-help"
          />
          <p id="tenant-help" className="hint">
            {config.data.defaultTenant ? `Default: ${config.data.defaultTenant.displayName}.` : "The tenant id (a GUID) your administrator gave you."} You sign
            in on Triage's sign-in page.
          </p>
          <button type="submit" disabled={busy}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
      )}
      <p>
        <Link to="/explorer">Browse the permissions reference</Link> without signing in.
      </p>
    </div>
  );
}

function Callback() {
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    completeSignIn(location.search).then(
      (to) => navigate(to, { replace: true }),
      (e: unknown) => setError(e),
    );
  }, []);
  return (
    <div className="signin">
      <h1>Signing in</h1>
      {error ? (
        <>
          <ErrorMessage error={error} />
          <p>
            <Link to="/">Try again</Link>
          </p>
        </>
      ) : (
        <Loading what="Completing sign-in" />
      )}
    </div>
  );
}

function NotFound() {
  usePageTitle("Not found");
  return (
    <div>
      <h1>Page not found</h1>
      <p>
        <Link to="/incidents">Go to the incident queue</Link>
      </p>
    </div>
  );
}

function Forbidden({ what }: { what: string }) {
  return (
    <div>
      <h1>Not allowed</h1>
      <p>{what}</p>
    </div>
  );
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function Routes({ session }: { session: Session | null }) {
  const { pathname, search } = useLocation();
  const explorer = /^\/explorer(?:\/(.+))?$/.exec(pathname);
  if (explorer) return explorer[1] ? <PermissionPage name={decodeURIComponent(explorer[1])} session={session} /> : <ExplorerList />;
  if (!session) {
    const returnTo = pathname === "/" ? (new URLSearchParams(search).get("returnTo") ?? "/incidents") : pathname + search;
    return <SignIn returnTo={returnTo.startsWith("/") && !returnTo.startsWith("//") ? returnTo : "/incidents"} />;
  }
  if (pathname === "/") {
    const returnTo = new URLSearchParams(search).get("returnTo");
    return <Redirect to={returnTo && returnTo.startsWith("/") && !returnTo.startsWith("//") ? returnTo : "/incidents"} />;
  }
  if (pathname === "/incidents") return <QueuePage session={session} search={search} />;
  const incident = /^\/incidents\/(\d+)$/.exec(pathname);
  if (incident) return <IncidentPage key={incident[1]} id={incident[1]!} session={session} />;
  if (pathname === "/dashboard") return <DashboardPage />;
  if (pathname === "/hunting")
    return (
      <Suspense fallback={<Loading what="Loading the hunting page" />}>
        <HuntingPage search={search} />
      </Suspense>
    );
  if (pathname === "/admin" || pathname.startsWith("/admin/")) {
    if (!isAdmin(session)) return <Forbidden what="The admin pages need the Security Administrator role." />;
    if (pathname === "/admin/users") return <AdminUsers session={session} />;
    if (pathname === "/admin/automation")
      return (
        <Suspense fallback={<Loading what="Loading the automation rules page" />}>
          <AdminAutomation />
        </Suspense>
      );
    if (pathname === "/admin/sla")
      return (
        <Suspense fallback={<Loading what="Loading the SLA policy page" />}>
          <AdminSla />
        </Suspense>
      );
    if (pathname === "/admin" || pathname === "/admin/apps") return <AdminApps />;
  }
  return <NotFound />;
}

export function App() {
  const session = useSession();
  const { pathname } = useLocation();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  // After a navigation, move focus to the page (screen readers announce the new page).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus({ preventScroll: false });
    window.scrollTo(0, 0);
  }, [pathname]);

  if (pathname === "/signin-callback") return <Callback />;
  return (
    <>
      <Header session={session} />
      <main id="main" ref={main} tabIndex={-1}>
        <Routes session={session} />
      </main>
    </>
  );
}
