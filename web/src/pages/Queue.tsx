import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { useLiveQueue } from "../live";
import { LiveIndicator } from "../components/LiveIndicator";
import { api, batch, pageAll, qs, type Page } from "../api";
import { canWrite, manageRefusal, type Session } from "../auth";
import { plural } from "../format";
import {
  ALL_DETERMINATIONS,
  CLASSIFICATIONS,
  DETECTION_SOURCES,
  DETERMINATIONS,
  label,
  SETTABLE_STATUSES,
  SEVERITIES,
  STATUSES,
  type Incident,
} from "../model";
import { buildFilter, buildOrderBy, isFiltered, PAGE_SIZES, parseQuery, toSearch, type QueueQuery } from "../queue-filter";
import { Link, navigate } from "../router";
import { MergeDialog } from "../components/MergeMove";
import { mergeSelectionRefusal } from "../merge";
import {
  EnumOptions,
  ErrorMessage,
  Loading,
  Notice,
  PriorityBadge,
  SeverityBadge,
  SlaBadge,
  StatusBadge,
  Time,
  useAsync,
  usePageTitle,
} from "../components/ui";

const SELECT =
  "id,displayName,status,severity,assignedTo,classification,determination,customTags,priorityScore,createdDateTime,lastUpdateDateTime,redirectIncidentId";
const EXPAND = "alerts($select=id,detectionSource)";
const VIEWS_KEY = "triage.views";

interface SavedView {
  name: string;
  search: string;
}

function loadViews(): SavedView[] {
  try {
    const v = JSON.parse(localStorage.getItem(VIEWS_KEY) ?? "[]") as unknown;
    return Array.isArray(v) ? (v as SavedView[]).filter((x) => typeof x?.name === "string" && typeof x?.search === "string") : [];
  } catch {
    return [];
  }
}

function saveViews(views: SavedView[]): void {
  localStorage.setItem(VIEWS_KEY, JSON.stringify(views));
}

function CheckGroup({
  legend,
  name,
  options,
  value,
  onChange,
  wide,
}: {
  legend: string;
  name: string;
  options: readonly string[];
  value: string[];
  onChange: (v: string[]) => void;
  wide?: boolean;
}) {
  return (
    <fieldset className={wide ? "check-group wide" : "check-group"}>
      <legend>{legend}</legend>
      {options.map((o) => (
        <label key={o} className="check">
          <input
            type="checkbox"
            name={name}
            value={o}
            checked={value.includes(o)}
            onChange={(e) => onChange(e.target.checked ? [...value, o] : value.filter((x) => x !== o))}
          />
          {label(o)}
        </label>
      ))}
    </fieldset>
  );
}

