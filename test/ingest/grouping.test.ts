/**
 * Concurrent ingestion batches of one tenant share a transaction (features/ingest/index.ts): each is
 * decided as if it had its own, in arrival order, and one that fails is undone alone.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ingestAlerts, type IngestOptions } from "../../src/features/ingest/index.js";
import { normalizeAlert, type NormalizedAlert } from "../../src/domain/normalize-alert.js";
import { createTenant } from "../../src/store/tenants.js";
import { readFeed } from "../../src/store/feed.js";
import { openTestStore, type TestStore } from "../support/stores.js";
import { alert, deviceId } from "../support/alerts.js";

const TENANT = "0f3c2b1a-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const dirs: string[] = [];
const stores: TestStore[] = [];

afterAll(async () => {
  for (const s of stores) {
    await s.store.close();
    await s.drop();
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function fresh(): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), "triage-grouping-"));
  dirs.push(dir);
  const s = await openTestStore(dir);
  stores.push(s);
  await createTenant(s.store.db, TENANT, "Grouping");
  return s;
}

const options = (i: number): IngestOptions => ({
  windowMs: 24 * 3600_000,
  actor: "grouping-test",
  requestId: `req-${i}`,
  now: `2026-11-02T00:00:0${i % 10}.000Z`,
});

/**
 * Batches that tie into one another: each shares a device with the one before, some bring a device of
 * their own that a later batch ties in (merges), and one sends an alert of an earlier batch again.
 */
function batches(): Record<string, unknown>[][] {
  const devices = Array.from({ length: 6 }, () => deviceId());
  const out: Record<string, unknown>[][] = [];
  for (let i = 0; i < 8; i++) {
    const at = (m: number) => `2026-11-01T10:${String(i * 6 + m).padStart(2, "0")}:00Z`;
    const b = [
      alert({ id: `g-${i}-a`, device: devices[i % 6]!, at: at(0), severity: i % 3 === 0 ? "high" : "low", category: i % 2 ? "Execution" : "Persistence" }),
      alert({ id: `g-${i}-b`, device: devices[(i + 1) % 6]!, user: `u${i % 3}@contoso.com`, at: at(1) }),
      alert({ id: `g-${i}-c`, device: deviceId(), at: at(2) }),
    ];
    if (i === 5) b.push({ ...out[2]![0]!, severity: "high" });
    out.push(b);
  }
  return out;
}

function normalized(batch: Record<string, unknown>[], i: number): NormalizedAlert[] {
  return batch.map((a, j) => normalizeAlert(a, `value[${j}]`, TENANT, options(i).now!));
}

async function state(s: TestStore): Promise<unknown> {
  const db = s.store.db;
  const incidents = await db.selectFrom("incidents").select(["id", "status", "doc", "version"]).where("tenant_id", "=", TENANT).orderBy("id").execute();
  const alerts = await db.selectFrom("alerts").select(["id", "incident_id", "doc"]).where("tenant_id", "=", TENANT).orderBy("id").execute();
  const audit = await db.selectFrom("audit_log").select(["entity_type", "entity_id", "request_id"]).where("tenant_id", "=", TENANT).execute();
  return {
    incidents: incidents.map((r) => ({ ...r, doc: JSON.parse(r.doc) as unknown })),
    alerts: alerts.map((r) => ({ ...r, doc: JSON.parse(r.doc) as unknown })),
    audit: audit.map((r) => `${r.entity_type} ${r.entity_id} ${r.request_id}`).sort(),
  };
}

describe("concurrent ingestion batches of one tenant", () => {
  it("reach the decisions, answers and stored state of the same batches sent one after another", async () => {
    const input = batches();
    const one = await fresh();
    const sequential = [];
    for (let i = 0; i < input.length; i++) sequential.push(await ingestAlerts(one.store.db, TENANT, normalized(input[i]!, i), options(i)));

    const two = await fresh();
    const concurrent = await Promise.all(input.map((b, i) => ingestAlerts(two.store.db, TENANT, normalized(b, i), options(i))));

    expect(concurrent).toEqual(sequential);
    expect(sequential.flat().some((r) => r.merged.length > 0)).toBe(true);
    expect(sequential.flat().some((r) => r.outcome === "updated")).toBe(true);
    expect(await state(two)).toEqual(await state(one));
  });

  it("fails only the batch that fails, undoing what it wrote and its change-feed entries, and commits the others", async () => {
    const s = await fresh();
    const db = s.store.db;
    const shared = deviceId();
    const [first] = await ingestAlerts(db, TENANT, normalized([alert({ device: shared, at: "2026-11-01T09:00:00Z" })], 0), options(0));
    const target = Number(first!.incidentId);
    const before = await db.selectFrom("incidents").selectAll().where("tenant_id", "=", TENANT).where("id", "=", target).executeTakeFirstOrThrow();
    const feedBefore = await readFeed(db, TENANT, 0, 1000);

    const own = (i: number) => normalized([alert({ device: deviceId(), at: "2026-11-01T09:30:00Z" })], i);
    // The third batch joins the stored incident and breaks while writing its alert (a value the store
    // cannot serialize): after the incident's update, sightings and correlation events were written
    // in the transaction it shares with the others.
    const bad = normalized([alert({ device: shared, at: "2026-11-01T09:10:00Z" })], 3).map((a) => ({ ...a, broken: 1n }) as unknown as NormalizedAlert);
    const blocker = ingestAlerts(db, TENANT, own(1), options(1));
    const settled = await Promise.allSettled([
      ingestAlerts(db, TENANT, own(2), options(2)),
      ingestAlerts(db, TENANT, bad, options(3)),
      ingestAlerts(db, TENANT, own(4), options(4)),
    ]);
    const [blocked] = await blocker;
    expect(settled.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const committed = settled.flatMap((r) => (r.status === "fulfilled" ? r.value : []));
    expect(committed.map((r) => r.outcome)).toEqual(["created", "created"]);

    // The stored incident is as it was; the others' alerts and incidents are stored.
    expect(await db.selectFrom("incidents").selectAll().where("tenant_id", "=", TENANT).where("id", "=", target).executeTakeFirstOrThrow()).toEqual(before);
    const alerts = await db.selectFrom("alerts").select(["id", "incident_id"]).where("tenant_id", "=", TENANT).execute();
    expect(alerts.map((a) => a.id).sort()).toEqual([first!.id, blocked!.id, ...committed.map((r) => r.id)].sort());
    expect(
      await db.selectFrom("correlation_events").select("incident_id").where("tenant_id", "=", TENANT).where("incident_id", "=", target).execute(),
    ).toHaveLength(1);

    // The change feed names what was committed and nothing of the failed batch.
    const feed = (await readFeed(db, TENANT, 0, 1000)).slice(feedBefore.length).filter((e) => e.entityId !== blocked!.id && e.entityId !== blocked!.incidentId);
    const brief = feed.map((e) => `${e.changeType} ${e.entityType} ${e.entityId}`).sort();
    const created = [...committed.map((r) => `created alert ${r.id}`), ...committed.map((r) => `created incident ${r.incidentId}`)];
    expect(brief).toEqual(created.sort());
  });
});
