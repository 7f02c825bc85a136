import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { openSse, type SseEvent, type SseStream } from "../support/sse.js";

/** GET /triage/changes over real HTTP, on the test store (SQLite, or PostgreSQL with TRIAGE_TEST_STORE=postgres). */
let t: TestTriage;
const streams: SseStream[] = [];

beforeAll(async () => {
  t = await startTriage({ live: { maxConnectionsPerUser: 3, maxReplay: 50, heartbeatMs: 1_000 } });
});
afterAll(async () => {
  for (const s of streams) s.close();
  await t.close();
});

async function open(headers: Record<string, string> = {}, token?: Record<string, string>): Promise<SseStream> {
  const s = await openSse(`${t.url}/triage/changes`, { ...(token ?? (await t.auth(t.tenantId))), ...headers });
  streams.push(s);
  return s;
}

const changes = (events: SseEvent[]) => events.filter((e) => e.event === "change").map((e) => e.data);
const has = (type: string, id: string, changeType?: string) => (events: SseEvent[]) =>
  changes(events).some((c) => c.entityType === type && c.id === id && (changeType === undefined || c.changeType === changeType));

describe("GET /triage/changes", { timeout: 90_000 }, () => {
  it("streams ingestion, PATCH and comments as they commit, each with its feed number as the event id", async () => {
    const s = await open();
    expect(s.status).toBe(200);
    expect(s.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(s.headers.get("cache-control")).toBe("no-store");
    expect(s.headers.get("x-content-type-options")).toBe("nosniff");
    await s.waitFor((e) => e.some((x) => x.event === "ready"));
    const ready = s.events[0]!;
    expect(ready.event).toBe("ready");
    expect(ready.id).toBe(String(ready.data.position));

    const ing = await t.ingest([alert({ device: deviceId() })]);
    expect(ing.status).toBe(200);
    const incidentId = ing.body.value[0].incidentId as string;
    const alertId = ing.body.value[0].id as string;
    await s.waitFor(has("incident", incidentId, "created"));
    await s.waitFor(has("alert", alertId, "created"));

    expect((await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, { body: { status: "inProgress" } })).status).toBe(200);
    await s.waitFor((e) => changes(e).filter((c) => c.id === incidentId && c.changeType === "updated").length >= 1);
    const before = changes(s.events).length;
    const comment = await t.request("POST", `/v1.0/security/incidents/${incidentId}/comments`, {
      body: { "@odata.type": "microsoft.graph.security.alertComment", comment: "live" },
    });
    expect(comment.status).toBe(200);
    await s.waitFor(
      (e) =>
        changes(e).length > before &&
        changes(e)
          .slice(before)
          .some((c) => c.id === incidentId),
    );

    const all = s.events.filter((e) => e.event === "change");
    for (const e of all) {
      expect(e.id).toBe(String(e.data.seq));
      expect(Object.keys(e.data).sort()).toEqual(["at", "changeType", "entityType", "id", "seq"]);
    }
    // In feed order, each once.
    const seqs = all.map((e) => e.data.seq as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it("never carries another tenant's changes", async () => {
    const other = await t.newTenant();
    const mine = await open();
    const theirs = await open({}, await t.auth(other));
    await mine.waitFor((e) => e.some((x) => x.event === "ready"));
    await theirs.waitFor((e) => e.some((x) => x.event === "ready"));
    const a = await t.ingest([alert({ device: deviceId() })], other);
    const b = await t.ingest([alert({ device: deviceId() })]);
    const otherIncident = a.body.value[0].incidentId as string;
    const myIncident = b.body.value[0].incidentId as string;
    await theirs.waitFor(has("incident", otherIncident, "created"));
    await mine.waitFor(has("incident", myIncident, "created"));
    // Incident ids are per tenant: the other tenant's "1" is not this tenant's. The alert ids tell them apart.
    expect(has("alert", a.body.value[0].id)(mine.events)).toBe(false);
    expect(has("alert", b.body.value[0].id)(theirs.events)).toBe(false);
    expect(changes(theirs.events).every((c) => c.id === otherIncident || c.id === a.body.value[0].id)).toBe(true);
    mine.close();
    theirs.close();
  });

  it("refuses a caller without a read permission (403), and carries only what the caller may read", async () => {
    const none = await open({}, await t.auth(t.tenantId, ["ThreatHunting.Read.All"]));
    expect(none.status).toBe(403);
    expect(none.body.error.code).toBe("Forbidden");

    const unauthenticated = await open({}, { authorization: "" });
    expect(unauthenticated.status).toBe(401);

    const incidentsOnly = await open({}, await t.auth(t.tenantId, ["SecurityIncident.Read.All"]));
    expect(incidentsOnly.status).toBe(200);
    await incidentsOnly.waitFor((e) => e.some((x) => x.event === "ready"));
    const ing = await t.ingest([alert({ device: deviceId() })]);
    await incidentsOnly.waitFor(has("incident", ing.body.value[0].incidentId, "created"));
    // The alert's change was committed before the incident's entry was read; it is not sent.
    expect(changes(incidentsOnly.events).every((c) => c.entityType === "incident")).toBe(true);
    incidentsOnly.close();
  });

  it("resumes after Last-Event-ID, and asks for a full reload when the position cannot be resumed", async () => {
    const first = await open();
    await first.waitFor((e) => e.some((x) => x.event === "ready"));
    const ing1 = await t.ingest([alert({ device: deviceId() })]);
    await first.waitFor(has("incident", ing1.body.value[0].incidentId));
    const lastId = first.events[first.events.length - 1]!.id!;
    first.close();

    // Changes while disconnected.
    const ing2 = await t.ingest([alert({ device: deviceId() }), alert({ device: deviceId() })]);
    const resumed = await open({ "last-event-id": lastId });
    expect(resumed.status).toBe(200);
    for (const r of ing2.body.value) await resumed.waitFor(has("alert", r.id, "created"));
    const seqs = changes(resumed.events).map((c) => c.seq as number);
    expect(Math.min(...seqs)).toBe(Number(lastId) + 1);
    expect(seqs).toEqual(seqs.map((_, i) => Number(lastId) + 1 + i));

    // Past the end of the feed: reset, and the stream ends.
    const ahead = await open({ "last-event-id": String(Number(lastId) + 1_000_000) });
    await ahead.ended;
    expect(ahead.events.map((e) => e.event)).toEqual(["reset"]);
    expect(ahead.events[0]!.data.reason).toBe("ahead");

    // Further behind than a resume replays (50 here): reset with the position to start again from.
    const many = Array.from({ length: 30 }, () => alert({ device: deviceId() }));
    expect((await t.ingest(many)).status).toBe(200);
    const behind = await open({ "last-event-id": "0" });
    await behind.ended;
    expect(behind.events.map((e) => e.event)).toEqual(["reset"]);
    expect(behind.events[0]!.data).toMatchObject({ reason: "gone" });
    expect(behind.events[0]!.id).toBe(String(behind.events[0]!.data.position));

    const bad = await open({ "last-event-id": "abc" });
    expect(bad.status).toBe(400);
    resumed.close();
  });

  it("limits open streams per user (429) and sends heartbeats", async () => {
    // An app of its own, so that streams of the tests above do not count.
    const app = await t.auth(t.tenantId, ["SecurityIncident.ReadWrite.All"]);
    const open3: SseStream[] = [];
    for (let i = 0; i < 3; i++) open3.push(await open({}, app));
    for (const s of open3) expect(s.status).toBe(200);
    const fourth = await open({}, app);
    expect(fourth.status).toBe(429);
    expect(fourth.body.error.code).toBe("TooManyRequests");
    expect(fourth.headers.get("retry-after")).toBe("30");
    // Another app is another user.
    const otherApp = await open({}, await t.auth(t.tenantId, ["SecurityIncident.Read.All", "SecurityAlert.Read.All"]));
    expect(otherApp.status).toBe(200);
    await open3[0]!.waitFor(() => open3[0]!.comments >= 1, 10_000);
    // A closed stream gives its place back.
    open3[0]!.close();
    const until = Date.now() + 10_000;
    let again = await open({}, app);
    while (again.status !== 200 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      again = await open({}, app);
    }
    expect(again.status).toBe(200);
    for (const s of [...open3, otherApp, again]) s.close();
  });
});
