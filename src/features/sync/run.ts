/**
 * `triage sync`: copies a source tenant's incidents (with their alerts) and alerts_v2 from a
 * Microsoft Graph into a Triage tenant, page by page on a moving `lastUpdateDateTime` boundary
 * (domain/sync-window.ts). Each page and the window after it are written in one transaction, so an
 * interrupted sync resumes where it stopped and a sync run again later copies only what changed.
 */
import type { Db } from "../../store/tables.js";
import { inTransaction, type StoreTx } from "../../store/transaction.js";
import { readSyncWindow, writeSyncWindow } from "../../store/sync-windows.js";
import { lockTenantForIngestion } from "../../store/ingest/load.js";
import { nextPageQuery, takePage, type SyncedRecord } from "../../domain/sync-window.js";
import type { GraphSource } from "./graph-source.js";

export type SyncCollection = "incidents" | "alerts_v2";

/** Writes one page of Graph records into the tenant, in the transaction that also moves the window. */
export interface SyncSink {
  incidents(tx: StoreTx, tenantId: string, records: Record<string, unknown>[]): Promise<void>;
  /**
   * Before a page of alerts is written, outside its transaction: the incidents they belong to that the
   * tenant does not hold yet (created at the source after its incidents were read), read from the source.
   */
  incidentsOfAlerts(db: Db, tenantId: string, records: Record<string, unknown>[]): Promise<Record<string, unknown>[]>;
  /** Writes a page of alerts, after the incidents `incidentsOfAlerts` found. */
  alerts(tx: StoreTx, tenantId: string, records: Record<string, unknown>[], incidents: Record<string, unknown>[]): Promise<void>;
  /** Once a run has written everything: what is derived from the whole tenant. */
  finish(tx: StoreTx, tenantId: string): Promise<void>;
}

export interface SyncOptions {
  tenantId: string;
  /** Names the source in the stored windows: its base URL and tenant. */
  sourceKey: string;
  source: GraphSource;
  sink: SyncSink;
  /** Incidents a page (with their alerts; Graph pages incidents by 50 at most). */
  incidentPageSize?: number;
  /** Alerts a page. */
  alertPageSize?: number;
  /** Stop after this many pages in all (for a bounded run; the next run goes on). */
  maxPages?: number;
  /** Told after each page committed. */
  onPage?: (event: { collection: SyncCollection; records: number; since: string | null }) => void;
  signal?: AbortSignal;
}

export interface SyncReport {
  incidents: number;
  alerts: number;
  pages: number;
  /** False when maxPages stopped the run before the source was caught up. */
  caughtUp: boolean;
  /** True when incidents were read without $expand=alerts because the source failed on it. */
  expandDropped: boolean;
}

export const SYNC_DEFAULTS = { incidentPageSize: 50, alertPageSize: 500 } as const;

function asSynced(r: Record<string, unknown>): SyncedRecord {
  if (typeof r.id !== "string" || r.id === "") throw new Error("the source answered a record without an id");
  return { id: r.id, lastUpdateDateTime: r.lastUpdateDateTime as string };
}

export async function syncTenant(db: Db, o: SyncOptions): Promise<SyncReport> {
  const report: SyncReport = { incidents: 0, alerts: 0, pages: 0, caughtUp: true, expandDropped: false };
  const maxPages = o.maxPages ?? Number.POSITIVE_INFINITY;
  for (const collection of ["incidents", "alerts_v2"] as const) {
    const top = collection === "incidents" ? (o.incidentPageSize ?? SYNC_DEFAULTS.incidentPageSize) : (o.alertPageSize ?? SYNC_DEFAULTS.alertPageSize);
    const stored = await readSyncWindow(db, o.tenantId, o.sourceKey, collection);
    let window = { since: stored.since, takenAtSince: stored.takenAtSince };
    let crowded = false;
    for (;;) {
      if (report.pages >= maxPages) {
        report.caughtUp = false;
        break;
      }
      o.signal?.throwIfAborted();
      const q = nextPageQuery(window, top, crowded);
      const page = await readPage(o.source, collection, { ...q, orderby: "lastUpdateDateTime asc" }, report);
      const outcome = takePage(window, page.map(asSynced), top);
      const freshIds = new Set(outcome.fresh.map((r) => r.id));
      const fresh = page.filter((r) => freshIds.has(r.id as string));
      const incidentsFirst = collection === "alerts_v2" && fresh.length > 0 ? await o.sink.incidentsOfAlerts(db, o.tenantId, fresh) : [];
      await inTransaction(db, async (tx) => {
        await lockTenantForIngestion(tx, o.tenantId);
        if (fresh.length > 0) {
          if (collection === "incidents") {
            await o.sink.incidents(tx, o.tenantId, fresh);
          } else {
            await o.sink.alerts(tx, o.tenantId, fresh, incidentsFirst);
          }
        }
        await writeSyncWindow(tx, o.tenantId, o.sourceKey, collection, outcome.window, { pages: 1, records: fresh.length });
      });
      report.pages++;
      if (collection === "incidents") {
        report.incidents += fresh.length;
        report.alerts += fresh.reduce((n, r) => n + (Array.isArray(r.alerts) ? r.alerts.length : 0), 0);
      } else {
        report.alerts += fresh.length;
      }
      o.onPage?.({ collection, records: fresh.length, since: outcome.window.since });
      window = outcome.window;
      crowded = outcome.crowded;
      if (outcome.caughtUp) break;
    }
    if (!report.caughtUp) break;
  }
  await inTransaction(db, async (tx) => {
    await lockTenantForIngestion(tx, o.tenantId);
    await o.sink.finish(tx, o.tenantId);
  });
  return report;
}

/**
 * Incidents come with `$expand=alerts`. Large tenants have seen Graph answer such pages with a
 * persistent 500 (the contract addendum, section 7.2); then the page is read again without the
 * expansion, and the alerts arrive through alerts_v2, which the sync reads next anyway.
 */
async function readPage(
  source: GraphSource,
  collection: SyncCollection,
  q: { filter: string | null; skip: number; top: number; orderby: string },
  report: SyncReport,
): Promise<Record<string, unknown>[]> {
  if (collection !== "incidents") return source.page(collection, q);
  if (!report.expandDropped) {
    try {
      return await source.page(collection, { ...q, expand: "alerts" });
    } catch (e) {
      if (!(e instanceof Error && "status" in e && (e as { status: unknown }).status === 500)) throw e;
      report.expandDropped = true;
    }
  }
  return source.page(collection, q);
}
