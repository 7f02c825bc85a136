/**
 * Incidents' derivation summaries through the real store (migration 021, features/ingest/finish.ts):
 * whatever sequence of batches, re-sent alerts, moves and merges a tenant goes through, each incident's
 * stored summary is the one summed up from all its stored alerts and entities, and what ingestion
 * derived from it incrementally is what a derivation from all of them gives. Also the migration's
 * backfill, for the incidents a store held before it, and the bound on what a summary keeps.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { ingestAlerts, type IngestResult } from "../../src/features/ingest/index.js";
import { moveAlerts } from "../../src/features/move-alerts.js";
import { mergeIncidents } from "../../src/features/merge-incidents.js";
import { normalizeAlert } from "../../src/domain/normalize-alert.js";
import { inTimelineOrder, summarize, summaryFits, type IncidentSummary } from "../../src/domain/incident-summary.js";
import { createTenant } from "../../src/store/tenants.js";
import { inTransaction } from "../../src/store/transaction.js";
import { appendSightings, upsertGraphAlerts } from "../../src/store/tenant-records.js";
import { alertRecordOf } from "../../src/store/alert-rows.js";
import { derivationInputs } from "../../src/store/incident-facts.js";
import { dropSummaries, readSummaries } from "../../src/store/incident-summaries.js";
import { incidentRecordOf } from "../../src/store/incident-rows.js";
import { down, up } from "../../src/store/migrations/021_incident_summaries.js";
import { GraphError } from "../../src/errors/graph-error.js";
import { openTestStore, type TestStore } from "../support/stores.js";
import { alert } from "../support/alerts.js";

let s: TestStore;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "triage-summary-"));
  s = await openTestStore(dir);
});
afterAll(async () => {
  await s?.store.close();
  await s?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const DEVICES = Array.from({ length: 6 }, (_, i) => `${String(i).repeat(8)}${"0".repeat(32)}`);
const USERS = ["ann@contoso.com", "bob@contoso.com", "cy@contoso.com"];
const SOURCES = ["microsoftDefenderForEndpoint", "microsoftDefenderForIdentity", "customTi", "customDetection", "antivirus", "smartScreen"];
const UNBOUNDED = { maxAlerts: Infinity, maxEntities: Infinity };

function normalize(tenantId: string, alerts: Record<string, unknown>[], now: string) {
  return alerts.map((a, i) => normalizeAlert(a, `value[${i}]`, tenantId, now));
}

/** Each summary as compared: its values in timeline order (the store keeps them in any order). */
function canonical(x: IncidentSummary | undefined): unknown {
  return x && { ...x, categories: inTimelineOrder(x.categories), detectionSources: inTimelineOrder(x.detectionSources) };
}

/**
 * Every incident of the tenant has the summary summed up from all it holds (none when too large to
 * keep; with `onlyKept`, an incident may have none). Answers how many incidents.
 */
async function checkSummaries(tenantId: string, onlyKept = false): Promise<number> {
  const db = s.store.db;
  const ids = (await db.selectFrom("incidents").select("id").where("tenant_id", "=", tenantId).orderBy("id").execute()).map((r) => r.id);
  const stored = await readSummaries(db, tenantId, ids);
  for (const id of ids) {
    const inputs = await derivationInputs(db, tenantId, id);
    const whole = summarize(inputs.alerts, inputs.assets);
    if (onlyKept && !stored.has(id)) continue;
    expect(canonical(stored.get(id)), `summary of incident ${id}`).toEqual(summaryFits(whole) ? canonical(whole) : undefined);
  }
  return ids.length;
}

/** What the tenant's incidents show, by id: what the derivation decides, and what it is audited as. */
async function derivedState(tenantId: string): Promise<unknown> {
  const db = s.store.db;
  const rows = await db.selectFrom("incidents").selectAll().where("tenant_id", "=", tenantId).orderBy("id").execute();
  const audit = await db
    .selectFrom("audit_log")
    .select(["entity_id", "property", "before", "after"])
    .where("tenant_id", "=", tenantId)
    .where("entity_type", "=", "incident")
    .orderBy("seq")
    .execute();
  return {
    incidents: rows.map((row) => {
      const r = incidentRecordOf(row);
      const d = r.doc;
      return [r.id, d.status, d.severity, d.displayName, d.priorityScore ?? null, d.lastUpdateDateTime, r.alertCount, r.priorityFactors, row.version];
    }),
    audit: audit.map((a) => [a.entity_id, a.property, a.before, a.after]),
  };
}

interface Spec {
  device: number;
  user: number;
  minute: number;
  title: number;
  category: string;
  severity: string;
  source: string;
  detector: number;
}

