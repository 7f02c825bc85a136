import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/process.js";
import { ALL_PERMISSIONS, startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { seedStore } from "../../src/cli/seed-store.js";
import { DEMO_END } from "../../src/seed/demo-tenant.js";
import { ipKey } from "../../src/domain/entities.js";

/**
 * `triage export` and `triage import` as real processes on real stores (SQLite, or PostgreSQL with
 * TRIAGE_TEST_STORE=postgres): what an imported tenant answers through the Graph API and Triage's own
 * API is what the exported one answered; anonymized exports hold none of the original values and
 * correlate the same; a bad file changes nothing.
 */

const KEY = "fixture-test-key-0123456789";
const MANAGE = "SecurityData.Manage.All";
/** Values written into the source's free text, which an anonymized export must not hold. */
const PLANTED = ["secret-host.corp.example", "203.0.113.77", "jane.doe@fabrikam.com", "https://evil.fabrikam.com/payload/x.ps1"];

let src: TestTriage;
let dst: TestTriage;
let file: string;
let startedAt: string;

beforeAll(async () => {
  [src, dst] = await Promise.all([startTriage(), startTriage()]);
  file = join(src.dir, "tenant.jsonl");
  // A team's four weeks on a small tenant: assignments, comments, tags, classifications, resolutions.
  await seedStore(src.store, { tenantId: src.tenantId, incidents: 20, seed: "fixtures", end: DEMO_END, analysts: true });
  const manage = await src.auth(src.tenantId, [...ALL_PERMISSIONS, MANAGE]);
  const device = deviceId();
  const planted = await src.ingest([
    alert({
      device,
      user: "jane.doe@fabrikam.com",
      ip: "203.0.113.77",
      at: "2026-10-31T10:00:00Z",
      title: "Beacon from secret-host.corp.example to https://evil.fabrikam.com/payload/x.ps1",
    }),
  ]);
  const plantedIncident = planted.body.value[0].incidentId as string;
  const other = await src.ingest([alert({ device: deviceId(), at: "2026-10-31T11:00:00Z" })]);
  const otherIncident = other.body.value[0].incidentId as string;
  const ok = (r: { status: number; text: string }) => expect(r.status, r.text).toBeLessThan(300);
  ok(
    await src.request("POST", `/v1.0/security/incidents/${plantedIncident}/comments`, {
      body: { comment: "jane.doe@fabrikam.com logged on from 203.0.113.77" },
    }),
  );
  ok(
    await src.request("PATCH", `/v1.0/security/incidents/${plantedIncident}`, {
      body: { assignedTo: "jane.doe@fabrikam.com", status: "inProgress", customTags: ["secret-host.corp.example"] },
    }),
  );
  ok(await src.request("POST", `/v1.0/security/alerts_v2/${planted.body.value[0].id}/comments`, { body: { comment: "Seen on secret-host.corp.example" } }));
  // One incident merged into another: redirected, with its alerts moved.
  ok(await src.request("POST", "/v1.0/security/incidents/mergeIncidents", { body: { incidentIds: [plantedIncident, otherIncident] }, headers: manage }));
  startedAt = new Date().toISOString();
}, 300_000);

afterAll(async () => {
  await Promise.all([src?.close(), dst?.close()]);
});

/** Every page of a Graph listing. */
async function all(t: TestTriage, path: string, headers: Record<string, string>): Promise<any[]> {
  const out: any[] = [];
  for (let url: string | undefined = path; url;) {
    const r = await t.get(url, headers);
    expect(r.status, r.text).toBe(200);
    out.push(...r.body.value);
    url = (r.body["@odata.nextLink"] ?? r.body.nextLink)?.replace(t.url, "");
  }
  return out;
}

/** What the tenant answers: incidents with their alerts, alerts, every audit trail and correlation; the tenant's id and the audit's store-wide numbers left out. */
async function answers(t: TestTriage, tenant: string): Promise<unknown> {
  const h = await t.auth(tenant);
  const incidents = await all(t, "/v1.0/security/incidents?$expand=alerts&$top=50", h);
  const beta = await all(t, "/beta/security/incidents?$top=50", h);
  const alerts = await all(t, "/v1.0/security/alerts_v2?$top=100", h);
  const audit: Record<string, unknown> = {};
  const correlation: Record<string, unknown> = {};
  const noSeq = (rows: any[]) => rows.map(({ seq: _seq, ...rest }) => rest);
  for (const i of incidents) {
    audit[`incident:${i.id}`] = noSeq(await all(t, `/triage/incidents/${i.id}/audit`, h));
    const c = (await t.get(`/triage/incidents/${i.id}/correlation`, h)).body;
    correlation[i.id] = { ...c, events: noSeq(c.events) };
  }
  for (const a of alerts) audit[`alert:${a.id}`] = noSeq(await all(t, `/triage/alerts/${a.id}/audit`, h));
  return JSON.parse(JSON.stringify({ incidents, beta, alerts, audit, correlation }).replaceAll(tenant, "TENANT").replaceAll(t.url, "URL"));
}

/** Each incident's alerts, by id. */
async function membership(t: TestTriage, tenant: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const a of await all(t, "/v1.0/security/alerts_v2?$top=100", await t.auth(tenant))) out[a.incidentId] = [...(out[a.incidentId] ?? []), a.id].sort();
  return out;
}

