/**
 * The change feed: one row per incident or alert a transaction created or changed, written by that
 * same transaction just before it commits. The store's entity writes note what they touch
 * (`noteChange`); `inTransaction` (transaction.ts) writes the notes at the end of the transaction in
 * one multi-row insert. On SQLite the rows are numbered there, after the tenant's last number (its
 * writes are serialized: transactions take their numbers in commit order); on PostgreSQL they are written
 * unnumbered and the feed sequencer numbers them after the commit (feed-sequencer.ts), except in a
 * transaction already serialized per tenant (ingestion: `numberFeedInTransaction`). Either way a
 * reader that has seen number n will never later see a smaller one appear, nothing uncommitted is
 * ever in the feed, and nothing committed is missing from it.
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from "kysely";
import type { ChangeFeedTable, Database } from "./tables.js";
import { ROWS_PER_INSERT } from "./chunks.js";
import { insertRows } from "./insert-rows.js";
import { isPostgres } from "./dialect.js";
import type { Store } from "./open.js";
import { readArrays, slot } from "./prepared.js";
import { runText, statementText } from "./statement-text.js";

export type FeedEntityType = ChangeFeedTable["entity_type"];
export type FeedChangeType = ChangeFeedTable["change_type"];

/** The PostgreSQL channel a committing writer notifies; its payload is the tenant id. */
export const FEED_CHANNEL = "triage_feed";

/** The actor recorded when no write in the transaction named one. */
export const SYSTEM_FEED_ACTOR = "Triage";

interface Pending {
  actor: string | null;
  /** An automation rule made these changes: they do not trigger rules again. */
  automated: boolean;
  /** A signed-in person made these changes: they stop the incidents' first-action clocks. */
  byPerson: boolean;
  /**
   * PostgreSQL: number the rows inside the transaction, taking the tenant's counter row until it
   * commits, instead of leaving them to the sequencer (`numberFeedInTransaction`).
   */
  inline: boolean;
  /** tenant|type|id → the change; "created" wins over "updated". An SLA breach has a key of its own. */
  changes: Map<string, { tenantId: string; entityType: FeedEntityType; entityId: string; changeType: FeedChangeType; slaBreach?: string }>;
}

const pending = new WeakMap<Transaction<Database>, Pending>();

function pendingOf(tx: Transaction<Database>): Pending {
  let p = pending.get(tx);
  if (!p) pending.set(tx, (p = { actor: null, automated: false, byPerson: false, inline: false, changes: new Map() }));
  return p;
}

/** Notes that the transaction created or changed an entity; written to the feed when it ends. */
export function noteChange(
  tx: Transaction<Database>,
  tenantId: string,
  entityType: FeedEntityType,
  entityId: string | number,
  changeType: FeedChangeType,
): void {
  const id = String(entityId);
  const key = `${tenantId}|${entityType}|${id}`;
  const p = pendingOf(tx);
  const seen = p.changes.get(key);
  if (seen?.changeType === "created") return;
  p.changes.set(key, { tenantId, entityType, entityId: id, changeType });
}

/** What the transaction has noted so far, to go back to if the work since is undone (a savepoint rolled back). */
export function feedMark(tx: Transaction<Database>): { actor: string | null; changes: Pending["changes"] } {
  const p = pendingOf(tx);
  return { actor: p.actor, changes: new Map(p.changes) };
}

/** Forgets what was noted since `mark`. */
export function feedRewind(tx: Transaction<Database>, mark: ReturnType<typeof feedMark>): void {
  const p = pendingOf(tx);
  p.actor = mark.actor;
  p.changes = mark.changes;
}

/** Names who makes the transaction's changes (the first name given is kept). */
export function noteFeedActor(tx: Transaction<Database>, actor: string): void {
  const p = pendingOf(tx);
  if (p.actor === null) p.actor = actor;
}

/** Marks the transaction's changes as an automation rule's (automation never runs again on them). */
export function noteAutomated(tx: Transaction<Database>): void {
  pendingOf(tx).automated = true;
}

/**
 * PostgreSQL: the transaction numbers its own feed rows, as SQLite's do, instead of leaving them to the
 * feed sequencer. For a transaction that already holds a lock serializing its tenant's writes of its
 * kind (ingestion's): holding the counter row too through its commit costs it no concurrency, and it
 * spares its many rows a second write (numbering updates each row) and its caller the wait for a run.
 */
