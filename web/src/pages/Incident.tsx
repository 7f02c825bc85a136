import { useMemo, useState, type FormEvent, type ReactNode } from "react";
import { api, pageAll, qs } from "../api";
import { canWrite, manageRefusal, type Session } from "../auth";
import { formatValue, plural } from "../format";
import { techniqueLabel, techniqueTitle } from "../mitre";
import {
  CLASSIFICATIONS,
  DETERMINATIONS,
  describeEvidence,
  entityLabel,
  EVIDENCE_GROUPS,
  isEnumProperty,
  label,
  labelCodes,
  SETTABLE_STATUSES,
  type Alert,
  type EvidenceItem,
  type Incident,
} from "../model";
import type { AuditEntry, AuditPage, Correlation } from "../../../src/schema/triage-api";
import { Link } from "../router";
import { MoveDialog } from "../components/MergeMove";
import { LiveIndicator } from "../components/LiveIndicator";
import { useLiveIncident } from "../live";
import {
  EnumOptions,
  ErrorMessage,
  Loading,
  Notice,
  PriorityBadge,
  SeverityBadge,
  SlaBadge,
  SlaClock,
  StatusBadge,
  Time,
  useAsync,
  usePageTitle,
} from "../components/ui";

interface Loaded {
  incident: Incident;
  correlation: Correlation;
  audit: AuditEntry[];
}

async function loadAudit(id: string, signal?: AbortSignal): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  let next: string | undefined = `/triage/incidents/${id}/audit?top=500`;
  while (next) {
    const page: AuditPage = await api(next, { signal });
    out.push(...page.value);
    next = page.nextLink;
  }
  return out;
}

// ── evidence ────────────────────────────────────────────────────────────────────────────────

