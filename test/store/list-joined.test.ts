import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertResource } from "../../src/schema/alert.js";
import { incidentResource } from "../../src/schema/incident.js";
import type { Resource } from "../../src/schema/meta.js";
import { planQuery } from "../../src/odata/query-options.js";
import { encodeCursor } from "../../src/odata/cursor.js";
import { fillJoined, JOINED_GAP, listPage, yieldsInOrder, type Page } from "../../src/store/list.js";
import { alert } from "../support/alerts.js";
import { startTriage, type TestTriage } from "../support/triage.js";
import { TEST_STORE } from "../support/stores.js";

describe("whether SQLite's plan hands a joined page's rows over in the listing's order", () => {
  // The steps of SQLite's plans of joined pages (EXPLAIN QUERY PLAN's details), as SQLite 3.53 gives them.
  const walked = [
    "CO-ROUTINE (subquery-4)",
    "SEARCH incidents USING INDEX incidents_created_at (tenant_id=?)",
    "SCAN (subquery-4)",
    "SCALAR SUBQUERY 1",
    "SEARCH incidents USING COVERING INDEX incidents_created_at (tenant_id=?)",
  ];

  it("holds for a co-routine that walks an index, its rows scanned as they come", () => {
    expect(yieldsInOrder(walked)).toBe(true);
  });

  it("fails for a page that is sorted, materialized, flattened into a scan of the table, or not a co-routine", () => {
    expect(yieldsInOrder([...walked.slice(0, 2), "USE TEMP B-TREE FOR ORDER BY", ...walked.slice(2)])).toBe(false);
    expect(yieldsInOrder(["MATERIALIZE (subquery-4)", ...walked.slice(1)])).toBe(false);
    expect(yieldsInOrder(["SCAN incidents", "SCALAR SUBQUERY 1"])).toBe(false);
    expect(yieldsInOrder(walked.slice(1))).toBe(false);
    expect(yieldsInOrder(walked.filter((d) => !d.startsWith("SCAN")))).toBe(false);
  });
});

