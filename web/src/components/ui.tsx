import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { label } from "../model";
import { formatTime } from "../format";
import type { IncidentSla } from "../../../src/schema/sla.js";

/** An instant as the app shows every time (see format.ts), with the exact ISO value as its tooltip. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={iso}>
      {formatTime(iso)}
    </time>
  );
}

export function SeverityBadge({ value }: { value: string }) {
  return <span className={`badge sev-${value}`}>{label(value)}</span>;
}

export function StatusBadge({ value }: { value: string }) {
  return <span className={`badge status-${value}`}>{label(value)}</span>;
}

/** A select's options for enum values, each shown by its label. */
export function EnumOptions({ values }: { values: readonly string[] }) {
  return (
    <>
      {values.map((v) => (
        <option key={v} value={v}>
          {label(v)}
        </option>
      ))}
    </>
  );
}

/**
 * An incident's SLA state from its `@triage.sla` annotation (docs/sla.md): "Overdue" when a clock is
 * past due and not met, else when the next clock is due; nothing without clocks running.
 */
export function SlaBadge({ sla }: { sla: IncidentSla | undefined }) {
  if (!sla) return null;
  if (sla.overdue) {
    const kinds = [sla.firstAction.overdue && "first action", sla.resolve.overdue && "resolution"].filter(Boolean).join(" and ");
    return (
      <span className="badge sla-overdue" data-testid="sla" title={`SLA breached: ${kinds} overdue`}>
        Overdue
      </span>
    );
  }
  if (!sla.nextDueDateTime) return null;
  return (
    <span className="badge sla-due" data-testid="sla" title={`Next SLA due ${sla.nextDueDateTime}`}>
      Due {formatTime(sla.nextDueDateTime)}
    </span>
  );
}

/** One SLA clock on the incident page: its due time, and whether it was met, breached or is overdue. */
export function SlaClock({ clock }: { clock: IncidentSla["firstAction"] }) {
  if (!clock.dueDateTime) return <span className="muted">No target</span>;
  return (
    <>
      <Time iso={clock.dueDateTime} />
      {clock.metDateTime ? (
        <span className="muted"> · met {formatTime(clock.metDateTime)}</span>
      ) : clock.overdue ? (
        <span className="badge sla-overdue">Overdue</span>
      ) : null}
    </>
  );
}

export function PriorityBadge({ score }: { score: number | null }) {
  if (score === null) return <span className="muted">—</span>;
  const band = score > 85 ? "top" : score >= 15 ? "medium" : "low";
  return (
    <span className={`priority priority-${band}`} title={`Priority score ${score} of 100 (${band === "top" ? "top priority" : band})`}>
      {score}
    </span>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> {what}…
    </p>
  );
}

export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="error-box" role="alert">
      {message}
    </div>
  );
}

/** A polite live region: what the last action did. */
export function Notice({ text, tone = "ok" }: { text: string; tone?: "ok" | "error" }) {
  return (
    <p className={`notice notice-${tone}`} role={tone === "error" ? "alert" : "status"} aria-live={tone === "error" ? "assertive" : "polite"}>
      {text}
    </p>
  );
}

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (d: T) => void;
}

/** Runs `fn` when `deps` change; aborts the previous run. */
export function useAsync<T>(fn: (signal: AbortSignal) => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: null, loading: true });
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    const ctrl = new AbortController();
    setState((s) => ({ ...s, loading: true, error: null }));
    fnRef.current(ctrl.signal).then(
      (data) => {
        if (!ctrl.signal.aborted) setState({ data, error: null, loading: false });
      },
      (error: unknown) => {
        if (!ctrl.signal.aborted) setState((s) => ({ ...s, error, loading: false }));
      },
    );
    return () => ctrl.abort();
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((data: T) => setState({ data, error: null, loading: false }), []);
  return { ...state, reload, setData };
}

/** A modal dialog (native <dialog>: focus is trapped, Escape closes). */
export function Dialog({ open, title, onClose, children }: { open: boolean; title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="dialog-title" onClose={onClose} onCancel={onClose}>
      <h2 id="dialog-title">{title}</h2>
      {open ? children : null}
    </dialog>
  );
}

/** Asks before something that cannot be undone. */
export function Confirm({
  open,
  title,
  body,
  confirmLabel,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  body: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <Dialog open={open} title={title} onClose={onCancel}>
      <div>{body}</div>
      <div className="actions">
        <button type="button" className="danger" onClick={onConfirm}>
          {confirmLabel}
        </button>
        <button type="button" onClick={onCancel} autoFocus>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}

/** Copies text; falls back to a hidden textarea where the Clipboard API is unavailable. */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // fall through
  }
  const ta = document.createElement("textarea");
  ta.value = text;
  ta.setAttribute("readonly", "");
  ta.style.position = "fixed";
  ta.style.opacity = "0";
  document.body.appendChild(ta);
  ta.select();
  const ok = document.execCommand("copy");
  ta.remove();
  if (!ok) throw new Error("The browser did not allow copying.");
}

/** Saves a blob as a file. */
export function download(filename: string, content: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Triage` : "Triage";
  }, [title]);
}
