import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { down, up } from "../../src/store/migrations/010_alert_category.js";

/**
 * The alerts' category column (migration 010): filled from the documents of the alerts stored before
 * it, written by the alert row mapping afterwards, and what advanced hunting's Category reads.
 */
let t: TestTriage;
const at = new Date(Date.now() - 3600_000).toISOString();
const before = [
  alert({ device: deviceId(), category: "Execution", at }),
  alert({ device: deviceId(), category: "Credential 'access' \"quoted\"", at }),
  alert({ device: deviceId(), at, extra: { category: null } }),
];
const after = alert({ device: deviceId(), category: "Exfiltration", at });

async function stored(): Promise<{ id: string; category: string | null; doc: string }[]> {
  return t.store.db.selectFrom("alerts").select(["id", "category", "doc"]).where("tenant_id", "=", t.tenantId).orderBy("id").execute();
}

async function hunted(): Promise<Map<string, string>> {
  const headers = await t.auth(t.tenantId, ["ThreatHunting.Read.All"]);
  const res = await t.request("POST", "/v1.0/security/runHuntingQuery", { body: { Query: "AlertInfo | project AlertId, Category", Timespan: "P1D" }, headers });
  expect(res.status, res.text).toBe(200);
  return new Map((res.body.results as { AlertId: string; Category: string }[]).map((r) => [r.AlertId, r.Category]));
}

beforeAll(async () => {
  t = await startTriage();
  expect((await t.ingest(before)).status).toBe(200);
});
afterAll(() => t?.close());

describe("the alerts' category column", () => {
  it("is filled from each stored alert's document when the migration runs", async () => {
    // The store as it was before migration 010 (no column, no index), then the migration's step run
    // again on its own: later migrations are already recorded, so the migrator would refuse to go back.
    await down(t.store.db as never);
    await expect(sql`select category from alerts`.execute(t.store.db)).rejects.toThrow();
    await up(t.store.db as never);
    const rows = await stored();
    expect(rows).toHaveLength(3);
    for (const r of rows) expect(r.category).toBe((JSON.parse(r.doc) as { category: string | null }).category ?? null);
    expect(rows.map((r) => r.category).sort()).toEqual([null, "Credential 'access' \"quoted\"", "Execution"].sort());
  });

  it("is written by the row mapping for alerts stored afterwards, and read by hunting as Category", async () => {
    expect((await t.ingest([after])).status).toBe(200);
    const rows = await stored();
    expect(rows.find((r) => r.id === after.id)?.category).toBe("Exfiltration");
    const categories = await hunted();
    expect(categories.size).toBe(4);
    for (const r of rows) expect(categories.get(r.id)).toBe(r.category ?? "");
  });
});
