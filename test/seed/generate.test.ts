import { createHash } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  alertClassification,
  alertDetermination,
  alertSeverity,
  alertStatus,
  detectionSource,
  deviceHealthStatus,
  deviceRiskScore,
  evidenceRemediationStatus,
  evidenceRole,
  evidenceVerdict,
  parseEnum,
  serviceSource,
} from "../../src/schema/enums.js";
import type { GraphEnum } from "../../src/schema/enums.js";
import { STORYLINES, TEMPLATES } from "../../src/seed/catalog.js";
import type { EvidenceKind } from "../../src/seed/catalog.js";
import { REPEAT_RATE, SEED_BATCH_SIZE, TIE_LOOKBACK_MS, detectorIdOf, estimateAlertCount, generateAlerts } from "../../src/seed/generate.js";
import type { GraphAlertInput, SeedOptions } from "../../src/seed/generate.js";
import { Rng } from "../../src/seed/random.js";

const TENANT = "b7f2c0de-1a2b-4c3d-8e9f-0123456789ab";
const END = new Date("2026-03-01T00:00:00Z");
const ISO7 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

type Ev = Record<string, unknown> & { "@odata.type": string };

function collect(opts: SeedOptions): GraphAlertInput[][] {
  return [...generateAlerts(opts)];
}

function evidenceOf(a: GraphAlertInput): Ev[] {
  return a.evidence as Ev[];
}

function typeOf(e: Ev): string {
  return e["@odata.type"].replace("#microsoft.graph.security.", "");
}

function upnOf(e: Ev): string {
  return (e.userAccount as Record<string, string>).userPrincipalName ?? "";
}

function isMember<M extends string>(e: GraphEnum<M>, v: unknown): boolean {
  return typeof v === "string" && parseEnum(e, v) === v && !e.gated.has(v as M) && v !== "unknownFutureValue";
}

interface Cluster {
  device: string;
  upns: Set<string>;
  alerts: GraphAlertInput[];
  startMs: number;
  tieAlerts: { kind: "device" | "user"; value: string }[];
}

/** Groups alerts by their primary device (the first deviceEvidence element). */
function clusterize(alerts: GraphAlertInput[]): Map<string, Cluster> {
  const clusters = new Map<string, Cluster>();
  for (const a of alerts) {
    const ev = evidenceOf(a);
    const devices = ev.filter((e) => typeOf(e) === "deviceEvidence");
    const users = ev.filter((e) => typeOf(e) === "userEvidence");
    const device = String(devices[0]?.mdeDeviceId);
    let c = clusters.get(device);
    if (!c) {
      c = { device, upns: new Set(), alerts: [], startMs: Infinity, tieAlerts: [] };
      clusters.set(device, c);
    }
    c.alerts.push(a);
    c.startMs = Math.min(c.startMs, Date.parse(String(a.firstActivityDateTime)));
    if (users[0]) c.upns.add(upnOf(users[0]));
    for (const d of devices.slice(1)) c.tieAlerts.push({ kind: "device", value: String(d.mdeDeviceId) });
    for (const u of users.slice(1)) c.tieAlerts.push({ kind: "user", value: upnOf(u) });
  }
  return clusters;
}

const OPTS: SeedOptions = { seed: "contoso-demo", tenantId: TENANT, incidents: 2000, end: END };
let cached: GraphAlertInput[][] | undefined;
function dataset(): GraphAlertInput[][] {
  return (cached ??= collect(OPTS));
}
const all = (): GraphAlertInput[] => dataset().flat();

