import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GroupCommit } from "../../src/store/group-commit.js";
import { openStore, type Store } from "../../src/store/open.js";
import { countRequest } from "../../src/store/rate-limits.js";
import { openTestStore, TEST_STORE, type TestStore } from "../support/stores.js";

// Writes of concurrent callers committed as one transaction (SQLite, or PostgreSQL with TRIAGE_TEST_STORE=postgres).
describe("group commit", () => {
  const dir = mkdtempSync(join(tmpdir(), "triage-group-"));
  let test: TestStore;
  let other: Store;
  beforeAll(async () => {
    test = await openTestStore(dir);
    // Another connection on the same database sees only what has committed.
    other = await openStore(test.location);
  });
  afterAll(async () => {
    await other.close();
    await test.store.close();
    await test.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const committed = async (prefix: string) =>
    (await other.db.selectFrom("rate_limits").select("key").where("key", "like", `${prefix}%`).execute()).map((r) => r.key).sort();

  it.each([true, false])(
    "commits the writes of callers that came together in one transaction, and answers each only after it (durable: %s)",
    async (durable) => {
      const group = new GroupCommit(test.store.db, { durable });
      const seenByOthers: number[] = [];
      const keys = Array.from({ length: 30 }, (_, i) => `together-${durable}-${String(i).padStart(2, "0")}`);
      const results = await Promise.all(
        keys.map((key) =>
          group.run(async (tx) => {
            // The earlier callers' writes are made but not committed yet: no other connection sees them.
            seenByOthers.push((await committed(`together-${durable}-`)).length);
            return (await countRequest(tx, key, 60_000, Date.now())).current;
          }),
        ),
      );
      expect(results).toEqual(keys.map(() => 1));
      expect(seenByOthers).toEqual(keys.map(() => 0));
      expect(await committed(`together-${durable}-`)).toEqual(keys);
    },
  );

  it.skipIf(TEST_STORE !== "sqlite")("leaves a SQLite store's commits waiting for the disk again after a group that did not", async () => {
    const level = async () => Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(test.store.db)).rows[0]!.synchronous);
    const before = await level();
    const group = new GroupCommit(test.store.db, { durable: false });
    let during = -1;
    await Promise.all([
      group.run(async (tx) => {
        during = Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(tx)).rows[0]!.synchronous);
        await countRequest(tx, "relaxed", 60_000, Date.now());
      }),
      test.store.db.transaction().execute((tx) => countRequest(tx, "durable-meanwhile", 60_000, Date.now())),
    ]);
    expect(before).toBe(2);
    expect(during).toBe(1);
    expect(await level()).toBe(before);
    expect(await committed("relaxed")).toEqual(["relaxed"]);
  });

  it("undoes and rejects only the caller whose work failed; the others commit", async () => {
    const group = new GroupCommit(test.store.db);
    const outcomes = await Promise.allSettled(
      ["apart-a", "apart-b", "apart-c"].map((key) =>
        group.run(async (tx) => {
          await countRequest(tx, key, 60_000, Date.now());
          if (key === "apart-b") throw new Error("b failed after writing");
          return key;
        }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({ message: "b failed after writing" });
    expect(await committed("apart-")).toEqual(["apart-a", "apart-c"]);
  });

  it("takes at most its bound per transaction, and commits the rest in the next", async () => {
    const group = new GroupCommit(test.store.db, { max: 4 });
    const seenByOthers: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        group.run(async (tx) => {
          seenByOthers.push((await committed("bounded-")).length);
          await countRequest(tx, `bounded-${i}`, 60_000, Date.now());
        }),
      ),
    );
    expect(seenByOthers).toEqual([0, 0, 0, 0, 4, 4, 4, 4, 8, 8]);
    expect(await committed("bounded-")).toHaveLength(10);
  });

  it("fails its callers, once, when the store is closed, rather than trying again without end", async () => {
    const closing = await openStore(test.location);
    const group = new GroupCommit(closing.db, { durable: false });
    await closing.close();
    let ran = 0;
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map(() =>
        group.run(async () => {
          ran++;
        }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(ran).toBe(0);
    // Nothing is left queued to be tried again.
    await new Promise((r) => setTimeout(r, 50));
    expect((group as unknown as { queue: unknown[] }).queue).toHaveLength(0);
  });
});
