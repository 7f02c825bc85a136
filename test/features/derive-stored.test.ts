import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert } from "../support/alerts.js";
import { deriveStored } from "../../src/features/derive-stored.js";
import { incidentRecordOf } from "../../src/store/incident-rows.js";
import { findIncidentRow } from "../../src/store/incidents.js";
import { inTransaction } from "../../src/store/transaction.js";

/**
 * A PATCH of an incident or of an alert's own fields leaves the incident's alerts as they are, so its
 * stored summary stands for them (as in ingestion) instead of reading every alert again. Here, on a real
 * store filled by ingestion over HTTP in several batches (so the summaries were built a batch at a
 * time), the derivation from the stored summary is the derivation from all the alerts, for every
 * incident; and one whose summary is gone is derived from its alerts and gets its summary back.
 */
let t: TestTriage;
beforeAll(async () => {
  t = await startTriage();
});
afterAll(async () => {
  await t.close();
});

const SEVERITIES = ["low", "medium", "high", "informational"];
const CATEGORIES = ["Execution", "CredentialAccess", "LateralMovement", ""];
const SOURCES = ["microsoftDefenderForEndpoint", "antivirus", "customDetection"];

async function derivedBothWays(tenant: string, id: number, at: string) {
  return inTransaction(t.store.db, async (tx) => {
    const row = await findIncidentRow(tx, tenant, String(id), true);
    const record = incidentRecordOf(row!);
    const fromSummary = await deriveStored(tx, tenant, record, record, at, { alertsUnchanged: true });
    const fromAlerts = await deriveStored(tx, tenant, record, record, at);
    return { fromSummary, fromAlerts };
  });
}

describe("an incident derived from its stored summary", () => {
  it("is the incident derived from all its alerts, for every incident ingestion built", async () => {
    const tenant = await t.newTenant();
    // Devices and users from small pools, so alerts join incidents across batches.
    for (let batch = 0; batch < 6; batch++) {
      const alerts = Array.from({ length: 40 }, (_, i) => {
        const n = batch * 40 + i;
        return alert({
          device: `device-${n % 9}-0000-0000-0000-000000000000`,
          user: n % 3 === 0 ? `user${n % 5}@contoso.com` : undefined,
          severity: SEVERITIES[n % SEVERITIES.length],
          category: CATEGORIES[(n >> 1) % CATEGORIES.length],
          detectionSource: SOURCES[n % SOURCES.length],
          title: `Detection ${n % 4}`,
          at: new Date(Date.UTC(2026, 10, 1, 8, 0, n)).toISOString(),
        });
      });
      const r = await t.ingest(alerts, tenant);
      expect(r.status, r.text).toBe(200);
    }
    const ids = (await t.store.db.selectFrom("incidents").select("id").where("tenant_id", "=", tenant).execute()).map((r) => Number(r.id));
    const summarized = await t.store.db.selectFrom("incident_summaries").select("incident_id").where("tenant_id", "=", tenant).execute();
    expect(ids.length).toBeGreaterThan(1);
    expect(summarized.length).toBe(ids.length);
    let withSeveral = 0;
    for (const id of ids) {
      const { fromSummary, fromAlerts } = await derivedBothWays(tenant, id, "2026-12-06T12:00:00.000Z");
      expect(fromSummary).toEqual(fromAlerts);
      if (fromAlerts.next.alertCount > 1) withSeveral++;
    }
    expect(withSeveral).toBeGreaterThan(0);
  });

  it("reads the alerts of an incident without a stored summary, and stores its summary again", async () => {
    const tenant = await t.newTenant();
    const r = await t.ingest(
      Array.from({ length: 5 }, (_, i) => alert({ device: "lonely-0000-0000-0000-000000000000", severity: SEVERITIES[i % 4] })),
      tenant,
    );
    expect(r.status, r.text).toBe(200);
    const id = Number(r.body.value[0].incidentId);
    await t.store.db.deleteFrom("incident_summaries").where("tenant_id", "=", tenant).where("incident_id", "=", id).execute();
    const { fromSummary, fromAlerts } = await derivedBothWays(tenant, id, "2026-12-06T12:00:00.000Z");
    expect(fromSummary).toEqual(fromAlerts);
    expect(fromAlerts.next.alertCount).toBe(5);
    const back = await t.store.db
      .selectFrom("incident_summaries")
      .select("alert_count")
      .where("tenant_id", "=", tenant)
      .where("incident_id", "=", id)
      .execute();
    expect(back.map((b) => Number(b.alert_count))).toEqual([5]);
  });
});