export function numberFeedInTransaction(tx: Transaction<Database>): void {
  pendingOf(tx).inline = true;
}

/** Marks the transaction's changes as made by a signed-in person (docs/sla.md#first-action). */
export function noteByPerson(tx: Transaction<Database>): void {
  pendingOf(tx).byPerson = true;
}

/**
 * Notes that an incident's SLA clock (`firstAction` or `resolve`) was breached: a feed record of its
 * own (an update of the incident, marked with the breach), which triggers automation rules.
 */
export function noteSlaBreach(tx: Transaction<Database>, tenantId: string, incidentId: string | number, kind: string): void {
  const id = String(incidentId);
  pendingOf(tx).changes.set(`${tenantId}|incident|${id}|sla:${kind}`, {
    tenantId,
    entityType: "incident",
    entityId: id,
    changeType: "updated",
    slaBreach: kind,
  });
}

/**
 * A tenant's last feed number (0 before any change), as an SQL expression of the tenant `tenant` names.
 *
 * PostgreSQL: the tenant's counter row, which every numbering advances.
 *
 * SQLite: the feed's own largest number — the table is clustered on (tenant, seq), so it is one seek —
 * or the counter row where that is larger. A write takes its numbers after it and leaves the counter
 * row alone: every SQLite write transaction updated that row only to number its feed rows, a statement
 * and a page of the commit's WAL. Pruning, which deletes the feed's oldest rows and could delete all
 * of them, first raises the counter to the feed's end (`raiseFeedFloor`), so numbers never go back.
 */
export function feedEnd(postgres: boolean, tenant: RawBuilder<unknown>): RawBuilder<number> {
  if (postgres) return sql<number>`coalesce((select f.last_seq from feed_counters f where f.tenant_id = ${tenant}), 0)`;
  return sql<number>`max(coalesce((select max(e.seq) from change_feed e where e.tenant_id = ${tenant}), 0),
    coalesce((select f.last_seq from feed_counters f where f.tenant_id = ${tenant}), 0))`;
}

/**
 * SQLite: raises the tenant's counter row to its feed's end before pruning deletes rows (see
 * `feedEnd`). PostgreSQL's counter is the end already.
 */
export async function raiseFeedFloor(tx: Transaction<Database>, tenantId: string): Promise<void> {
  if (isPostgres(tx)) return;
  await sql`insert into feed_counters (tenant_id, last_seq) values (${tenantId}, ${feedEnd(false, sql`${tenantId}`)})
    on conflict (tenant_id) do update set last_seq = max(feed_counters.last_seq, excluded.last_seq)`.execute(tx);
}

/**
 * Writes the transaction's noted changes: per tenant, one multi-row insert, numbered after its
 * counter's update (SQLite, or `numberFeedInTransaction`) or left unnumbered for the sequencer.
 * Returns the tenants whose feed grew (for the after-commit wake-up) and whether rows were left
 * unnumbered (the sequencer must run once the transaction commits).
 */
export async function flushFeed(tx: Transaction<Database>): Promise<{ tenants: string[]; unnumbered: boolean }> {
  const p = pending.get(tx);
  if (!p || p.changes.size === 0) return { tenants: [], unnumbered: false };
  pending.delete(tx);
  const byTenant = new Map<string, (typeof p.changes extends Map<string, infer V> ? V : never)[]>();
  for (const c of p.changes.values()) {
    const list = byTenant.get(c.tenantId);
    if (list) list.push(c);
    else byTenant.set(c.tenantId, [c]);
  }
  const at = new Date().toISOString();
  const actor = p.actor ?? SYSTEM_FEED_ACTOR;
  for (const [tenantId, list] of byTenant) {
    if (isPostgres(tx)) {
      await flushPostgres(tx, { tenantId, list, at, actor, automated: p.automated, byPerson: p.byPerson }, p.inline);
      continue;
    }
    // `feedEnd` as SQL text kept once built (it runs in every write transaction), the tenant its two parameters.
    const text = statementText("feed-end|sqlite", () => sql`select ${feedEnd(false, sql.raw("?"))} as last_seq`.compile(tx).sql);
    const { rows: end } = await runText<{ last_seq: number }>(tx, text, [tenantId, tenantId]);
    const first = Number(end[0]!.last_seq) + 1;
    const rows: ChangeFeedTable[] = list.map((c, i) => ({
      tenant_id: tenantId,
      seq: first + i,
      entity_type: c.entityType,
      entity_id: c.entityId,
      change_type: c.changeType,
      at,
      actor,
      automated: p.automated ? 1 : 0,
      by_person: p.byPerson && c.slaBreach === undefined ? 1 : 0,
      sla_breach: c.slaBreach ?? null,
    }));
    await insertRows(tx, "change_feed", rows, ROWS_PER_INSERT);
  }
  return { tenants: [...byTenant.keys()], unnumbered: isPostgres(tx) && !p.inline };
}

