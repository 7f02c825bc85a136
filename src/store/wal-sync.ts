import { fdatasync, openSync, closeSync } from "node:fs";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { sql, type Kysely } from "kysely";
import type { Database } from "./tables.js";
import { lendDirectRun, runText } from "./statement-text.js";

/**
 * Durable commits that do not hold the event loop, on a SQLite store that outlives its process.
 *
 * better-sqlite3 runs a statement to its end on the calling thread. With synchronous=FULL, a COMMIT
 * waits there for the WAL's fsync, and a commit that takes the WAL past its automatic-checkpoint size
 * then copies pages into the database file and waits for two more. Under ingestion that was a quarter
 * to a third of the one JS thread's time, more on a disk shared with other work, and nothing else ran
 * meanwhile (docs/benchmarks.md, "Ingestion").
 *
 * So a transaction run through `inTransaction` commits with synchronous=NORMAL (SQLite writes the WAL
 * but does not sync it; a crash then still leaves a consistent database), and its caller is answered
 * only after an fdatasync of the WAL file, on libuv's thread pool, that started after the commit
 * returned: the commit's frames were written by then, so they are on disk when it finishes. One
 * fdatasync covers every commit that returned before it started, so concurrent transactions share
 * it. An acknowledged write is as durable as with FULL. What differs: another connection may read
 * a commit for the milliseconds before its fdatasync ends; a power loss in that window can take back
 * what such a read saw, never what a writer was told had committed.
 *
 * Checkpoints move to a worker thread with its own connection (PASSIVE: it never waits for, or
 * blocks, the writer), started after commits, at most every CHECKPOINT_INTERVAL_MS: it copies the
 * committed pages into the database file and syncs it. Under steady writes new frames land while it
 * copies, so the WAL is never wholly copied when the next write begins, and SQLite starts the WAL
 * over only then; the writer's own automatic checkpoint stays on at BACKSTOP_PAGES for that. When it
 * runs, the worker has already copied all but the last pages, so the writer pays little more than
 * the syncs, once per BACKSTOP_PAGES of WAL rather than on every large commit.
 */
export class WalSync {
  private fd: number | null = null;
  /** Flushes asked for, and the last one whose fdatasync has finished (by number). */
  private asked = 0;
  private synced = 0;
  private syncing = false;
  private readonly waiting: { n: number; resolve(): void; reject(e: Error): void }[] = [];
  private readonly checkpoints: Checkpointer | null;
  private closed = false;

  constructor(
    private readonly walFile: string,
    options: { databaseFile?: string; sync?: (fd: number, done: (err: Error | null) => void) => void; open?: (file: string) => number } = {},
  ) {
    this.sync = options.sync ?? ((fd, done) => fdatasync(fd, (err) => done(err)));
    this.open = options.open ?? ((file) => openSync(file, "r"));
    this.checkpoints = options.databaseFile ? new Checkpointer(options.databaseFile) : null;
  }

  private readonly sync: (fd: number, done: (err: Error | null) => void) => void;
  private readonly open: (file: string) => number;

  /**
   * Runs `run` (one transaction) on the store's connection with synchronous=NORMAL, then waits until
   * what it committed is on disk. A transaction that fails changes nothing and is not waited for.
   */
  async commit<T>(db: Kysely<Database>, run: (conn: Kysely<Database>) => Promise<T>): Promise<T> {
    const out = await relaxedCommit(db, run);
    await this.flush();
    return out;
  }

  /** Resolves once an fdatasync of the WAL that started after this call has finished. */
  flush(): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the store is closed"));
    const n = ++this.asked;
    return new Promise((resolve, reject) => {
      this.waiting.push({ n, resolve, reject });
      if (!this.syncing) this.start();
    });
  }

  /** Flushes finished, and checkpoints the worker has run (for tests). */
  stats(): { flushes: number; checkpoints: number } {
    return { flushes: this.synced, checkpoints: this.checkpoints?.done ?? 0 };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.checkpoints?.close();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private start(): void {
    // Everything asked for until now: their commits returned before this sync starts.
    const upTo = this.asked;
    this.syncing = true;
    let fd: number;
    try {
      fd = this.fd ??= this.open(this.walFile);
    } catch (e) {
      this.finish(upTo, e as Error);
      return;
    }
    this.sync(fd, (err) => this.finish(upTo, err));
  }

  private finish(upTo: number, err: Error | null): void {
    this.syncing = false;
    if (!err) this.synced = upTo;
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const w = this.waiting[i]!;
      if (w.n > upTo) continue;
      this.waiting.splice(i, 1);
      if (err) w.reject(err);
      else w.resolve();
    }
    if (this.waiting.length > 0 && !this.closed) this.start();
    if (!err) this.checkpoints?.poke();
  }
}

