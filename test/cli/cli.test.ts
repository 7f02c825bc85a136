import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { runCli, startServerProcess } from "../support/process.js";
import { alert, deviceId } from "../support/alerts.js";

const dir = mkdtempSync(join(tmpdir(), "triage-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("triage CLI", () => {
  it("seeds a tenant reproducibly and reports it as JSON", async () => {
    const tenant = randomUUID();
    const a = await runCli(["seed", "--data", join(dir, "a"), "--tenant", tenant, "--incidents", "40", "--seed", "s1", "--json"]);
    expect(a.code, a.stderr).toBe(0);
    const summary = JSON.parse(a.stdout);
    expect(summary.tenantId).toBe(tenant);
    expect(summary.alerts).toBeGreaterThanOrEqual(40);
    expect(summary.incidents).toBeGreaterThan(25);
    const b = await runCli(["seed", "--data", join(dir, "b"), "--tenant", tenant, "--incidents", "40", "--seed", "s1", "--json"]);
    const again = JSON.parse(b.stdout);
    expect({ ...again, seconds: 0 }).toEqual({ ...summary, seconds: 0 });
    const tenants = await runCli(["tenants", "list", "--data", join(dir, "a"), "--json"]);
    expect(JSON.parse(tenants.stdout).map((t: any) => t.id)).toEqual([tenant]);
  });

  it("exits 2 on bad usage and 1 on failure", async () => {
    expect((await runCli(["seed", "--incidents", "lots"])).code).toBe(2);
    expect((await runCli(["nonsense"])).code).toBe(2);
    const tenant = randomUUID();
    expect((await runCli(["tenants", "create", "--data", join(dir, "c"), "--id", tenant, "--name", "x"])).code).toBe(0);
    const dup = await runCli(["tenants", "create", "--data", join(dir, "c"), "--id", tenant, "--name", "x"]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("already exists");
  });

  it("serves the demo tenant and finishes in-flight requests on SIGTERM", async () => {
    const server = await startServerProcess(["--data", join(dir, "demo"), "--demo", "--demo-incidents", "30"]);
    expect(server.output()).toMatch(/Tenant: +[0-9a-f-]{36}/);
    const health = await fetch(`${server.url}/healthz`);
    expect(await health.json()).toEqual({ status: "ok" });
    const list = await (await fetch(`${server.url}/v1.0/security/incidents?$count=true&$top=1`)).json() as any;
    expect(list["@odata.count"]).toBeGreaterThan(20);

    const batch = Array.from({ length: 2000 }, () => alert({ device: deviceId() }));
    const inFlight = fetch(`${server.url}/ingest/alerts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(batch) });
    await new Promise((r) => setTimeout(r, 50));
    server.child.kill("SIGTERM");
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect((await res.json() as any).value).toHaveLength(2000);
    expect(await server.exited).toBe(0);
  });
});
