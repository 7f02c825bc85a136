/**
 * Merging incidents (from the queue) and moving an alert (from an incident): Graph's mergeIncidents
 * and moveAlerts, as the signed-in user. The server chooses a merge's target and applies the refusal
 * rules; these dialogs show what it is expected to choose, then what it answered.
 */
import { useMemo, useState, type FormEvent } from "react";
import { api, apiText, lit, mergeIncidents, moveAlerts, qs, type Page } from "../api";
import { plural } from "../format";
import { label, type Alert, type Incident } from "../model";
import { expectedTarget } from "../merge";
import { Link } from "../router";
import { Dialog, ErrorMessage, Loading, SeverityBadge, StatusBadge, Time, useAsync } from "./ui";

/** The longest comment the API takes. */
const MAX_COMMENT = 30_000;
const OPEN_STATUSES = ["active", "inProgress", "awaitingAction"];

interface Candidate {
  incident: Incident;
  alertCount: number;
}

async function loadCandidates(ids: readonly string[], signal: AbortSignal): Promise<Candidate[]> {
  const select = "id,displayName,status,severity,assignedTo,classification,determination,createdDateTime";
  return Promise.all(
    ids.map(async (id) => {
      const [incident, count] = await Promise.all([
        api<Incident>(`/v1.0/security/incidents/${encodeURIComponent(id)}${qs({ $select: select })}`, { signal }),
        apiText(`/v1.0/security/alerts_v2/$count${qs({ $filter: `incidentId eq ${lit(id)}` })}`, { signal }),
      ]);
      return { incident, alertCount: Number(count) || 0 };
    }),
  );
}

interface MergeOutcome {
  target: string;
  sources: Incident[];
}

