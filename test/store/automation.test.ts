import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestStore, type TestStore } from "../support/stores.js";
import { inTransaction } from "../../src/store/transaction.js";
import { noteChange } from "../../src/store/feed.js";
import {
  advanceCursor,
  automationCursor,
  claimDueCursors,
  claimDueJobs,
  ensureCursor,
  finishJob,
  insertJobs,
  releaseCursor,
} from "../../src/store/automation.js";

let dir: string;
let ts: TestStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "triage-automation-store-"));
  ts = await openTestStore(dir);
});
afterAll(async () => {
  await ts.store.close();
  await ts.drop();
  rmSync(dir, { recursive: true, force: true });
});

const db = () => ts.store.db;
const iso = (ms: number) => new Date(ms).toISOString();

async function changes(tenant: string, n: number): Promise<void> {
  await inTransaction(db(), async (tx) => {
    for (let i = 0; i < n; i++) noteChange(tx, tenant, "alert", `a-${randomUUID()}`, "created");
  });
}

describe("automation cursors and jobs", () => {
  it("a cursor starts at the end of the feed; one node at a time holds it; it moves only for its holder, from where it was read", async () => {
    const tenant = randomUUID();
    await changes(tenant, 3);
    await inTransaction(db(), (tx) => ensureCursor(tx, tenant));
    expect(await automationCursor(db(), tenant)).toBe(3);
    const now = Date.now();
    // Nothing past the cursor: nothing to claim.
    expect((await claimDueCursors(db(), "a", iso(now), iso(now + 30_000), 100)).filter((c) => c.tenantId === tenant)).toEqual([]);
    await changes(tenant, 2);
    const a = (await claimDueCursors(db(), "a", iso(now), iso(now + 30_000), 100)).filter((c) => c.tenantId === tenant);
    const b = (await claimDueCursors(db(), "b", iso(now), iso(now + 30_000), 100)).filter((c) => c.tenantId === tenant);
    expect(a).toEqual([{ tenantId: tenant, cursor: 3 }]);
    expect(b).toEqual([]);
    expect(await advanceCursor(db(), tenant, "b", 3, 5, iso(now + 30_000))).toBe(false);
    expect(await advanceCursor(db(), tenant, "a", 2, 5, iso(now + 30_000))).toBe(false);
    // After the lease runs out another node takes over; the first one's late commit is refused.
    const later = now + 60_000;
    const b2 = (await claimDueCursors(db(), "b", iso(later), iso(later + 30_000), 100)).filter((c) => c.tenantId === tenant);
    expect(b2).toEqual([{ tenantId: tenant, cursor: 3 }]);
    expect(await advanceCursor(db(), tenant, "a", 3, 5, iso(later))).toBe(false);
    expect(await advanceCursor(db(), tenant, "b", 3, 5, iso(later))).toBe(true);
    await releaseCursor(db(), tenant, "b");
    expect(await automationCursor(db(), tenant)).toBe(5);
  });

  it("a rolled-back transaction moves nothing: the changes are run again", async () => {
    const tenant = randomUUID();
    await inTransaction(db(), (tx) => ensureCursor(tx, tenant));
    await changes(tenant, 4);
    const now = Date.now();
    expect((await claimDueCursors(db(), "a", iso(now), iso(now + 30_000), 100)).some((c) => c.tenantId === tenant)).toBe(true);
    await expect(
      inTransaction(db(), async (tx) => {
        expect(await advanceCursor(tx, tenant, "a", 0, 4, iso(now + 30_000))).toBe(true);
        throw new Error("the node stops before the commit");
      }),
    ).rejects.toThrow(/stops/);
    expect(await automationCursor(db(), tenant)).toBe(0);
  });

  it("nodes claiming jobs at once never share one", async () => {
    const tenant = randomUUID();
    const now = Date.now();
    const rows = Array.from({ length: 40 }, (_, i) => ({
      id: randomUUID(),
      tenant_id: tenant,
      rule_id: "r",
      kind: "slack",
      destination: "{}",
      payload: `{"n":${i}}`,
      created_at: iso(now),
      attempts: 0,
      failing_since: null,
      last_error: null,
      next_attempt_at: iso(now - 1000),
      lease_owner: null,
      lease_until: null,
    }));
    await inTransaction(db(), (tx) => insertJobs(tx, rows));
    const ids = new Set<string>(rows.map((r) => r.id));
    const claims = await Promise.all(["n1", "n2", "n3", "n4"].map((n) => claimDueJobs(db(), n, iso(now), iso(now + 30_000), 15)));
    const mine = claims.map((c) => c.filter((j) => ids.has(j.id)).map((j) => j.id));
    const all = mine.flat();
    expect(new Set(all).size).toBe(all.length);
    for (const [i, list] of mine.entries()) for (const id of list) expect(await finishJob(db(), id, `n${i + 1}`)).toBe(true);
    // What no node claimed yet is still there, and only its claimer can finish a job.
    const rest = (await claimDueJobs(db(), "n5", iso(now), iso(now + 30_000), 100)).filter((j) => ids.has(j.id));
    expect(rest.length + all.length).toBe(40);
    if (rest[0]) expect(await finishJob(db(), rest[0].id, "n1")).toBe(false);
  });
});
