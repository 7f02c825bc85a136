import type { LiveStatus } from "../live";

const TEXT: Record<LiveStatus, { label: string; title: string }> = {
  live: { label: "Live", title: "Changes appear here as they are made." },
  connecting: { label: "Connecting…", title: "Connecting to live updates." },
  offline: { label: "Reconnecting…", title: "Live updates are interrupted; reconnecting. Reload to see the latest." },
  unavailable: { label: "Not live", title: "Live updates are not available to this account; reload to see the latest." },
};

/** Whether the page updates itself: a dot and a word, announced politely when it changes. */
export function LiveIndicator({ status }: { status: LiveStatus }) {
  const t = TEXT[status];
  return (
    <span className={`live-indicator live-${status}`} role="status" aria-live="polite" title={t.title} data-live={status}>
      <span className="live-dot" aria-hidden="true" />
      {t.label}
    </span>
  );
}
