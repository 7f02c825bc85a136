/**
 * PostgreSQL's feed sequencer. A writing transaction inserts its change-feed rows unnumbered (`seq`
 * null); the sequencer gives committed rows their tenant's next numbers. Numbering one tenant's writes
 * inside each writing transaction made them commit one at a time: the counter row was locked by the
 * transaction's last statement and held through its commit's WAL flush. Here one short statement
 * numbers every row committed so far, for all tenants at once, while the writers commit side by side.
 *
 * What readers rely on still holds. A reader reads `seq > cursor` and the counter's `last_seq`, and an
 * unnumbered row matches neither, so nothing uncommitted is ever read. A run takes each tenant's
 * counter row and holds it until it commits, so numbers become visible in order: a reader that has
 * seen number n never later sees a smaller one appear. Rows are numbered once: a run locks the rows
 * it numbers (`for update skip locked`), and a row another run numbered first no longer matches
 * `seq is null`. The rows are in the store with the change that caused them, so a crash loses none:
 * the next run, on any node, numbers what is left.
 *
 * When runs happen: after each of this process's writing transactions commits (`inTransaction` waits
 * for the run, so a write's own feed rows are numbered, and announced, when it returns, as before),
 * once when the store opens, and on a timer (`SWEEP_MS`), which numbers the rows of a node that died
 * between its commit and its run. Runs in one process do not overlap: a write that commits while a
 * run is under way waits for the next one, which numbers everything committed until it starts.
 */
import { sql, type Kysely } from "kysely";
import type { Database } from "./tables.js";
import { announceCommit, FEED_CHANNEL } from "./feed.js";

/** How often a node looks for committed rows no run has numbered (those of a node that stopped). */
export const SWEEP_MS = 1000;
/** The most rows one statement numbers; a run goes on while statements come back full. */
const ROWS_PER_STATEMENT = 10_000;
/** The most statements one run executes (bounds a run; the next run goes on). */
const STATEMENTS_PER_RUN = 20;

class Sequencer {
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly db: Kysely<Database>) {}

  /** Numbers every row committed before this call (resolves when they are); errors are left to the next run. */
  run(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (!this.running) return this.start();
    // A run under way may have started before the caller's commit: the caller waits for the next one.
    this.queued ??= this.running.then(() => {
      this.queued = null;
      return this.start();
    });
    return this.queued;
  }

  sweepEvery(ms: number): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.run(), ms);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.queued;
    await this.running;
  }

  private start(): Promise<void> {
    // A run that fails (the database unreachable, a deadlock) leaves its rows unnumbered, where the
    // next run finds them: the next write's, or the sweep's within SWEEP_MS. The write that waited has
    // committed; it is not failed for it.
    const p = this.numberAll()
      .catch(() => undefined)
      .finally(() => {
        if (this.running === p) this.running = null;
      });
    this.running = p;
    return p;
  }

  private async numberAll(): Promise<void> {
    for (let i = 0; i < STATEMENTS_PER_RUN; i++) {
      const { rows } = await numberStatement(ROWS_PER_STATEMENT).execute(this.db);
      if (rows.length === 0) return;
      announceCommit(
        this.db,
        rows.map((r) => r.tenant_id),
      );
      if (rows.reduce((n, r) => n + Number(r.n), 0) < ROWS_PER_STATEMENT) return;
    }
  }
}

/**
 * One statement, committed on its own: the oldest unnumbered rows (locked, skipping rows another run
 * holds), each tenant's counter advanced by its count (taken in tenant order, so two runs never wait on
 * each other's counters crosswise), the rows numbered, and a notification per tenant for the readers
 * of every node (delivered when the statement commits).
 *
 * The order: a transaction's rows stay together and in the order it noted them (rows of transactions
 * committing side by side interleave in `id`), transactions ordered by their first row's `id`. A
 * transaction that read another's committed change wrote its feed rows after that commit, so it comes
 * after it: an entity's records keep the order of its changes. (`xmin` only groups the rows: its order
 * is when a transaction began to write, not when it committed.)
 */
function numberStatement(limit: number) {
  return sql<{ tenant_id: string; n: number | string }>`with todo as (
      select id, tenant_id, xmin::text as tx from change_feed where seq is null order by id limit ${limit} for update skip locked
    ), counts as (
      select tenant_id, count(*)::integer as n from todo group by tenant_id
    ), bumped as (
      insert into feed_counters (tenant_id, last_seq) select tenant_id, n from counts order by tenant_id
      on conflict (tenant_id) do update set last_seq = feed_counters.last_seq + excluded.last_seq
      returning tenant_id, last_seq
    ), numbered as (
      update change_feed f set seq = b.last_seq - c.n + t.n
      from (
        select id, tenant_id, row_number() over (partition by tenant_id order by first, id) as n
        from (select id, tenant_id, min(id) over (partition by tx) as first from todo) w
      ) t
        join counts c on c.tenant_id = t.tenant_id
        join bumped b on b.tenant_id = t.tenant_id
      where f.seq is null and f.id = t.id
      returning f.tenant_id
    )
    select tenant_id, count(*)::integer as n, pg_notify(${FEED_CHANNEL}, tenant_id) from numbered group by tenant_id`;
}

const sequencers = new WeakMap<Kysely<Database>, Sequencer>();

function sequencerOf(db: Kysely<Database>): Sequencer {
  let s = sequencers.get(db);
  if (!s) sequencers.set(db, (s = new Sequencer(db)));
  return s;
}

/** Numbers the feed rows committed so far on a PostgreSQL store and announces their tenants. */
export function numberFeed(db: Kysely<Database>): Promise<void> {
  return sequencerOf(db).run();
}

/** Starts the store's sweep (a run now, then every `ms`); returns what stops it and waits for a run under way. */
export async function startFeedSequencer(db: Kysely<Database>, ms = SWEEP_MS): Promise<() => Promise<void>> {
  const s = sequencerOf(db);
  await s.run();
  s.sweepEvery(ms);
  return () => s.stop();
}
