/**
 * SQLite's change feed is clustered on its key and its audit rows are numbered without AUTOINCREMENT
 * (migration 024), so a write commits fewer pages; the migration keeps every row both ways, and
 * numbering goes on from where it was. A tenant's last feed number is its feed's largest, or its
 * counter row where pruning left that larger (store/feed.ts, `feedEnd`): writes take their numbers
 * without touching the counter row, and numbers never go back, not after the whole feed is pruned,
 * nor across migration 025 and back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { TEST_STORE } from "../support/stores.js";
import { down, up } from "../../src/store/migrations/024_sqlite_lean_writes.js";
import * as m025 from "../../src/store/migrations/025_sqlite_feed_end.js";
import { lastFeedSeq } from "../../src/store/feed.js";
import { pruneFeedBatch } from "../../src/store/feed-retention.js";

describe.skipIf(TEST_STORE !== "sqlite")("SQLite's lean write tables", () => {
  let t: TestTriage;
  let incidentId: string;
  beforeAll(async () => {
    t = await startTriage();
    const r = await t.ingest([alert({ device: deviceId() })]);
    incidentId = r.body.value[0].incidentId as string;
  });
  afterAll(() => t?.close());

  const definition = async (table: string) =>
    (await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = ${table}`.execute(t.store.db)).rows[0]!.sql;
  const rows = async (table: "change_feed" | "audit_log") =>
    (
      await sql<Record<string, unknown>>`select * from ${sql.table(table)} order by ${sql.ref(table === "audit_log" ? "seq" : "tenant_id")}, seq`.execute(
        t.store.db,
      )
    ).rows;
  const assign = async (who: string) => {
    const r = await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, { body: { assignedTo: who } });
    expect(r.status, r.text).toBe(200);
  };

  it("keeps the feed in its key's order, with no row id, and audit rows without AUTOINCREMENT", async () => {
    await assign("first@contoso.com");
    expect(await definition("change_feed")).toMatch(/\) without rowid$/);
    expect(await definition("audit_log")).toMatch(/"seq" integer primary key,/);
    const sequences = (await sql<{ name: string }>`select name from sqlite_sequence`.execute(t.store.db)).rows.map((r) => r.name);
    expect(sequences).not.toContain("audit_log");
  });

  it("goes down and up again keeping every row, and numbers on from where it was", async () => {
    await assign("second@contoso.com");
    const feed = await rows("change_feed");
    const audit = await rows("audit_log");
    expect(audit.length).toBeGreaterThan(0);

    await down(t.store.db as never);
    expect(await definition("change_feed")).not.toMatch(/without rowid/);
    expect(await definition("audit_log")).toMatch(/"seq" integer primary key autoincrement/);
    expect(await rows("change_feed")).toEqual(feed);
    expect(await rows("audit_log")).toEqual(audit);
    // The index beside the audit rows came back too.
    const indexes = (await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'audit_log'`.execute(t.store.db)).rows;
    expect(indexes.map((i) => i.name)).toContain("audit_entity");

    await up(t.store.db as never);
    expect(await rows("change_feed")).toEqual(feed);
    expect(await rows("audit_log")).toEqual(audit);

    await assign("third@contoso.com");
    const lastAudit = Math.max(...audit.map((r) => Number(r.seq)));
    const newAudit = (await rows("audit_log")).filter((r) => Number(r.seq) > lastAudit);
    expect(newAudit.map((r) => r.after)).toEqual([JSON.stringify("third@contoso.com")]);
    const lastFeed = Math.max(...feed.filter((r) => r.tenant_id === t.tenantId).map((r) => Number(r.seq)));
    const newFeed = (await rows("change_feed")).filter((r) => r.tenant_id === t.tenantId && Number(r.seq) > lastFeed);
    expect(newFeed.map((r) => [r.seq, r.entity_id])).toEqual([[lastFeed + 1, incidentId]]);
  });

  const seqs = async () =>
    (await sql<{ seq: number }>`select seq from change_feed where tenant_id = ${t.tenantId} order by seq`.execute(t.store.db)).rows.map((r) => Number(r.seq));
  const counter = async () =>
    (await sql<{ last_seq: number }>`select last_seq from feed_counters where tenant_id = ${t.tenantId}`.execute(t.store.db)).rows[0]?.last_seq;
  const pruneAll = async () => {
    const now = new Date(Date.now() + 60_000).toISOString();
    return pruneFeedBatch(t.store.db, t.tenantId, { cutoffAt: now, keepRows: 0, batch: 1000, now }, () => null);
  };

  it("numbers each feed row after the feed's last number, without a counter row", async () => {
    const before = await seqs();
    expect(before.length).toBeGreaterThan(0);
    await assign("one@contoso.com");
    await assign("two@contoso.com");
    const after = await seqs();
    expect(after).toEqual(Array.from({ length: after.length }, (_, i) => i + 1));
    expect(after.length).toBeGreaterThan(before.length);
    expect(await lastFeedSeq(t.store.db, t.tenantId)).toBe(after[after.length - 1]);
    expect(await counter()).toBeUndefined();
  });

  it("goes on from where it was after pruning deletes the whole feed", async () => {
    const last = await lastFeedSeq(t.store.db, t.tenantId);
    expect((await pruneAll()).deleted).toBe(last);
    expect(await seqs()).toEqual([]);
    expect(await counter()).toBe(last);
    expect(await lastFeedSeq(t.store.db, t.tenantId)).toBe(last);
    await assign("three@contoso.com");
    const [next] = await seqs();
    expect(next).toBe(last + 1);
    expect(await lastFeedSeq(t.store.db, t.tenantId)).toBe(last + 1);
  });

  it("brings the counter row to the feed's end on the way down, for the version before, and numbers on after it", async () => {
    await assign("four@contoso.com");
    const last = await lastFeedSeq(t.store.db, t.tenantId);
    expect(await counter()).toBeLessThan(last);
    await m025.down(t.store.db as never);
    expect(await counter()).toBe(last);
    await m025.up(t.store.db as never);
    await assign("five@contoso.com");
    expect((await seqs()).at(-1)).toBe(last + 1);
  });
});
