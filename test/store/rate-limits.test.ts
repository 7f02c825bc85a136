import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore, type Store } from "../../src/store/open.js";
import { countRequest, databaseRateLimitStore, purgeRateLimits, readRequests } from "../../src/store/rate-limits.js";
import { openTestStore, type TestStore } from "../support/stores.js";

// Throttling counters in the store (SQLite, or PostgreSQL with TRIAGE_TEST_STORE=postgres).
describe("rate-limit counters in the store", () => {
  const dir = mkdtempSync(join(tmpdir(), "triage-ratelimit-"));
  let test: TestStore;
  let second: Store;
  beforeAll(async () => {
    test = await openTestStore(dir);
    // A second connection (pool) on the same database stands in for another node.
    second = await openStore(test.location);
  });
  afterAll(async () => {
    await second.close();
    await test.store.close();
    await test.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("counts concurrent requests from two connections atomically, in one window", async () => {
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => countRequest(i % 2 ? second.db : test.store.db, "k-concurrent", 60_000, now)));
    expect(results.map((r) => r.current).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    for (const r of results) expect(r.ttl).toBe(60_000);
    expect(await readRequests(second.db, "k-concurrent", now + 1000)).toEqual({ current: 40, ttl: 59_000 });
  });

  it("opens a new window once the last one has ended, and purges ended windows", async () => {
    const t0 = 1_900_000_000_000; // past 2^31 in milliseconds: the bigint columns hold it
    expect(await countRequest(test.store.db, "k-window", 1000, t0)).toEqual({ current: 1, ttl: 1000 });
    expect(await countRequest(second.db, "k-window", 1000, t0 + 400)).toEqual({ current: 2, ttl: 600 });
    expect(await countRequest(test.store.db, "k-window", 1000, t0 + 1000)).toEqual({ current: 1, ttl: 1000 });
    expect(await readRequests(test.store.db, "k-window", t0 + 2500)).toEqual({ current: 0, ttl: 0 });
    await purgeRateLimits(test.store.db, t0 + 2500);
    const left = await test.store.db.selectFrom("rate_limits").select("key").where("key", "=", "k-window").execute();
    expect(left).toEqual([]);
  });

  it("implements @fastify/rate-limit's store contract, a route's own limits counting apart", async () => {
    const Store = databaseRateLimitStore(test.store.db);
    const root = new Store({});
    const child = root.child({ routeInfo: { method: "GET", url: "/x" } });
    const incr = (s: InstanceType<typeof Store>, key: string) =>
      new Promise<{ current: number; ttl: number }>((resolve, reject) => s.incr(key, (err, res) => (err ? reject(err) : resolve(res!)), 60_000));
    expect((await incr(root, "k-contract")).current).toBe(1);
    expect((await incr(root, "k-contract")).current).toBe(2);
    expect((await incr(child, "k-contract")).current).toBe(1);
    const r = await incr(root, "k-contract");
    expect(r.current).toBe(3);
    expect(r.ttl).toBeGreaterThan(0);
    expect(r.ttl).toBeLessThanOrEqual(60_000);
  });
});
