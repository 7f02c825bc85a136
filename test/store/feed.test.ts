import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, ALL_PERMISSIONS, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { readFeed, lastFeedSeq, type FeedEntry } from "../../src/store/feed.js";

let t: TestTriage;
let manage: Record<string, string>;

beforeAll(async () => {
  t = await startTriage();
  manage = await t.auth(t.tenantId, [...ALL_PERMISSIONS, "SecurityData.Manage.All"]);
});
afterAll(async () => {
  await t.close();
});

/** The feed entries written since `from`, and the new position. */
async function since(from: number, tenant = t.tenantId): Promise<FeedEntry[]> {
  return readFeed(t.store.db, tenant, from, 1000);
}
const brief = (es: FeedEntry[]) => es.map((e) => `${e.changeType} ${e.entityType} ${e.entityId}`).sort();

describe("the change feed", () => {
  it("records each created and changed incident and alert once per transaction, in commit order, with the actor", async () => {
    const start = await lastFeedSeq(t.store.db, t.tenantId);
    const d = deviceId();
    const a1 = alert({ device: d, at: "2026-11-01T10:00:00Z" });
    const a2 = alert({ device: d, at: "2026-11-01T10:05:00Z" });
    const r = await t.ingest([a1, a2]);
    expect(r.status).toBe(200);
    const incidentId = r.body.value[0].incidentId as string;
    let feed = await since(start);
    expect(brief(feed)).toEqual(
      brief([
        { changeType: "created", entityType: "incident", entityId: incidentId },
        { changeType: "created", entityType: "alert", entityId: a1.id },
        { changeType: "created", entityType: "alert", entityId: a2.id },
      ] as FeedEntry[]),
    );
    expect(feed.map((e) => e.seq)).toEqual([start + 1, start + 2, start + 3]);
    expect(feed.every((e) => e.actor === "test-automation")).toBe(true);

    // A third alert joining the stored incident: the alert is created, the incident updated.
    const a3 = alert({ device: d, at: "2026-11-01T10:10:00Z" });
    expect((await t.ingest([a3])).status).toBe(200);
    let pos = feed.at(-1)!.seq;
    feed = await since(pos);
    expect(brief(feed)).toEqual(
      brief([
        { changeType: "created", entityType: "alert", entityId: a3.id },
        { changeType: "updated", entityType: "incident", entityId: incidentId },
      ] as FeedEntry[]),
    );
    pos = feed.at(-1)!.seq;

    // A PATCH of an incident.
    expect((await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, { body: { status: "inProgress" } })).status).toBe(200);
    feed = await since(pos);
    expect(brief(feed)).toEqual([`updated incident ${incidentId}`]);
    pos = feed.at(-1)!.seq;

    // A PATCH of an alert changes the alert and its incident's derived properties.
    expect((await t.request("PATCH", `/v1.0/security/alerts_v2/${a1.id}`, { body: { status: "resolved" } })).status).toBe(200);
    feed = await since(pos);
    expect(brief(feed)).toContain(`updated alert ${a1.id}`);
    pos = feed.at(-1)!.seq;

    // A comment.
    expect(
      (
        await t.request("POST", `/v1.0/security/alerts_v2/${a2.id}/comments`, {
          body: { "@odata.type": "microsoft.graph.security.alertComment", comment: "seen" },
        })
      ).status,
    ).toBe(200);
    feed = await since(pos);
    expect(brief(feed)).toEqual([`updated alert ${a2.id}`]);
    pos = feed.at(-1)!.seq;

    // A PATCH that changes nothing writes nothing, and a refused one neither.
    expect((await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, { body: { status: "inProgress" } })).status).toBe(200);
    expect((await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, { body: { status: "nonsense" } })).status).toBe(400);
    expect(await since(pos)).toEqual([]);

    // moveAlerts to a new incident: the new incident is created, the alert and the old incident updated.
    const mv = await t.request("POST", "/v1.0/security/alerts_v2/moveAlerts", { body: { alertIds: [a3.id] }, headers: manage });
    expect(mv.status).toBe(200);
    feed = await since(pos);
    const moved = brief(feed);
    expect(moved).toContain(`updated alert ${a3.id}`);
    expect(moved).toContain(`updated incident ${incidentId}`);
    expect(moved.filter((m) => m.startsWith("created incident"))).toHaveLength(1);
  });

  it("keeps each tenant's feed to itself", async () => {
    const other = await t.newTenant();
    expect((await t.ingest([alert({ device: deviceId() })], other)).status).toBe(200);
    const feed = await since(0, other);
    expect(feed.map((e) => e.seq)).toEqual([1, 2]);
  });
});
