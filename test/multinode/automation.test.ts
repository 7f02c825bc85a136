import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditOf, startCluster, type Cluster } from "../support/cluster.js";
import { alert, deviceId } from "../support/alerts.js";
import { startHookReceiver, waitUntil, type HookReceiver } from "../support/hooks.js";
import { runCli } from "../support/process.js";

/**
 * Automation rules on two real nodes on one PostgreSQL database, both running rules and sending jobs:
 * alerts ingested through both, and each rule acts once per change (one comment, one tag, one audit
 * entry by the rule per incident) and each playbook and channel message is delivered once.
 */
let c: Cluster;
let hooks: HookReceiver;
let dir: string;
const SECRET = "multinode-playbook-secret-0123";

beforeAll(async () => {
  hooks = await startHookReceiver();
  c = await startCluster(2, ["--allow-private-destinations"]);
  dir = mkdtempSync(join(tmpdir(), "triage-multinode-rules-"));
  const rules = [
    {
      displayName: "Every new incident",
      order: 10,
      trigger: "incidentCreated",
      actions: [
        { type: "addTags", tags: ["auto-triaged"] },
        { type: "addComment", comment: "Triaged by automation." },
        { type: "runPlaybook", url: `${hooks.base}/playbook`, secret: SECRET },
      ],
    },
    { displayName: "Every new alert", order: 20, trigger: "alertCreated", actions: [{ type: "notify", channel: "slack", url: `${hooks.base}/slack` }] },
  ];
  for (const [i, rule] of rules.entries()) {
    const file = join(dir, `rule-${i}.json`);
    writeFileSync(file, JSON.stringify(rule));
    // Through the CLI on the shared database, with the key the nodes seal and open secrets with.
    const r = await runCli(["rules", "create", "--db", c.db, "--data", dir, "--tenant", c.tenantId, "--file", file, "--allow-private-destinations"], 120_000, {
      TRIAGE_KEY_ENCRYPTION_KEY: c.keyEncryptionKey,
    });
    expect(r.code, r.stderr).toBe(0);
  }
}, 240_000);
afterAll(async () => {
  await c?.close();
  await hooks?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("automation rules on two nodes", () => {
  it("applies each rule once per change and delivers each playbook and message once, however many nodes run", async () => {
    const alertIds: string[] = [];
    const incidentIds = new Set<string>();
    const sends: Promise<void>[] = [];
    for (let b = 0; b < 12; b++) {
      // Each alert on a device of its own: a new incident each.
      const batch = Array.from({ length: 3 }, () => alert({ device: deviceId() }));
      sends.push(
        c.call(b % 2, "POST", "/ingest/alerts", { value: batch }).then((r) => {
          expect(r.status, r.text).toBe(200);
          for (const a of r.body.value as { id: string; incidentId: string }[]) {
            alertIds.push(a.id);
            incidentIds.add(a.incidentId);
          }
        }),
      );
    }
    await Promise.all(sends);
    expect(alertIds).toHaveLength(36);
    await waitUntil(() => hooks.on("/playbook").length >= incidentIds.size && hooks.on("/slack").length >= alertIds.length, 90_000);
    // Long enough for a second node's duplicate to show up if one were coming.
    await new Promise((res) => setTimeout(res, 4000));

    const playbooks = hooks.on("/playbook");
    expect(playbooks).toHaveLength(incidentIds.size);
    expect(new Set(playbooks.map((h) => h.body.incident.id))).toEqual(incidentIds);
    expect(new Set(playbooks.map((h) => h.headers["x-triage-delivery"])).size).toBe(incidentIds.size);
    for (const h of playbooks) {
      const expected = `sha256=${createHmac("sha256", SECRET)
        .update(`${String(h.headers["x-triage-timestamp"])}.${h.raw}`)
        .digest("hex")}`;
      expect(h.headers["x-triage-signature"]).toBe(expected);
    }
    const messages = hooks.on("/slack");
    expect(messages).toHaveLength(alertIds.length);
    expect(new Set(messages.map((h) => h.headers["x-triage-delivery"])).size).toBe(alertIds.length);

    for (const [i, id] of [...incidentIds].entries()) {
      const r = await c.call(i % 2, "GET", `/v1.0/security/incidents/${id}`);
      expect(r.status, r.text).toBe(200);
      expect(r.body.customTags).toEqual(["auto-triaged"]);
      expect((r.body.comments as { comment: string }[]).filter((x) => x.comment === "Triaged by automation.")).toHaveLength(1);
      const byRule = (await auditOf(c, i % 2, "incidents", id)).filter((e) => String(e.actor).startsWith("Automation rule 'Every new incident'"));
      // Each change the rule made is audited once: no second node applied it again.
      const properties = byRule.map((e) => e.property as string);
      expect(properties, JSON.stringify(byRule)).toContain("customTags");
      expect(new Set(properties).size, JSON.stringify(byRule)).toBe(properties.length);
    }
  }, 180_000);
});
