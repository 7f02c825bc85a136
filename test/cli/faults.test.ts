/**
 * `triage faults` and `triage profile` on the store of a running server (SQLite or PostgreSQL): what
 * the commands write, the server applies within its settings' lifetime, with no restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { runCli } from "../support/process.js";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { confidentialClient } from "../support/identity.js";

let t: TestTriage;

beforeAll(async () => {
  t = await startTriage({ settingsTtlMs: 1 });
  expect((await t.ingest([alert({ device: deviceId() })])).status).toBe(200);
});

afterAll(async () => {
  await t?.close();
});

const cli = (...args: string[]) => runCli([...args, ...t.storeArgs]);

describe("triage faults", () => {
  it("sets rules the running server applies, lists them with their counters and events, and clears them", async () => {
    const rule = JSON.stringify({ fault: 503, retryAfter: 2, route: "/security/incidents" });
    const set = await cli("faults", "set", "--tenant", t.tenantId, "--rule", rule, "--preset", "expand-alerts-failure", "--seed", "cli-seed", "--json");
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      tenantId: t.tenantId,
      clientId: null,
      seed: "cli-seed",
      rules: [
        { fault: 503, retryAfter: 2, route: "/security/incidents" },
        { preset: "expand-alerts-failure", maxTop: 10 },
      ],
    });

    const r = await t.get("/v1.0/security/incidents");
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("2");
    expect((await t.get("/v1.0/security/alerts_v2")).status).toBe(200);

    const list = await cli("faults", "list", "--tenant", t.tenantId, "--json");
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({
        clientId: null,
        seed: "cli-seed",
        counters: [
          { matched: 1, fired: 1 },
          { matched: 0, fired: 0 },
        ],
      }),
    ]);
    const text = await cli("faults", "list", "--tenant", t.tenantId);
    expect(text.stdout).toContain("503 (Retry-After 2) on 100% of any method /security/incidents — matched 1, fired 1");

    const events = await cli("faults", "events", "--tenant", t.tenantId, "--json");
    expect(JSON.parse(events.stdout)).toEqual([
      expect.objectContaining({ fault: "503", status: 503, method: "GET", route: "/security/incidents", requestId: r.headers.get("request-id") }),
    ]);

    expect((await cli("faults", "clear", "--tenant", t.tenantId)).stdout).toContain("Cleared.");
    expect((await t.get("/v1.0/security/incidents")).status).toBe(200);
    expect((await cli("faults", "clear", "--tenant", t.tenantId)).stdout).toContain("no fault rules to clear");
  });

  it("an app's rules apply to that app only", async () => {
    const { app } = await confidentialClient(t, t.tenantId, { application: ["SecurityIncident.Read.All"] });
    const set = await cli("faults", "set", "--tenant", t.tenantId, "--app", app.clientId, "--rule", '{"fault":500}');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(new RegExp(`Fault rules of app ${app.clientId} \\(seed [0-9a-f]{16}\\):\\n  0: 500 on 100% of any method any route`));
    expect((await t.get("/v1.0/security/incidents")).status).toBe(200);
    expect((await cli("faults", "clear", "--tenant", t.tenantId, "--app", app.clientId)).code).toBe(0);
  });

  it("refuses a bad rule as bad usage, and an app of another tenant as a failure", async () => {
    const bad = await cli("faults", "set", "--tenant", t.tenantId, "--rule", '{"fault":503,"route":"/security/nowhere"}');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not a Graph route Triage serves/);
    const notJson = await cli("faults", "set", "--tenant", t.tenantId, "--rule", "{fault:503}");
    expect(notJson.code).toBe(2);
    expect((await cli("faults", "set", "--tenant", t.tenantId, "--preset", "nope")).code).toBe(2);
    const other = await t.newTenant();
    const { app } = await confidentialClient(t, other, { application: ["SecurityIncident.Read.All"] });
    const wrong = await cli("faults", "set", "--tenant", t.tenantId, "--app", app.clientId, "--preset", "graph-throttle");
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`No app ${app.clientId} in tenant ${t.tenantId}`);
    expect((await cli("faults", "list", "--tenant", randomUUID())).code).toBe(1);
  });
});

describe("triage profile", () => {
  it("sets the tenant strict, then back to inheriting the server's", async () => {
    const refused = "/v1.0/security/incidents?$filter=displayName eq 'x'";
    expect((await t.get(refused)).status).toBe(200);
    const set = await cli("profile", "set", "--tenant", t.tenantId, "--profile", "strict", "--json");
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ tenantId: t.tenantId, clientId: null, profile: "strict" });
    const r = await t.get(refused);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain("The property 'displayName' cannot be used in the $filter query option.");
    expect(JSON.parse((await cli("profile", "list", "--tenant", t.tenantId, "--json")).stdout)).toEqual([{ clientId: null, profile: "strict" }]);
    expect((await cli("profile", "set", "--tenant", t.tenantId, "--profile", "inherit")).stdout).toContain("inherits");
    expect((await t.get(refused)).status).toBe(200);
    expect((await cli("profile", "set", "--tenant", t.tenantId, "--profile", "pedantic")).code).toBe(2);
  });
});