type NotedChange = { entityType: FeedEntityType; entityId: string; changeType: FeedChangeType; slaBreach?: string | undefined };

/** One tenant's feed rows as a write leaves them: its changes, when, by whom, and how made. */
export interface FeedRows {
  tenantId: string;
  list: readonly NotedChange[];
  at: string;
  actor: string;
  automated: boolean;
  byPerson: boolean;
}

/** PostgreSQL: the noted changes as rows `c` (entity_type, entity_id, change_type, by_person, sla_breach, n). */
function feedChanges(list: readonly NotedChange[], byPerson: boolean): RawBuilder<unknown> {
  // As on SQLite: a breach is the watch's record, never a person's change.
  const people = list.map((c) => (byPerson && c.slaBreach === undefined ? 1 : 0));
  const breaches = list.map((c) => c.slaBreach ?? null);
  return sql`unnest(${list.map((c) => c.entityType)}::text[], ${list.map((c) => c.entityId)}::text[], ${list.map((c) => c.changeType)}::text[],
      ${people}::integer[], ${breaches}::text[])
      with ordinality as c(entity_type, entity_id, change_type, by_person, sla_breach, n)`;
}

/**
 * PostgreSQL: the statement inserting changes into the feed unnumbered, in the order noted, for the
 * feed sequencer to number once they have committed. With `guard`, only if that condition holds (a
 * write at once: that its guarded update wrote its row, store/write-at-once.ts).
 */
export function unnumberedFeedInsert(rows: FeedRows, guard: RawBuilder<unknown> = sql`true`): RawBuilder<unknown> {
  return sql`insert into change_feed (tenant_id, entity_type, entity_id, change_type, at, actor, automated, by_person, sla_breach)
      select ${rows.tenantId}, c.entity_type, c.entity_id, c.change_type, ${rows.at}, ${rows.actor}, ${rows.automated ? 1 : 0}::integer, c.by_person, c.sla_breach
      from ${feedChanges(rows.list, rows.byPerson)}
      where ${guard}
      order by c.n`;
}

/**
 * PostgreSQL: the rows in one statement, in the order they were noted. Unnumbered (`seq` null) unless
 * `numbered`: the feed sequencer numbers them once the transaction has committed (feed-sequencer.ts),
 * so the transaction does not take its tenant's counter row and a tenant's writes commit side by side.
 * Numbered, the counter's update, the rows and the notification are one statement, the transaction's
 * last (the counter row is held only while committing; the notification is delivered only if it commits).
 */
async function flushPostgres(tx: Transaction<Database>, rows: FeedRows, numbered: boolean): Promise<void> {
  const { tenantId, list, at, actor, automated } = rows;
  const changes = feedChanges(list, rows.byPerson);
  if (!numbered) {
    await unnumberedFeedInsert(rows).execute(tx);
    return;
  }
  await sql`with counter as (
      insert into feed_counters (tenant_id, last_seq) values (${tenantId}, ${list.length}::integer)
      on conflict (tenant_id) do update set last_seq = feed_counters.last_seq + excluded.last_seq
      returning last_seq
    ), written as (
      insert into change_feed (tenant_id, seq, entity_type, entity_id, change_type, at, actor, automated, by_person, sla_breach)
      select ${tenantId}, counter.last_seq - ${list.length}::integer + c.n::integer, c.entity_type, c.entity_id, c.change_type, ${at}, ${actor},
        ${automated ? 1 : 0}::integer, c.by_person, c.sla_breach
      from counter, ${changes}
    )
    select pg_notify(${FEED_CHANNEL}, ${tenantId})`.execute(tx);
}

