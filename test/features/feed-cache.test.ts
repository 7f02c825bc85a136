import { describe, expect, it } from "vitest";
import { FeedCache } from "../../src/features/notifications/feed-cache.js";
import type { FeedEntry } from "../../src/store/feed.js";

/**
 * The feed cache serves every subscription of a tenant from one stretch of its change feed. Here the
 * store is an array standing in for the tenant's feed, and its reads are counted.
 */
function feedOf(n: number, at = "2026-12-06T08:00:00.000Z"): FeedEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    seq: i + 1,
    entityType: "alert",
    entityId: `a${i + 1}`,
    changeType: "created",
    at,
    actor: "ingest",
    automated: false,
    byPerson: false,
    slaBreach: null,
  })) as FeedEntry[];
}

function store(feed: { entries: FeedEntry[] }) {
  const reads: { afterSeq: number; limit: number }[] = [];
  const read = async (_tenant: string, afterSeq: number, limit: number) => {
    reads.push({ afterSeq, limit });
    return feed.entries.filter((e) => e.seq > afterSeq).slice(0, limit);
  };
  return { reads, read };
}

const seqs = (entries: FeedEntry[]) => entries.map((e) => e.seq);

describe("the feed cache", () => {
  it("serves a subscription behind the feed's end from a stretch read since its claim, without reading the store again", async () => {
    const feed = { entries: feedOf(5_000) };
    const s = store(feed);
    const cache = new FeedCache(s.read);
    const claimed = Date.now() - 1_000;
    // The first read takes 1,001 entries: the stretch, not yet read to the feed's end.
    expect(seqs(await cache.after("t", 0, 1_001, claimed))).toEqual(seqs(feed.entries.slice(0, 1_001)));
    expect(s.reads).toHaveLength(1);
    // Other subscriptions claimed before that read, asking for what the stretch holds, are served from it.
    for (let i = 0; i < 50; i++) expect(seqs(await cache.after("t", 0, 1_001, claimed))).toEqual(seqs(feed.entries.slice(0, 1_001)));
    expect(seqs(await cache.after("t", 500, 200, claimed))).toEqual(seqs(feed.entries.slice(500, 700)));
    expect(s.reads).toHaveLength(1);
  });

  it("reads on from the stretch's end for a subscription asking past it, until the feed's end", async () => {
    const feed = { entries: feedOf(5_000) };
    const s = store(feed);
    const cache = new FeedCache(s.read);
    const claimed = Date.now() - 1_000;
    await cache.after("t", 0, 1_001, claimed);
    // 4,000 entries past the stretch's start: more than it holds, so it is extended (one read shared).
    const got = await cache.after("t", 4_000, 1_001, claimed);
    expect(seqs(got)).toEqual(seqs(feed.entries.slice(4_000, 5_000)));
    expect(s.reads.length).toBeGreaterThan(1);
    expect(s.reads.length).toBeLessThanOrEqual(5);
  });

  it("checks a stretch read before a subscription's claim against the store, and drops it when the feed was reset", async () => {
    const feed = { entries: feedOf(3_000) };
    const s = store(feed);
    const cache = new FeedCache(s.read);
    await cache.after("t", 0, 1_001, Date.now() - 1_000);
    expect(s.reads).toHaveLength(1);
    // The tenant is reset: its feed starts again from 1 with other entries.
    feed.entries = feedOf(3_000, "2026-12-06T09:00:00.000Z").map((e) => ({ ...e, entityId: `b${e.seq}` }));
    const claimedAfter = Date.now() + 1;
    await new Promise((r) => setTimeout(r, 5));
    const got = await cache.after("t", 0, 1_001, claimedAfter);
    expect(got.every((e) => e.entityId.startsWith("b"))).toBe(true);
    expect(seqs(got)).toEqual(seqs(feed.entries.slice(0, 1_001)));
    expect(s.reads.length).toBeGreaterThan(1);
  });
});
