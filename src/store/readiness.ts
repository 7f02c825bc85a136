import { statfs } from "node:fs/promises";
import { dirname } from "node:path";
import { hostname } from "node:os";
import { sql } from "kysely";
import type { Store } from "./open.js";
import type { Db } from "./tables.js";

/** How long one probe's verdict is reused: a flood of readiness checks costs at most one write per interval. */
export const DEFAULT_READY_INTERVAL_MS = 2_000;
/**
 * Below this much room to grow (free disk under a SQLite store, or pages left under its page limit),
 * the store is reported not ready: writes of an ingestion batch would start failing before a small
 * probe write does.
 */
export const DEFAULT_READY_MIN_FREE_BYTES = 64 * 1024 * 1024;

export interface ReadinessOptions {
  intervalMs?: number;
  minFreeBytes?: number;
}

/** One round trip to the store (liveness: the process reaches its database); throws when it cannot. */
export async function pingStore(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}

/** The verdict: ready, or why not (said to callers) and the error behind it (for the log). */
export type Readiness = { ready: true } | { ready: false; reason: string; cause?: unknown };

/** The driver's code for a store error (SQLITE_FULL, PostgreSQL's SQLSTATE), where it has one. */
function errorCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : null;
}

/** A committed write of this node's heartbeat row: the store accepts writes now, or the error why not. */
async function writeProbe(store: Store, node: string): Promise<Readiness> {
  try {
    await store.db
      .insertInto("heartbeats")
      .values({ node, beat_at: new Date().toISOString() })
      .onConflict((oc) => oc.column("node").doUpdateSet((eb) => ({ beat_at: eb.ref("excluded.beat_at") })))
      .execute();
    return { ready: true };
  } catch (cause) {
    const code = errorCode(cause);
    return { ready: false, reason: `the store refused a write${code ? ` (${code})` : ""}`, cause };
  }
}

/**
 * Room for a SQLite store to grow: pages left under its page limit (max_page_count) and free space on
 * the disk holding the file, plus free pages inside the file. A full disk fails a write only once it
 * needs a new page, which a one-row probe seldom does; this says so before the next batch finds out.
 */
async function sqliteRoom(store: Store, minFreeBytes: number): Promise<Readiness> {
  const pragma = async (name: string) => Number(((await sql.raw(`pragma ${name}`).execute(store.db)).rows[0] as Record<string, unknown>)[name]);
  const [pageSize, pageCount, maxPageCount, freePages] = [
    await pragma("page_size"),
    await pragma("page_count"),
    await pragma("max_page_count"),
    await pragma("freelist_count"),
  ];
  const main = (await sql<{ file: string }>`select file from pragma_database_list where name = 'main'`.execute(store.db)).rows[0]?.file;
  let growth = (maxPageCount - pageCount) * pageSize;
  if (main) {
    const fs = await statfs(dirname(main));
    growth = Math.min(growth, fs.bavail * fs.bsize);
  }
  if (growth + freePages * pageSize >= minFreeBytes) return { ready: true };
  const limitedByPages = (maxPageCount - pageCount) * pageSize <= growth;
  return {
    ready: false,
    reason: limitedByPages ? "the database has reached its size limit" : `the disk holding the database has less than ${minFreeBytes} bytes free`,
  };
}

/**
 * Whether the store can take writes, checked by a real committed write (and, on SQLite, its room to
 * grow). Checks are shared: concurrent callers wait for the one in flight, and a verdict is reused for
 * `intervalMs`, so the check cannot be turned into a write flood.
 */
export class ReadinessProbe {
  /** One row per machine: restarts reuse it, so the table does not grow with them. */
  private readonly node = hostname();
  private readonly intervalMs: number;
  private readonly minFreeBytes: number;
  private last: { at: number; verdict: Readiness } | null = null;
  private inFlight: Promise<Readiness> | null = null;

  constructor(
    private readonly store: Store,
    opts: ReadinessOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_READY_INTERVAL_MS;
    this.minFreeBytes = opts.minFreeBytes ?? DEFAULT_READY_MIN_FREE_BYTES;
  }

  check(): Promise<Readiness> {
    if (this.last && Date.now() - this.last.at < this.intervalMs) return Promise.resolve(this.last.verdict);
    this.inFlight ??= this.probe().then((verdict) => {
      this.last = { at: Date.now(), verdict };
      this.inFlight = null;
      return verdict;
    });
    return this.inFlight;
  }

  private async probe(): Promise<Readiness> {
    const written = await writeProbe(this.store, this.node);
    if (!written.ready || this.store.dialect !== "sqlite") return written;
    try {
      return await sqliteRoom(this.store, this.minFreeBytes);
    } catch (cause) {
      return { ready: false, reason: "the store's room to grow could not be read", cause };
    }
  }
}
