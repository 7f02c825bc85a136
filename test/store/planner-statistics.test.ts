import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { runCli } from "../support/process.js";
import { TEST_STORE } from "../support/stores.js";
import { createTenant } from "../../src/store/tenants.js";
import type { StoreTx } from "../../src/store/transaction.js";
import { GraphSource } from "../../src/features/sync/graph-source.js";
import { graphSink } from "../../src/features/sync/sink.js";
import { syncTenant } from "../../src/features/sync/run.js";
import { FIRST_MARK, noteAlertsAdded, statisticsDue, statisticsDueAfter } from "../../src/store/planner-statistics.js";

describe("when a transaction is due to refresh the planner's statistics", () => {
  it("is when a tenant's alert count passes a power of two from 1,024 on, once per mark", () => {
    expect(FIRST_MARK).toBe(1024);
    expect(statisticsDue(0, 1023)).toBe(false);
    expect(statisticsDue(1000, 1024)).toBe(true);
    expect(statisticsDue(1024, 1100)).toBe(false);
    expect(statisticsDue(1100, 2047)).toBe(false);
    expect(statisticsDue(2047, 2048)).toBe(true);
    expect(statisticsDue(0, 5000)).toBe(true);
    expect(statisticsDue(4096, 4096)).toBe(false);
    expect(statisticsDue(2 ** 30 - 1, 2 ** 30)).toBe(true);
  });

  it("is when the alerts it added, over all its writes, take one of its tenants past a mark", () => {
    const tx = {} as StoreTx;
    noteAlertsAdded(tx, "a", 900, 1000);
    noteAlertsAdded(tx, "b", 3000, 3100);
    expect(statisticsDueAfter(tx)).toBe(false);
    noteAlertsAdded(tx, "a", 1000, 1100);
    expect(statisticsDueAfter(tx)).toBe(true);
    // Asked once, as the transaction commits: what was noted is gone.
    expect(statisticsDueAfter(tx)).toBe(false);
    noteAlertsAdded(tx, "b", 4000, 4000);
    expect(statisticsDueAfter(tx)).toBe(false);
  });
});

/**
 * PostgreSQL plans a tenant's reads on the statistics of the last ANALYZE; whatever adds a tenant's
 * alerts — ingestion, `triage import`, a sync — has the tables ingestion reads analyzed when the
 * tenant grows past each mark (store/planner-statistics.ts).
 */
describe.skipIf(TEST_STORE !== "postgres")("a tenant growing on PostgreSQL", () => {
  let t: TestTriage;
  beforeAll(async () => {
    t = await startTriage();
  });
  afterAll(() => t?.close());

  /** How many times each ingestion table was analyzed by a command (autovacuum's runs are counted apart). */
  async function analyzed(): Promise<Record<string, number>> {
    const { rows } = await sql<{ relname: string; n: string }>`
      select relname, analyze_count as n from pg_stat_user_tables where relname in ('alerts', 'incidents', 'incident_entities')`.execute(t.store.db);
    return Object.fromEntries(rows.map((r) => [r.relname, Number(r.n)]));
  }

  /** Waits until every table has been analyzed once more than in `before` (or 10 s), and returns the counts. */
  async function analyzedOnceMore(before: Record<string, number>): Promise<Record<string, number>> {
    const until = Date.now() + 10_000;
    let after = await analyzed();
    while (Object.keys(before).some((k) => after[k] === before[k]) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      after = await analyzed();
    }
    return after;
  }

  const expectOnceMore = (before: Record<string, number>, after: Record<string, number>) => {
    for (const table of ["alerts", "incidents", "incident_entities"]) expect(after[table], table).toBe((before[table] ?? 0) + 1);
  };

  /** How many of the tenant's rows of `table` the planner expects a read by tenant to find. */
  async function estimatedRows(table: "alerts" | "incident_entities"): Promise<number> {
    const { rows } = await sql<{ "QUERY PLAN": [{ Plan: { "Plan Rows": number } }] }>`
      explain (format json) select * from ${sql.table(table)} where tenant_id = ${t.tenantId}`.execute(t.store.db);
    return rows[0]!["QUERY PLAN"][0].Plan["Plan Rows"];
  }

  let sent = 0;
  async function ingest(n: number): Promise<void> {
    // A second apart, as a sync of them pages by time (below).
    const batch = Array.from({ length: n }, () => alert({ device: deviceId(), at: new Date(Date.UTC(2026, 10, 1) + 1000 * sent++).toISOString() }));
    const res = await t.ingest(batch);
    expect(res.status, res.text).toBe(200);
  }

  it("has the ingestion's tables analyzed once its alerts pass 1,024, and not before", async () => {
    const before = await analyzed();
    await ingest(1000);
    // The batch that would start an analysis has been answered; give a background run time to show.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await analyzed()).toEqual(before);

    await ingest(100);
    expectOnceMore(before, await analyzedOnceMore(before));
    // What the refresh is for: the planner knows how many rows the tenant now has (1,100 alerts, and
    // their entities), not the few it had at the last analysis.
    expect(await estimatedRows("alerts")).toBeGreaterThan(500);
    expect(await estimatedRows("incident_entities")).toBeGreaterThan(500);
  });

  // After the ingestion above: the test tenant holds 1,100 alerts to copy.
  it("has them analyzed once a sync copies past 1,024 alerts into a tenant", async () => {
    const copy = randomUUID();
    await createTenant(t.store.db, copy, "Synced copy");
    const before = await analyzed();
    const token = await t.tokenFor(t.tenantId, ["SecurityIncident.Read.All", "SecurityAlert.Read.All"]);
    const report = await syncTenant(t.store.db, {
      tenantId: copy,
      sourceKey: `${t.url}|${t.tenantId}`,
      source: new GraphSource({ from: t.url, version: "v1.0", token: async () => token, maxRetries: 0 }),
      sink: graphSink(),
    });
    expect(report.alerts).toBeGreaterThan(1024);
    expectOnceMore(before, await analyzedOnceMore(before));
  });

  it("has them analyzed by `triage import` into a new tenant of more than 1,024 alerts, before the command exits", async () => {
    const dir = mkdtempSync(join(tmpdir(), "triage-statistics-"));
    try {
      const file = join(dir, "tenant.jsonl");
      const exported = await runCli(["export", ...t.storeArgs, "--tenant", t.tenantId, "--out", file]);
      expect(exported.code, exported.stderr).toBe(0);
      const before = await analyzed();
      const imported = await runCli(["import", file, ...t.storeArgs, "--tenant", randomUUID(), "--json"]);
      expect(imported.code, imported.stderr).toBe(0);
      expect(JSON.parse(imported.stdout).newAlerts).toBe(1100);
      // The command closed its store only after the run it started: the count has moved already.
      expectOnceMore(before, await analyzed());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