const spec = fc.record({
  device: fc.integer({ min: 0, max: DEVICES.length - 1 }),
  user: fc.integer({ min: -1, max: USERS.length - 1 }),
  minute: fc.integer({ min: 0, max: 240 }),
  title: fc.integer({ min: 0, max: 2 }),
  category: fc.constantFrom("Execution", "CredentialAccess", "Impact", "DefenseEvasion", ""),
  severity: fc.constantFrom("low", "medium", "high", "informational", "unknown"),
  source: fc.constantFrom(...SOURCES),
  detector: fc.integer({ min: 0, max: 3 }),
});

type Step =
  | { kind: "batch"; alerts: Spec[] }
  | { kind: "resend"; pick: number; severity: string; title: number }
  | { kind: "move"; pick: number; to: number }
  | { kind: "merge"; a: number; b: number };

const batchStep = fc.record({ kind: fc.constant("batch" as const), alerts: fc.array(spec, { minLength: 1, maxLength: 6 }) });
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: batchStep },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("resend" as const),
      pick: fc.nat(),
      severity: fc.constantFrom("low", "high"),
      title: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("move" as const), pick: fc.nat(), to: fc.integer({ min: -1, max: 1000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("merge" as const), a: fc.nat(), b: fc.nat() }) },
);

function alertOf(id: string, x: Spec): Record<string, unknown> {
  const at = new Date(Date.parse("2026-11-01T00:00:00Z") + x.minute * 60_000).toISOString();
  return {
    ...alert({
      id,
      device: DEVICES[x.device],
      user: x.user < 0 ? undefined : USERS[x.user],
      at,
      title: `Title ${x.title}`,
      category: x.category,
      severity: x.severity,
      detectionSource: x.source,
    }),
    detectorId: `detector-${x.detector}`,
  };
}

/**
 * Plays the steps on a new tenant; with `whole`, every incident's summary is dropped before each step,
 * so that ingestion derives every incident from all its alerts and entities, as it did before
 * summaries. Answers the tenant, and how many fresh alerts joined an incident already stored.
 */
async function play(steps: Step[], unbounded: boolean, whole: boolean): Promise<{ tenantId: string; joined: number }> {
  const db = s.store.db;
  const tenantId = randomUUID();
  await createTenant(db, tenantId, "Summary");
  const sent: { id: string; spec: Spec }[] = [];
  let joined = 0;
  let clock = Date.parse("2026-11-02T00:00:00Z");
  const ctx = () => ({ tenantId, actor: "summary-test", requestId: null, now: new Date((clock += 1000)).toISOString() });
  const incidents = async () => (await db.selectFrom("incidents").select("id").where("tenant_id", "=", tenantId).orderBy("id").execute()).map((r) => r.id);
  for (const st of steps) {
    if (whole) await dropSummaries(db, tenantId, await incidents());
    if (st.kind === "batch" || (st.kind === "resend" && sent.length > 0)) {
      let alerts: Record<string, unknown>[];
      if (st.kind === "batch") {
        const fresh = st.alerts.map((x, i) => ({ id: `s-${sent.length + i}`, spec: x }));
        sent.push(...fresh);
        alerts = fresh.map((f) => alertOf(f.id, f.spec));
      } else {
        const was = sent[st.pick % sent.length]!;
        alerts = [alertOf(was.id, { ...was.spec, severity: st.severity, title: st.title })];
      }
      const now = ctx().now;
      const results: IngestResult[] = await ingestAlerts(db, tenantId, normalize(tenantId, alerts, now), {
        windowMs: 24 * 3600_000,
        actor: "summary-test",
        requestId: null,
        now,
        limits: unbounded ? UNBOUNDED : undefined,
      });
      joined += results.filter((r) => r.outcome === "created" && r.correlation.incident === "joined").length;
    } else if (st.kind === "move" && sent.length > 0) {
      const ids = await incidents();
      const to = st.to < 0 ? null : String(ids[st.to % ids.length]);
      await moveAlerts(db, ctx(), { alertIds: [sent[st.pick % sent.length]!.id], incidentId: to, comment: null, reasons: [] }).catch(refused);
    } else if (st.kind === "merge") {
      const ids = await incidents();
      const a = ids[st.a % ids.length]!;
      const b = ids[st.b % ids.length]!;
      if (a !== b) await mergeIncidents(db, ctx(), { incidentIds: [String(a), String(b)], comment: null, reasons: [] }).catch(refused);
    }
  }
  return { tenantId, joined };
}

