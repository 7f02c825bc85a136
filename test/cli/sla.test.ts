import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/process.js";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { waitUntil } from "../support/hooks.js";

let t: TestTriage;

beforeAll(async () => {
  t = await startTriage({ automation: { batchWindowMs: 20, pollIntervalMs: 150 } });
});
afterAll(async () => {
  await t.close();
});

describe("triage sla", () => {
  it("sets and shows the policy on the server's store; the server's incidents get their due times; bad input is refused", async () => {
    const args = [...t.storeArgs, "--tenant", t.tenantId];
    expect((await runCli(["sla", "show", ...args])).stdout).toContain("(no SLA policy)");
    const file = join(t.dir, "sla.json");
    writeFileSync(file, JSON.stringify({ targets: { high: { firstAction: "PT30M", resolve: "PT4H" } } }));
    const set = await runCli(["sla", "set", ...args, "--file", file, "--json"]);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ enabled: true, targets: { high: { firstAction: "PT30M" } }, lastModifiedBy: "Triage CLI" });
    const shown = await runCli(["sla", "show", ...args]);
    expect(shown.stdout).toMatch(/high\tPT30M\tPT4H/);

    const r = await t.ingest([alert({ device: deviceId(), severity: "high" })]);
    const id = r.body.value[0].incidentId;
    await waitUntil(async () => (await t.get(`/v1.0/security/incidents/${id}`)).body["@triage.sla"] !== undefined);
    const sla = (await t.get(`/v1.0/security/incidents/${id}`)).body["@triage.sla"];
    expect(Date.parse(sla.firstAction.dueDateTime) - Date.parse(sla.startDateTime)).toBe(30 * 60_000);

    writeFileSync(file, JSON.stringify({ targets: { high: { firstAction: "thirty minutes" } } }));
    const bad = await runCli(["sla", "set", ...args, "--file", file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/targets\.high\.firstAction/);
  });
});
