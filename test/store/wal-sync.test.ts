import { mkdtempSync, openSync, rmSync, statSync } from "node:fs";
import { devNull, tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteStore, type Store } from "../../src/store/open.js";
import { inTransaction } from "../../src/store/transaction.js";
import { BACKSTOP_PAGES, WalSync, walSyncOf } from "../../src/store/wal-sync.js";

/** A WalSync whose fdatasync calls are held until the test lets each one finish. */
function heldSyncs(): { sync: WalSync; started: (() => void)[]; calls: () => number } {
  const started: (() => void)[] = [];
  const sync = new WalSync("unused-wal", {
    open: () => openSync(devNull, "r"),
    sync: (_fd, done) => started.push(() => done(null)),
  });
  return { sync, started, calls: () => started.length };
}

const settled = async <T>(p: Promise<T>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe("WalSync: answering a commit once the WAL is on disk", () => {
  it("answers a flush only after an fdatasync that started after it, sharing one among those asked together", async () => {
    const { sync, started, calls } = heldSyncs();
    const a = sync.flush();
    expect(calls()).toBe(1);
    // Flushes asked while that fdatasync runs may have written after it began: they need the next one,
    // which they share.
    const b = sync.flush();
    const c = sync.flush();
    expect(await settled(a)).toBe(false);
    started[0]!();
    expect(await settled(a)).toBe(true);
    expect(await settled(b)).toBe(false);
    expect(await settled(c)).toBe(false);
    expect(calls()).toBe(2);
    started[1]!();
    expect(await settled(b)).toBe(true);
    expect(await settled(c)).toBe(true);
    expect(calls()).toBe(2);
    expect(sync.stats().flushes).toBe(3);
    await sync.close();
  });

  it("fails the commits an fdatasync covered when it fails, and syncs again for the next", async () => {
    let fail = true;
    const pending: ((err: Error | null) => void)[] = [];
    const sync = new WalSync("unused-wal", { open: () => openSync(devNull, "r"), sync: (_fd, done) => pending.push(done) });
    const a = sync.flush();
    pending.shift()!(fail ? new Error("EIO: i/o error, fdatasync") : null);
    await expect(a).rejects.toThrow(/EIO/);
    fail = false;
    const b = sync.flush();
    pending.shift()!(null);
    await expect(b).resolves.toBeUndefined();
    await sync.close();
  });
});

describe("WalSync on a real store", () => {
  const dir = mkdtempSync(join(tmpdir(), "triage-walsync-"));
  const file = join(dir, "triage.db");
  let store: Store;
  beforeAll(async () => {
    store = await openSqliteStore(file);
    await sql`create table wal_test (n integer, payload blob)`.execute(store.db);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers each transaction after its flush, with synchronous back to FULL between transactions", async () => {
    const wal = walSyncOf(store.db)!;
    expect(wal).toBeDefined();
    const before = wal.stats().flushes;
    for (let i = 0; i < 5; i++) {
      await inTransaction(store.db, async (tx) => {
        await sql`insert into wal_test (n, payload) values (${i}, zeroblob(100))`.execute(tx);
      });
      expect(wal.stats().flushes).toBeGreaterThanOrEqual(before + i + 1);
    }
    expect(Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db)).rows[0]!.synchronous)).toBe(2);
  });

  it("copies committed pages into the database file on its worker, before the writer's own checkpoint would", async () => {
    const wal = walSyncOf(store.db)!;
    // 24 transactions of 512 KB: 12 MB written, less than the WAL the writer's own checkpoint waits for
    // (BACKSTOP_PAGES). Only the worker can have copied them into the database file.
    expect(BACKSTOP_PAGES * 4096).toBeGreaterThan(24 * 512 * 1024 + 1024 * 1024);
    const start = statSync(file).size;
    for (let i = 0; i < 24; i++) {
      await inTransaction(store.db, async (tx) => {
        await sql`insert into wal_test (n, payload) values (${i}, zeroblob(${512 * 1024}))`.execute(tx);
      });
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(wal.stats().checkpoints).toBeGreaterThan(0);
    expect(statSync(file).size - start).toBeGreaterThan(8 * 1024 * 1024);
    // Everything committed is there.
    expect(Number((await sql<{ n: number }>`select count(*) as n from wal_test`.execute(store.db)).rows[0]!.n)).toBe(29);
  });
});