/** What the tenant answers about some incidents: each with its alerts, its audit trail and correlation. */
async function answersFor(t: TestTriage, tenant: string, ids: string[]): Promise<unknown> {
  const h = await t.auth(tenant);
  const noSeq = (rows: any[]) => rows.map(({ seq: _seq, ...rest }) => rest);
  const out: unknown[] = [];
  for (const id of ids) {
    const incident = (await t.get(`/v1.0/security/incidents/${id}?$expand=alerts`, h)).body;
    const alertAudit = [];
    for (const a of incident.alerts) alertAudit.push(noSeq(await all(t, `/triage/alerts/${a.id}/audit`, h)));
    const c = (await t.get(`/triage/incidents/${id}/correlation`, h)).body;
    out.push({ incident, audit: noSeq(await all(t, `/triage/incidents/${id}/audit`, h)), alertAudit, correlation: { ...c, events: noSeq(c.events) } });
  }
  return JSON.parse(JSON.stringify(out).replaceAll(tenant, "TENANT").replaceAll(t.url, "URL"));
}

async function cli(args: string[]) {
  const r = await runCli(args, 180_000);
  return r;
}

/** The alerts of a fixture file, as they could be sent to ingestion again. */
function alertsOf(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.includes('"type":"alert"'))
    .map((l) => JSON.parse(l))
    .sort((a, b) => a.triage.seq - b.triage.seq)
    .map(({ value: { incidentId: _i, incidentWebUrl: _w, alertWebUrl: _a, tenantId: _t, ...rest } }) => rest);
}

/** Which alerts ingestion puts together, in a fresh tenant: the groups as sorted lists of alert ids. */
async function grouping(t: TestTriage, alerts: Record<string, unknown>[]): Promise<string[][]> {
  const tenant = await t.newTenant();
  const groups = new Map<string, string[]>();
  for (let i = 0; i < alerts.length; i += 50) {
    const r = await t.ingest(alerts.slice(i, i + 50), tenant);
    expect(r.status, r.text).toBe(200);
  }
  for (const a of await all(t, "/v1.0/security/alerts_v2?$top=100", await t.auth(tenant))) {
    groups.set(a.incidentId, [...(groups.get(a.incidentId) ?? []), a.id]);
  }
  return [...groups.values()].map((g) => g.sort()).sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

/** Strings of the source's evidence and people that identify someone or something. */
function sensitiveValues(path: string, tenant: string): Set<string> {
  const keys = new Set([
    "accountName",
    "userPrincipalName",
    "hostName",
    "deviceDnsName",
    "dnsDomain",
    "ntDomain",
    "domainName",
    "mdeDeviceId",
    "azureAdDeviceId",
    "azureAdUserId",
    "userSid",
    "activeDirectoryObjectGuid",
    "ipAddress",
    "lastIpAddress",
    "lastExternalIpAddress",
    "ipInterfaces",
    "md5",
    "sha1",
    "sha256",
    "url",
    "primaryAddress",
    "recipientEmailAddress",
    "assignedTo",
    "createdByDisplayName",
    "actor",
  ]);
  const found = new Set<string>([tenant, ...PLANTED]);
  const walk = (v: unknown, key: string | null, parent: string | null): void => {
    if (typeof v === "string") {
      const keep =
        ["system", "nt authority", "triage seed"].includes(v.toLowerCase()) || (/[.:]/.test(v) && /^[\d.:a-f]+$/i.test(v) && !ipKey(v) && !/^fe80/i.test(v));
      if (key && (keys.has(key) || (key === "displayName" && parent === "userAccount")) && v.length >= 4 && !keep) found.add(v);
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, key, parent));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, k, key);
  };
  for (const line of readFileSync(path, "utf8").split("\n").filter(Boolean)) walk(JSON.parse(line), null, null);
  return found;
}