describe("Rng", () => {
  it("is pinned: these values must never change, or every stored seed changes meaning", () => {
    const r = new Rng("triage");
    expect([r.uint32(), r.uint32(), r.uint32()]).toEqual([1013078723, 4171325541, 4131988338]);
    expect(new Rng("triage", 7).hex(12)).toBe("a995a0b86fe7");
    expect(new Rng(42).guid()).toBe("3d3b8e9c-c218-4b4a-a26a-d69b1de79d86");
  });

  it("is deterministic per seed, and its helpers stay in range", () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 0, max: 1000 }), (seed, min, width) => {
        const a = new Rng(seed);
        const b = new Rng(seed);
        for (let i = 0; i < 20; i++) {
          const x = a.int(min, min + width);
          expect(x).toBe(b.int(min, min + width));
          expect(x).toBeGreaterThanOrEqual(min);
          expect(x).toBeLessThanOrEqual(min + width);
        }
        expect(a.guid()).toMatch(GUID);
        expect(a.hex(13)).toMatch(/^[0-9a-f]{13}$/);
        expect(
          a.weighted([
            ["x", 0],
            ["y", 1],
          ]),
        ).toBe("y");
        expect(a.chance(0)).toBe(false);
        expect(a.chance(1)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe("catalog", () => {
  it("has at least 30 templates with valid Graph enums and MITRE ids", () => {
    expect(TEMPLATES.length).toBeGreaterThanOrEqual(30);
    expect(new Set(TEMPLATES.map((t) => t.key)).size).toBe(TEMPLATES.length);
    for (const t of TEMPLATES) {
      expect(isMember(alertSeverity, t.severity), t.key).toBe(true);
      expect(isMember(serviceSource, t.serviceSource), t.key).toBe(true);
      expect(isMember(detectionSource, t.detectionSource), t.key).toBe(true);
      expect(isMember(alertDetermination, t.determination), t.key).toBe(true);
      for (const m of t.mitreTechniques) expect(m).toMatch(/^T\d{4}(\.\d{3})?$/);
      expect(detectorIdOf(t.key)).toMatch(GUID);
    }
    const sources = new Set(TEMPLATES.map((t) => t.serviceSource));
    for (const s of [
      "microsoftDefenderForEndpoint",
      "microsoftDefenderForIdentity",
      "microsoftDefenderForOffice365",
      "microsoftDefenderForCloudApps",
      "azureAdIdentityProtection",
      "dataLossPrevention",
    ]) {
      expect(sources.has(s), s).toBe(true);
    }
    for (const s of STORYLINES)
      for (const k of s.steps)
        expect(
          TEMPLATES.some((t) => t.key === k),
          k,
        ).toBe(true);
  });
});

describe("generateAlerts", () => {
  it("is deterministic: the same options give the same bytes, another seed differs", () => {
    const opts: SeedOptions = { seed: 7, tenantId: TENANT, incidents: 1500, end: END, mergeRate: 0.05 };
    const first = (o: SeedOptions, n: number): string => {
      const out: GraphAlertInput[][] = [];
      for (const b of generateAlerts(o)) {
        out.push(b);
        if (out.length === n) break;
      }
      return JSON.stringify(out);
    };
    const a = first(opts, 3);
    expect(a.length).toBeGreaterThan(100_000);
    expect(first(opts, 3)).toBe(a);
    expect(first({ ...opts, seed: 8 }, 3)).not.toBe(a);
    const digest = (o: SeedOptions): string => {
      const h = createHash("sha256");
      for (const b of generateAlerts(o)) h.update(JSON.stringify(b));
      return h.digest("hex");
    };
    expect(digest(opts)).toBe(digest({ ...opts }));
  });

  it("yields non-empty batches of at most 500, in createdDateTime order", () => {
    const batches = dataset();
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) {
      expect(b.length).toBeGreaterThan(0);
      expect(b.length).toBeLessThanOrEqual(SEED_BATCH_SIZE);
    }
    for (const b of batches.slice(0, -1)) expect(b.length).toBe(SEED_BATCH_SIZE);
    let prev = "";
    for (const a of all()) {
      const created = String(a.createdDateTime);
      expect(created >= prev).toBe(true);
      prev = created;
    }
    expect(Date.parse(prev)).toBeLessThanOrEqual(END.getTime());
    expect(Date.parse(String(all()[0]?.createdDateTime))).toBeGreaterThanOrEqual(END.getTime() - 28 * 86_400_000);
  });

  it("emits well-formed Graph alerts", () => {
    const required = [
      "id",
      "providerAlertId",
      "tenantId",
      "title",
      "description",
      "severity",
      "status",
      "classification",
      "determination",
      "category",
      "categories",
      "mitreTechniques",
      "serviceSource",
      "detectionSource",
      "productName",
      "detectorId",
      "alertPolicyId",
      "actorDisplayName",
      "threatDisplayName",
      "threatFamilyName",
      "recommendedActions",
      "createdDateTime",
      "firstActivityDateTime",
      "lastActivityDateTime",
      "lastUpdateDateTime",
      "resolvedDateTime",
      "assignedTo",
      "alertWebUrl",
      "evidence",
      "systemTags",
      "additionalData",
      "customDetails",
    ];
    const ids = new Set<string>();
    for (const a of all()) {
      for (const k of required) expect(k in a, k).toBe(true);
      expect(a).not.toHaveProperty("incidentId");
      const id = String(a.id);
      expect(id).toMatch(/^da\d{18}_-?\d+$/);
      expect(ids.has(id)).toBe(false);
      ids.add(id);
      expect(a.tenantId).toBe(TENANT);
      expect(a.alertWebUrl).toBe(`https://security.microsoft.com/alerts/${id}?tid=${TENANT}`);
      expect(a.categories).toEqual([a.category]);
      expect(a.title).not.toMatch(/\{\{/);
      expect(a.detectorId).toMatch(GUID);
      expect(a.alertPolicyId).toBeNull();
      expect(a.assignedTo).toBeNull();
      expect(a.systemTags).toEqual([]);
      for (const [e, v] of [
        [alertSeverity, a.severity],
        [alertStatus, a.status],
        [serviceSource, a.serviceSource],
        [detectionSource, a.detectionSource],
      ] as const) {
        expect(isMember(e as GraphEnum, v), `${e.name}=${String(v)}`).toBe(true);
      }
      for (const k of ["createdDateTime", "firstActivityDateTime", "lastActivityDateTime", "lastUpdateDateTime"]) {
        expect(a[k], k).toMatch(ISO7);
      }
      expect(String(a.firstActivityDateTime) <= String(a.lastActivityDateTime)).toBe(true);
      expect(String(a.lastActivityDateTime) <= String(a.createdDateTime)).toBe(true);
      expect(String(a.createdDateTime) <= String(a.lastUpdateDateTime)).toBe(true);
      if (a.status === "resolved") {
        expect(isMember(alertClassification, a.classification)).toBe(true);
        expect(isMember(alertDetermination, a.determination)).toBe(true);
        expect(a.resolvedDateTime).toMatch(ISO7);
        expect(String(a.resolvedDateTime) > String(a.createdDateTime)).toBe(true);
        expect(Date.parse(String(a.resolvedDateTime))).toBeLessThanOrEqual(END.getTime() + 60_000);
      } else {
        expect(a.classification).toBeNull();
        expect(a.determination).toBeNull();
        expect(a.resolvedDateTime).toBeNull();
      }
      const ev = evidenceOf(a);
      expect(ev.length).toBeGreaterThanOrEqual(2);
      expect(typeOf(ev[0] as Ev)).toBe("deviceEvidence");
      expect(typeOf(ev[1] as Ev)).toBe("userEvidence");
      for (const e of ev) {
        expect(e["@odata.type"]).toMatch(/^#microsoft\.graph\.security\.[a-zA-Z]+Evidence$/);
        expect(e.createdDateTime).toMatch(ISO7);
        expect(isMember(evidenceVerdict, e.verdict)).toBe(true);
        expect(isMember(evidenceRemediationStatus, e.remediationStatus)).toBe(true);
        expect(Array.isArray(e.roles)).toBe(true);
        for (const r of e.roles as unknown[]) expect(isMember(evidenceRole, r), String(r)).toBe(true);
        expect(Array.isArray(e.detailedRoles)).toBe(true);
        expect(Array.isArray(e.tags)).toBe(true);
        if (typeOf(e) === "deviceEvidence") {
          expect(e.mdeDeviceId).toMatch(/^[0-9a-f]{40}$/);
          expect(e.deviceDnsName).toMatch(/^[a-z0-9-]+\.[a-z.]+$/);
          expect(typeof e.osPlatform).toBe("string");
          expect(typeof e.osBuild).toBe("number");
          expect(isMember(deviceHealthStatus, e.healthStatus)).toBe(true);
          expect(isMember(deviceRiskScore, e.riskScore)).toBe(true);
          expect(typeof e.rbacGroupName).toBe("string");
          expect(e.firstSeenDateTime).toMatch(ISO7);
          expect((e.loggedOnUsers as unknown[]).length).toBeGreaterThan(0);
          expect((e.ipInterfaces as unknown[]).length).toBeGreaterThan(0);
        }
        if (typeOf(e) === "userEvidence") {
          const u = e.userAccount as Record<string, unknown>;
          expect(u.userPrincipalName).toMatch(/^[a-z]+\.[a-z]+\d+@[a-z.]+$/);
          expect(u.azureAdUserId).toMatch(GUID);
          expect(u.userSid).toMatch(/^S-1-5-21-\d+-\d+-\d+-\d+$/);
          for (const k of ["accountName", "domainName", "displayName"]) expect(typeof u[k], k).toBe("string");
        }
      }
    }
  });

  it("gives each template exactly the evidence kinds the catalog declares", () => {
    const typeName: Record<EvidenceKind, string> = {
      ip: "ipEvidence",
      url: "urlEvidence",
      file: "fileEvidence",
      process: "processEvidence",
      mailbox: "mailboxEvidence",
      analyzedMessage: "analyzedMessageEvidence",
      registryKey: "registryKeyEvidence",
      registryValue: "registryValueEvidence",
      cloudApplication: "cloudApplicationEvidence",
    };
    const byDetector = new Map(TEMPLATES.map((t) => [detectorIdOf(t.key), t]));
    const seen = new Set<string>();
    for (const a of all()) {
      const t = byDetector.get(String(a.detectorId));
      expect(t).toBeDefined();
      if (!t) continue;
      seen.add(t.key);
      const own = evidenceOf(a)
        .slice(2)
        .filter((e) => typeOf(e) !== "deviceEvidence" && typeOf(e) !== "userEvidence");
      expect(own.map(typeOf).sort(), t.key).toEqual(t.evidence.map((k) => typeName[k]).sort());
      expect(a.productName).toBe(t.productName);
      if (t.threats) expect(t.threats.some(([d]) => d === a.threatDisplayName)).toBe(true);
      else expect(a.threatDisplayName).toBeNull();
    }
    expect([...TEMPLATES.map((t) => t.key)].filter((k) => !seen.has(k))).toEqual([]);
  });

  it("produces about `incidents` clusters, each with its own device and user", () => {
    const clusters = clusterize(all());
    expect(clusters.size).toBeGreaterThanOrEqual(OPTS.incidents * 0.85);
    expect(clusters.size).toBeLessThanOrEqual(OPTS.incidents * 1.15);
    const upnOwner = new Map<string, string>();
    for (const c of clusters.values()) {
      expect(c.upns.size).toBe(1);
      expect(c.alerts.length).toBeLessThanOrEqual(8);
      for (const u of c.upns) {
        expect(upnOwner.has(u), `UPN ${u} is primary in two clusters`).toBe(false);
        upnOwner.set(u, c.device);
      }
    }
    const sizes = [...clusters.values()].map((c) => c.alerts.length);
    const small = sizes.filter((n) => n <= 3).length;
    expect(small / sizes.length).toBeGreaterThan(0.7);
    expect(Math.max(...sizes)).toBeGreaterThanOrEqual(6);
  });

  it("shares no entity value across clusters except through the deliberate ties", () => {
    const clusters = clusterize(all());
    const owner = new Map<string, string>();
    const claim = (key: string, device: string): void => {
      const prev = owner.get(key);
      expect(prev === undefined || prev === device, `${key} shared by two clusters`).toBe(true);
      owner.set(key, device);
    };
    for (const c of clusters.values()) {
      for (const a of c.alerts) {
        const ev = evidenceOf(a);
        const tieDevices = new Set(ev.filter((e) => typeOf(e) === "deviceEvidence").slice(1));
        const tieUsers = new Set(ev.filter((e) => typeOf(e) === "userEvidence").slice(1));
        for (const e of ev) {
          if (tieDevices.has(e) || tieUsers.has(e)) continue;
          const t = typeOf(e);
          if (t === "deviceEvidence") {
            claim(`device:${String(e.deviceDnsName)}`, c.device);
            claim(`ip:${String(e.lastExternalIpAddress)}`, c.device);
            claim(`ip:${String(e.lastIpAddress)}`, c.device);
            for (const ip of e.ipInterfaces as string[]) claim(`ip:${ip}`, c.device);
            claim(`aadDevice:${String(e.azureAdDeviceId)}`, c.device);
          }
          if (t === "userEvidence") {
            const u = e.userAccount as Record<string, string>;
            claim(`upn:${u.userPrincipalName}`, c.device);
            claim(`sam:${u.accountName}`, c.device);
            claim(`sid:${u.userSid}`, c.device);
            claim(`aad:${u.azureAdUserId}`, c.device);
          }
          if (t === "ipEvidence") claim(`ip:${String(e.ipAddress)}`, c.device);
          if (t === "urlEvidence") claim(`url:${String(e.url)}`, c.device);
          if (t === "fileEvidence") claim(`sha256:${String((e.fileDetails as Record<string, unknown>).sha256)}`, c.device);
          if (t === "processEvidence") claim(`sha256:${String((e.imageFile as Record<string, unknown>).sha256)}`, c.device);
          if (t === "mailboxEvidence") claim(`upn:${String(e.primaryAddress)}`, c.device);
          if (t === "analyzedMessageEvidence") {
            claim(`msg:${String(e.networkMessageId)}`, c.device);
            claim(`ip:${String(e.senderIp)}`, c.device);
          }
        }
      }
    }
  });

  it("ties about mergeRate of the campaigns to an earlier campaign started within 6 hours", () => {
    for (const [mergeRate, batches] of [
      [0.03, dataset()],
      [0.1, collect({ ...OPTS, mergeRate: 0.1 })],
    ] as const) {
      const clusters = clusterize(batches.flat());
      const byDevice = clusters;
      const byUpn = new Map<string, Cluster>();
      for (const c of clusters.values()) for (const u of c.upns) byUpn.set(u, c);
      let tied = 0;
      for (const c of clusters.values()) {
        const tieAlerts = c.alerts.filter((a) => evidenceOf(a).filter((e) => typeOf(e) === "deviceEvidence" || typeOf(e) === "userEvidence").length > 2);
        expect(tieAlerts.length).toBeLessThanOrEqual(1);
        expect(c.tieAlerts.length).toBe(tieAlerts.length);
        const tie = c.tieAlerts[0];
        if (!tie) continue;
        tied++;
        const target = tie.kind === "device" ? byDevice.get(tie.value) : byUpn.get(tie.value);
        expect(target, `tie target ${tie.value}`).toBeDefined();
        if (!target) continue;
        expect(target).not.toBe(c);
        const lag = c.startMs - target.startMs;
        expect(lag).toBeGreaterThanOrEqual(0);
        expect(lag).toBeLessThanOrEqual(TIE_LOOKBACK_MS + 1000);
      }
      const expected = mergeRate * clusters.size;
      expect(tied).toBeGreaterThanOrEqual(expected * 0.6);
      expect(tied).toBeLessThanOrEqual(expected * 1.5);
    }
    const none = clusterize(collect({ ...OPTS, incidents: 500, mergeRate: 0 }).flat());
    expect([...none.values()].every((c) => c.tieAlerts.length === 0)).toBe(true);
  });

  it("has ~5% repeat occurrences: the same detector firing twice on one device", () => {
    const clusters = clusterize(all());
    let repeats = 0;
    for (const c of clusters.values()) {
      const detectors = c.alerts.map((a) => String(a.detectorId));
      if (new Set(detectors).size < detectors.length) repeats++;
    }
    const rate = repeats / clusters.size;
    expect(rate).toBeGreaterThan(REPEAT_RATE * 0.5);
    expect(rate).toBeLessThan(REPEAT_RATE * 1.6);
  });

  it("has a realistic severity and status mix", () => {
    const alerts = all();
    const share = (key: string, v: string): number => alerts.filter((a) => a[key] === v).length / alerts.length;
    expect(share("severity", "informational")).toBeGreaterThan(0.03);
    expect(share("severity", "high")).toBeLessThan(0.25);
    expect(share("severity", "high")).toBeGreaterThan(0.03);
    expect(share("severity", "low") + share("severity", "medium")).toBeGreaterThan(0.55);
    expect(share("status", "new")).toBeGreaterThan(0.5);
    expect(share("status", "resolved")).toBeGreaterThan(0.05);
    expect(share("status", "inProgress")).toBeGreaterThan(0.02);
    expect(alerts.some((a) => typeof a.actorDisplayName === "string")).toBe(true);
  });

  it("estimates the alert count", () => {
    const n = all().length;
    const est = estimateAlertCount(OPTS);
    expect(Math.abs(est - n) / n).toBeLessThan(0.1);
    expect(estimateAlertCount({ ...OPTS, incidents: 0 })).toBe(0);
    expect(collect({ ...OPTS, incidents: 0 })).toEqual([]);
  });

  it("is lazy: the first batch of a 10M-campaign request comes quickly", () => {
    const t0 = performance.now();
    const it = generateAlerts({ seed: "big", tenantId: TENANT, incidents: 10_000_000, end: END });
    const first = it.next();
    expect(first.done).toBe(false);
    expect(first.value?.length).toBe(SEED_BATCH_SIZE);
    expect(performance.now() - t0).toBeLessThan(3000);
    void it.return(undefined);
  });

  it("keeps memory bounded while streaming 200k campaigns", () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const heap = (): number => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    let batches = 0;
    let early = 0;
    let peak = 0;
    let last = "";
    for (const b of generateAlerts({ seed: "stream", tenantId: TENANT, incidents: 200_000, end: END })) {
      batches++;
      last = String(b[b.length - 1]?.createdDateTime);
      if (batches === 30) early = heap();
      if (batches > 30 && batches % 40 === 0) peak = Math.max(peak, heap());
      if (batches === 190) break;
    }
    expect(last > "2026-02-01").toBe(true); // a good stretch of the timeline was streamed
    expect(peak - early).toBeLessThan(24 * 1024 * 1024);
  }, 120_000);
});
