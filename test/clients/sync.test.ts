/**
 * `triage sync` against a second Triage playing the real tenant: a source over HTTPS with its own
 * token service (msal signs in to it as to Entra), faults injected into it, and the copy read back
 * through the destination's Graph API and compared with the source's, record for record.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn } from "node:child_process";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addCertificate } from "../../src/identity/directory.js";
import { setFaultConfig, clearFaultConfig, listFaultEvents } from "../../src/store/faults.js";
import type { FaultRule } from "../../src/schema/faults.js";
import { listSyncWindows } from "../../src/store/sync-windows.js";
import { alert } from "../support/alerts.js";
import { clientCertificate, startHttpsTriage, type HttpsTriage, type RegisteredApp } from "../support/https-triage.js";
import { startTriage, type TestTriage } from "../support/triage.js";

const BIN = join(__dirname, "../../bin/triage.js");
const READ = ["SecurityIncident.Read.All", "SecurityAlert.Read.All"];

let source: HttpsTriage;
let dest: TestTriage;
let reader: RegisteredApp;
let writerToken: string;
let dir: string;

/** Sets the reader app's faults on the source, and waits out the source's two-second fault cache. */
async function faults(seed: string, rules: Partial<FaultRule>[]): Promise<void> {
  // As the fault API fills them in (schema/faults.ts): every field a rule of its kind reads.
  const full = rules.map((r) => ({ share: 1, methods: [], route: null, limit: null, ...(r.fault === "latency" ? { ms: 0, jitterMs: 0 } : {}), ...r }));
  await setFaultConfig(source.store.db, source.tenantId, reader.clientId, { seed, rules: full }, "sync test");
  await new Promise((r) => setTimeout(r, 3500));
}

async function noFaults(): Promise<void> {
  await clearFaultConfig(source.store.db, source.tenantId, reader.clientId);
  await new Promise((r) => setTimeout(r, 3500));
}

