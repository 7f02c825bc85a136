import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { TEST_STORE, freshPostgresDatabase } from "../support/stores.js";
import { openPostgresStore, type Store } from "../../src/store/open.js";
import type { Database } from "../../src/store/tables.js";
import { inTransaction } from "../../src/store/transaction.js";
import { lastFeedSeq, noteChange, numberFeedInTransaction, readFeed } from "../../src/store/feed.js";
import { pruneFeedBatch } from "../../src/store/feed-retention.js";
import { down, up } from "../../src/store/migrations/023_feed_sequencer.js";

/**
 * On PostgreSQL a write's feed rows are inserted unnumbered and numbered after its commit by the feed
 * sequencer (src/store/feed-sequencer.ts). These tests hold it to what every feed reader relies on:
 * numbers per tenant with no gap and no repeat, a reader never sees a number appear behind one it has
 * read, a write's rows numbered when it returns, and rows a stopped node left unnumbered numbered by
 * the next node that runs.
 */
describe.skipIf(TEST_STORE !== "postgres")("the feed sequencer on PostgreSQL", () => {
  let database: { url: string; drop(): Promise<void> };
  let a: Store;
  let b: Store;
  beforeAll(async () => {
    database = await freshPostgresDatabase();
    a = await openPostgresStore(database.url);
    b = await openPostgresStore(database.url);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  /**
   * One write: a transaction that changed `ids` (feed rows only; no entity is needed for the feed),
   * numbering them itself when `inline` (as ingestion's transactions do) or leaving them to the sequencer.
   */
  const write = (store: Store, tenant: string, ids: string[], inline = false) =>
    inTransaction(store.db, async (tx) => {
      if (inline) numberFeedInTransaction(tx);
      for (const id of ids) noteChange(tx, tenant, "incident", id, "updated");
    });

  const unnumbered = async (store: Store) =>
    Number((await sql<{ n: string }>`select count(*) as n from change_feed where seq is null`.execute(store.db)).rows[0]!.n);

  /**
   * Runs `fn` on a plain connection with no node up, so that no sweep (every second) numbers a row
   * left unnumbered meanwhile; the two nodes start again after it.
   */
  async function withNoNodeUp(fn: (db: Kysely<Database>) => Promise<void>): Promise<void> {
    await a.close();
    await b.close();
    const pool = new pg.Pool({ connectionString: database.url, max: 1 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      await fn(db);
    } finally {
      await db.destroy();
      a = await openPostgresStore(database.url);
      b = await openPostgresStore(database.url);
    }
  }

  it("numbers a write's rows before the write returns, whoever numbers them", async () => {
    const tenant = "tenant-own";
    for (let i = 0; i < 6; i++) {
      const before = await lastFeedSeq(a.db, tenant);
      await write(a, tenant, [`own-${i}-x`, `own-${i}-y`], i % 2 === 1);
      const entries = await readFeed(a.db, tenant, before, 10);
      expect(entries.map((e) => e.entityId).sort()).toEqual([`own-${i}-x`, `own-${i}-y`]);
      expect(entries.map((e) => e.seq)).toEqual([before + 1, before + 2]);
    }
  });

  it("gives concurrent writes on two nodes numbers without gaps or repeats, and readers only ever see a prefix, when some writes number their own rows", async () => {
    const tenants = ["tenant-one", "tenant-two"];
    const writes = 120;
    let writing = true;
    // Readers on both nodes follow each tenant's feed from 0 while the writes commit: each read must
    // continue exactly where the last ended (a gap would be a number that appears later, behind one read).
    const follow = async (store: Store, tenant: string) => {
      let cursor = 0;
      const seen: string[] = [];
      for (let reads = 0; reads < 10_000; reads++) {
        const done = !writing;
        const entries = await readFeed(store.db, tenant, cursor, 50);
        for (const e of entries) {
          expect(e.seq).toBe(cursor + 1);
          cursor = e.seq;
          seen.push(e.entityId);
        }
        if (done && entries.length === 0) break;
      }
      return seen;
    };
    const readers = tenants.flatMap((tenant) => [follow(a, tenant), follow(b, tenant)]);
    await Promise.all(
      Array.from({ length: writes }, (_, i) => {
        const tenant = tenants[i % 2]!;
        return write(i % 3 === 0 ? b : a, tenant, [`w${i}-1`, `w${i}-2`, `w${i}-3`], i % 5 === 0);
      }),
    );
    // Rows the other node's run held when a write returned are numbered by that run; let both settle.
    for (let i = 0; i < 100 && (await unnumbered(a)) > 0; i++) await new Promise((r) => setTimeout(r, 50));
    writing = false;
    const seen = await Promise.all(readers);

    for (const [k, tenant] of tenants.entries()) {
      const expected = Array.from({ length: writes }, (_, i) => i)
        .filter((i) => i % 2 === k)
        .flatMap((i) => [`w${i}-1`, `w${i}-2`, `w${i}-3`]);
      expect(await lastFeedSeq(a.db, tenant)).toBe(expected.length);
      // Both nodes' readers saw every change once, in the same order.
      expect([...seen[2 * k]!].sort()).toEqual([...expected].sort());
      expect(seen[2 * k + 1]).toEqual(seen[2 * k]);
      // A transaction's rows keep the order they were noted in.
      const order = seen[2 * k]!;
      for (let i = k; i < writes; i += 2) expect(order.indexOf(`w${i}-2`)).toBe(order.indexOf(`w${i}-1`) + 1);
    }
    expect(await unnumbered(a)).toBe(0);
  });

  it("numbers the rows a stopped node left unnumbered when the next node starts, and on its sweep", async () => {
    const tenant = "tenant-left";
    // What a node leaves when it stops between its commit and its run: committed rows with no number.
    const leave = (id: string) =>
      sql`insert into change_feed (tenant_id, entity_type, entity_id, change_type, at, actor, automated, by_person)
        values (${tenant}, 'incident', ${id}, 'updated', ${new Date().toISOString()}, 'Triage', 0, 0)`.execute(a.db);
    await leave("left-1");
    await leave("left-2");
    expect(await lastFeedSeq(a.db, tenant)).toBe(0);

    const c = await openPostgresStore(database.url);
    try {
      expect((await readFeed(c.db, tenant, 0, 10)).map((e) => [e.seq, e.entityId])).toEqual([
        [1, "left-1"],
        [2, "left-2"],
      ]);
      // Left while the nodes run: a sweep numbers it within about a second.
      await leave("left-3");
      let entries = await readFeed(c.db, tenant, 2, 10);
      for (let i = 0; i < 60 && entries.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        entries = await readFeed(c.db, tenant, 2, 10);
      }
      expect(entries.map((e) => [e.seq, e.entityId])).toEqual([[3, "left-3"]]);
    } finally {
      await c.close();
    }
  });

  it("never prunes a row before it is numbered", async () => {
    const tenant = "tenant-prune";
    await write(a, tenant, ["p-1", "p-2"]);
    await withNoNodeUp(async (db) => {
      await sql`insert into change_feed (tenant_id, entity_type, entity_id, change_type, at, actor, automated, by_person)
        values (${tenant}, 'incident', 'p-3', 'updated', '2000-01-01T00:00:00.000Z', 'Triage', 0, 0)`.execute(db);
      // Everything is past every limit; only the numbered rows may go.
      const now = new Date().toISOString();
      const out = await pruneFeedBatch(db, tenant, { cutoffAt: now, keepRows: 0, batch: 100, now }, () => null);
      expect(out.deleted).toBe(2);
      const { rows } = await sql<{ entity_id: string }>`select entity_id from change_feed where tenant_id = ${tenant}`.execute(db);
      expect(rows.map((r) => r.entity_id)).toEqual(["p-3"]);
    });
  });

  it("migrates down, numbering what is left, and up again", async () => {
    const tenant = "tenant-migrate";
    await write(a, tenant, ["m-1"]);
    // The migration runs on a plain connection, with no sweep to number the row first.
    await withNoNodeUp(async (db) => {
      await sql`insert into change_feed (tenant_id, entity_type, entity_id, change_type, at, actor, automated, by_person)
        values (${tenant}, 'incident', 'm-2', 'updated', ${new Date().toISOString()}, 'Triage', 0, 0)`.execute(db);
      await down(db as never);
      expect((await readFeed(db, tenant, 0, 10)).map((e) => [e.seq, e.entityId])).toEqual([
        [1, "m-1"],
        [2, "m-2"],
      ]);
      expect(await lastFeedSeq(db, tenant)).toBe(2);
      await up(db as never);
    });
    await write(a, tenant, ["m-3"]);
    expect((await readFeed(a.db, tenant, 2, 10)).map((e) => [e.seq, e.entityId])).toEqual([[3, "m-3"]]);
  });
});