function EvidenceTable({ items, caption }: { items: (EvidenceItem & { count?: number })[]; caption: string }) {
  const groups = EVIDENCE_GROUPS.map((g) => ({ group: g, items: items.filter((i) => i.group === g) })).filter((g) => g.items.length);
  if (!groups.length) return <p className="muted">No evidence.</p>;
  return (
    <div className="evidence">
      {groups.map(({ group, items: list }) => (
        <div key={group} className="evidence-group">
          <h4>
            {group} <span className="count">{list.length}</span>
          </h4>
          <ul aria-label={`${caption}: ${group}`}>
            {list.map((e, n) => (
              <li key={`${e.name}-${n}`}>
                <span className="evidence-name">{e.name || "(unnamed)"}</span>
                {e.verdict && e.verdict !== "unknown" && <span className={`verdict verdict-${e.verdict}`}>{label(e.verdict)}</span>}
                {e.count && e.count > 1 ? <span className="muted"> in {e.count} alerts</span> : null}
                {e.detail && <span className="evidence-detail">{e.detail}</span>}
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );
}

/** The incident's evidence across its alerts, each entity once. */
function mergedEvidence(alerts: Alert[]): (EvidenceItem & { count: number })[] {
  const map = new Map<string, EvidenceItem & { count: number }>();
  for (const a of alerts) {
    const seen = new Set<string>();
    for (const e of a.evidence ?? []) {
      const d = describeEvidence(e);
      const key = `${d.group}|${d.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const prev = map.get(key);
      if (prev) prev.count++;
      else map.set(key, { ...d, count: 1 });
    }
  }
  return [...map.values()];
}

function AlertItem({ alert, onMove }: { alert: Alert; onMove?: () => void }) {
  const evidence = (alert.evidence ?? []).map(describeEvidence);
  return (
    <li className={onMove ? "alert-item movable" : "alert-item"} data-alert-id={alert.id}>
      <details>
        <summary>
          <SeverityBadge value={alert.severity} />
          <span className="alert-title">{alert.title ?? alert.id}</span>
          <span className="muted alert-meta">
            {label(alert.detectionSource ?? alert.serviceSource)} · {label(alert.status)} · raised <Time iso={alert.createdDateTime} />
          </span>
        </summary>
        <div className="alert-body">
          {alert.description && <p>{alert.description}</p>}
          <dl className="facts">
            <dt>Alert id</dt>
            <dd>
              <code>{alert.id}</code>
            </dd>
            <dt>Product</dt>
            <dd>{alert.productName ?? label(alert.serviceSource)}</dd>
            <dt>Categories</dt>
            <dd>{alert.categories?.join(", ") || alert.category || "—"}</dd>
            <dt>MITRE techniques</dt>
            <dd>
              {(alert.mitreTechniques ?? []).length
                ? alert.mitreTechniques!.map((t) => (
                    <span key={t} className="tag technique" title={techniqueTitle(t)}>
                      {techniqueLabel(t)}
                    </span>
                  ))
                : "—"}
            </dd>
            <dt>Raised</dt>
            <dd data-testid="raised">
              <Time iso={alert.createdDateTime} />
            </dd>
            <dt>Activity</dt>
            <dd>
              <Time iso={alert.firstActivityDateTime} /> – <Time iso={alert.lastActivityDateTime} />
            </dd>
          </dl>
          {alert.recommendedActions && (
            <>
              <h4>Recommended actions</h4>
              <p className="pre">{alert.recommendedActions}</p>
            </>
          )}
          <h4>Evidence</h4>
          <EvidenceTable items={evidence} caption={`Evidence of alert ${alert.title ?? alert.id}`} />
        </div>
      </details>
      {onMove && (
        <button type="button" className="secondary alert-move" aria-label={`Move alert ${alert.title ?? alert.id}`} onClick={onMove}>
          Move…
        </button>
      )}
    </li>
  );
}

// ── timeline ────────────────────────────────────────────────────────────────────────────────

interface TimelineItem {
  at: string;
  kind: string;
  text: ReactNode;
  /** The time is when the activity happened, not when Triage or Defender recorded something. */
  activity?: boolean;
}

type CorrelationEvent = Correlation["events"][number];

/**
 * When a correlation event happened, as the rest of the page tells it. Events are recorded at the
 * alert's first-activity time (correlation windows run on activity), but an incident is created, and an
 * alert joins one, when the alert is raised: the incident's and the alert's createdDateTime, which the
 * Details panel and the alert show. An alert the page does not have (it moved with a merge) keeps the
 * recorded time, marked as an activity time.
 */
function eventTime(e: CorrelationEvent, incident: Incident, alerts: ReadonlyMap<string, Alert>): { at: string; activity: boolean } {
  if (e.kind === "created") return { at: incident.createdDateTime, activity: false };
  const alert = e.alertId ? alerts.get(e.alertId) : undefined;
  if (e.kind === "alertJoined" || e.kind === "joinRefused" || e.kind === "mergeRefused") {
    return alert ? { at: alert.createdDateTime, activity: false } : { at: e.at, activity: true };
  }
  return { at: e.at, activity: false };
}

function auditText(property: string, v: unknown): string {
  return isEnumProperty(property) && typeof v === "string" ? label(v) : formatValue(v);
}

function timelineOf({ incident, correlation, audit }: Loaded): TimelineItem[] {
  const items: TimelineItem[] = [];
  const alerts = new Map((incident.alerts ?? []).map((a) => [a.id, a]));
  const withEvent = new Set(correlation.events.filter((e) => e.kind === "created" || e.kind === "alertJoined").map((e) => e.alertId));
  for (const a of incident.alerts ?? []) {
    if (a.firstActivityDateTime) items.push({ at: a.firstActivityDateTime, kind: "activity", text: <>Activity began: {a.title}</>, activity: true });
    // An alert that created the incident or joined it is told by that event, at the same time.
    if (!withEvent.has(a.id))
      items.push({
        at: a.createdDateTime,
        kind: "alert",
        text: (
          <>
            Alert raised by {label(a.detectionSource ?? a.serviceSource)}: {a.title}
          </>
        ),
      });
  }
  for (const e of correlation.events) {
    const a = e.alertId ? alerts.get(e.alertId) : undefined;
    const alert = e.alertId ? (a?.title ?? e.alertId) : "";
    const source = a ? ` from ${label(a.detectionSource ?? a.serviceSource)}` : "";
    const reasons = e.reasons.length ? ` (${e.reasons.map(label).join(", ")})` : "";
    const other = e.otherIncidentId ? <Link to={`/incidents/${e.otherIncidentId}`}>#{e.otherIncidentId}</Link> : null;
    const text: Record<string, ReactNode> = {
      created: (
        <>
          Incident created from alert “{alert}”{source}
        </>
      ),
      alertJoined: (
        <>
          Alert “{alert}”{source} joined{reasons}
        </>
      ),
      merged: (
        <>
          Incident {other} merged into this one{reasons}
        </>
      ),
      redirected: (
        <>
          Merged into incident {other}
          {reasons}
        </>
      ),
      mergeRefused: (
        <>
          Merge with {other} refused: {e.detail}
        </>
      ),
      joinRefused: (
        <>
          Alert “{alert}” did not join: {e.detail}
        </>
      ),
    };
    items.push({ ...eventTime(e, incident, alerts), kind: "correlation", text: text[e.kind] ?? `${label(e.kind)} ${e.detail ?? ""}` });
  }
  for (const a of audit) {
    // Comments have their own entries below.
    if (a.property === "comments") continue;
    items.push({
      at: a.at,
      kind: "change",
      text: (
        <>
          {a.actor} changed {label(a.property).toLowerCase()}: {auditText(a.property, a.before)} → {auditText(a.property, a.after)}
        </>
      ),
    });
  }
  for (const c of incident.comments) {
    const text = (c.comment ?? "").length > 120 ? `${c.comment!.slice(0, 119)}…` : c.comment;
    items.push({
      at: c.createdDateTime,
      kind: "comment",
      text: (
        <>
          {c.createdByDisplayName ?? "Someone"} commented: “{text}”
        </>
      ),
    });
  }
  return items.sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0));
}

// ── actions ─────────────────────────────────────────────────────────────────────────────────

function Actions({ incident, me, onSaved }: { incident: Incident; me: string; onSaved: (i: Incident, message: string) => void }) {
  const [assignee, setAssignee] = useState("");
  const [status, setStatus] = useState(SETTABLE_STATUSES.includes(incident.status as never) ? incident.status : "active");
  const [classification, setClassification] = useState(incident.classification ?? "unknown");
  const [determination, setDetermination] = useState(incident.determination ?? "unknown");
  const [tag, setTag] = useState("");
  const [resolving, setResolving] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function patch(body: Record<string, unknown>, message: string) {
    setBusy(true);
    setError(null);
    try {
      const updated = await api<Incident>(`/v1.0/security/incidents/${incident.id}`, { method: "PATCH", body });
      onSaved(updated, message);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const determinations = DETERMINATIONS[classification] ?? ["unknown"];
  const tags = incident.customTags ?? [];
  const resolved = incident.status === "resolved";
  return (
    <section className="panel actions-panel" aria-labelledby="actions-title">
      <h2 id="actions-title">Actions</h2>
      <ErrorMessage error={error} />
      <div className="action">
        <h3>Assign</h3>
        <div className="inline wrap">
          <button type="button" disabled={busy || incident.assignedTo === me} onClick={() => patch({ assignedTo: me }, "Assigned to you.")}>
            Assign to me
          </button>
          {incident.assignedTo && (
            <button type="button" className="secondary" disabled={busy} onClick={() => patch({ assignedTo: null }, "Unassigned.")}>
              Unassign
            </button>
          )}
        </div>
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            if (assignee.trim()) void patch({ assignedTo: assignee.trim() }, `Assigned to ${assignee.trim()}.`).then(() => setAssignee(""));
          }}
        >
          <label htmlFor="assignee" className="sr-only">
            Assign to someone
          </label>
          <input id="assignee" value={assignee} onChange={(e) => setAssignee(e.target.value)} placeholder="someone@contoso.com" />
          <button type="submit" className="secondary" disabled={busy || !assignee.trim()}>
            Assign
          </button>
        </form>
      </div>
      <div className="action">
        <h3>
          <label htmlFor="status">Status</label>
        </h3>
        <div className="inline">
          <select id="status" value={status} onChange={(e) => setStatus(e.target.value)}>
            <EnumOptions values={SETTABLE_STATUSES} />
          </select>
          <button
            type="button"
            className="secondary"
            disabled={busy || status === incident.status}
            onClick={() => patch({ status }, `Status set to ${label(status)}.`)}
          >
            Set status
          </button>
        </div>
      </div>
      <div className="action">
        <h3>Classify</h3>
        <div className="stack-sm">
          <label htmlFor="classification">Classification</label>
          <select
            id="classification"
            value={classification}
            onChange={(e) => {
              setClassification(e.target.value);
              setDetermination((DETERMINATIONS[e.target.value] ?? ["unknown"])[0]!);
            }}
          >
            <EnumOptions values={CLASSIFICATIONS} />
          </select>
          <label htmlFor="determination">Determination</label>
          <select id="determination" value={determination} onChange={(e) => setDetermination(e.target.value)}>
            <EnumOptions values={determinations} />
          </select>
          <button
            type="button"
            className="secondary"
            disabled={busy || (classification === (incident.classification ?? "unknown") && determination === (incident.determination ?? "unknown"))}
            onClick={() => patch({ classification, determination }, `Classified as ${label(classification)}: ${label(determination)}.`)}
          >
            Save classification
          </button>
        </div>
      </div>
      <div className="action">
        <h3>Tags</h3>
        <ul className="tag-edit" aria-label="Tags">
          {tags.map((t) => (
            <li key={t} className="tag">
              {t}
              <button
                type="button"
                className="chip-remove"
                aria-label={`Remove tag ${t}`}
                disabled={busy}
                onClick={() => patch({ customTags: tags.filter((x) => x !== t) }, `Tag ${t} removed.`)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            const t = tag.trim();
            if (t && !tags.includes(t)) void patch({ customTags: [...tags, t] }, `Tag ${t} added.`).then(() => setTag(""));
          }}
        >
          <label htmlFor="new-tag" className="sr-only">
            New tag
          </label>
          <input id="new-tag" value={tag} onChange={(e) => setTag(e.target.value)} placeholder="New tag" maxLength={100} />
          <button type="submit" className="secondary" disabled={busy || !tag.trim()}>
            Add tag
          </button>
        </form>
      </div>
      <div className="action">
        <h3>Resolve</h3>
        {resolved ? (
          <p className="muted">This incident is resolved. Set its status to reopen it.</p>
        ) : (
          <form
            className="stack-sm"
            onSubmit={(e: FormEvent) => {
              e.preventDefault();
              const body: Record<string, unknown> = { status: "resolved", resolvingComment: resolving.trim() };
              if (classification !== "unknown") Object.assign(body, { classification, determination });
              void patch(body, "Incident resolved.");
            }}
          >
            <label htmlFor="resolving-comment">Resolving comment</label>
            <textarea
              id="resolving-comment"
              value={resolving}
              onChange={(e) => setResolving(e.target.value)}
              rows={3}
              required
              placeholder="What was found and done"
            />
            <p className="hint">The classification chosen above is saved with the resolution.</p>
            <button type="submit" disabled={busy || !resolving.trim()}>
              Resolve incident
            </button>
          </form>
        )}
      </div>
    </section>
  );
}

function Comments({ incident, writer, onAdded }: { incident: Incident; writer: boolean; onAdded: (comments: Incident["comments"]) => void }) {
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function add(e: FormEvent) {
    e.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    setError(null);
    try {
      const res = await api<{ value: Incident["comments"] }>(`/v1.0/security/incidents/${incident.id}/comments`, {
        method: "POST",
        body: { "@odata.type": "microsoft.graph.security.alertComment", comment: text.trim() },
      });
      setText("");
      onAdded(res.value);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="panel" aria-labelledby="comments-title">
      <h2 id="comments-title">Comments ({incident.comments.length})</h2>
      {incident.comments.length === 0 && <p className="muted">No comments yet.</p>}
      <ol className="comments">
        {incident.comments.map((c, i) => (
          <li key={i}>
            <div className="comment-head">
              <strong>{c.createdByDisplayName ?? "Unknown"}</strong> <Time iso={c.createdDateTime} />
            </div>
            <p className="pre">{c.comment}</p>
          </li>
        ))}
      </ol>
      {writer && (
        <form onSubmit={add} className="stack-sm">
          <ErrorMessage error={error} />
          <label htmlFor="new-comment">Add a comment</label>
          <textarea id="new-comment" value={text} onChange={(e) => setText(e.target.value)} rows={3} maxLength={30_000} />
          <button type="submit" disabled={busy || !text.trim()}>
            Add comment
          </button>
        </form>
      )}
    </section>
  );
}

/** An added comment is recorded whole; show its text. */
function auditValue(property: string, v: unknown): string {
  if (property === "comments" && v && typeof v === "object" && "comment" in v) return `“${String((v as { comment: unknown }).comment)}”`;
  return auditText(property, v);
}

function AuditTrail({ entries }: { entries: AuditEntry[] }) {
  return (
    <section className="panel" aria-labelledby="audit-title">
      <h2 id="audit-title">Audit trail ({entries.length})</h2>
      {entries.length === 0 ? (
        <p className="muted">No changes since the incident was created.</p>
      ) : (
        <div className="table-wrap">
          <table className="audit-table">
            <caption className="sr-only">Every change to this incident, oldest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Property</th>
                <th scope="col">Before</th>
                <th scope="col">After</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.seq}>
                  <td className="col-date">
                    <Time iso={e.at} />
                  </td>
                  <td>{e.actor}</td>
                  <td>
                    <code>{e.property}</code>
                  </td>
                  <td className="audit-value">{auditValue(e.property, e.before)}</td>
                  <td className="audit-value">{auditValue(e.property, e.after)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function IncidentPage({ id, session }: { id: string; session: Session }) {
  const [notice, setNotice] = useState("");
  /** The alert in the move dialog, while it is open; then where the last move took an alert. */
  const [moving, setMoving] = useState<Alert | null>(null);
  const [moved, setMoved] = useState<{ title: string; target: string; created: boolean } | null>(null);
  const state = useAsync<Loaded>(
    async (signal) => {
      const [incident, correlation, audit] = await Promise.all([
        api<Incident>(`/v1.0/security/incidents/${id}${qs({ $expand: "alerts" })}`, { signal }),
        api<Correlation>(`/triage/incidents/${id}/correlation`, { signal }),
        loadAudit(id, signal),
      ]);
      // A large incident serves its first alerts inline and links to the rest, a page at a time.
      const more = incident["alerts@odata.nextLink"];
      if (more) {
        const link = new URL(more, location.origin);
        incident.alerts = [...(incident.alerts ?? []), ...(await pageAll<Alert>(link.pathname + link.search, { signal }))];
      }
      return { incident, correlation, audit };
    },
    [id],
  );
  const data = state.data;
  usePageTitle(data ? `#${id} ${data.incident.displayName ?? ""}` : `Incident ${id}`);
  const timeline = useMemo(() => (data ? timelineOf(data) : []), [data]);
  const evidence = useMemo(() => mergedEvidence(data?.incident.alerts ?? []), [data]);
  const alertsById = useMemo(() => new Map((data?.incident.alerts ?? []).map((a) => [a.id, a])), [data]);
  // The page follows changes to the incident and its alerts (comments included) as they are made.
  const live = useLiveIncident(id, alertsById, state.reload);
  /** Own saves, counted: the actions' form starts afresh after each, and when a change elsewhere alters what it edits, but not while a comment arrives. */
  const [saves, setSaves] = useState(0);

  if (state.error && !data) {
    return (
      <div>
        <h1>Incident {id}</h1>
        <ErrorMessage error={state.error} />
        <p>
          <Link to="/incidents">Back to the queue</Link>
        </p>
      </div>
    );
  }
  if (!data) return <Loading what={`Loading incident ${id}`} />;
  const { incident, correlation, audit } = data;
  const actionsKey = `${saves}|${incident.status}|${incident.classification ?? ""}|${incident.determination ?? ""}`;
  const redirected = incident.status === "redirected" && incident.redirectIncidentId;
  const writer = canWrite(session) && !redirected;
  // Moving an alert needs SecurityData.Manage.All and a write role; a redirected incident has no alerts to move.
  const moveRefusal = manageRefusal(session);
  const mover = writer && !moveRefusal;

  async function saved(updated: Incident, message: string) {
    setSaves((n) => n + 1);
    setNotice(message);
    const fresh = await loadAudit(id).catch(() => audit);
    state.setData({ incident: { ...updated, alerts: incident.alerts }, correlation, audit: fresh });
  }

  return (
    <div className="incident-page">
      <p className="breadcrumb">
        <Link to="/incidents">Incidents</Link> / #{incident.id}
      </p>
      <div className="page-head">
        <h1>
          <span className="muted">#{incident.id}</span> {incident.displayName ?? `Incident ${incident.id}`}
        </h1>
        <div className="head-badges">
          <LiveIndicator status={live} />
          <SeverityBadge value={incident.severity} />
          <StatusBadge value={incident.status} />
          <SlaBadge sla={incident["@triage.sla"]} />
          <span>
            Priority <PriorityBadge score={incident.priorityScore} />
          </span>
        </div>
      </div>
      {redirected && (
        <div className="redirect-banner" role="note">
          This incident was merged into <Link to={`/incidents/${incident.redirectIncidentId}`}>incident #{incident.redirectIncidentId}</Link>. Its alerts are
          there now; it can no longer be edited.
        </div>
      )}
      {!canWrite(session) && (
        <p className="readonly-note">You have read-only access ({session.user.roles.join(", ") || "no role"}): you can see this incident but not change it.</p>
      )}
      {notice && <Notice text={notice} />}
      {moved && (
        <p className="notice notice-ok" role="status" aria-live="polite">
          Alert “{moved.title}” moved to {moved.created ? "a new incident, " : ""}
          <Link to={`/incidents/${moved.target}`}>incident #{moved.target}</Link>.
        </p>
      )}
      {moving && (
        <MoveDialog
          alert={moving}
          incidentId={incident.id}
          onClose={() => setMoving(null)}
          onMoved={(target, created) => {
            setMoved({ title: moving.title ?? moving.id, target, created });
            setNotice("");
            setMoving(null);
            state.reload();
          }}
        />
      )}
      <div className="incident-grid">
        <div className="incident-main">
          <section className="panel" aria-labelledby="summary-title">
            <h2 id="summary-title">Summary</h2>
            <p>{incident.summary ?? incident.description ?? <span className="muted">No summary or description.</span>}</p>
            {incident.summary && incident.description && <p>{incident.description}</p>}
            {incident.resolvingComment && (
              <p>
                <strong>Resolving comment:</strong> {incident.resolvingComment}
              </p>
            )}
          </section>
          <section className="panel" aria-labelledby="alerts-title">
            <h2 id="alerts-title">Alerts ({incident.alerts?.length ?? 0})</h2>
            {writer && moveRefusal && <p className="hint">{moveRefusal}</p>}
            <ul className="alert-list">
              {(incident.alerts ?? []).map((a) => (
                <AlertItem
                  key={a.id}
                  alert={a}
                  onMove={
                    mover
                      ? () => {
                          setMoved(null);
                          setMoving(a);
                        }
                      : undefined
                  }
                />
              ))}
            </ul>
          </section>
          <section className="panel" aria-labelledby="evidence-title">
            <h2 id="evidence-title">Evidence</h2>
            <EvidenceTable items={evidence} caption="Evidence of the incident" />
          </section>
          <section className="panel" aria-labelledby="timeline-title">
            <h2 id="timeline-title">Timeline</h2>
            <ol className="timeline">
              {timeline.map((t, i) => (
                <li key={i} className={`tl-${t.kind}`}>
                  <span className="tl-when">
                    <Time iso={t.at} />
                    {t.activity && <span className="tl-note">activity time</span>}
                  </span>
                  <span>{t.text}</span>
                </li>
              ))}
            </ol>
          </section>
          <Comments
            incident={incident}
            writer={writer}
            onAdded={(comments) => {
              setNotice("Comment added.");
              state.setData({ ...data, incident: { ...incident, comments } });
            }}
          />
          <AuditTrail entries={audit} />
        </div>
        <aside className="incident-side">
          <section className="panel" aria-labelledby="details-title">
            <h2 id="details-title">Details</h2>
            <dl className="facts">
              <dt>Assigned to</dt>
              <dd data-testid="assigned-to">{incident.assignedTo ?? <span className="muted">Unassigned</span>}</dd>
              <dt>Classification</dt>
              <dd>{label(incident.classification)}</dd>
              <dt>Determination</dt>
              <dd>{label(incident.determination)}</dd>
              <dt>Tags</dt>
              <dd>
                {[...(incident.customTags ?? []), ...(incident.systemTags ?? [])].length
                  ? [...(incident.customTags ?? []), ...(incident.systemTags ?? [])].map((t) => (
                      <span key={t} className="tag">
                        {t}
                      </span>
                    ))
                  : "—"}
              </dd>
              {incident["@triage.sla"] && (
                <>
                  <dt>First action due</dt>
                  <dd data-testid="sla-first-action">
                    <SlaClock clock={incident["@triage.sla"].firstAction} />
                  </dd>
                  <dt>Resolve due</dt>
                  <dd data-testid="sla-resolve">
                    <SlaClock clock={incident["@triage.sla"].resolve} />
                  </dd>
                </>
              )}
              <dt>Created</dt>
              <dd data-testid="created">
                <Time iso={incident.createdDateTime} />
              </dd>
              <dt>Last update</dt>
              <dd>
                <Time iso={incident.lastUpdateDateTime} />
              </dd>
              <dt>Last modified by</dt>
              <dd>{incident.lastModifiedBy ?? "—"}</dd>
            </dl>
          </section>
          {writer && <Actions key={actionsKey} incident={incident} me={session.user.upn} onSaved={saved} />}
          <section className="panel" aria-labelledby="priority-title">
            <h2 id="priority-title">
              Priority score <PriorityBadge score={correlation.priority.score} />
            </h2>
            <ul className="factors" aria-label="How the priority score adds up">
              {correlation.priority.factors.map((f) => (
                <li key={f.factor}>
                  <span>{label(f.factor)}</span>
                  <span className="points">+{f.points}</span>
                  <span className="reason">{labelCodes(f.reason)}</span>
                </li>
              ))}
            </ul>
          </section>
          <section className="panel" aria-labelledby="correlation-title">
            <h2 id="correlation-title">Correlation</h2>
            <h3>Shared entities ({correlation.entities.length})</h3>
            <ul className="entities">
              {correlation.entities.map((e) => {
                const { kind, value } = entityLabel(e.key);
                return (
                  <li key={e.key}>
                    <span className="muted">{kind}</span> <span className="mono break">{value}</span>
                  </li>
                );
              })}
            </ul>
            <h3>Correlation and merges</h3>
            <ol className="events">
              {correlation.events.map((e) => {
                const when = eventTime(e, incident, alertsById);
                return (
                  <li key={e.seq}>
                    <strong>{label(e.kind)}</strong> <Time iso={when.at} />
                    {when.activity && <span className="tl-note">activity time</span>}
                    {e.otherIncidentId && (
                      <>
                        {" "}
                        · <Link to={`/incidents/${e.otherIncidentId}`}>#{e.otherIncidentId}</Link>
                      </>
                    )}
                    {e.reasons.length > 0 && (
                      <div className="reasons">
                        {e.reasons.map((r) => (
                          <span key={r} className="tag">
                            {label(r)}
                          </span>
                        ))}
                      </div>
                    )}
                    {(e.kind === "mergeRefused" || e.kind === "joinRefused") && e.detail && <div className="muted">{e.detail}</div>}
                  </li>
                );
              })}
            </ol>
            <p className="muted">{plural(correlation.events.length, "event")}</p>
          </section>
        </aside>
      </div>
    </div>
  );
}
