import type { Store } from "../store/open.js";
import { countIncidents, createTenant, findTenant } from "../store/tenants.js";
import { ingestAlerts } from "../features/ingest/index.js";
import { normalizeAlert } from "../domain/normalize-alert.js";
import { estimateAlertCount, generateAlerts } from "../seed/generate.js";
import type { GraphAlertInput } from "../seed/generate.js";
import { DEFAULT_WINDOW_MS } from "../server.js";
import { AnalystReplay, type ReplayCounts } from "./analyst-replay.js";

/** The longest stretch of time one ingestion transaction covers while the team works alongside. */
const PART_SPAN_MS = 30 * 60_000;

export interface SeedRun {
  tenantId: string;
  tenantName?: string;
  incidents: number;
  seed: string;
  /** The timeline's end; fixed by default so that a seed reproduces the same data. */
  end: Date;
  onProgress?: (done: number, total: number) => void;
  /**
   * Also play a team's work on the incidents as time goes by (assignments, comments, tags,
   * resolutions), through the same store calls as the API's PATCH and comments: the demo's four weeks.
   */
  analysts?: boolean;
}

export interface SeedSummary {
  tenantId: string;
  alerts: number;
  incidents: number;
  merged: number;
  /** What the team did (absent unless `analysts`). */
  analysts?: ReplayCounts;
  seconds: number;
}

/**
 * Fills a tenant with generated alerts through the ingestion path (the same validation, correlation
 * and merging as POST /ingest/alerts), one transaction per batch, in bounded memory. With `analysts`,
 * batches are cut where the team's next action falls due, so changes land in the order they happened.
 */
export async function seedStore(store: Store, run: SeedRun): Promise<SeedSummary> {
  const started = Date.now();
  if (!(await findTenant(store.db, run.tenantId))) await createTenant(store.db, run.tenantId, run.tenantName ?? "Contoso (demo)");
  const opts = { seed: run.seed, tenantId: run.tenantId, incidents: run.incidents, end: run.end };
  const total = estimateAlertCount(opts);
  let alerts = 0;
  let merged = 0;
  const replay = run.analysts ? new AnalystReplay(store, run.tenantId, run.seed, run.end.getTime()) : null;
  // Each part arrives when its last alert was created: the time of its audit rows, the same on every run.
  const ingest = async (part: GraphAlertInput[]) => {
    const now = new Date(createdMs(part[part.length - 1]!)).toISOString();
    const normalized = part.map((a, i) => normalizeAlert(a, `alert[${alerts + i}]`, run.tenantId, now));
    const results = await ingestAlerts(store.db, run.tenantId, normalized, { windowMs: DEFAULT_WINDOW_MS, actor: "triage seed", requestId: null, now });
    replay?.plan(part, results);
    alerts += part.length;
    merged += results.reduce((n, r) => n + r.merged.length, 0);
  };
  for (const batch of generateAlerts(opts)) {
    if (!replay) {
      await ingest(batch);
    } else {
      // Alerts and the team's actions interleave in time: a batch is cut wherever an action falls due.
      let start = 0;
      for (let i = 0; i < batch.length; i++) {
        const t = createdMs(batch[i]!);
        // Bounded in time too, so the incidents a part opens are planned before their first action falls due.
        if (t <= replay.nextDue() && t - createdMs(batch[start]!) < PART_SPAN_MS) continue;
        if (i > start) await ingest(batch.slice(start, i));
        start = i;
        await replay.runUntil(t);
      }
      if (start < batch.length) await ingest(batch.slice(start));
    }
    run.onProgress?.(alerts, Math.max(total, alerts));
  }
  await replay?.runUntil(run.end.getTime());
  const incidents = await countIncidents(store.db, run.tenantId);
  return { tenantId: run.tenantId, alerts, incidents, merged, ...(replay ? { analysts: replay.counts } : {}), seconds: (Date.now() - started) / 1000 };
}

function createdMs(alert: GraphAlertInput): number {
  return Date.parse(String(alert.createdDateTime));
}
