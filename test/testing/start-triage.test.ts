/**
 * `startTriage` from `triage/testing`, imported by its package name as a suite would (the built dist),
 * in process and as a child process: every helper against the real server, and the folder gone after
 * stop(). SQLite only: the ephemeral server makes its own store.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { startTriage, type TriageTestServer } from "triage/testing";
import { KEPT_TENANT_TABLES, RESET_TABLES } from "../../src/store/reset.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const alert = (id: string, device: string) => ({
  id,
  title: `Credential theft on ${device}`,
  severity: "medium",
  serviceSource: "microsoftDefenderForEndpoint",
  detectionSource: "microsoftDefenderForEndpoint",
  firstActivityDateTime: "2026-10-30T08:00:00Z",
  lastActivityDateTime: "2026-10-30T08:10:00Z",
  evidence: [{ "@odata.type": "#microsoft.graph.security.deviceEvidence", deviceDnsName: device, mdeDeviceId: device.replace(/\W/g, "").padEnd(40, "1") }],
});

for (const mode of ["in-process", "child-process"] as const) {
  describe(`startTriage (${mode})`, () => {
    let t: TriageTestServer;
    let startMs = 0;

    beforeAll(async () => {
      const t0 = performance.now();
      t = await startTriage({ mode });
      startMs = performance.now() - t0;
      console.log(`startTriage (${mode}): ready after ${Math.round(startMs)} ms`);
    });
    afterAll(() => t?.stop());

    it("starts within a generous bound, over HTTPS, with the environment a client process needs", () => {
      expect(startMs).toBeLessThan(60_000);
      expect(t.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(t.env.REQUESTS_CA_BUNDLE).toBe(t.info.caFile);
      expect(t.env.NODE_EXTRA_CA_CERTS).toBe(t.info.caFile);
      expect(t.env.TRIAGE_CLIENT_SECRET).toBe(t.info.apps.readWrite.clientSecret);
      expect(existsSync(t.info.dataDir)).toBe(true);
    });

    it("gets a token per app, each with its own permissions", async () => {
      const [read, readWrite] = await Promise.all([t.token("read"), t.token("readWrite")]);
      expect(read).not.toBe(readWrite);
      const roles = (tok: string) => JSON.parse(Buffer.from(tok.split(".")[1]!, "base64url").toString()).roles;
      expect(roles(read)).toEqual(expect.arrayContaining(["SecurityIncident.Read.All"]));
      expect(roles(read)).not.toContain("SecurityIncident.ReadWrite.All");
      expect(await t.token("read")).toBe(read);
    });

    it("ingests, and reads the audit trail of what a PATCH changed", async () => {
      const [placed] = await t.ingest(alert("st-1", "srv-7.contoso.com"));
      expect(placed).toMatchObject({ id: "st-1", outcome: "created" });
      const id = placed!.incidentId;
      const patched = await t.request("PATCH", `/v1.0/security/incidents/${id}`, { body: { status: "inProgress", assignedTo: "ana@contoso.com" } });
      expect(patched.status).toBe(200);
      expect((await t.request("PATCH", `/v1.0/security/incidents/${id}`, { app: "read", body: { status: "active" } })).status).toBe(403);
      const trail = await t.audit("incident", id);
      expect(trail.filter((e) => e.property === "status").map((e) => [e.before, e.after])).toEqual([["active", "inProgress"]]);
      expect(trail.find((e) => e.property === "assignedTo")?.after).toBe("ana@contoso.com");
      // The actor is the app that made the change, by its display name.
      expect(new Set(trail.map((e) => e.actor))).toEqual(new Set(["Test read-write"]));
    });

    it("seeds generated incidents, and reset empties the tenant and numbers incidents from 1 again", async () => {
      const summary = await t.seed({ incidents: 8, seed: "recipe" });
      expect(summary.incidents).toBeGreaterThanOrEqual(8);
      const count = await t.request("GET", "/v1.0/security/incidents/$count", { app: "read" });
      expect(Number(count.text)).toBe(summary.incidents);

      await t.reset();
      expect((await t.request<{ value: unknown[] }>("GET", "/v1.0/security/incidents", { app: "read" })).body.value).toEqual([]);
      expect((await t.request("GET", "/v1.0/security/alerts_v2/st-1")).status).toBe(404);
      // The apps and their tokens survive a reset; the next incident is number 1.
      const [again] = await t.ingest(alert("st-2", "srv-8.contoso.com"));
      expect(again!.incidentId).toBe("1");
      expect(await t.audit("incident", "1")).toEqual([]);
    });

    it("refuses a seed beyond its bound", async () => {
      if (mode === "child-process") await expect(t.seed({ incidents: 1_000_000 })).rejects.toThrow(/incidents must be a whole number/);
      else expect(mode).toBe("in-process");
    });

    it("sets faults for an app and for the tenant, applied at the next request, and lists what it injected", async () => {
      const list = "/v1.0/security/incidents";
      // One app's rule: its next two GETs answer 503; the other apps are untouched.
      const set = await t.setFaults({ seed: "bench", rules: [{ fault: 503, retryAfter: 2, methods: ["GET"], limit: 2 }] }, { app: "read" });
      expect(set).toMatchObject({ scope: "app", clientId: t.info.apps.read.clientId, seed: "bench", counters: [{ matched: 0, fired: 0 }] });
      const first = await t.request("GET", list, { app: "read" });
      expect(first.status).toBe(503);
      expect(first.headers["retry-after"]).toBe("2");
      expect((first.body as { error: { code: string } }).error.code).toBe("ServiceUnavailable");
      expect((await t.request("GET", list, { app: "readWrite" })).status).toBe(200);
      expect((await t.request("GET", list, { app: "read" })).status).toBe(503);
      expect((await t.request("GET", list, { app: "read" })).status).toBe(200);
      const events = await t.faultEvents({ app: "read" });
      expect(events.map((e) => [e.fault, e.status, e.method, e.route, e.scope])).toEqual([
        ["503", 503, "GET", "/security/incidents", "app"],
        ["503", 503, "GET", "/security/incidents", "app"],
      ]);
      expect(events[0]!.requestId).toBe(first.headers["request-id"]);

      // The tenant's rule reaches every app; clearing it stops it at once.
      const tenant = await t.setFaults({ rules: [{ fault: 429, route: "/security/incidents" }] });
      expect(tenant).toMatchObject({ scope: "tenant", clientId: null, seed: expect.any(String) });
      expect((await t.request("GET", list, { app: "readWrite" })).status).toBe(429);
      await t.clearFaults();
      expect((await t.request("GET", list, { app: "readWrite" })).status).toBe(200);
      expect(await t.setFaults(null, { app: "read" })).toBeNull();
      expect((await t.faultEvents()).map((e) => e.fault)).toEqual(["503", "503", "429"]);

      // A rule the admin API refuses is refused here too, and an app of no tenant of this Triage.
      await expect(t.setFaults({ rules: [{ fault: 418 as never }] })).rejects.toThrow(/fault configuration/);
      await expect(t.setFaults({ rules: [{ fault: 500 }] }, { app: "00000000-0000-0000-0000-000000000000" })).rejects.toThrow(/No app/);
      expect((await t.request("GET", list, { app: "readWrite" })).status).toBe(200);
    });

    it("stops and removes its folder", async () => {
      const dir = t.info.dataDir;
      await t.stop();
      expect(existsSync(dir)).toBe(false);
      await t.stop(); // twice is harmless
    });
  });
}

describe("a child-process Triage whose test process ends without stop()", () => {
  it("stops and removes its folder by itself", { timeout: 120_000 }, async () => {
    const script = `import { startTriage } from "triage/testing";
const t = await startTriage({ mode: "child-process" });
process.stdout.write(JSON.stringify({ dir: t.info.dataDir, pid: t.info.pid }) + "\\n");
process.exit(0);`;
    const runner = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    runner.stdout.on("data", (d: Buffer) => (out += d.toString()));
    await new Promise((r) => runner.on("exit", r));
    const { dir, pid } = JSON.parse(out) as { dir: string; pid: number };
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 300 && (alive() || existsSync(dir)); i++) await new Promise((r) => setTimeout(r, 100));
    expect(alive()).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});

describe("reset", () => {
  it("names every table that holds a tenant's rows as reset or kept", async () => {
    const t = await startTriage();
    try {
      const db = new Database(`${t.info.dataDir}/triage.db`, { readonly: true });
      const tables = (db.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'").all() as { name: string }[])
        .map((r) => r.name)
        .filter((name) => (db.prepare(`select name from pragma_table_info(?)`).all(name) as { name: string }[]).some((c) => c.name === "tenant_id"));
      db.close();
      const named: string[] = [...RESET_TABLES, ...KEPT_TENANT_TABLES];
      expect(tables.filter((name) => !named.includes(name))).toEqual([]);
    } finally {
      await t.stop();
    }
  });
});