function Filters({ query, set }: { query: QueueQuery; set: (patch: Partial<QueueQuery>) => void }) {
  const [text, setText] = useState(query.q);
  const [tags, setTags] = useState(query.tags.join(", "));
  useEffect(() => setText(query.q), [query.q]);
  useEffect(() => setTags(query.tags.join(", ")), [query.tags]);
  // Folded unless the view filters something: an unfiltered queue shows its incidents first, on a
  // phone above all; a link with filters opens on them, so what narrows the list is in sight.
  const filtered = isFiltered(query);
  const [open, setOpen] = useState(filtered);
  useEffect(() => {
    if (filtered) setOpen(true);
  }, [filtered]);

  function submitText(e: FormEvent) {
    e.preventDefault();
    set({
      q: text.trim(),
      tags: tags
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
    });
  }

  const determinations = query.classification ? (DETERMINATIONS[query.classification] ?? ALL_DETERMINATIONS) : ALL_DETERMINATIONS;
  return (
    <details className="filters" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Filters{filtered ? " (active)" : ""}</summary>
      <form className="filter-grid" onSubmit={submitText} aria-label="Filter incidents">
        <div className="field search-field">
          <label htmlFor="q">Search name or id</label>
          <div className="inline">
            <input id="q" type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="e.g. ransomware or 42" />
            <button type="submit">Search</button>
          </div>
        </div>
        <CheckGroup wide legend="Status" name="status" options={STATUSES} value={query.status} onChange={(status) => set({ status })} />
        <CheckGroup wide legend="Severity" name="severity" options={SEVERITIES} value={query.severity} onChange={(severity) => set({ severity })} />
        <div className="field">
          <label htmlFor="assigned">Assigned to</label>
          <select id="assigned" value={query.assigned} onChange={(e) => set({ assigned: e.target.value as QueueQuery["assigned"] })}>
            <option value="anyone">Anyone</option>
            <option value="me">Me</option>
            <option value="unassigned">Unassigned</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="classification">Classification</label>
          <select id="classification" value={query.classification} onChange={(e) => set({ classification: e.target.value, determination: "" })}>
            <option value="">Any</option>
            <EnumOptions values={CLASSIFICATIONS} />
          </select>
        </div>
        <div className="field">
          <label htmlFor="determination">Determination</label>
          <select id="determination" value={query.determination} onChange={(e) => set({ determination: e.target.value })}>
            <option value="">Any</option>
            <EnumOptions values={determinations} />
          </select>
        </div>
        <div className="field">
          <label htmlFor="source">Detection source</label>
          <select id="source" value={query.source} onChange={(e) => set({ source: e.target.value })}>
            <option value="">Any</option>
            <EnumOptions values={DETECTION_SOURCES} />
          </select>
        </div>
        <div className="field">
          <label htmlFor="tags">Tags (comma-separated)</label>
          <input
            id="tags"
            value={tags}
            onChange={(e) => setTags(e.target.value)}
            onBlur={() =>
              set({
                tags: tags
                  .split(",")
                  .map((t) => t.trim())
                  .filter(Boolean),
              })
            }
          />
        </div>
        <fieldset className="time-range">
          <legend>Time range (UTC)</legend>
          <label className="sr-only" htmlFor="time-field">
            Time of
          </label>
          <select id="time-field" value={query.timeField} onChange={(e) => set({ timeField: e.target.value as QueueQuery["timeField"] })}>
            <option value="created">Created</option>
            <option value="updated">Updated</option>
          </select>
          <label htmlFor="from">from</label>
          <input id="from" type="date" value={query.from} onChange={(e) => set({ from: e.target.value })} />
          <label htmlFor="to">to</label>
          <input id="to" type="date" value={query.to} onChange={(e) => set({ to: e.target.value })} />
        </fieldset>
        <div className="field">
          <label htmlFor="sort">Sort by</label>
          <div className="inline">
            <select id="sort" value={query.sort} onChange={(e) => set({ sort: e.target.value })}>
              <option value="createdDateTime">Created</option>
              <option value="lastUpdateDateTime">Last update</option>
              <option value="severity">Severity</option>
              <option value="priorityScore">Priority</option>
              <option value="id">Id</option>
              <option value="displayName">Name</option>
              <option value="assignedTo">Assigned to</option>
              <option value="status">Status</option>
            </select>
            <select aria-label="Sort direction" value={query.dir} onChange={(e) => set({ dir: e.target.value as QueueQuery["dir"] })}>
              <option value="desc">Descending</option>
              <option value="asc">Ascending</option>
            </select>
          </div>
        </div>
        <div className="field filter-actions">
          <button type="button" className="secondary" onClick={() => navigate("/incidents")} disabled={!isFiltered(query)}>
            Clear filters
          </button>
        </div>
      </form>
    </details>
  );
}

