/**
 * Alert ingestion: the one transaction that stores a batch of alerts and correlates them into
 * incidents. This is the module's whole public surface; the stages behind it (reading up front,
 * deciding in memory, recomputing, writing at the end) live in the files beside it, so callers
 * depend on what ingestion promises, not on how a batch is carried out.
 */
import { sql, type Kysely } from "kysely";
import type { Database } from "../tables.js";
import type { CorrelationReason } from "../../schema/enums.js";
import type { CorrelationLimits } from "../../domain/correlate.js";
import { entityKeys } from "../../domain/entities.js";
import type { NormalizedAlert } from "../../domain/normalize-alert.js";
import { isPostgres } from "../dialect.js";
import type { Batch } from "./batch.js";
import { loadBatch } from "./load.js";
import { ingestOne } from "./correlate.js";
import { finishBatch } from "./write.js";

export interface IngestOptions {
  /** How far apart in time an alert and an incident's last sighting of a shared entity may be. */
  windowMs: number;
  /** The ingesting app: shown in audit rows for the changes its alerts make to stored alerts and incidents. */
  actor: string;
  requestId: string | null;
  /** When the batch arrived: the time of its audit rows, and of a resolution that gives none. */
  now?: string;
  /** How large correlation lets an incident grow (default: DEFAULT_LIMITS). */
  limits?: CorrelationLimits;
}

export interface IngestResult {
  id: string;
  incidentId: string;
  outcome: "created" | "updated";
  /** How the alert was placed: a new incident, or the reasons it joined one. */
  correlation: {
    incident: "new" | "joined";
    reasons: CorrelationReason[];
    sharedEntities: string[];
    /** Present when the alert shared entities with incidents it did not join because of a limit: which, and why. */
    notJoined?: { incidentId: string; why: string }[];
  };
  merged: { incidentId: string; into: string; reasons: CorrelationReason[] }[];
  mergeRefused: { incidentId: string; why: string }[];
}

/** Ingests a batch in one transaction: all alerts land, or none do. */
export async function ingestAlerts(db: Kysely<Database>, tenantId: string, alerts: NormalizedAlert[], options: IngestOptions): Promise<IngestResult[]> {
  const opts = { ...options, now: options.now ?? new Date().toISOString() };
  return db.transaction().execute(async (trx) => {
    // One ingestion at a time per tenant, across every node: correlation reads what the previous
    // batch wrote, so no cluster gets two incidents and no pair is merged twice. (The tenant's
    // counters are written only here, under the same lock.)
    if (isPostgres(trx)) await sql`select pg_advisory_xact_lock(hashtext(${`triage-ingest:${tenantId}`}))`.execute(trx);
    const tenant = await trx.selectFrom("tenants").select(["next_incident_id", "next_alert_seq"]).where("id", "=", tenantId).executeTakeFirstOrThrow();
    const batch: Batch = {
      tenantId,
      nextIncident: tenant.next_incident_id,
      nextSeq: tenant.next_alert_seq,
      incidents: new Map(),
      alerts: new Map(),
      sightings: new Map(),
      keysOf: new Map(),
      touched: new Map(),
      merges: [],
      alertsLoaded: new Set(),
      dirty: new Map(),
      detectors: new Map(),
      events: [],
      audit: [],
    };
    const keyed = alerts.map((alert) => ({ alert, keys: entityKeys((alert.evidence as Record<string, unknown>[]) ?? []).map((k) => k.key) }));
    await loadBatch(trx, batch, keyed, opts.windowMs);
    const results: IngestResult[] = [];
    for (const { alert, keys } of keyed) results.push(await ingestOne(trx, batch, alert, keys, opts));
    await finishBatch(trx, batch, { actor: opts.actor, requestId: opts.requestId, at: opts.now });
    return results;
  });
}