/**
 * Runs `run` (one transaction) on the store's connection with commits that do not wait for the disk
 * (synchronous=NORMAL), then restores its setting, which can change only outside a transaction. A
 * store that already does not wait (a throwaway one: OFF) is left as it is. Used by `WalSync`, which
 * then waits for the disk itself, and by the notification engine's bookkeeping (group-commit.ts),
 * which does not.
 */
export function relaxedCommit<T>(db: Kysely<Database>, run: (conn: Kysely<Database>) => Promise<T>): Promise<T> {
  return db.connection().execute(async (conn) => {
    // The store's own setting, read once: only this function changes it after the store opens, and
    // puts it back before it returns.
    let level = levels.get(db);
    if (level === undefined) {
      level = Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(conn)).rows[0]!.synchronous);
      levels.set(db, level);
    }
    if (level <= 1) return run(conn);
    const endLoan = lendDirectRun(db, conn);
    try {
      await runText(conn, "pragma synchronous = normal", []);
      try {
        return await run(conn);
      } finally {
        await runText(conn, `pragma synchronous = ${level}`, []);
      }
    } finally {
      endLoan();
    }
  });
}

const levels = new WeakMap<Kysely<Database>, number>();

/** At most one checkpoint started per this many milliseconds. */
export const CHECKPOINT_INTERVAL_MS = 200;
/** The writer's own automatic checkpoint, kept to start the WAL over: 4,096 pages of 4 KB, 16 MB. */
export const BACKSTOP_PAGES = 4096;

const CHECKPOINT_WORKER = `
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const SQLite = require(workerData.driver);
const conn = new SQLite(workerData.file);
conn.pragma("busy_timeout = 0");
parentPort.on("message", (what) => {
  if (what === "close") {
    conn.close();
    parentPort.close();
    return;
  }
  try {
    conn.pragma("wal_checkpoint(PASSIVE)");
    parentPort.postMessage({ ok: true });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});
`;

const driver = createRequire(import.meta.url).resolve("better-sqlite3");

/** The worker that checkpoints the WAL, started on the first commit. */
class Checkpointer {
  private worker: Worker | null = null;
  private running = false;
  private pending = false;
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private closed = false;
  done = 0;

  constructor(private readonly file: string) {}

  /** A commit landed: checkpoint soon (coalesced). */
  poke(): void {
    if (this.closed) return;
    if (this.running || this.timer) {
      this.pending = true;
      return;
    }
    const wait = this.last + CHECKPOINT_INTERVAL_MS - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.run();
      }, wait);
      this.timer.unref();
    } else this.run();
  }

  private run(): void {
    if (this.closed) return;
    this.pending = false;
    this.running = true;
    this.last = Date.now();
    this.spawned().postMessage("checkpoint");
  }

  private spawned(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(CHECKPOINT_WORKER, { eval: true, workerData: { driver, file: this.file } });
    worker.unref();
    worker.on("message", () => {
      this.running = false;
      this.done++;
      if (this.pending) this.poke();
    });
    // A worker that fails is replaced on the next commit; until then the writer's backstop checkpoints.
    worker.on("error", () => {
      if (this.worker === worker) this.worker = null;
      this.running = false;
    });
    return (this.worker = worker);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    // Closed by its own hand, so its connection lets go of the database (a terminated thread's
    // connection would be left open); terminated if it does not end soon (a checkpoint under way ends first).
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.postMessage("close");
    const late = setTimeout(() => void worker.terminate(), 5000);
    await exited;
    clearTimeout(late);
  }
}

const registered = new WeakMap<Kysely<Database>, WalSync>();

/** Makes `inTransaction` on `db` commit through `sync`. */
export function useWalSync(db: Kysely<Database>, sync: WalSync): void {
  registered.set(db, sync);
}

/** The store's WalSync, when its commits go through one (a durable SQLite store). */
export function walSyncOf(db: Kysely<Database>): WalSync | undefined {
  return registered.get(db);
}