function SavedViews({ search }: { search: string }) {
  const [views, setViews] = useState(loadViews);
  const [name, setName] = useState("");
  const current = views.find((v) => v.search === search);

  function save(e: FormEvent) {
    e.preventDefault();
    const n = name.trim();
    if (!n) return;
    const next = [...views.filter((v) => v.name !== n), { name: n, search }];
    saveViews(next);
    setViews(next);
    setName("");
  }
  function remove(n: string) {
    const next = views.filter((v) => v.name !== n);
    saveViews(next);
    setViews(next);
  }
  return (
    <section className="saved-views" aria-labelledby="views-title">
      <h2 id="views-title" className="sr-only">
        Saved views
      </h2>
      <ul className="view-list">
        <li>
          <Link to="/incidents" className={search === "" ? "chip active" : "chip"}>
            All incidents
          </Link>
        </li>
        {views.map((v) => (
          <li key={v.name} className="view-item">
            <Link to={`/incidents${v.search}`} className={v === current ? "chip active" : "chip"} aria-current={v === current ? "page" : undefined}>
              {v.name}
            </Link>
            <button type="button" className="chip-remove" aria-label={`Delete saved view ${v.name}`} onClick={() => remove(v.name)}>
              ×
            </button>
          </li>
        ))}
      </ul>
      <form className="inline save-view" onSubmit={save}>
        <label htmlFor="view-name" className="sr-only">
          Name for this view
        </label>
        <input id="view-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="Name this view" maxLength={60} />
        <button type="submit" className="secondary" disabled={!name.trim()}>
          Save view
        </button>
      </form>
    </section>
  );
}

