import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseFilter } from "../../src/odata/parse-filter.js";
import { incidentResource } from "../../src/schema/incident.js";
import { equalityColumn, walksOneIndex } from "../../src/store/list.js";
import { alert } from "../support/alerts.js";
import { TEST_STORE } from "../support/stores.js";
import { startTriage, type TestTriage } from "../support/triage.js";

describe("which listing pages run on the event loop", () => {
  it("takes `property eq literal` on a property with a column, and nothing else, as an equality", () => {
    expect(equalityColumn(incidentResource, parseFilter("status eq 'active'"))).toBe("status");
    expect(equalityColumn(incidentResource, parseFilter("'active' eq status"))).toBe("status");
    expect(equalityColumn(incidentResource, parseFilter("status ne 'active'"))).toBeNull();
    expect(equalityColumn(incidentResource, parseFilter("status eq 'active' and severity eq 'high'"))).toBeNull();
    expect(equalityColumn(incidentResource, parseFilter("contains(displayName, 'x')"))).toBeNull();
  });

  it("reads SQLite's plan: one index searched by the tenant and the column, no scan, no sort", () => {
    const byStatus = "SEARCH incidents USING INDEX incidents_status_created (tenant_id=? AND status=?)";
    expect(walksOneIndex([byStatus, "SCALAR SUBQUERY 1", "SEARCH tenants USING INDEX sqlite_autoindex_tenants_1 (id=?)"], "incidents", "status")).toBe(true);
    expect(walksOneIndex([byStatus], "incidents", "severity")).toBe(false);
    expect(
      walksOneIndex(
        ["SEARCH incidents USING INDEX incidents_display_name (tenant_id=? AND display_name=?)", "USE TEMP B-TREE FOR ORDER BY"],
        "incidents",
        "display_name",
      ),
    ).toBe(false);
    expect(walksOneIndex(["SCAN incidents"], "incidents", "status")).toBe(false);
    expect(walksOneIndex(["SEARCH incidents USING INDEX incidents_status_created (tenant_id=? AND status_x=?)"], "incidents", "status")).toBe(false);
  });
});

// SQLite only: the read workers are where pages run off the event loop.
describe.skipIf(TEST_STORE === "postgres")("a first page filtered by an indexed equality, on a real store", () => {
  let t: TestTriage;
  const workers = () => t.store.pools().find((p) => p.pool === "sqlite_read_workers")?.total ?? -1;
  beforeAll(async () => {
    t = await startTriage();
    expect((await t.ingest([alert({ title: "one" }), alert({ title: "two" }), alert({ title: "three" })])).status).toBe(200);
  });
  afterAll(async () => t.close());

  it("runs on the event loop, later pages too, and answers as the filter says; a filter the index cannot serve goes to a worker", async () => {
    const active = await t.get(`/v1.0/security/incidents?$filter=${encodeURIComponent("status eq 'active'")}&$orderby=createdDateTime desc&$top=2`);
    expect(active.status).toBe(200);
    expect(active.body.value).toHaveLength(2);
    expect(active.body.value.every((i: { status: string }) => i.status === "active")).toBe(true);
    expect(active.body["@odata.nextLink"]).toBeDefined();
    // The next page seeks from its cursor through the same index: on the event loop too.
    const next = active.body["@odata.nextLink"] as string;
    const second = await t.get(next.slice(next.indexOf("/v1.0")));
    expect(second.status).toBe(200);
    expect(second.body.value).toHaveLength(1);
    expect(second.body.value[0].status).toBe("active");
    expect(second.body.value[0].id).not.toBe(active.body.value[0].id);
    expect(second.body.value[0].id).not.toBe(active.body.value[1].id);
    const resolved = await t.get(`/v1.0/security/incidents?$filter=${encodeURIComponent("status eq 'resolved'")}`);
    expect(resolved.body.value).toEqual([]);
    expect(workers()).toBe(0);

    const contains = await t.get(`/v1.0/security/incidents?$filter=${encodeURIComponent("contains(displayName, 'one')")}`);
    expect(contains.status).toBe(200);
    expect(workers()).toBeGreaterThan(0);
  });
});

// SQLite only: the row guard is SQLite's way to stop a statement at its time limit.
describe.skipIf(TEST_STORE === "postgres")("which listing statements run without the row guard", () => {
  let t: TestTriage;
  let statements: string[] = [];
  beforeAll(async () => {
    t = await startTriage();
    expect((await t.ingest([alert({ title: "one" }), alert({ title: "two" }), alert({ title: "three" })])).status).toBe(200);
    const bounded = t.store.bounded.bind(t.store);
    t.store.bounded = (sqlText, parameters, options) => {
      statements.push(sqlText);
      return bounded(sqlText, parameters, options);
    };
  });
  afterAll(async () => t.close());

  /** Whether the listing's page statement (the one that reads rows, not its plan) called the guard. */
  async function guarded(path: string): Promise<boolean> {
    statements = [];
    const r = await t.get(path);
    expect(r.status, r.text).toBe(200);
    const page = statements.filter((s) => !s.startsWith("explain") && /^\s*select (id,|group_concat)/.test(s));
    expect(page).toHaveLength(1);
    return page[0]!.includes("triage_in_time()");
  }

  it("leaves it out of a first page that walks an index for about a page, and only there", async () => {
    const eq = encodeURIComponent("status eq 'active'");
    expect(await guarded(`/v1.0/security/incidents?$top=2`)).toBe(false);
    expect(await guarded(`/v1.0/security/incidents?$filter=${eq}&$orderby=createdDateTime desc&$top=2`)).toBe(false);
    expect(await guarded(`/v1.0/security/alerts_v2?$top=2`)).toBe(false);
    // Not a walk of a page: a filter the index cannot serve, an offset, an order with no index, a count.
    expect(await guarded(`/v1.0/security/incidents?$filter=${encodeURIComponent("contains(displayName, 'one')")}`)).toBe(true);
    expect(await guarded(`/v1.0/security/incidents?$skip=1&$top=1`)).toBe(true);
    expect(await guarded(`/v1.0/security/incidents?$orderby=displayName&$top=2`)).toBe(true);
    // A later page skips rows newer than its snapshot, as many as were written since: guarded.
    const first = await t.get(`/v1.0/security/incidents?$top=2`);
    const next = first.body["@odata.nextLink"] as string;
    expect(await guarded(next.slice(next.indexOf("/v1.0")))).toBe(true);
  });
});
