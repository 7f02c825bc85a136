import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { startTriage, type Response, type TestTriage } from "../support/triage.js";
import { TEST_STORE } from "../support/stores.js";
import { alert, deviceId } from "../support/alerts.js";
import { patchIncidentRow } from "../../src/features/update-incident.js";
import { readAudit } from "../../src/store/audit.js";
import { lastFeedSeq, readFeed } from "../../src/store/feed.js";
import { incidentRecordOf } from "../../src/store/incident-rows.js";
import { findIncidentRow, writeIncidentAtOnce } from "../../src/store/incidents.js";
import { alertRecordOf } from "../../src/store/alert-rows.js";
import { findAlertRow, writeAlertAtOnce } from "../../src/store/alerts.js";
import { inTransaction } from "../../src/store/transaction.js";

/**
 * On PostgreSQL a PATCH or a comment of an incident, and a comment of an alert, is read without a lock
 * and written as one statement guarded by the version it read (src/features/at-once.ts). These tests
 * hold the guard to what the lock gave: a write from a stale read writes nothing at all, a PATCH that
 * raced another write is decided again from what that write left, and an incident that cannot be
 * derived from reads alone is still patched, in a transaction.
 */
describe.skipIf(TEST_STORE !== "postgres")("an incident or alert written at once", () => {
  let t: TestTriage;
  beforeAll(async () => {
    t = await startTriage();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function newIncident(tenant: string): Promise<string> {
    const r = await t.ingest([alert({ device: deviceId() })], tenant);
    expect(r.status, r.text).toBe(200);
    return String(r.body.value[0].incidentId);
  }

  const auditContext = (tenantId: string, id: string, requestId: string) => ({
    tenantId,
    entityType: "incident" as const,
    entityId: id,
    at: new Date().toISOString(),
    actor: "at-once test",
    requestId,
  });

  it("writes nothing, not its audit rows nor its feed row, from a read another write has overtaken", async () => {
    const tenant = await t.newTenant();
    const id = await newIncident(tenant);
    const read = (await findIncidentRow(t.store.db, tenant, id))!;
    const record = incidentRecordOf(read);
    const feedBefore = await lastFeedSeq(t.store.db, tenant);

    // A write of `status` from the row as `read` holds it.
    const writeStatus = (status: string, requestId: string) =>
      writeIncidentAtOnce(
        t.store.db,
        read,
        { ...record, doc: { ...record.doc, status } },
        auditContext(tenant, id, requestId),
        [{ property: "status", before: "active", after: status }],
        { byPerson: false },
      );
    const first = await writeStatus("inProgress", "first");
    expect(first?.version).toBe(read.version + 1);
    // The same read again: its version has moved.
    const stale = await writeStatus("resolved", "stale");
    expect(stale).toBeUndefined();

    const now = (await findIncidentRow(t.store.db, tenant, id))!;
    expect(incidentRecordOf(now).doc.status).toBe("inProgress");
    expect(now.version).toBe(read.version + 1);
    const audit = (await readAudit(t.store.db, tenant, "incident", id, 0, 100)).filter((e) => e.property === "status");
    expect(audit.map((e) => [e.requestId, e.after])).toEqual([["first", "inProgress"]]);
    // The written change's feed row is numbered when the write returns; the stale one left none.
    const feed = await readFeed(t.store.db, tenant, feedBefore, 10);
    expect(feed.map((e) => [e.seq, e.entityId, e.actor])).toEqual([[feedBefore + 1, id, "at-once test"]]);
  });

  it("writes nothing to an alert from a read another write has overtaken", async () => {
    const tenant = await t.newTenant();
    const r = await t.ingest([alert({ device: deviceId() })], tenant);
    const id = String(r.body.value[0].id);
    const read = (await findAlertRow(t.store.db, tenant, id))!;
    const record = alertRecordOf(read);
    const comment = (text: string, requestId: string) =>
      writeAlertAtOnce(
        t.store.db,
        read,
        { ...record, doc: { ...record.doc, comments: [{ comment: text }] } },
        { ...auditContext(tenant, id, requestId), entityType: "alert" },
        [{ property: "comments", before: null, after: { comment: text } }],
      );
    expect((await comment("first", "first"))?.version).toBe(read.version + 1);
    expect(await comment("stale", "stale")).toBeUndefined();
    expect(alertRecordOf((await findAlertRow(t.store.db, tenant, id))!).doc.comments).toEqual([{ comment: "first" }]);
    const audit = await readAudit(t.store.db, tenant, "alert", id, 0, 100);
    expect(audit.filter((e) => e.property === "comments").map((e) => e.requestId)).toEqual(["first"]);
  });

  it("decides a PATCH again from what a write that overtook it left, losing neither change", async () => {
    const tenant = await t.newTenant();
    const id = await newIncident(tenant);
    const headers = await t.auth(tenant);
    let patch: Promise<Response> | undefined;
    await inTransaction(t.store.db, async (tx) => {
      const row = (await findIncidentRow(tx, tenant, id, true))!;
      // The PATCH reads the incident as it was and, writing, waits for this transaction's lock.
      patch = t.request("PATCH", `/v1.0/security/incidents/${id}`, { body: { status: "resolved" }, headers });
      let waiting = 0;
      for (let i = 0; i < 200 && waiting === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const { rows } = await sql<{ n: number }>`select count(*)::integer as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`.execute(t.store.db);
        waiting = rows[0]!.n;
      }
      expect(waiting, "the PATCH waits for the lock").toBe(1);
      await patchIncidentRow(tx, { tenantId: tenant, actor: "overtaking", requestId: "overtaking", now: new Date().toISOString() }, row, {
        classification: "truePositive",
      });
    });
    const r = await patch!;
    expect(r.status, r.text).toBe(200);
    expect(r.body.status).toBe("resolved");
    expect(r.body.classification).toBe("truePositive");
    const audit = await readAudit(t.store.db, tenant, "incident", id, 0, 100);
    expect(audit.filter((e) => e.property === "classification").map((e) => e.requestId)).toEqual(["overtaking"]);
    expect(audit.filter((e) => e.property === "status").map((e) => e.after)).toEqual(["resolved"]);
  });

  it("patches an incident whose summary is gone in a transaction, deriving it from its alerts", async () => {
    const tenant = await t.newTenant();
    const id = await newIncident(tenant);
    const summary = () =>
      t.store.db.selectFrom("incident_summaries").select("incident_id").where("tenant_id", "=", tenant).where("incident_id", "=", Number(id)).execute();
    await t.store.db.deleteFrom("incident_summaries").where("tenant_id", "=", tenant).execute();
    expect(await summary()).toHaveLength(0);
    const r = await t.request("PATCH", `/v1.0/security/incidents/${id}`, { body: { severity: "high" }, headers: await t.auth(tenant) });
    expect(r.status, r.text).toBe(200);
    expect(r.body.severity).toBe("high");
    expect(await summary()).toHaveLength(1);
  });
});
