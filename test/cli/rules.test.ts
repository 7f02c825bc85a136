import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/process.js";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { waitUntil } from "../support/hooks.js";
import { TokenBox } from "../support/identity.js";

let t: TestTriage;

beforeAll(async () => {
  t = await startTriage({ notifications: { allowPrivateDestinations: true }, automation: { batchWindowMs: 20, pollIntervalMs: 150 } });
});
afterAll(async () => {
  await t.close();
});

describe("triage rules", () => {
  it("creates, lists, dry-runs, updates and deletes rules on the server's store; the server runs them", async () => {
    const file = join(t.dir, "rule.json");
    writeFileSync(
      file,
      JSON.stringify({
        displayName: "CLI rule",
        order: 5,
        trigger: "incidentCreated",
        conditions: { match: "all", items: [{ property: "severity", operator: "equals", values: ["high"] }] },
        actions: [
          { type: "addTags", tags: ["from-cli"] },
          { type: "runPlaybook", url: "http://127.0.0.1:9/pb", secret: "cli-secret-0123456789" },
        ],
      }),
    );
    const args = [...t.storeArgs, "--tenant", t.tenantId, "--json"];
    // A plain-HTTP loopback playbook is refused unless private destinations are allowed.
    const refused = await runCli(["rules", "create", ...args, "--file", file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/https/);
    const created = await runCli(["rules", "create", ...args, "--file", file, "--allow-private-destinations"]);
    expect(created.code, created.stderr).toBe(0);
    const rule = JSON.parse(created.stdout);
    expect(rule).toMatchObject({ displayName: "CLI rule", order: 5, createdBy: "Triage CLI", actions: [{}, { secretSet: true }] });
    expect(created.stdout).not.toContain("cli-secret");

    const r = await t.ingest([alert({ device: deviceId(), severity: "high" })]);
    const incidentId = r.body.value[0].incidentId;
    await waitUntil(async () => ((await t.get(`/v1.0/security/incidents/${incidentId}`)).body.customTags ?? []).includes("from-cli"));
    const tokens = new TokenBox(t);
    const admin = { authorization: `Bearer ${await tokens.user(t.tenantId, ["SecurityIncident.ReadWrite.All"], ["Security Administrator"])}` };
    expect((await t.request("GET", `/triage/automation/rules/${rule.id}`, { headers: admin })).body.displayName).toBe("CLI rule");

    const list = await runCli(["rules", "list", ...args]);
    expect(JSON.parse(list.stdout).value.map((x: any) => x.id)).toEqual([rule.id]);

    const dry = await runCli(["rules", "dry-run", ...args, "--id", rule.id, "--incident", incidentId]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ matched: true, skipped: null, actions: [{ type: "addTags", changes: [] }, { type: "runPlaybook" }] });
    const text = await runCli(["rules", "dry-run", ...t.storeArgs, "--tenant", t.tenantId, "--id", rule.id, "--incident", incidentId]);
    expect(text.stdout).toMatch(/holds\s+severity equals high/);

    const change = join(t.dir, "change.json");
    writeFileSync(change, JSON.stringify({ enabled: false }));
    const updated = await runCli(["rules", "update", ...args, "--id", rule.id, "--file", change, "--allow-private-destinations"]);
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ enabled: false, actions: [{}, { secretSet: true }] });

    expect((await runCli(["rules", "delete", ...args, "--id", rule.id])).code).toBe(0);
    const gone = await runCli(["rules", "delete", ...args, "--id", rule.id]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/not found/);
    const usage = await runCli(["rules", "dry-run", ...args, "--incident", incidentId]);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toMatch(/exactly one of --id and --file/);
    // Each command is a process of its own: a loaded machine takes seconds to start each one.
  }, 240_000);
});
