import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { incidentResource } from "../../src/schema/incident.js";
import { properties } from "../../src/schema/meta.js";
import { openSqliteStore } from "../../src/store/open.js";
import { afterSlots, seekPredicate } from "../../src/store/list.js";
import { bind } from "../../src/store/prepared.js";
import type { Store } from "../../src/store/open.js";
import type { SortKey } from "../../src/query/plan.js";
import { alert } from "../support/alerts.js";
import { startTriage, type TestTriage } from "../support/triage.js";

const key = (name: string, column: string, direction: "asc" | "desc"): SortKey => ({
  property: properties(incidentResource.schema).get(name)!,
  column,
  direction,
});

// A later page starts where the cursor is: SQLite's plan searches the index from the cursor's value
// rather than walking it from the listing's start.
describe("a later page's seek past the cursor, in SQLite's plan", () => {
  const dir = mkdtempSync(join(tmpdir(), "triage-list-seek-"));
  let store: Store;
  beforeAll(async () => {
    store = await openSqliteStore(join(dir, "triage.db"));
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const plan = async (order: SortKey[], after: (string | number | null)[]) => {
    const q = sql`explain query plan select id from incidents where tenant_id = ${"t"} and ${seekPredicate(order, after)} order by ${sql.join(
      order.map((k) => sql`${sql.ref(k.column)} ${sql.raw(k.direction)}`),
    )} limit 51`.compile(store.db);
    return (await store.arrays(q, bind(q, afterSlots(after).values))).map((r) => String(r[3])).join("\n");
  };

  it("is an index range on the first key, either way round", async () => {
    const at = "2026-12-01T00:00:00.000Z";
    expect(await plan([key("createdDateTime", "created_at", "desc"), key("id", "id", "desc")], [at, 10])).toMatch(/\(tenant_id=\? AND created_at<\?\)/);
    expect(await plan([key("createdDateTime", "created_at", "asc"), key("id", "id", "asc")], [at, 10])).toMatch(/\(tenant_id=\? AND created_at>\?\)/);
  });
});

// Whatever the order, paging with the cursor returns every incident once: the bound leaves no row out,
// nulls included, on SQLite or (TRIAGE_TEST_STORE=postgres) PostgreSQL.
describe("paging with the cursor", () => {
  let t: TestTriage;
  beforeAll(async () => {
    t = await startTriage();
    const alerts = Array.from({ length: 7 }, (_, i) => alert({ title: `seek ${i}`, at: `2026-12-0${1 + (i % 3)}T00:00:00.000Z` }));
    expect((await t.ingest(alerts)).status).toBe(200);
    // Some assigned, some not: a nullable key.
    const all = (await t.get("/v1.0/security/incidents?$top=50")).body.value as { id: string }[];
    for (const inc of all.slice(0, 3))
      expect((await t.request("PATCH", `/v1.0/security/incidents/${inc.id}`, { body: { assignedTo: `analyst${inc.id}@contoso.com` } })).status).toBe(200);
  });
  afterAll(async () => t.close());

  const walk = async (orderby: string) => {
    const ids: string[] = [];
    let url: string | undefined = `/v1.0/security/incidents?$top=2&$orderby=${encodeURIComponent(orderby)}`;
    for (let i = 0; url && i < 20; i++) {
      const r = await t.get(url);
      expect(r.status).toBe(200);
      ids.push(...(r.body.value as { id: string }[]).map((x) => x.id));
      const next = r.body["@odata.nextLink"] as string | undefined;
      url = next ? next.slice(next.indexOf("/v1.0")) : undefined;
    }
    return ids;
  };

  it("returns every incident once in each order", async () => {
    const every = ((await t.get("/v1.0/security/incidents?$top=50")).body.value as { id: string }[]).map((x) => x.id).sort();
    expect(every.length).toBeGreaterThanOrEqual(3);
    for (const orderby of ["createdDateTime desc", "createdDateTime asc", "assignedTo asc", "assignedTo desc", "lastUpdateDateTime desc"]) {
      const ids = await walk(orderby);
      expect([...ids].sort(), orderby).toEqual(every);
    }
  });
});
