/**
 * On SQLite a tenant's last feed number is its feed's largest, or its counter row where pruning left
 * that larger (store/feed.ts, `feedEnd`): writes take their numbers without touching the counter row,
 * and numbers never go back, not after the whole feed is pruned, nor across migration 025 and back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { TEST_STORE } from "../support/stores.js";
import { lastFeedSeq } from "../../src/store/feed.js";
import { pruneFeedBatch } from "../../src/store/feed-retention.js";
import { down, up } from "../../src/store/migrations/025_sqlite_feed_end.js";

describe.skipIf(TEST_STORE !== "sqlite")("SQLite's feed numbers", () => {
  let t: TestTriage;
  let incidentId: string;
  beforeAll(async () => {
    t = await startTriage();
    const r = await t.ingest([alert({ device: deviceId() })]);
    incidentId = r.body.value[0].incidentId as string;
  });
  afterAll(() => t?.close());

  const seqs = async () =>
    (await sql<{ seq: number }>`select seq from change_feed where tenant_id = ${t.tenantId} order by seq`.execute(t.store.db)).rows.map((r) => Number(r.seq));
  const counter = async () =>
    (await sql<{ last_seq: number }>`select last_seq from feed_counters where tenant_id = ${t.tenantId}`.execute(t.store.db)).rows[0]?.last_seq;
  const assign = async (who: string) => {
    const r = await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, { body: { assignedTo: who } });
    expect(r.status, r.text).toBe(200);
  };
  const pruneAll = async () => {
    const now = new Date(Date.now() + 60_000).toISOString();
    return pruneFeedBatch(t.store.db, t.tenantId, { cutoffAt: now, keepRows: 0, batch: 1000, now }, () => null);
  };

  it("numbers each write after the feed's last number, without a counter row", async () => {
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
    await down(t.store.db as never);
    expect(await counter()).toBe(last);
    await up(t.store.db as never);
    await assign("five@contoso.com");
    expect((await seqs()).at(-1)).toBe(last + 1);
  });
});
