import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readEntityCounts } from "../../src/store/ingest/load.js";
import { openTestStore, type TestStore } from "../support/stores.js";

// What correlation's limits are judged on, read on SQLite or (TRIAGE_TEST_STORE=postgres) PostgreSQL:
// each incident's entity count, and which of the batch's keys it has seen, whether it holds fewer
// entities than the batch has keys or many more.
describe("readEntityCounts", () => {
  const dir = mkdtempSync(join(tmpdir(), "triage-entity-counts-"));
  const tenant = "entity-counts-tenant";
  const other = "entity-counts-other";
  let test: TestStore;
  // Incident n has the keys device:0 … device:(n-1); the other tenant's incident 3 has every key.
  const sizes = [1, 2, 3, 5, 40];
  beforeAll(async () => {
    test = await openTestStore(dir);
    const rows = sizes.flatMap((n) =>
      Array.from({ length: n }, (_, i) => ({ tenant_id: tenant, incident_id: n, entity_key: `device:${i}`, last_seen_at: "2026-12-01T00:00:00.000Z" })),
    );
    rows.push(
      ...Array.from({ length: 50 }, (_, i) => ({ tenant_id: other, incident_id: 3, entity_key: `device:${i}`, last_seen_at: "2026-12-01T00:00:00.000Z" })),
    );
    await test.store.db.insertInto("incident_entities").values(rows).execute();
  });
  afterAll(async () => {
    await test.store.close();
    await test.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const read = (ids: number[], keys: string[]) =>
    test.store.db.transaction().execute(async (tx) => {
      const { counts, known } = await readEntityCounts(tx, tenant, ids, keys);
      return { counts: Object.fromEntries(counts), known: known.map((k) => `${k.incidentId}/${k.entityKey}`).sort() };
    });

  it("counts each incident's entities and finds the batch's keys among them, whatever the incident's size", async () => {
    // Three keys: incidents 1–3 hold no more entities than that, 5 and 40 more.
    const keys = ["device:0", "device:4", "device:39"];
    const { counts, known } = await read([1, 2, 3, 5, 40, 77], keys);
    expect(counts).toEqual({ 1: 1, 2: 2, 3: 3, 5: 5, 40: 40 });
    expect(known).toEqual(["1/device:0", "2/device:0", "3/device:0", "40/device:0", "40/device:39", "40/device:4", "5/device:0", "5/device:4"].sort());
  });

  it("answers the same when the batch has more keys than any incident has entities", async () => {
    const keys = [...Array.from({ length: 45 }, (_, i) => `device:${i + 3}`), "account:nobody"];
    const { known } = await read(sizes, keys);
    expect(known).toEqual(["5/device:3", "5/device:4", ...Array.from({ length: 37 }, (_, i) => `40/device:${i + 3}`)].sort());
  });

  it("matches keys exactly whatever characters they hold (they travel to the statement as one JSON array)", async () => {
    const odd = ["account:o'brien\"x\\y@contoso.com", "account:zoë\u2028中文@contoso.com", "ip:[::1]", `account:${"x".repeat(500)}`];
    const rows = odd.map((entity_key) => ({ tenant_id: tenant, incident_id: 900, entity_key, last_seen_at: "2026-12-01T00:00:00.000Z" }));
    await test.store.db.insertInto("incident_entities").values(rows).execute();
    // Each key found as stored; near misses (case, a dropped escape, a prefix) are not.
    const misses = ["account:O'BRIEN\"x\\y@contoso.com", "account:o'brien\"xy@contoso.com", "ip:[::"];
    const { counts, known } = await read([900], [...odd, ...misses]);
    expect(counts).toEqual({ 900: 4 });
    expect(known).toEqual(odd.map((k) => `900/${k}`).sort());
  });

  it("finds nothing without keys, and never another tenant's entities", async () => {
    expect((await read([3], [])).known).toEqual([]);
    expect(await read([3], ["device:10"])).toEqual({ counts: { 3: 3 }, known: [] });
  });
});
