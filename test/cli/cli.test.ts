import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { httpsRequest, runCli, startServerProcess } from "../support/process.js";
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

  it("backs up the SQLite store to a file that opens as a complete copy", async () => {
    const data = join(dir, "backup-src");
    const tenant = randomUUID();
    expect((await runCli(["seed", "--data", data, "--tenant", tenant, "--incidents", "10", "--json"])).code).toBe(0);
    const out = join(dir, "backup.db");
    const r = await runCli(["backup", "--data", data, "--out", out, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const { openSqliteStore } = await import("../../src/store/open.js");
    const store = await openSqliteStore(out);
    try {
      const n = await store.db
        .selectFrom("incidents")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("tenant_id", "=", tenant)
        .executeTakeFirstOrThrow();
      expect(Number(n.n)).toBeGreaterThan(5);
    } finally {
      await store.close();
    }
    expect((await runCli(["backup", "--data", join(dir, "nothing-here"), "--out", out])).code).toBe(1);
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

  it("serves the demo tenant over HTTPS with its local CA, and says how to use its apps", async () => {
    const data = join(dir, "demo-https");
    const server = await startServerProcess(["--data", data, "--demo", "--demo-incidents", "20"]);
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const caPath = join(data, "tls", "ca.pem");
      await new Promise((r) => setTimeout(r, 100));
      expect(server.output()).toContain(`NODE_EXTRA_CA_CERTS=${caPath}`);
      const creds = JSON.parse(readFileSync(join(data, "demo-credentials.json"), "utf8"));
      expect(server.output()).toContain(creds.readWrite.clientSecret);
      const ca = readFileSync(caPath, "utf8");
      const token = await httpsRequest(`${server.url}/${creds.tenantId}/oauth2/v2.0/token`, {
        ca,
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: creds.readOnly.clientId,
          client_secret: creds.readOnly.clientSecret,
          scope: "https://graph.microsoft.com/.default",
        }).toString(),
      });
      const accessToken = token.json().access_token;
      const list = await httpsRequest(`${server.url}/v1.0/security/incidents?$count=true&$top=1`, { ca, headers: { authorization: `Bearer ${accessToken}` } });
      expect(list.json()["@odata.count"]).toBeGreaterThan(10);
      const patch = await httpsRequest(`${server.url}/v1.0/security/incidents/1`, {
        ca,
        method: "PATCH",
        headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" },
        body: '{"status":"resolved"}',
      });
      expect(patch.status).toBe(403);
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
  });

  it("finishes in-flight requests on SIGTERM", async () => {
    const data = join(dir, "demo");
    const server = await startServerProcess(["--data", data, "--http", "--demo", "--demo-incidents", "30"]);
    const creds = JSON.parse(readFileSync(join(data, "demo-credentials.json"), "utf8"));
    const health = await fetch(`${server.url}/healthz`);
    expect(await health.json()).toEqual({ status: "ok" });
    const tokenRes = await fetch(`${server.url}/${creds.tenantId}/oauth2/v2.0/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: creds.readWrite.clientId,
        client_secret: creds.readWrite.clientSecret,
        scope: "https://graph.microsoft.com/.default",
      }),
    });
    const auth = { authorization: `Bearer ${((await tokenRes.json()) as any).access_token}` };
    const list = (await (await fetch(`${server.url}/v1.0/security/incidents?$count=true&$top=1`, { headers: auth })).json()) as any;
    expect(list["@odata.count"]).toBeGreaterThan(20);

    const batch = Array.from({ length: 2000 }, () => alert({ device: deviceId() }));
    const inFlight = fetch(`${server.url}/ingest/alerts`, {
      method: "POST",
      headers: { "content-type": "application/json", ...auth },
      body: JSON.stringify(batch),
    });
    await new Promise((r) => setTimeout(r, 50));
    server.child.kill("SIGTERM");
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).value).toHaveLength(2000);
    expect(await server.exited).toBe(0);
  });
});
