/**
 * SQLite's change feed is clustered on its key and its audit rows are numbered without AUTOINCREMENT
 * (migration 024), so a write commits fewer pages; the migration keeps every row both ways, and
 * numbering goes on from where it was.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { TEST_STORE } from "../support/stores.js";
import { down, up } from "../../src/store/migrations/024_sqlite_lean_writes.js";

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
});
