/**
 * SLAs' rows (docs/sla.md): each tenant's policy, and each incident's clocks with `next_due_ms`, the
 * earliest due time of a clock still running, indexed so that the breach watch finds what is due — and
 * when it next must look — with one index read. A breach is recorded by a guarded update (only while
 * the clock is unbreached, unmet, open and past due) in the transaction that writes its change-feed
 * record, so however many nodes race, one records it. On PostgreSQL the candidates are locked with
 * FOR UPDATE SKIP LOCKED, and a change to clocks notifies the other nodes' watches.
 */
import { sql, type Kysely, type Transaction } from "kysely";
import type { Database, IncidentSlaTable, SlaPolicyTable } from "./tables.js";
import type { SlaKind, SlaState } from "../schema/sla.js";
import { isPostgres } from "./dialect.js";
import { noteSlaBreach } from "./feed.js";
import { ensureCursor } from "./automation.js";

export type { SlaPolicyTable };

type Db = Kysely<Database> | Transaction<Database>;

/** The PostgreSQL channel a transaction that changed clocks (or the policy) notifies. */
export const SLA_CHANNEL = "triage_sla";

const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function slaStateOf(r: IncidentSlaTable): SlaState {
  return {
    incidentId: Number(r.incident_id),
    severity: r.severity,
    startedMs: Number(r.started_ms),
    firstActionDueMs: n(r.first_action_due_ms),
    firstActionMs: n(r.first_action_ms),
    firstActionBy: r.first_action_by,
    firstActionBreachedMs: n(r.first_action_breached_ms),
    resolveDueMs: n(r.resolve_due_ms),
    closedMs: n(r.closed_ms),
    resolveBreachedMs: n(r.resolve_breached_ms),
    nextDueMs: n(r.next_due_ms),
  };
}

function rowOf(tenantId: string, s: SlaState): IncidentSlaTable {
  return {
    tenant_id: tenantId,
    incident_id: s.incidentId,
    severity: s.severity,
    started_ms: s.startedMs,
    first_action_due_ms: s.firstActionDueMs,
    first_action_ms: s.firstActionMs,
    first_action_by: s.firstActionBy,
    first_action_breached_ms: s.firstActionBreachedMs,
    resolve_due_ms: s.resolveDueMs,
    closed_ms: s.closedMs,
    resolve_breached_ms: s.resolveBreachedMs,
    next_due_ms: s.nextDueMs,
  };
}

export async function findSlaPolicy(db: Db, tenantId: string): Promise<SlaPolicyTable | undefined> {
  return db.selectFrom("sla_policies").selectAll().where("tenant_id", "=", tenantId).executeTakeFirst();
}

/** How long a node trusts what it read of whether a tenant has a policy (as it does fault settings). */
const POLICY_KNOWN_MS = 2_000;
/** Tenants remembered at most; past it the memory starts afresh. */
const POLICY_KNOWN_MAX = 10_000;
const policyKnown = new WeakMap<Db, Map<string, { has: boolean; at: number }>>();

/**
 * Whether the tenant has an SLA policy, and so may have clocks (a tenant gets clocks only from its
 * first policy on, and a policy is never deleted). Read at most every two seconds per node: incident
 * listings of tenants without SLAs then skip the clocks' read altogether. A new policy shows on other
 * nodes within that time.
 */
export async function tenantHasSlaPolicy(db: Db, tenantId: string): Promise<boolean> {
  let known = policyKnown.get(db);
  if (!known) policyKnown.set(db, (known = new Map()));
  const now = Date.now();
  const hit = known.get(tenantId);
  if (hit && now - hit.at < POLICY_KNOWN_MS) return hit.has;
  const has = (await db.selectFrom("sla_policies").select("tenant_id").where("tenant_id", "=", tenantId).executeTakeFirst()) !== undefined;
  if (known.size >= POLICY_KNOWN_MAX) known.clear();
  known.set(tenantId, { has, at: now });
  return has;
}

/**
 * Saves the tenant's policy; the first one also starts the tenant's automation cursor, along which its
 * incidents' clocks are kept (features/sla/track.ts).
 */
export async function saveSlaPolicy(tx: Transaction<Database>, row: SlaPolicyTable): Promise<void> {
  await tx
    .insertInto("sla_policies")
    .values(row)
    .onConflict((oc) => oc.column("tenant_id").doUpdateSet({ definition: row.definition, updated_at: row.updated_at, updated_by: row.updated_by }))
    .execute();
  await ensureCursor(tx, row.tenant_id);
}