describe("triage export and import", () => {
  it("imports into a fresh store what the source answers: incidents with alerts, alerts, comments, audit, correlation, merges", async () => {
    const exported = await cli(["export", ...src.storeArgs, "--tenant", src.tenantId, "--out", file, "--json"]);
    expect(exported.code, exported.stderr).toBe(0);
    const counts = JSON.parse(exported.stdout);
    expect(counts.incidents).toBeGreaterThan(15);
    expect(counts.audit).toBeGreaterThan(20);
    const text = readFileSync(file, "utf8");
    expect(JSON.parse(text.split("\n")[0]!)).toMatchObject({ format: "triage-tenant-export", version: 1, tenantId: src.tenantId });
    expect(text).toContain('"status":"redirected"');

    const imported = await cli(["import", file, ...dst.storeArgs, "--tenant", dst.tenantId, "--json"]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ incidents: counts.incidents, alerts: counts.alerts, audit: counts.audit, createdTenant: false });

    const before = await answers(src, src.tenantId);
    expect(await answers(dst, dst.tenantId)).toEqual(before);

    // A tenant that holds incidents is refused, unless told what to do with them.
    const again = await cli(["import", file, ...dst.storeArgs, "--tenant", dst.tenantId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds incidents or alerts; nothing was imported.*--replace.*--upsert/);
    const replaced = await cli(["import", file, ...dst.storeArgs, "--tenant", dst.tenantId, "--replace"]);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(await answers(dst, dst.tenantId)).toEqual(before);

    // Later ingestion correlates into the imported incidents as it does in the source.
    const open = (await all(src, "/v1.0/security/incidents?$filter=status%20eq%20'active'&$top=50", await src.auth(src.tenantId))).map((i) => i.id);
    let joined = 0;
    for (const id of open.slice(0, 3)) {
      const c = (await src.get(`/triage/incidents/${id}/correlation`)).body;
      const device = c.entities.find((e: any) => e.key.startsWith("device:"));
      if (!device) continue;
      const next = alert({ device: device.key.slice(7), at: device.lastSeenDateTime });
      const [a, b] = [await src.ingest([next]), await dst.ingest([next])];
      expect(b.body.value[0].incidentId).toBe(a.body.value[0].incidentId);
      if (a.body.value[0].incidentId === id) joined++;
    }
    expect(joined).toBeGreaterThan(0);
    expect(await membership(dst, dst.tenantId)).toEqual(await membership(src, src.tenantId));
  }, 600_000);

  it("--since exports the incidents changed since, whole; --upsert brings an earlier import up to date", async () => {
    const since = new Date().toISOString();
    const target = (await all(src, "/v1.0/security/incidents?$filter=status%20eq%20'active'&$top=5", await src.auth(src.tenantId)))[0];
    expect(
      (
        await src.request("PATCH", `/v1.0/security/incidents/${target.id}`, {
          body: { classification: "truePositive", determination: "malware", status: "resolved" },
        })
      ).status,
    ).toBe(200);
    // Ingestion dates an incident's last update by its alerts' times: this one is of now.
    const fresh = await src.ingest([alert({ device: deviceId(), at: new Date().toISOString() })]);
    const part = join(src.dir, "since.jsonl");
    const exported = await cli(["export", ...src.storeArgs, "--tenant", src.tenantId, "--since", since, "--out", part, "--json"]);
    expect(exported.code, exported.stderr).toBe(0);
    const ids = readFileSync(part, "utf8")
      .split("\n")
      .filter((l) => l.includes('"type":"incident"'))
      .map((l) => JSON.parse(l).value.id);
    expect(ids.sort()).toEqual([target.id, fresh.body.value[0].incidentId].sort());
    expect(JSON.parse(readFileSync(part, "utf8").split("\n")[0]!).since).toBe(since);

    const upserted = await cli(["import", part, ...dst.storeArgs, "--tenant", dst.tenantId, "--upsert", "--json"]);
    expect(upserted.code, upserted.stderr).toBe(0);
    expect(JSON.parse(upserted.stdout)).toMatchObject({ incidents: 2, newIncidents: 1, newAlerts: 1 });
    expect(await answersFor(dst, dst.tenantId, ids)).toEqual(await answersFor(src, src.tenantId, ids));
    expect(await membership(dst, dst.tenantId)).toEqual(await membership(src, src.tenantId));
  }, 600_000);

  it("anonymizes consistently: no original value left, the same grouping, the same file for the same key; into another tenant of the same store", async () => {
    const plain = join(src.dir, "plain.jsonl");
    const [a, b, c] = [join(src.dir, "anon-a.jsonl"), join(src.dir, "anon-b.jsonl"), join(src.dir, "anon-c.jsonl")];
    expect((await cli(["export", ...src.storeArgs, "--tenant", src.tenantId, "--out", plain])).code).toBe(0);
    const runs = await Promise.all([
      cli(["export", ...src.storeArgs, "--tenant", src.tenantId, "--out", a, "--anonymize", "--anonymize-key", KEY]),
      runCli(["export", ...src.storeArgs, "--tenant", src.tenantId, "--out", b, "--anonymize"], 180_000, { TRIAGE_ANONYMIZE_KEY: KEY }),
      cli(["export", ...src.storeArgs, "--tenant", src.tenantId, "--out", c, "--anonymize"]),
    ]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const body = (p: string) => readFileSync(p, "utf8").split("\n").slice(1).join("\n");
    expect(body(b)).toBe(body(a));
    expect(body(c)).not.toBe(body(a));

    const anon = readFileSync(a, "utf8").toLowerCase();
    const values = sensitiveValues(plain, src.tenantId);
    expect(values.size).toBeGreaterThan(50);
    const leaked = [...values].filter((v) => anon.includes(v.toLowerCase()));
    expect(leaked).toEqual([]);
    expect(JSON.parse(readFileSync(a, "utf8").split("\n")[0]!)).toMatchObject({ anonymized: true, tenantName: "Anonymized tenant" });

    // Sent to ingestion again, the anonymized alerts fall into the same groups as the originals.
    const original = await grouping(src, alertsOf(plain));
    expect(original.length).toBeGreaterThan(10);
    expect(original.some((g) => g.length > 1)).toBe(true);
    expect(await grouping(src, alertsOf(a))).toEqual(original);

    // Imported into a new tenant of the same store (created by the import), with the same ids.
    const other = "0f0e0d0c-0b0a-4908-8706-050403020100";
    const imported = await cli(["import", a, ...src.storeArgs, "--tenant", other, "--tenant-name", "Anonymized", "--json"]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ createdTenant: true });
    const h = await src.auth(other);
    const mine = (await all(src, "/v1.0/security/incidents?$top=50", await src.auth(src.tenantId))).map((i) => i.id);
    expect((await all(src, "/v1.0/security/incidents?$top=50", h)).map((i) => i.id)).toEqual(mine);
    // Its incidents take later alerts on their (pseudonymous) entities.
    const open = (await all(src, "/v1.0/security/incidents?$filter=status%20eq%20'active'&$top=50", h)).map((i) => i.id);
    let joined = 0;
    for (const id of open.slice(0, 3)) {
      const corr = (await src.get(`/triage/incidents/${id}/correlation`, h)).body;
      const device = corr.entities.find((e: any) => e.key.startsWith("device:"));
      if (!device) continue;
      const r = await src.ingest([alert({ device: device.key.slice(7), at: device.lastSeenDateTime })], other);
      if (r.body.value[0].incidentId === id) joined++;
    }
    expect(joined).toBeGreaterThan(0);
  }, 600_000);

  it("refuses a bad file with a clear message and writes nothing", async () => {
    const tenant = "1f0e0d0c-0b0a-4908-8706-050403020100";
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
    const incidentLine = lines.findIndex((l) => l.includes('"type":"incident"'));
    const alertLine = lines.findIndex((l) => l.includes('"type":"alert"'));
    const edit = (i: number, fn: (v: any) => void) => {
      const copy = [...lines];
      const v = JSON.parse(copy[i]!);
      fn(v);
      copy[i] = JSON.stringify(v);
      return copy;
    };
    const cases: [string, string[], RegExp][] = [
      ["not-json", [...lines.slice(0, 5), "{not json", ...lines.slice(5)], /Line 6 is not JSON/],
      ["truncated", lines.slice(0, -3), /without its end line: it is incomplete/],
      ["not-export", ['{"hello":1}', ...lines.slice(1)], /not a Triage export/],
      ["newer", edit(0, (v) => (v.version = 99)), /format version 99.*later Triage/],
      ["bad-status", edit(incidentLine, (v) => (v.value.status = "sleeping")), new RegExp(`Line ${incidentLine + 1}: incident property 'status'`)],
      [
        "orphan",
        edit(alertLine, (v) => (v.value.incidentId = "999999")),
        /belongs to incident 999999, which is neither in the file before it nor in the tenant/,
      ],
      ["bad-count", edit(lines.length - 1, (v) => (v.counts.alerts += 1)), /end line counts/],
    ];
    for (const [name, content, message] of cases) {
      const path = join(src.dir, `${name}.jsonl`);
      writeFileSync(path, content.join("\n") + "\n");
      const r = await cli(["import", path, ...dst.storeArgs, "--tenant", tenant]);
      expect(r.code, name).toBe(1);
      expect(r.stderr, name).toMatch(message);
    }
    // Not even the tenant the import would have created.
    const list = await cli(["tenants", "list", ...dst.storeArgs, "--json"]);
    expect(JSON.parse(list.stdout).map((t: any) => t.id)).not.toContain(tenant);
    // A tenant that holds records keeps them as they were when --replace meets a bad file.
    const before = await answers(dst, dst.tenantId);
    const r = await cli(["import", join(src.dir, "orphan.jsonl"), ...dst.storeArgs, "--tenant", dst.tenantId, "--replace"]);
    expect(r.code).toBe(1);
    expect(await answers(dst, dst.tenantId)).toEqual(before);
    expect(startedAt).toBeTruthy();
  }, 600_000);
});
