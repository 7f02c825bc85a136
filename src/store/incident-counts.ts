/** The alert count kept on each incident row, recounted from the alerts the tenant holds (for `triage sync`). */
import type { Transaction } from "kysely";
import type { Database } from "./tables.js";
import { chunks } from "./chunks.js";

const IN_LIST = 500;

/** How many alerts each of these incidents holds (0 for one with none). */
export async function countIncidentAlerts(tx: Transaction<Database>, tenantId: string, incidentIds: readonly number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>(incidentIds.map((id) => [id, 0]));
  for (const part of chunks([...new Set(incidentIds)], IN_LIST)) {
    const rows = await tx
      .selectFrom("alerts")
      .select((eb) => ["incident_id", eb.fn.countAll<number>().as("n")])
      .where("tenant_id", "=", tenantId)
      .where("incident_id", "in", part)
      .groupBy("incident_id")
      .execute();
    for (const r of rows) if (r.incident_id !== null) out.set(Number(r.incident_id), Number(r.n));
  }
  return out;
}

/** Writes the counts to the incidents' rows; only rows whose count differs are touched. */
export async function setIncidentAlertCounts(tx: Transaction<Database>, tenantId: string, counts: ReadonlyMap<number, number>): Promise<void> {
  for (const [id, n] of counts) {
    await tx.updateTable("incidents").set({ alert_count: n }).where("tenant_id", "=", tenantId).where("id", "=", id).where("alert_count", "<>", n).execute();
  }
}
