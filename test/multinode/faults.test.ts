import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { runCli } from "../support/process.js";
import { startCluster, type Cluster } from "../support/cluster.js";
import { alert, deviceId } from "../support/alerts.js";
import { draw } from "../../src/http/fault-decision.js";
import { DEFAULT_SETTINGS_TTL_MS } from "../../src/http/caller-settings.js";

/**
 * Fault rules and profiles live in the store: real `triage serve` nodes on one database, set through
 * the CLI, apply the same rules and draw one seeded sequence between them, whichever node each
 * request reaches.
 */
let c: Cluster;
beforeAll(async () => {
  c = await startCluster(2);
  expect((await c.call(0, "POST", "/ingest/alerts", { value: [alert({ device: deviceId() })] })).status).toBe(200);
});
afterAll(async () => {
  await c?.close();
});

/** Past every node's settings lifetime: what the CLI wrote is what each node reads. */
const settle = () => sleep(DEFAULT_SETTINGS_TTL_MS + 300);

describe("fault injection across nodes", () => {
  it("two nodes share one seeded sequence and its counters", async () => {
    const rule = JSON.stringify({ fault: 503, share: 0.5, retryAfter: 1, route: "/security/incidents" });
    const set = await runCli(["faults", "set", "--db", c.db, "--tenant", c.tenantId, "--app", c.clientId, "--seed", "cluster", "--rule", rule]);
    expect(set.code, set.stderr).toBe(0);
    await settle();
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await c.call(i % 2, "GET", "/v1.0/security/incidents?$top=1")).status);
    expect(statuses).toEqual(Array.from({ length: 20 }, (_, i) => (draw("cluster", 0, i + 1, "share") < 0.5 ? 503 : 200)));

    const list = JSON.parse((await runCli(["faults", "list", "--db", c.db, "--tenant", c.tenantId, "--json"])).stdout);
    expect(list[0].counters).toEqual([{ matched: 20, fired: statuses.filter((s) => s === 503).length }]);
    const events = JSON.parse((await runCli(["faults", "events", "--db", c.db, "--tenant", c.tenantId, "--json"])).stdout);
    expect(events).toHaveLength(statuses.filter((s) => s === 503).length);

    expect((await runCli(["faults", "clear", "--db", c.db, "--tenant", c.tenantId, "--app", c.clientId])).code).toBe(0);
    await settle();
    for (const node of [0, 1]) expect((await c.call(node, "GET", "/v1.0/security/incidents?$top=1")).status).toBe(200);
  });

  it("a tenant's strict profile applies on every node", async () => {
    const refused = "/v1.0/security/incidents?$filter=displayName%20eq%20'x'";
    expect((await runCli(["profile", "set", "--db", c.db, "--tenant", c.tenantId, "--profile", "strict"])).code).toBe(0);
    await settle();
    for (const node of [0, 1]) expect((await c.call(node, "GET", refused)).status).toBe(400);
    expect((await runCli(["profile", "set", "--db", c.db, "--tenant", c.tenantId, "--profile", "inherit"])).code).toBe(0);
    await settle();
    for (const node of [0, 1]) expect((await c.call(node, "GET", refused)).status).toBe(200);
  });
});
