import type { Store } from "../store/open.js";
import { createTenant, findTenant } from "../store/tenants.js";
import { ingestAlerts } from "../features/ingest/index.js";
import { normalizeAlert } from "../domain/normalize-alert.js";
import { estimateAlertCount, generateAlerts } from "../seed/generate.js";
import { DEFAULT_WINDOW_MS } from "../server.js";

export interface SeedRun {
  tenantId: string;
  tenantName?: string;
  incidents: number;
  seed: string;
  /** The timeline's end; fixed by default so that a seed reproduces the same data. */
  end: Date;
  onProgress?: (done: number, total: number) => void;
}

export interface SeedSummary {
  tenantId: string;
  alerts: number;
  incidents: number;
  merged: number;
  seconds: number;
}

/**
 * Fills a tenant with generated alerts through the ingestion path (the same validation, correlation
 * and merging as POST /ingest/alerts), one transaction per batch, in bounded memory.
 */
export async function seedStore(store: Store, run: SeedRun): Promise<SeedSummary> {
  const started = Date.now();
  if (!(await findTenant(store.db, run.tenantId))) await createTenant(store.db, run.tenantId, run.tenantName ?? "Contoso (demo)");
  const opts = { seed: run.seed, tenantId: run.tenantId, incidents: run.incidents, end: run.end };
  const total = estimateAlertCount(opts);
  let alerts = 0;
  let merged = 0;
  const now = new Date().toISOString();
  for (const batch of generateAlerts(opts)) {
    const normalized = batch.map((a, i) => normalizeAlert(a, `alert[${alerts + i}]`, run.tenantId, now));
    const results = await ingestAlerts(store.db, run.tenantId, normalized, { windowMs: DEFAULT_WINDOW_MS, actor: "triage seed", requestId: null });
    alerts += batch.length;
    merged += results.reduce((n, r) => n + r.merged.length, 0);
    run.onProgress?.(alerts, Math.max(total, alerts));
  }
  const row = await store.db
    .selectFrom("incidents")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("tenant_id", "=", run.tenantId)
    .executeTakeFirst();
  return { tenantId: run.tenantId, alerts, incidents: Number(row?.n ?? 0), merged, seconds: (Date.now() - started) / 1000 };
}