// SQLite only: PostgreSQL sends the rows as they are (joinedPage declines; checked below).
describe.skipIf(TEST_STORE === "postgres")("a page read joined by SQLite", () => {
  let t: TestTriage;
  beforeAll(async () => {
    t = await startTriage();
    // Nine incidents over three days, three a day: equal creation times leave the order to the id.
    const alerts = Array.from({ length: 9 }, (_, i) =>
      alert({ title: `joined ${i}`, at: `2026-12-0${1 + (i % 3)}T00:00:00.000Z`, device: `joined-host-${i}` }),
    );
    expect((await t.ingest(alerts)).status).toBe(200);
  });
  afterAll(async () => t.close());

  const plan = (resource: Resource, query: string) => planQuery({ resource, params: new URLSearchParams(query), beta: false, alertResource });

  /** Every page of a listing, read with the joined statement allowed or not. */
  async function pages(resource: Resource, query: string, joinable: boolean): Promise<Page[]> {
    const out: Page[] = [];
    let p = plan(resource, query);
    for (let i = 0; i < 20; i++) {
      const page = await listPage({ store: t.store, resource, tenantId: t.tenantId }, p, `${resource.entitySet}|${query}`, "ready", joinable);
      out.push(page);
      if (!page.next) return out;
      p = plan(resource, `${query}&$skiptoken=${encodeCursor(page.next, p.orderBy)}`);
    }
    throw new Error("the listing did not end");
  }

  it.each([
    ["incidents, newest first", incidentResource, "$top=2"],
    ["incidents by status, newest first", incidentResource, `$filter=${encodeURIComponent("status eq 'active'")}&$orderby=createdDateTime desc&$top=4`],
    ["incidents, oldest first", incidentResource, "$orderby=createdDateTime asc&$top=3"],
    ["alerts, newest first", alertResource, "$top=4"],
    ["a page larger than the set", incidentResource, "$top=50"],
    ["one alert a page, oldest first", alertResource, "$orderby=createdDateTime asc&$top=1"],
  ])("serves %s exactly as the rows would, page after page", async (_, resource, query) => {
    const joined = await pages(resource, query, true);
    const rows = await pages(resource, query, false);
    expect(joined.length).toBeGreaterThan(0);
    expect(joined.map((p) => p.next)).toEqual(rows.map((p) => p.next));
    for (const [i, page] of joined.entries()) {
      expect(page.rows).toEqual([]);
      expect(rows[i]!.joined).toBeNull();
      expect(page.joined).toBe(rows[i]!.rows.map((r) => r.ready).join(","));
    }
    // Every entity once, in the listing's order.
    const ids = joined.flatMap((p) => (JSON.parse(`[${p.joined}]`) as { id: string }[]).map((e) => e.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(9);
  });

  it("leaves a gap for each entity that must be rendered for the caller, and the listing renders it there", async () => {
    // Alerts from Microsoft Sentinel: serviceSource is a member the caller did not opt in to.
    const gated = [
      alert({ title: "gated one", serviceSource: "microsoftSentinel", at: "2026-12-05T00:00:00.000Z" }),
      alert({ title: `gated ${JOINED_GAP} two`, serviceSource: "microsoftSentinel", at: "2026-12-04T00:00:00.000Z" }),
      // The gap's character in an entity's own text (a gated one's above, and this one) is escaped in its
      // JSON, never taken for a gap.
      alert({ title: `not a gap ${JOINED_GAP}`, at: "2026-12-04T12:00:00.000Z" }),
    ];
    expect((await t.ingest(gated)).status).toBe(200);
    const [first] = await pages(alertResource, "$top=5", true);
    const [asRows] = await pages(alertResource, "$top=5", false);
    expect(first!.rows.map((r) => r.id)).toEqual(asRows!.rows.filter((r) => r.doc !== null).map((r) => r.id));
    expect(first!.rows).toHaveLength(2);
    expect(first!.joined).toContain("not a gap \\u001e");
    expect(first!.joined!.split(JOINED_GAP)).toHaveLength(3);
    expect(fillJoined(first!.joined!, ["A", "B"])).toBe(
      asRows!.rows.map((r) => (r.doc === null ? r.ready : r.id === first!.rows[0]!.id ? "A" : "B")).join(","),
    );
    expect(first!.next).toEqual(asRows!.next);

    const listed = await t.get("/v1.0/security/alerts_v2?$top=5");
    expect(listed.status).toBe(200);
    expect(listed.body.value.map((a: { title: string }) => a.title).slice(0, 3)).toEqual(["gated one", `not a gap ${JOINED_GAP}`, `gated ${JOINED_GAP} two`]);
    // Each entity as the listing serves it is the entity as GET serves it, the gated member rendered.
    for (const entity of listed.body.value as { id: string }[]) {
      const one = await t.get(`/v1.0/security/alerts_v2/${entity.id}`);
      const { "@odata.context": _, ...expected } = one.body as Record<string, unknown>;
      expect(entity).toEqual(expected);
    }
    expect(listed.body.value[0].serviceSource).toBe("unknownFutureValue");
  });

  it("reads a page as rows when an entity's stored JSON holds a raw gap character beside one to render", async () => {
    // Not something Triage writes (JSON text escapes it): a store changed by hand. The gaps would not
    // match the entities to render, so the page is not joined.
    await sql`update alerts set doc = replace(doc, ${"\\u001e"}, char(30)) where tenant_id = ${t.tenantId} and title like 'not a gap%'`.execute(t.store.db);
    const [first] = await pages(alertResource, "$top=5", true);
    expect(first!.joined).toBeNull();
    expect(first!.rows).toHaveLength(5);
    await sql`update alerts set doc = replace(doc, char(30), ${"\\u001e"}) where tenant_id = ${t.tenantId} and title like 'not a gap%'`.execute(t.store.db);
    const [again] = await pages(alertResource, "$top=5", true);
    expect(again!.joined).not.toBeNull();
  });

  it("fills a joined page's gaps in order, and refuses a page whose gaps and entities do not match", () => {
    expect(fillJoined(`{"a":1},${JOINED_GAP},{"c":3},${JOINED_GAP}`, ['{"b":2}', '{"d":4}'])).toBe('{"a":1},{"b":2},{"c":3},{"d":4}');
    expect(fillJoined('{"a":1}', [])).toBe('{"a":1}');
    expect(() => fillJoined(`${JOINED_GAP}`, [])).not.toThrow();
    expect(() => fillJoined(`${JOINED_GAP}`, ["x", "y"])).toThrow(/1 gaps for 2 entities/);
  });

  it("is not used where the page cannot be an index walk: a filter no index serves, or an offset", async () => {
    const [contains] = await pages(incidentResource, `$filter=${encodeURIComponent("contains(displayName, 'joined')")}&$top=2`, true);
    expect(contains!.joined).toBeNull();
    expect(contains!.rows).toHaveLength(2);
    const [skipped] = await pages(incidentResource, "$skip=1&$top=2", true);
    expect(skipped!.joined).toBeNull();
  });
});

describe.skipIf(TEST_STORE !== "postgres")("a page on PostgreSQL", () => {
  let t: TestTriage;
  beforeAll(async () => {
    t = await startTriage();
    expect((await t.ingest([alert({ title: "one" }), alert({ title: "two" })])).status).toBe(200);
  });
  afterAll(async () => t.close());

  it("is read as rows", async () => {
    const p = planQuery({ resource: incidentResource, params: new URLSearchParams("$top=1"), beta: false, alertResource });
    const page = await listPage({ store: t.store, resource: incidentResource, tenantId: t.tenantId }, p, "pg|$top=1", "ready", true);
    expect(page.joined).toBeNull();
    expect(page.rows).toHaveLength(1);
    expect(page.next).not.toBeNull();
  });
});
