/**
 * Fault configurations, their rules' counters and the log of injected faults. A configuration belongs
 * to a tenant (client_id '') or to one app; the injector decides (a pure function handed in) inside
 * the transaction that advances the counters and records what it injected, so that concurrent
 * requests, on any node, each see the next draw of the sequence exactly once.
 */
import type { Kysely } from "kysely";
import type { Database } from "./tables.js";
import { isPostgres } from "./dialect.js";
import type { FaultConfig, FaultEvent, RuleCounter } from "../schema/faults.js";

/** The tenant-wide configuration's client_id. */
export const TENANT_SCOPE = "";
/** Injected faults kept per tenant; older ones are deleted as new ones are written. */
export const FAULT_EVENTS_KEPT = 10_000;

export interface StoredFaults {
  tenantId: string;
  /** '' for the tenant's configuration. */
  clientId: string;
  config: FaultConfig;
  counters: RuleCounter[];
  updatedAt: string;
  updatedBy: string;
}

type Row = Database["fault_configs"];

function stored(r: Row): StoredFaults {
  return {
    tenantId: r.tenant_id,
    clientId: r.client_id,
    config: JSON.parse(r.config) as FaultConfig,
    counters: JSON.parse(r.counters) as RuleCounter[],
    updatedAt: r.updated_at,
    updatedBy: r.updated_by,
  };
}

/** Sets (or replaces) a configuration; its counters start again from zero. */
export async function setFaultConfig(db: Kysely<Database>, tenantId: string, clientId: string, config: FaultConfig, actor: string): Promise<StoredFaults> {
  const row: Row = {
    tenant_id: tenantId,
    client_id: clientId,
    config: JSON.stringify(config),
    counters: JSON.stringify(config.rules.map(() => ({ matched: 0, fired: 0 }))),
    updated_at: new Date().toISOString(),
    updated_by: actor,
  };
  await db
    .insertInto("fault_configs")
    .values(row)
    .onConflict((oc) =>
      oc
        .columns(["tenant_id", "client_id"])
        .doUpdateSet({ config: row.config, counters: row.counters, updated_at: row.updated_at, updated_by: row.updated_by }),
    )
    .execute();
  return stored(row);
}

/** Removes a configuration; whether there was one. */
export async function clearFaultConfig(db: Kysely<Database>, tenantId: string, clientId: string): Promise<boolean> {
  const r = await db.deleteFrom("fault_configs").where("tenant_id", "=", tenantId).where("client_id", "=", clientId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** A tenant's configurations: its own first, then its apps'. */
export async function listFaultConfigs(db: Kysely<Database>, tenantId: string): Promise<StoredFaults[]> {
  const rows = await db.selectFrom("fault_configs").selectAll().where("tenant_id", "=", tenantId).orderBy("client_id").execute();
  return rows.map(stored);
}

/** A fault to record: what the injector decided for one rule. */
export type NewFaultEvent = Omit<FaultEvent, "seq" | "scope">;

/**
 * Runs `decide` on the configuration as it is now (null: none any more) inside one transaction, and
 * writes back the counters it returns and the faults it injected.
 */
export async function applyFaultConfig<T>(
  db: Kysely<Database>,
  tenantId: string,
  clientId: string,
  decide: (current: StoredFaults) => { counters: RuleCounter[]; events: NewFaultEvent[]; result: T },
): Promise<T | null> {
  const out = await db.transaction().execute(async (trx) => {
    let q = trx.selectFrom("fault_configs").selectAll().where("tenant_id", "=", tenantId).where("client_id", "=", clientId);
    if (isPostgres(trx)) q = q.forUpdate();
    const row = await q.executeTakeFirst();
    if (!row) return null;
    const d = decide(stored(row));
    await trx
      .updateTable("fault_configs")
      .set({ counters: JSON.stringify(d.counters) })
      .where("tenant_id", "=", tenantId)
      .where("client_id", "=", clientId)
      .execute();
    if (d.events.length) {
      const inserted = await trx
        .insertInto("fault_events")
        .values(
          d.events.map((e) => ({
            tenant_id: tenantId,
            client_id: e.clientId,
            scope: clientId,
            rule: e.rule,
            fault: e.fault,
            status: e.status,
            delay_ms: e.delayMs,
            at: e.at,
            request_id: e.requestId,
            method: e.method,
            route: e.route,
            retry_attempt: e.retryAttempt,
          })),
        )
        .returning("seq")
        .execute();
      const last = Number(inserted[inserted.length - 1]!.seq);
      // Bounded: now and then, the oldest beyond what is kept go.
      if (inserted.some((r) => Number(r.seq) % 100 === 0)) {
        await trx
          .deleteFrom("fault_events")
          .where("tenant_id", "=", tenantId)
          .where("seq", "<=", last - FAULT_EVENTS_KEPT)
          .execute();
      }
    }
    return { result: d.result };
  });
  return out === null ? null : out.result;
}

/** A tenant's injected faults after `after`, oldest first, at most `limit`; optionally one app's only. */
export async function listFaultEvents(
  db: Kysely<Database>,
  tenantId: string,
  opts: { after?: number; clientId?: string | undefined; limit: number },
): Promise<FaultEvent[]> {
  let q = db
    .selectFrom("fault_events")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("seq", ">", opts.after ?? 0);
  if (opts.clientId !== undefined) q = q.where("client_id", "=", opts.clientId);
  const rows = await q.orderBy("seq").limit(opts.limit).execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    at: r.at,
    clientId: r.client_id,
    scope: r.scope === TENANT_SCOPE ? "tenant" : "app",
    rule: Number(r.rule),
    fault: r.fault,
    status: r.status === null ? null : Number(r.status),
    delayMs: r.delay_ms === null ? null : Number(r.delay_ms),
    requestId: r.request_id,
    method: r.method,
    route: r.route,
    retryAttempt: r.retry_attempt === null ? null : Number(r.retry_attempt),
  }));
}