async function tokenOf(app: RegisteredApp): Promise<string> {
  const res = await fetch(`${source.authority}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: app.clientId,
      client_secret: app.secret!,
      scope: "https://graph.microsoft.com/.default",
    }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function sync(args: string[], opts: { onSpawn?: (kill: () => void) => void } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [BIN, "sync", "--from", source.url, "--authority", source.url, "--tenant", source.tenantId, ...dest.storeArgs, ...args],
      { env: { ...process.env }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    opts.onSpawn?.(() => child.kill("SIGKILL"));
  });
}

function withSecret(into: string, extra: string[] = []): string[] {
  return ["--into", into, "--client-id", reader.clientId, "--client-secret", reader.secret!, "--json", ...extra];
}

/** Every record of a collection, following nextLink. */
async function all(get: (path: string) => Promise<{ status: number; body: any }>, path: string): Promise<any[]> {
  const out: any[] = [];
  let next: string | null = path;
  for (let guard = 0; next && guard < 200; guard++) {
    const res = await get(next);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    out.push(...res.body.value);
    const link: string | undefined = res.body["@odata.nextLink"];
    next = link ? link.slice(link.indexOf("/v1.0")) : null;
  }
  return out.sort((a, b) => Number(a.id) - Number(b.id) || String(a.id).localeCompare(String(b.id)));
}

async function sourceView() {
  const token = await tokenOf(reader);
  const get = (p: string) => source.graph("GET", p, token);
  return {
    incidents: await all(get, "/v1.0/security/incidents?$expand=alerts&$top=50"),
    alerts: await all(get, "/v1.0/security/alerts_v2?$top=500"),
  };
}

async function destView(tenant: string) {
  const headers = await dest.auth(tenant, READ);
  const get = async (p: string) => {
    const r = await dest.get(p, headers);
    return { status: r.status, body: r.body };
  };
  return {
    incidents: await all(get, "/v1.0/security/incidents?$expand=alerts&$top=50"),
    alerts: await all(get, "/v1.0/security/alerts_v2?$top=500"),
  };
}

async function expectCopyEqual(tenant: string) {
  const [source_, got] = await Promise.all([sourceView(), destView(tenant)]);
  // The copy belongs to the Triage tenant: its records name it where the source's name the source tenant.
  const want = JSON.parse(JSON.stringify(source_).replaceAll(source.tenantId, tenant)) as typeof source_;
  expect(got.incidents.length).toBe(want.incidents.length);
  expect(got.alerts.length).toBe(want.alerts.length);
  expect(got).toEqual(want);
}

beforeAll(async () => {
  source = await startHttpsTriage();
  dest = await startTriage();
  dir = mkdtempSync(join(tmpdir(), "triage-sync-test-"));
  reader = await source.registerApp({ permissions: READ, name: "sync reader" });
  const writer = await source.registerApp({ permissions: [...READ.map((p) => p.replace("Read", "ReadWrite")), "SecurityData.Manage.All"] });
  writerToken = await tokenOf(writer);
  // 30 alerts in 8 groups (a device and an account each): incidents of several alerts, at spread times.
  const alerts = Array.from({ length: 30 }, (_, i) =>
    alert({
      title: `Sync source alert ${i}`,
      severity: ["low", "medium", "high"][i % 3],
      device: `device-${i % 8}`,
      user: `user${i % 8}@contoso.example`,
      at: new Date(Date.UTC(2026, 10, 1, 8, i)).toISOString(),
    }),
  );
  const results = await source.ingest(alerts, writerToken);
  const ids = [...new Set(results.map((r) => r.incidentId))];
  expect(ids.length).toBeGreaterThan(3);
  expect(
    (
      await source.graph("PATCH", `/v1.0/security/incidents/${ids[0]}`, writerToken, {
        status: "active",
        assignedTo: "ana@contoso.example",
        customTags: ["synced"],
      })
    ).status,
  ).toBe(200);
  expect(
    (
      await source.graph("POST", `/v1.0/security/incidents/${ids[1]}/comments`, writerToken, {
        "@odata.type": "microsoft.graph.security.alertComment",
        comment: "seen",
      })
    ).status,
  ).toBe(200);
  const open = (await source.graph("GET", "/v1.0/security/incidents?$filter=status eq 'active'&$top=50", writerToken)).body.value as { id: string }[];
  const pair = open
    .filter((i) => i.id !== ids[0])
    .slice(0, 2)
    .map((i) => i.id);
  expect(pair).toHaveLength(2);
  const merged = await source.graph("POST", "/v1.0/security/incidents/mergeIncidents", writerToken, { incidentIds: pair });
  expect(merged.status, JSON.stringify(merged.body)).toBe(200);
}, 120_000);

afterAll(async () => {
  await source?.close();
  await dest?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("triage sync", { timeout: 90_000 }, () => {
  it("copies every incident, alert, comment and merge, ids and times kept, in pages", async () => {
    const run = await sync(withSecret(dest.tenantId, ["--page-size", "4", "--alert-page-size", "7"]));
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ tenantId: dest.tenantId, caughtUp: true, expandDropped: false });
    // The expanded alerts are copied as alerts: no property of a Triage source goes uncopied.
    expect(report.propertiesNotCopied).toEqual([]);
    expect(report.pages).toBeGreaterThan(3);
    await expectCopyEqual(dest.tenantId);
  });

  it("copies only what changed since, when run again", async () => {
    const { incidents } = await sourceView();
    const target = incidents.find((i) => i.status !== "redirected")!;
    expect(
      (await source.graph("PATCH", `/v1.0/security/incidents/${target.id}`, writerToken, { classification: "truePositive", determination: "malware" })).status,
    ).toBe(200);
    // Sent as it happens: its times, and so its incident's lastUpdateDateTime, are after the first sync's boundary.
    await source.ingest([alert({ title: "Arrived after the first sync", device: "device-new", at: new Date().toISOString() })], writerToken);
    const run = await sync(withSecret(dest.tenantId, ["--page-size", "4"]));
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    // The changed incident and the new one (each with its alerts), and the new alert.
    expect(report.incidents).toBeLessThanOrEqual(3);
    expect(report.incidents).toBeGreaterThanOrEqual(2);
    await expectCopyEqual(dest.tenantId);
  });

  it("waits out 429s and 503s as Retry-After says, and the copy is whole", { timeout: 180_000 }, async () => {
    const tenant = await dest.newTenant();
    const after = (await listFaultEvents(source.store.db, source.tenantId, { limit: 100_000 })).at(-1)?.seq ?? 0;
    await faults("sync-throttled", [
      { fault: 429, share: 0.4, retryAfter: 1 },
      { fault: 503, share: 0.2, retryAfter: 1 },
      { fault: 502, share: 0.1 },
    ]);
    try {
      const run = await sync(withSecret(tenant, ["--page-size", "5", "--alert-page-size", "10"]));
      expect(run.code, run.stderr).toBe(0);
      const injected = await listFaultEvents(source.store.db, source.tenantId, { after, clientId: reader.clientId, limit: 1000 });
      expect(new Set(injected.map((e) => e.fault))).toEqual(new Set(["429", "503", "502"]));
      expect(run.stderr).toBe(""); // --json: retries are not narrated
    } finally {
      await noFaults();
    }
    await expectCopyEqual(tenant);
  });

  it("resumes after it is killed mid-way, from the last page that committed", { timeout: 180_000 }, async () => {
    const tenant = await dest.newTenant();
    // Each request to the source takes a second: the sync is still running when it is killed.
    await faults("slow", [{ fault: "latency", ms: 1000 }]);
    let killed = false;
    let exited = false;
    try {
      const run = await sync(withSecret(tenant, ["--page-size", "2"]), {
        onSpawn: (kill) => {
          void (async () => {
            for (let i = 0; i < 1200 && !killed && !exited; i++) {
              await new Promise((r) => setTimeout(r, 50));
              const windows = await listSyncWindows(dest.store.db, tenant);
              if (windows.reduce((n, w) => n + w.pages, 0) >= 3) {
                kill();
                killed = true;
              }
            }
          })();
        },
      });
      exited = true;
      expect(killed, `${run.code} ${run.stderr}`).toBe(true);
      expect(run.code).not.toBe(0);
    } finally {
      exited = true;
      await noFaults();
    }
    const before = (await listSyncWindows(dest.store.db, tenant)).reduce((n, w) => n + w.pages, 0);
    expect(before).toBeGreaterThanOrEqual(3);
    const again = await sync(withSecret(tenant, ["--page-size", "2"]));
    expect(again.code, again.stderr).toBe(0);
    await expectCopyEqual(tenant);
  });

  it("reads incidents without $expand=alerts when the source fails on it, and still copies every alert", async () => {
    const tenant = await dest.newTenant();
    await faults("expand", [{ preset: "expand-alerts-failure", maxTop: 3 }]);
    try {
      const direct = await source.graph("GET", "/v1.0/security/incidents?$expand=alerts&$top=5&$orderby=lastUpdateDateTime asc", await tokenOf(reader));
      expect(direct.status).toBe(500);
      const run = await sync(withSecret(tenant, ["--page-size", "5"]));
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).expandDropped).toBe(true);
    } finally {
      await noFaults();
    }
    await expectCopyEqual(tenant);
  });

  it("signs in with a certificate instead of a secret", async () => {
    const tenant = await dest.newTenant();
    const cert = await clientCertificate();
    await addCertificate(source.store.db, reader.clientId, cert.certPem);
    const pem = join(dir, "reader.pem");
    writeFileSync(pem, cert.certPem + cert.keyPem, { mode: 0o600 });
    const run = await sync(["--into", tenant, "--client-id", reader.clientId, "--certificate", pem, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    await expectCopyEqual(tenant);
  });

  it("refuses a wrong secret with the token service's error, and writes nothing", async () => {
    const tenant = await dest.newTenant();
    const run = await sync(["--into", tenant, "--client-id", reader.clientId, "--client-secret", "not-the-secret"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/AADSTS7000215|invalid_client/);
    expect(await listSyncWindows(dest.store.db, tenant)).toEqual([]);
    expect((await destView(tenant)).incidents).toEqual([]);
  });

  it("leaves the copy correlating as the source: a new alert ingested into Triage joins the synced incident of its device", async () => {
    const { incidents } = await destView(dest.tenantId);
    const withDevice = incidents.find((i) => i.status === "active" && JSON.stringify(i.alerts).includes('"device-3"'));
    expect(withDevice).toBeDefined();
    // Within correlation's window of the device's synced alerts (2026-11-01, 08:00–08:30).
    const res = await dest.ingest([alert({ title: "Ingested into the copy", device: "device-3", at: "2026-11-01T09:00:00Z" })], dest.tenantId);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.value[0].incidentId).toBe(withDevice.id);
  });

  it("anonymizes the copy with a key: no name, account or host of the source is left, and the grouping is the source's", async () => {
    const tenant = await dest.newTenant();
    const run = await sync(withSecret(tenant, ["--anonymize-key", "a-key-of-sixteen-or-more"]));
    expect(run.code, run.stderr).toBe(0);
    const [want, got] = await Promise.all([sourceView(), destView(tenant)]);
    const text = JSON.stringify(got);
    for (const original of ["device-3", "user3@contoso.example", "contoso", source.tenantId]) expect(text).not.toContain(original);
    const shape = (v: typeof want) => v.incidents.map((i) => [i.id, i.status, i.alerts.map((a: { id: string }) => a.id)]);
    expect(shape(got)).toEqual(shape(want));
    // The same key on a later run gives the same pseudonyms.
    const again = await sync(withSecret(tenant, ["--anonymize-key", "a-key-of-sixteen-or-more"]));
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.stringify((await destView(tenant)).incidents.map((i) => i.alerts.map((a: { evidence: unknown }) => a.evidence)))).toBe(
      JSON.stringify(got.incidents.map((i) => i.alerts.map((a: { evidence: unknown }) => a.evidence))),
    );
    const short = await sync(withSecret(tenant, ["--anonymize-key", "short"]));
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/16 characters or more/);
  });

  it("reports how far each collection has come", async () => {
    const run = await sync(["--into", dest.tenantId, "--status", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const windows = JSON.parse(run.stdout) as { collection: string; records: number; since: string }[];
    expect(windows.map((w) => w.collection).sort()).toEqual(["alerts_v2", "incidents"]);
    for (const w of windows) expect(w.records).toBeGreaterThan(0);
  });
});