type Listener = (tenantId: string) => void;
const listeners = new WeakMap<Kysely<Database>, Set<Listener>>();

/** Calls `fn` after each commit on `db` in this process that grew a tenant's feed; returns the unsubscribe. */
export function onFeedCommit(db: Kysely<Database>, fn: Listener): () => void {
  let set = listeners.get(db);
  if (!set) listeners.set(db, (set = new Set()));
  set.add(fn);
  return () => set.delete(fn);
}

/** Tells this process's listeners that the tenants' feeds grew (after the commit). */
export function announceCommit(db: Kysely<Database>, tenants: readonly string[]): void {
  const set = listeners.get(db);
  if (!set) return;
  for (const t of tenants) for (const fn of set) fn(t);
}

/** The tenant's last feed number (0 before any change). */
export async function lastFeedSeq(db: Kysely<Database> | Transaction<Database>, tenantId: string): Promise<number> {
  const { rows } = await sql<{ last_seq: number | string }>`select ${feedEnd(isPostgres(db), sql`${tenantId}`)} as last_seq`.execute(db);
  return Number(rows[0]?.last_seq ?? 0);
}

export interface FeedEntry {
  seq: number;
  entityType: FeedEntityType;
  entityId: string;
  changeType: FeedChangeType;
  at: string;
  actor: string;
  /** Made by an automation rule. */
  automated: boolean;
  /** Made by a signed-in person. */
  byPerson: boolean;
  /** The record of an SLA breach ("firstAction" or "resolve"), or null. */
  slaBreach: string | null;
}

/** The tenant's feed after `afterSeq`, in order, at most `limit` entries. */
export async function readFeed(db: Kysely<Database>, tenantId: string, afterSeq: number, limit: number): Promise<FeedEntry[]> {
  const rows = await db
    .selectFrom("change_feed")
    .select(["seq", "entity_type", "entity_id", "change_type", "at", "actor", "automated", "by_person", "sla_breach"])
    .where("tenant_id", "=", tenantId)
    .where("seq", ">", afterSeq)
    .orderBy("seq")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    entityType: r.entity_type,
    entityId: r.entity_id,
    changeType: r.change_type,
    at: r.at,
    actor: r.actor,
    automated: Number(r.automated) === 1,
    byPerson: Number(r.by_person) === 1,
    slaBreach: r.sla_breach,
  }));
}

/** Compiled once per database (the placeholders differ between SQLite and PostgreSQL). */
const compiledFeedReads = new WeakMap<Kysely<Database>, ReturnType<typeof feedReadQuery>>();
function feedReadQuery(db: Kysely<Database>) {
  return db
    .selectFrom("change_feed")
    .select(["seq", "entity_type", "entity_id", "change_type", "at", "actor", "automated", "by_person", "sla_breach"])
    .where("tenant_id", "=", slot("tenant") as unknown as string)
    .where("seq", ">", slot("after") as unknown as number)
    .orderBy("seq")
    .limit(slot("limit") as unknown as number)
    .compile();
}

/**
 * readFeed as a hot read (Store.arrays): on SQLite it runs on the read-only connection, so it does not
 * wait behind the writes queued on the main one; it sees every commit and nothing in flight.
 */
export async function readFeedHot(store: Store, tenantId: string, afterSeq: number, limit: number): Promise<FeedEntry[]> {
  let compiled = compiledFeedReads.get(store.db);
  if (!compiled) compiledFeedReads.set(store.db, (compiled = feedReadQuery(store.db)));
  const rows = await readArrays(store, compiled, { tenant: tenantId, after: afterSeq, limit });
  return rows.map((r) => ({
    seq: Number(r[0]),
    entityType: r[1] as FeedEntityType,
    entityId: r[2] as string,
    changeType: r[3] as FeedChangeType,
    at: r[4] as string,
    actor: r[5] as string,
    automated: Number(r[6]) === 1,
    byPerson: Number(r[7]) === 1,
    slaBreach: r[8] as string | null,
  }));
}