/** The clocks of the given incidents. */
export async function slaStates(db: Db, tenantId: string, incidentIds: readonly number[]): Promise<Map<number, SlaState>> {
  const out = new Map<number, SlaState>();
  if (incidentIds.length === 0) return out;
  const rows = await db
    .selectFrom("incident_slas")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("incident_id", "in", [...incidentIds])
    .execute();
  for (const r of rows) out.set(Number(r.incident_id), slaStateOf(r));
  return out;
}

/** Writes an incident's clocks. */
export async function putSlaState(tx: Transaction<Database>, tenantId: string, s: SlaState): Promise<void> {
  const row = rowOf(tenantId, s);
  const { tenant_id: _t, incident_id: _i, ...rest } = row;
  await tx
    .insertInto("incident_slas")
    .values(row)
    .onConflict((oc) => oc.columns(["tenant_id", "incident_id"]).doUpdateSet(rest))
    .execute();
}

/** The open clocks of a tenant, a page at a time by incident id (recomputing them after a policy change). */
export async function openSlaStates(tx: Transaction<Database>, tenantId: string, afterId: number, limit: number): Promise<SlaState[]> {
  const rows = await tx
    .selectFrom("incident_slas")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("closed_ms", "is", null)
    .where("incident_id", ">", afterId)
    .orderBy("incident_id")
    .limit(limit)
    .execute();
  return rows.map(slaStateOf);
}

/** Tells the other nodes' watches that clocks changed (PostgreSQL; delivered only on commit). */
export async function announceSla(tx: Transaction<Database>): Promise<void> {
  if (isPostgres(tx)) await sql`select pg_notify(${SLA_CHANNEL}, '')`.execute(tx);
}

/** The earliest due time of any running clock, or null (one read of the index). */
export async function earliestDue(db: Db): Promise<number | null> {
  const row = await db
    .selectFrom("incident_slas")
    .select((eb) => eb.fn.min("next_due_ms").as("at"))
    .executeTakeFirst();
  return n(row?.at);
}

export interface DueClock {
  tenantId: string;
  state: SlaState;
}

/** Up to `limit` clocks due at `nowMs`, earliest first; on PostgreSQL locked, skipping those another node holds. */
export async function dueSlaStates(tx: Transaction<Database>, nowMs: number, limit: number): Promise<DueClock[]> {
  let q = tx.selectFrom("incident_slas").selectAll().where("next_due_ms", "<=", nowMs).orderBy("next_due_ms").limit(limit);
  if (isPostgres(tx)) q = q.forUpdate().skipLocked();
  const rows = await q.execute();
  return rows.map((r) => ({ tenantId: r.tenant_id, state: slaStateOf(r) }));
}

/**
 * Records the breach of one clock, guarded: only if it is still unbreached, unmet, the incident open
 * and the due time passed — so of several nodes racing, one records it. On success, the breach's
 * change-feed record is noted in the same transaction. Returns whether this call recorded it.
 */
export async function recordBreach(tx: Transaction<Database>, tenantId: string, incidentId: number, kind: SlaKind, nowMs: number): Promise<boolean> {
  const breached = kind === "firstAction" ? "first_action_breached_ms" : "resolve_breached_ms";
  const due = kind === "firstAction" ? "first_action_due_ms" : "resolve_due_ms";
  let q = tx
    .updateTable("incident_slas")
    .set({ [breached]: nowMs })
    .where("tenant_id", "=", tenantId)
    .where("incident_id", "=", incidentId)
    .where(breached, "is", null)
    .where("closed_ms", "is", null)
    .where(due, "<=", nowMs);
  if (kind === "firstAction") q = q.where("first_action_ms", "is", null);
  const res = await q.executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) return false;
  noteSlaBreach(tx, tenantId, incidentId, kind);
  return true;
}

/** Sets an incident's next due time (after a breach stopped one of its clocks). */
export async function setNextDue(tx: Transaction<Database>, tenantId: string, incidentId: number, nextDueMs: number | null): Promise<void> {
  await tx.updateTable("incident_slas").set({ next_due_ms: nextDueMs }).where("tenant_id", "=", tenantId).where("incident_id", "=", incidentId).execute();
}
