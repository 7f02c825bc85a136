/**
 * Small writes of many concurrent callers, committed together. Each caller's `fn` runs inside one
 * shared transaction, under a savepoint of its own (one that throws undoes only its own writes and
 * rejects only its own promise), and its promise settles once that transaction has committed — so a
 * caller never acts on a write that could still be lost.
 *
 * Why: on SQLite every commit waits for the disk (synchronous = FULL) and, better-sqlite3 being
 * synchronous, blocks the event loop meanwhile. The delivery engine's bookkeeping — a claim, then a
 * cursor advance per acknowledged POST — was an fsync each, more of them than ingestion's own; grouped,
 * a burst costs one. Callers gather until the end of the event loop's current turn (the acknowledgements
 * read in one poll phase), and while the previous group commits or waits for the write connection.
 * A group holds at most `max` members; nothing else is queued (a caller waits for its promise).
 *
 * `durable: false` is for writes whose loss is harmless, such as the delivery engine's bookkeeping (a
 * lost cursor advance re-sends notifications with the same ids; a lost claim is a lease that lapses):
 * the commit does not wait for the disk — SQLite's `synchronous = NORMAL` for that transaction, which
 * in WAL mode loses it only to a power failure before the next durable commit, never to a crash of
 * the process; PostgreSQL's `synchronous_commit = off`, lost only to a crash of the database server
 * within a fraction of a second.
 */
import { sql } from "kysely";
import { isPostgres } from "./dialect.js";
import type { StoreDb, StoreTx } from "./transaction.js";
import { withSavepoint } from "./transaction.js";
import { relaxedCommit } from "./wal-sync.js";

interface Member {
  fn: (tx: StoreTx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

export class GroupCommit {
  private queue: Member[] = [];
  private scheduled = false;
  private committing = false;

  private readonly max: number;
  private readonly durable: boolean;

  constructor(
    private readonly db: StoreDb,
    options: { max?: number; durable?: boolean } = {},
  ) {
    this.max = options.max ?? 256;
    this.durable = options.durable ?? true;
  }

  /** Runs `fn` in the next group's transaction; settles after that transaction commits (or fails). */
  run<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.committing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.commit();
    });
  }

  private async commit(): Promise<void> {
    if (this.committing || this.queue.length === 0) return;
    this.committing = true;
    let group: Member[] = [];
    const outcomes: { ok: boolean; value: unknown }[] = [];
    const work = async (tx: StoreTx) => {
      if (!this.durable && isPostgres(tx)) await sql`set local synchronous_commit = off`.execute(tx);
      // Taken once the write connection is ours: whoever came while waiting for it joins.
      group = this.queue.splice(0, this.max);
      for (const m of group) {
        try {
          outcomes.push({ ok: true, value: await withSavepoint(tx, () => m.fn(tx)) });
        } catch (e) {
          outcomes.push({ ok: false, value: e });
        }
      }
    };
    try {
      if (this.durable || isPostgres(this.db)) await this.db.transaction().execute(work);
      else await relaxedCommit(this.db, (conn) => conn.transaction().execute(work));
      group.forEach((m, i) => (outcomes[i]!.ok ? m.resolve(outcomes[i]!.value) : m.reject(outcomes[i]!.value)));
    } catch (e) {
      // A transaction that failed before it took its group (the store closed, the connection lost)
      // fails the callers waiting now, rather than being tried again for them without end.
      if (group.length === 0) group = this.queue.splice(0, this.max);
      for (const m of group) m.reject(e);
    } finally {
      this.committing = false;
      if (this.queue.length > 0) this.schedule();
    }
  }
}