function BulkBar({
  ids,
  me,
  onDone,
  mergeRefusal,
  onMerge,
}: {
  ids: string[];
  me: string;
  onDone: (message: string, failed: boolean) => void;
  /** Why the selection cannot be merged (role, permission, count), or null. */
  mergeRefusal: string | null;
  onMerge: () => void;
}) {
  const [assignee, setAssignee] = useState("");
  const [status, setStatus] = useState("inProgress");
  const [classification, setClassification] = useState("truePositive");
  const [determination, setDetermination] = useState("");
  const [busy, setBusy] = useState(false);

  async function run(body: Record<string, unknown>, what: string) {
    setBusy(true);
    try {
      const res = await batch(ids.map((id) => ({ id, method: "PATCH", url: `/security/incidents/${id}`, body })));
      const failed = res.filter((r) => r.status >= 300);
      const okCount = res.length - failed.length;
      const detail = failed.map((f) => `#${f.id}: ${f.body?.error?.message ?? `status ${f.status}`}`).join("; ");
      onDone(`${what}: ${plural(okCount, "incident")} updated${failed.length ? `, ${failed.length} failed (${detail})` : ""}.`, failed.length > 0);
    } catch (e) {
      onDone(e instanceof Error ? e.message : String(e), true);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="bulk-bar" aria-label="Bulk actions">
      <strong>{plural(ids.length, "incident")} selected</strong>
      <div className="inline">
        <button type="button" disabled={busy || !!mergeRefusal} aria-describedby={mergeRefusal ? "merge-why" : undefined} onClick={onMerge}>
          Merge…
        </button>
        {mergeRefusal && (
          <span id="merge-why" className="merge-why">
            {mergeRefusal}
          </span>
        )}
      </div>
      <button type="button" disabled={busy} onClick={() => run({ assignedTo: me }, "Assigned to you")}>
        Assign to me
      </button>
      <form
        className="inline"
        onSubmit={(e) => {
          e.preventDefault();
          if (assignee.trim()) void run({ assignedTo: assignee.trim() }, `Assigned to ${assignee.trim()}`);
        }}
      >
        <label htmlFor="bulk-assignee" className="sr-only">
          Assign to
        </label>
        <input id="bulk-assignee" value={assignee} onChange={(e) => setAssignee(e.target.value)} placeholder="user@contoso.com" />
        <button type="submit" className="secondary" disabled={busy || !assignee.trim()}>
          Assign
        </button>
      </form>
      <div className="inline">
        <label htmlFor="bulk-status" className="sr-only">
          Status
        </label>
        <select id="bulk-status" value={status} onChange={(e) => setStatus(e.target.value)}>
          <EnumOptions values={SETTABLE_STATUSES} />
        </select>
        <button type="button" className="secondary" disabled={busy} onClick={() => run({ status }, `Status set to ${label(status)}`)}>
          Set status
        </button>
      </div>
      <div className="inline">
        <label htmlFor="bulk-classification" className="sr-only">
          Classification
        </label>
        <select
          id="bulk-classification"
          value={classification}
          onChange={(e) => {
            setClassification(e.target.value);
            setDetermination("");
          }}
        >
          <EnumOptions values={CLASSIFICATIONS} />
        </select>
        <label htmlFor="bulk-determination" className="sr-only">
          Determination
        </label>
        <select id="bulk-determination" value={determination} onChange={(e) => setDetermination(e.target.value)}>
          <option value="">Determination…</option>
          <EnumOptions values={DETERMINATIONS[classification] ?? []} />
        </select>
        <button
          type="button"
          className="secondary"
          disabled={busy}
          onClick={() => run(determination ? { classification, determination } : { classification }, `Classified as ${label(classification)}`)}
        >
          Classify
        </button>
      </div>
    </section>
  );
}

interface ListResult {
  filter: string;
  rows: Incident[];
  total: number;
  sourceCapped: boolean;
}

function SortHeader({
  query,
  field,
  children,
  set,
  className,
}: {
  query: QueueQuery;
  field: string;
  children: string;
  set: (p: Partial<QueueQuery>) => void;
  className?: string;
}) {
  const active = query.sort === field;
  const next = active && query.dir === "desc" ? "asc" : "desc";
  return (
    <th scope="col" className={className} aria-sort={active ? (query.dir === "asc" ? "ascending" : "descending") : undefined}>
      <button type="button" className="sort-button" onClick={() => set({ sort: field, dir: next })} title={`Sort by ${children.toLowerCase()}`}>
        {children}
        <span aria-hidden="true">{active ? (query.dir === "asc" ? " ▲" : " ▼") : ""}</span>
      </button>
    </th>
  );
}

export function QueuePage({ session, search }: { session: Session; search: string }) {
  usePageTitle("Incidents");
  const query = useMemo(() => parseQuery(search), [search]);
  const canonical = toSearch(query);
  const writer = canWrite(session);
  const me = session.user.upn;
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [fresh, setFresh] = useState<Incident[]>([]);
  const [notice, setNotice] = useState<{ text: string; error: boolean } | null>(null);
  /** The incidents in the merge dialog, while it is open. */
  const [merging, setMerging] = useState<string[] | null>(null);

  const set = (patch: Partial<QueueQuery>) => {
    const pageOnly = Object.keys(patch).every((k) => k === "page");
    navigate(`/incidents${toSearch({ ...query, ...(pageOnly ? {} : { page: 1 }), ...patch })}`);
  };

  const list = useAsync<ListResult>(
    async (signal) => {
      let ids: string[] | null = null;
      let sourceCapped = false;
      if (query.source) {
        const alerts = await pageAll<{ incidentId: string | null }>(
          `/v1.0/security/alerts_v2${qs({ $filter: `detectionSource eq '${query.source}'`, $select: "id,incidentId", $top: 1000 })}`,
          { signal, max: 10_000 },
        );
        ids = [...new Set(alerts.map((a) => a.incidentId).filter((x): x is string => !!x))];
        if (ids.length > 600) {
          ids = ids.sort((a, b) => Number(b) - Number(a)).slice(0, 600);
          sourceCapped = true;
        }
      }
      const filter = buildFilter(query, me, ids);
      const skip = (query.page - 1) * query.size;
      const page = await api<Page<Incident>>(
        `/v1.0/security/incidents${qs({ $filter: filter, $orderby: buildOrderBy(query), $top: query.size, $skip: skip || undefined, $count: "true", $select: SELECT, $expand: EXPAND })}`,
        { signal },
      );
      return { filter, rows: page.value, total: page["@odata.count"] ?? page.value.length, sourceCapped };
    },
    [canonical, me],
  );

  useEffect(() => {
    setSelected(new Set());
    setFresh([]);
  }, [canonical]);

  // Incidents appear and change without a reload, from the live change stream (live.ts).
  const shownRef = useRef<{ data: ListResult | undefined; fresh: Incident[] }>({ data: undefined, fresh: [] });
  shownRef.current = { data: list.data, fresh };
  const live = useLiveQueue({
    query,
    me,
    select: SELECT,
    expand: EXPAND,
    shown: () => new Set([...(shownRef.current.data?.rows ?? []), ...shownRef.current.fresh].map((i) => i.id)),
    apply: (matching, others) => {
      const data = shownRef.current.data;
      if (!data) return;
      const changed = new Map([...matching, ...others].map((i) => [i.id, i]));
      const listed = new Set(data.rows.map((i) => i.id));
      if (data.rows.some((r) => changed.has(r.id))) list.setData({ ...data, rows: data.rows.map((r) => changed.get(r.id) ?? r) });
      setFresh((prev) => {
        const known = new Set(prev.map((i) => i.id));
        const added = matching.filter((i) => !listed.has(i.id) && !known.has(i.id));
        return [...added, ...prev.map((i) => changed.get(i.id) ?? i)];
      });
    },
    reload: () => {
      setFresh([]);
      list.reload();
    },
  });

  const rows = list.data?.rows ?? [];
  const freshIds = new Set(fresh.map((i) => i.id));
  const shown = [...fresh, ...rows.filter((r) => !freshIds.has(r.id))];
  const total = (list.data?.total ?? 0) + fresh.length;
  const first = total === 0 ? 0 : (query.page - 1) * query.size + 1;
  const last = Math.min((query.page - 1) * query.size + rows.length, list.data?.total ?? 0);
  const pages = Math.max(1, Math.ceil((list.data?.total ?? 0) / query.size));
  const selectable = shown.filter((i) => i.status !== "redirected");
  const allSelected = selectable.length > 0 && selectable.every((i) => selected.has(i.id));

  function toggle(id: string, on: boolean) {
    setSelected((prev) => {
      const next = new Set(prev);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  }

  return (
    <div className="queue">
      <div className="page-head">
        <h1>Incidents</h1>
        <LiveIndicator status={live} />
        <p className="muted" aria-live="polite">
          {list.data ? `${plural(list.data.total, "incident")} ${isFiltered(query) ? "match this view" : "in total"}` : ""}
        </p>
      </div>
      <SavedViews search={canonical} />
      <Filters query={query} set={set} />
      {notice && <Notice text={notice.text} tone={notice.error ? "error" : "ok"} />}
      {fresh.length > 0 && <Notice text={`${plural(fresh.length, "new incident")} since this list was loaded (highlighted below).`} />}
      {list.data?.sourceCapped && <Notice text="Many incidents have alerts from this source: showing the 600 most recent ones." />}
      {writer && selected.size > 0 && (
        <BulkBar
          ids={[...selected]}
          me={me}
          mergeRefusal={manageRefusal(session) ?? mergeSelectionRefusal(selected.size)}
          onMerge={() => setMerging([...selected])}
          onDone={(text, error) => {
            setNotice({ text, error });
            setSelected(new Set());
            setFresh([]);
            list.reload();
          }}
        />
      )}
      {merging && (
        <MergeDialog
          ids={merging}
          onClose={() => setMerging(null)}
          onMerged={(target) => {
            setNotice({ text: `Merged ${plural(merging.length, "incident")} into incident #${target}.`, error: false });
            setSelected(new Set());
            setFresh([]);
            list.reload();
          }}
        />
      )}
      <ErrorMessage error={list.error} />
      {list.loading && !list.data && <Loading what="Loading incidents" />}
      {list.data && (
        <>
          <div className="table-wrap">
            <table className="incident-table" aria-busy={list.loading}>
              <caption className="sr-only">Incidents, {plural(total, "row")}</caption>
              <thead>
                <tr>
                  {writer && (
                    <th scope="col" className="col-check">
                      <input
                        type="checkbox"
                        aria-label="Select all incidents on this page"
                        checked={allSelected}
                        onChange={(e) => setSelected(e.target.checked ? new Set(selectable.map((i) => i.id)) : new Set())}
                      />
                    </th>
                  )}
                  <SortHeader query={query} field="id" set={set}>
                    Id
                  </SortHeader>
                  <SortHeader query={query} field="displayName" set={set}>
                    Incident
                  </SortHeader>
                  <SortHeader query={query} field="severity" set={set} className="col-badge">
                    Severity
                  </SortHeader>
                  <SortHeader query={query} field="priorityScore" set={set} className="col-mid">
                    Priority
                  </SortHeader>
                  <SortHeader query={query} field="status" set={set} className="col-badge">
                    Status
                  </SortHeader>
                  <SortHeader query={query} field="assignedTo" set={set} className="col-mid">
                    Assigned to
                  </SortHeader>
                  <th scope="col" className="col-wide">
                    Classification
                  </th>
                  <th scope="col" className="col-wide">
                    Alerts
                  </th>
                  <SortHeader query={query} field="createdDateTime" set={set} className="col-date">
                    Created
                  </SortHeader>
                  <SortHeader query={query} field="lastUpdateDateTime" set={set} className="col-date">
                    Updated
                  </SortHeader>
                </tr>
              </thead>
              <tbody>
                {shown.length === 0 && (
                  <tr>
                    <td colSpan={writer ? 11 : 10} className="empty">
                      No incidents match this view.
                    </td>
                  </tr>
                )}
                {shown.map((i) => (
                  <tr key={i.id} className={freshIds.has(i.id) ? "fresh" : undefined} data-incident-id={i.id}>
                    {writer && (
                      <td className="col-check">
                        {i.status !== "redirected" && (
                          <input
                            type="checkbox"
                            aria-label={`Select incident ${i.id}`}
                            checked={selected.has(i.id)}
                            onChange={(e) => toggle(i.id, e.target.checked)}
                          />
                        )}
                      </td>
                    )}
                    <td className="num">{i.id}</td>
                    <td className="name-cell">
                      <Link to={`/incidents/${i.id}`} className="incident-link">
                        {i.displayName ?? `Incident ${i.id}`}
                      </Link>
                      {freshIds.has(i.id) && <span className="badge new">New</span>}
                      {(i.customTags?.length ?? 0) > 0 && (
                        <span className="tags">
                          {i.customTags!.map((t) => (
                            <span key={t} className="tag">
                              {t}
                            </span>
                          ))}
                        </span>
                      )}
                    </td>
                    <td className="col-badge">
                      <SeverityBadge value={i.severity} />
                    </td>
                    <td className="col-mid">
                      <PriorityBadge score={i.priorityScore} />
                    </td>
                    <td className="col-badge">
                      <StatusBadge value={i.status} /> <SlaBadge sla={i["@triage.sla"]} />
                    </td>
                    <td className="assignee col-mid">{i.assignedTo ?? <span className="muted">Unassigned</span>}</td>
                    <td className="col-wide">
                      {i.classification && i.classification !== "unknown" ? (
                        <>
                          {label(i.classification)}
                          {i.determination && i.determination !== "unknown" && <span className="muted"> · {label(i.determination)}</span>}
                        </>
                      ) : (
                        <span className="muted">Not classified</span>
                      )}
                    </td>
                    <td className="col-wide num">{i.alerts ? `${i.alerts.length}${i["alerts@odata.nextLink"] ? "+" : ""}` : "—"}</td>
                    <td className="col-date">
                      <Time iso={i.createdDateTime} />
                    </td>
                    <td className="col-date">
                      <Time iso={i.lastUpdateDateTime} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Pages">
            <span className="pager-count">
              {first}–{last} of {list.data.total.toLocaleString()}
            </span>
            <button type="button" className="secondary" disabled={query.page <= 1} onClick={() => set({ page: 1 })}>
              First
            </button>
            <button type="button" className="secondary" disabled={query.page <= 1} onClick={() => set({ page: query.page - 1 })}>
              Previous
            </button>
            <span>
              Page {query.page} of {pages}
            </span>
            <button type="button" className="secondary" disabled={query.page >= pages} onClick={() => set({ page: query.page + 1 })}>
              Next
            </button>
            <button type="button" className="secondary" disabled={query.page >= pages} onClick={() => set({ page: pages })}>
              Last
            </button>
            <label htmlFor="page-size">Per page</label>
            <select id="page-size" value={query.size} onChange={(e) => set({ size: Number(e.target.value) })}>
              {PAGE_SIZES.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </nav>
        </>
      )}
    </div>
  );
}
