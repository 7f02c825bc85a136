/**
 * Plays the team's planned actions (seed/analyst-activity.ts) against the store through the calls the
 * Graph API's PATCH and comment endpoints make, each at its planned time, so every change carries the
 * same lastUpdateDateTime, lastModifiedBy, comment author and audit rows an analyst's request would.
 */
import type { Store } from "../store/open.js";
import { findIncidentRow } from "../store/incidents.js";
import { addIncidentComment } from "../features/add-comment.js";
import { updateIncident } from "../features/update-incident.js";
import type { WriteContext } from "../features/write-context.js";
import type { IngestResult } from "../features/ingest/index.js";
import type { GraphAlertInput } from "../seed/generate.js";
import { planAnalystActivity, type AnalystAction, type OpenedIncident } from "../seed/analyst-activity.js";

export interface ReplayCounts {
  updates: number;
  comments: number;
  /** Actions dropped because their incident had been merged into another first. */
  skipped: number;
}

function timeOf(v: unknown): number {
  return typeof v === "string" ? Date.parse(v) : NaN;
}

function openedBy(incidentId: string, alert: GraphAlertInput): OpenedIncident {
  const created = timeOf(alert.createdDateTime);
  const updated = timeOf(alert.lastUpdateDateTime);
  const resolved = timeOf(alert.resolvedDateTime);
  const status = alert.status === "resolved" || alert.status === "inProgress" ? alert.status : "new";
  return {
    incidentId,
    createdMs: created,
    status,
    classification: (alert.classification ?? null) as OpenedIncident["classification"],
    determination: (alert.determination ?? null) as OpenedIncident["determination"],
    updatedMs: Number.isFinite(updated) ? updated : created,
    resolvedMs: Number.isFinite(resolved) ? resolved : null,
    title: String(alert.title ?? ""),
  };
}

function before(a: AnalystAction, b: AnalystAction): boolean {
  if (a.atMs !== b.atMs) return a.atMs < b.atMs;
  return Number(a.incidentId) < Number(b.incidentId);
}

export class AnalystReplay {
  readonly counts: ReplayCounts = { updates: 0, comments: 0, skipped: 0 };
  /** Pending actions, earliest first. */
  private readonly queue: AnalystAction[] = [];

  constructor(
    private readonly store: Store,
    private readonly tenantId: string,
    private readonly seed: string,
    private readonly endMs: number,
  ) {}

  /** When the next pending action is due (Infinity when none is). */
  nextDue(): number {
    return this.queue[0]?.atMs ?? Infinity;
  }

  /** Plans the team's work on the incidents an ingested batch opened. */
  plan(alerts: readonly GraphAlertInput[], results: readonly IngestResult[]): void {
    results.forEach((r, i) => {
      const alert = alerts[i];
      if (r.correlation.incident !== "new" || !alert) return;
      for (const action of planAnalystActivity(this.seed, openedBy(r.incidentId, alert), this.endMs)) this.enqueue(action);
    });
  }

  private enqueue(action: AnalystAction): void {
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(action, this.queue[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    this.queue.splice(lo, 0, action);
  }

  /** Carries out every pending action due at or before `untilMs`, in time order. */
  async runUntil(untilMs: number): Promise<void> {
    while (this.queue.length > 0 && this.queue[0]!.atMs <= untilMs) {
      const action = this.queue.shift()!;
      const ctx: WriteContext = {
        tenantId: this.tenantId,
        actor: action.analyst.displayName,
        requestId: null,
        now: new Date(action.atMs).toISOString(),
        person: true,
      };
      // A merged incident is frozen (the API answers 400): its owner works on the one it points to.
      const row = await findIncidentRow(this.store.db, this.tenantId, action.incidentId);
      if (!row || (JSON.parse(row.doc) as { status?: unknown }).status === "redirected") {
        this.counts.skipped++;
        continue;
      }
      if (action.kind === "update") {
        await updateIncident(this.store.db, ctx, action.incidentId, action.changes);
        this.counts.updates++;
      } else {
        await addIncidentComment(this.store.db, ctx, action.incidentId, action.text);
        this.counts.comments++;
      }
    }
  }
}