/** Confirms a merge of the selected incidents, runs it, and shows the server's answer. */
export function MergeDialog({ ids, onClose, onMerged }: { ids: string[]; onClose: () => void; onMerged: (target: string) => void }) {
  const preview = useAsync((signal) => loadCandidates(ids, signal), [ids.join(",")]);
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [outcome, setOutcome] = useState<MergeOutcome | null>(null);
  const expected = useMemo(
    () =>
      preview.data
        ? expectedTarget(preview.data.map((c) => ({ id: c.incident.id, createdDateTime: c.incident.createdDateTime, alertCount: c.alertCount })))
        : undefined,
    [preview.data],
  );

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { targetIncidentId: target } = await mergeIncidents(ids, comment.trim() || undefined);
      onMerged(target);
      const sources = await Promise.all(
        ids
          .filter((id) => id !== target)
          .map((id) => api<Incident>(`/v1.0/security/incidents/${encodeURIComponent(id)}${qs({ $select: "id,displayName,status,redirectIncidentId" })}`)),
      );
      setOutcome({ target, sources });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog open title={outcome ? "Incidents merged" : `Merge ${plural(ids.length, "incident")}`} onClose={onClose}>
      {outcome ? (
        <div className="merge-outcome" role="status">
          <p>
            Merged into <strong>incident #{outcome.target}</strong>.
          </p>
          <ul className="merge-sources" aria-label="Merged incidents">
            {outcome.sources.map((s) => (
              <li key={s.id}>
                #{s.id} {s.displayName ?? ""} — {label(s.status)}
                {s.redirectIncidentId ? ` to #${s.redirectIncidentId}` : ""}
              </li>
            ))}
          </ul>
          <div className="actions">
            <Link to={`/incidents/${outcome.target}`} className="button-link">
              Open incident #{outcome.target}
            </Link>
            <button type="button" className="secondary" onClick={onClose} autoFocus>
              Close
            </button>
          </div>
        </div>
      ) : (
        <form onSubmit={submit} className="stack-sm">
          <p className="hint">
            Triage chooses the incident that stays: the one with the most alerts, then the oldest, then the lowest id. The others become redirected to it, and
            their alerts, tags and entities move there.
          </p>
          {preview.loading && !preview.data && <Loading what="Loading the selected incidents" />}
          <ErrorMessage error={preview.error} />
          {preview.data && (
            <div className="table-wrap">
              <table className="merge-table">
                <caption className="sr-only">The incidents to merge</caption>
                <thead>
                  <tr>
                    <th scope="col">Incident</th>
                    <th scope="col">Alerts</th>
                    <th scope="col">Status</th>
                    <th scope="col">Assigned to</th>
                    <th scope="col">Classification</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {preview.data.map(({ incident: i, alertCount }) => (
                    <tr key={i.id} data-incident-id={i.id} className={i.id === expected ? "merge-target" : undefined}>
                      <td>
                        #{i.id} {i.displayName ?? ""} <SeverityBadge value={i.severity} />
                        {i.id === expected && <span className="badge target">Expected target</span>}
                      </td>
                      <td className="num">{alertCount}</td>
                      <td>
                        <StatusBadge value={i.status} />
                      </td>
                      <td>{i.assignedTo ?? <span className="muted">Unassigned</span>}</td>
                      <td>{label(i.classification)}</td>
                      <td>
                        <Time iso={i.createdDateTime} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {expected && (
            <p data-testid="expected-target">
              Expected target: <strong>incident #{expected}</strong> (the server decides).
            </p>
          )}
          <label htmlFor="merge-comment">Comment on the target (optional)</label>
          <textarea id="merge-comment" value={comment} onChange={(e) => setComment(e.target.value)} rows={3} maxLength={MAX_COMMENT} />
          <ErrorMessage error={error} />
          <div className="actions">
            <button type="submit" className="danger" disabled={busy || !preview.data}>
              {busy ? "Merging…" : `Merge ${plural(ids.length, "incident")}`}
            </button>
            <button type="button" className="secondary" onClick={onClose} autoFocus>
              Cancel
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

/** Open incidents a moved alert may go to: the most recently updated ones, this one excepted. */
async function recentOpen(except: string, signal: AbortSignal): Promise<Incident[]> {
  const filter = `status in (${OPEN_STATUSES.map(lit).join(",")}) and id ne ${lit(except)}`;
  const page = await api<Page<Incident>>(
    `/v1.0/security/incidents${qs({ $filter: filter, $orderby: "lastUpdateDateTime desc", $top: 50, $select: "id,displayName,severity,status" })}`,
    { signal },
  );
  return page.value;
}

/** Moves one alert to another incident (by id or picked from the recent open ones) or to a new one. */
export function MoveDialog({
  alert,
  incidentId,
  onClose,
  onMoved,
}: {
  alert: Alert;
  incidentId: string;
  onClose: () => void;
  onMoved: (target: string, created: boolean) => void;
}) {
  const recent = useAsync((signal) => recentOpen(incidentId, signal), [incidentId]);
  const [mode, setMode] = useState<"existing" | "new">("existing");
  const [target, setTarget] = useState("");
  const [find, setFind] = useState("");
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const wanted = target.trim();
  const badTarget =
    mode === "existing" && wanted !== ""
      ? !/^\d{1,19}$/.test(wanted)
        ? "An incident id is a number."
        : wanted === incidentId
          ? "The alert is already in this incident."
          : null
      : null;
  const ready = mode === "new" || (wanted !== "" && !badTarget);
  const needle = find.trim().toLowerCase();
  const options = (recent.data ?? []).filter((i) => !needle || i.id === needle || (i.displayName ?? "").toLowerCase().includes(needle));

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(null);
    try {
      const res = await moveAlerts([alert.id], mode === "new" ? null : wanted, comment.trim() || undefined);
      onMoved(res.targetIncidentId, mode === "new");
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <Dialog open title="Move alert" onClose={onClose}>
      <form onSubmit={submit} className="stack-sm">
        <p>
          “{alert.title ?? alert.id}” leaves incident #{incidentId}. Both incidents derive their severity, name and priority again.
        </p>
        <fieldset className="move-mode">
          <legend>Move to</legend>
          <label className="check">
            <input type="radio" name="move-mode" value="existing" checked={mode === "existing"} onChange={() => setMode("existing")} />
            Another incident
          </label>
          <label className="check">
            <input type="radio" name="move-mode" value="new" checked={mode === "new"} onChange={() => setMode("new")} />A new incident (named from the alert)
          </label>
        </fieldset>
        {mode === "existing" && (
          <>
            <label htmlFor="move-target">Incident id</label>
            <input
              id="move-target"
              inputMode="numeric"
              value={target}
              onChange={(e) => {
                setTarget(e.target.value);
                setError(null);
              }}
              aria-invalid={badTarget ? true : undefined}
              aria-describedby={badTarget ? "move-target-error" : undefined}
              maxLength={19}
              autoFocus
            />
            {badTarget && (
              <p id="move-target-error" className="hint">
                {badTarget}
              </p>
            )}
            <label htmlFor="move-find">Or pick a recently updated open incident</label>
            <input id="move-find" type="search" value={find} onChange={(e) => setFind(e.target.value)} placeholder="Filter by name or id" />
            <ErrorMessage error={recent.error} />
            <select
              id="move-pick"
              aria-label="Recently updated open incidents"
              size={Math.min(6, Math.max(2, options.length))}
              value={options.some((i) => i.id === wanted) ? wanted : ""}
              onChange={(e) => {
                setTarget(e.target.value);
                setError(null);
              }}
            >
              {options.map((i) => (
                <option key={i.id} value={i.id}>
                  #{i.id} {i.displayName ?? ""} ({label(i.severity)})
                </option>
              ))}
            </select>
            {recent.data && options.length === 0 && <p className="hint">No open incident matches.</p>}
          </>
        )}
        <label htmlFor="move-comment">Comment on the alert (optional)</label>
        <textarea id="move-comment" value={comment} onChange={(e) => setComment(e.target.value)} rows={2} maxLength={MAX_COMMENT} />
        <ErrorMessage error={error} />
        <div className="actions">
          <button type="submit" disabled={busy || !ready}>
            {busy ? "Moving…" : "Move alert"}
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