describe("incidents' derivation summaries", () => {
  it("after any sequence of batches, re-sent alerts, moves and merges, are what all the stored alerts give, and derive what deriving from all of them derives", async () => {
    let joined = 0;
    await fc.assert(
      fc.asyncProperty(batchStep, fc.array(step, { maxLength: 8 }), fc.boolean(), async (first, rest, unbounded) => {
        const steps: Step[] = [first, ...rest];
        const incremental = await play(steps, unbounded, false);
        const whole = await play(steps, unbounded, true);
        expect(await checkSummaries(incremental.tenantId)).toBeGreaterThan(0);
        expect(await derivedState(incremental.tenantId)).toEqual(await derivedState(whole.tenantId));
        joined += incremental.joined;
      }),
      { numRuns: 40 },
    );
    // The incremental path was taken: alerts joined incidents stored by earlier batches.
    expect(joined).toBeGreaterThan(20);
  }, 180_000);

  it("count what a stored incident had seen in a new incident it merges into within the batch", async () => {
    // Incident A is stored with a device and a user. The next batch creates B with three alerts on
    // another device, then an alert on both devices joins them: A (one alert) merges into B (three),
    // a new incident whose sightings are then not only the batch's, since A's user comes with A.
    const db = s.store.db;
    const tenantId = randomUUID();
    await createTenant(db, tenantId, "Merge into new");
    const now = "2026-11-02T00:00:00.000Z";
    const ingest = (alerts: Record<string, unknown>[]) =>
      ingestAlerts(db, tenantId, normalize(tenantId, alerts, now), { windowMs: 24 * 3600_000, actor: "t", requestId: null, now });
    const at = "2026-11-01T10:00:00.000Z";
    const [stored] = await ingest([alert({ device: DEVICES[0], user: USERS[0], at })]);
    const onSecond = Array.from({ length: 3 }, () => alert({ device: DEVICES[1], at }));
    const bridge = alert({ device: DEVICES[0], at });
    bridge.evidence = [...(bridge.evidence as unknown[]), ...(alert({ device: DEVICES[1], at }).evidence as unknown[])];
    const results = await ingest([...onSecond, bridge]);
    const a = Number(stored!.incidentId);
    const b = Number(results[0]!.incidentId);
    expect(b).toBeGreaterThan(a);
    expect(results[3]!.incidentId).toBe(String(b));
    const merged = await db.selectFrom("incidents").select("doc").where("tenant_id", "=", tenantId).where("id", "=", a).executeTakeFirstOrThrow();
    expect(JSON.parse(merged.doc).redirectIncidentId).toBe(String(b));
    expect(await checkSummaries(tenantId)).toBe(2);
    expect((await readSummaries(db, tenantId, [b])).get(b)).toMatchObject({ alertCount: 5, devices: 2, accounts: 1 });
  });

  it("are filled by the migration for the incidents a store held before it", async () => {
    const tenantId = randomUUID();
    await createTenant(s.store.db, tenantId, "Backfill");
    const now = "2026-11-02T00:00:00.000Z";
    const specs: Spec[] = Array.from({ length: 40 }, (_, i) => ({
      device: i % 4,
      user: i % 5 === 0 ? -1 : i % 3,
      minute: (i * 37) % 200,
      title: i % 7 === 0 ? 1 : 0,
      category: ["Execution", "", "Impact", "CredentialAccess"][i % 4]!,
      severity: ["low", "medium", "high", "informational"][i % 4]!,
      source: SOURCES[i % SOURCES.length]!,
      detector: i % 3,
    }));
    for (let i = 0; i < specs.length; i += 8) {
      const alerts = specs.slice(i, i + 8).map((x, j) => alertOf(`b-${tenantId.slice(0, 8)}-${i + j}`, x));
      await ingestAlerts(s.store.db, tenantId, normalize(tenantId, alerts, now), { windowMs: 24 * 3600_000, actor: "t", requestId: null, now });
    }
    // One alert with no incident and no category, and one incident with a title of its own.
    const ids = (await s.store.db.selectFrom("incidents").select("id").where("tenant_id", "=", tenantId).execute()).map((r) => r.id);
    const before = await readSummaries(s.store.db, tenantId, ids);
    expect(before.size).toBe(ids.length);

    // The store as it was before migration 021, then the migration's step run again on its own.
    await down(s.store.db as never);
    await up(s.store.db as never);
    const after = await readSummaries(s.store.db, tenantId, ids);
    expect(after.size).toBe(ids.length);
    for (const id of ids) expect(canonical(after.get(id)), `incident ${id}`).toEqual(canonical(before.get(id)));
    expect(await checkSummaries(tenantId)).toBe(ids.length);
  });

  it("are dropped where a load of Graph records changes an incident's alerts or entities, and derived from all its alerts again", async () => {
    const db = s.store.db;
    const tenantId = randomUUID();
    await createTenant(db, tenantId, "Load");
    const now = "2026-11-02T00:00:00.000Z";
    const x = (device: number, minute: number): Spec => ({
      device,
      user: -1,
      minute,
      title: device,
      category: "Execution",
      severity: "low",
      source: "antivirus",
      detector: 0,
    });
    const ingest = (alerts: Record<string, unknown>[]) =>
      ingestAlerts(db, tenantId, normalize(tenantId, alerts, now), { windowMs: 24 * 3600_000, actor: "t", requestId: null, now });
    const [a, b] = await ingest([alertOf("l-1", x(0, 0)), alertOf("l-2", x(1, 1)), alertOf("l-3", x(1, 2))]);
    const [one, two] = [Number(a!.incidentId), Number(b!.incidentId)];
    expect(one).not.toBe(two);
    expect((await readSummaries(db, tenantId, [one, two])).size).toBe(2);

    // A load moves l-1 to the other incident with another severity, and gives that incident a new device.
    await inTransaction(db, async (tx) => {
      const row = await tx.selectFrom("alerts").selectAll().where("tenant_id", "=", tenantId).where("id", "=", "l-1").executeTakeFirstOrThrow();
      const record = alertRecordOf(row);
      await upsertGraphAlerts(tx, tenantId, [{ ...record, incidentId: two, doc: { ...record.doc, incidentId: String(two), severity: "high" } }], {
        feed: false,
        keepSeq: false,
      });
      await appendSightings(tx, tenantId, [{ incidentId: two, entityKey: `device:${"9".repeat(40)}`, lastSeenAt: now }]);
    });
    expect((await readSummaries(db, tenantId, [one, two])).size).toBe(0);

    // An alert joins the second incident: it is derived from all it holds now, and keeps that summary.
    await ingest([alertOf("l-4", x(1, 3))]);
    expect((await readSummaries(db, tenantId, [two])).get(two)).toMatchObject({ alertCount: 4, severity: "high", devices: 2 });
    expect(await checkSummaries(tenantId, true)).toBe(2);
    expect((await readSummaries(db, tenantId, [one, two])).size).toBe(1);
    const inc = await db
      .selectFrom("incidents")
      .select(["doc", "alert_count"])
      .where("tenant_id", "=", tenantId)
      .where("id", "=", two)
      .executeTakeFirstOrThrow();
    expect(Number(inc.alert_count)).toBe(4);
    expect((JSON.parse(inc.doc) as { severity: string }).severity).toBe("high");
  });

  it("are not kept for an incident of more distinct detectors than a summary holds, which is derived from all its alerts", async () => {
    const tenantId = randomUUID();
    await createTenant(s.store.db, tenantId, "Bound");
    const now = "2026-11-02T00:00:00.000Z";
    const send = async (from: number, count: number) => {
      const alerts = Array.from({ length: count }, (_, i) => ({
        ...alertOf(`x-${tenantId.slice(0, 8)}-${from + i}`, {
          device: 0,
          user: -1,
          minute: from + i,
          title: 0,
          category: "Execution",
          severity: "low",
          source: "antivirus",
          detector: 0,
        }),
        detectorId: `many-${from + i}`,
      }));
      return ingestAlerts(s.store.db, tenantId, normalize(tenantId, alerts, now), {
        windowMs: 24 * 3600_000,
        actor: "t",
        requestId: null,
        now,
        limits: UNBOUNDED,
      });
    };
    const [first] = await send(0, 150);
    const id = Number(first!.incidentId);
    expect((await readSummaries(s.store.db, tenantId, [id])).size).toBe(1);
    await send(150, 60);
    expect((await readSummaries(s.store.db, tenantId, [id])).size).toBe(0);
    await send(210, 5);
    expect(await checkSummaries(tenantId)).toBe(1);
    const row = await s.store.db.selectFrom("incidents").select("alert_count").where("tenant_id", "=", tenantId).where("id", "=", id).executeTakeFirstOrThrow();
    expect(Number(row.alert_count)).toBe(215);
    await down(s.store.db as never);
    await up(s.store.db as never);
    expect((await readSummaries(s.store.db, tenantId, [id])).size).toBe(0);
  });
});

/** A move or merge the rules refuse (a Graph error) leaves the tenant as it was: the sequence goes on. */
function refused(e: unknown): void {
  if (!(e instanceof GraphError) || e.status !== 400) throw e;
}
