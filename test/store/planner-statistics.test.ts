import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { TEST_STORE } from "../support/stores.js";
import { FIRST_MARK, statisticsDue } from "../../src/store/planner-statistics.js";

describe("when an ingestion is due to refresh the planner's statistics", () => {
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
});

/**
 * PostgreSQL plans a tenant's reads on the statistics of the last ANALYZE; ingestion analyzes the
 * tables it reads when a tenant grows past each mark (store/planner-statistics.ts).
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

  async function ingest(n: number): Promise<void> {
    const batch = Array.from({ length: n }, () => alert({ device: deviceId() }));
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
    const until = Date.now() + 10_000;
    let after = await analyzed();
    while (Object.keys(before).some((k) => after[k] === before[k]) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      after = await analyzed();
    }
    for (const table of ["alerts", "incidents", "incident_entities"]) expect(after[table], table).toBe((before[table] ?? 0) + 1);
  });
});
