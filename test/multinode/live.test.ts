import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../support/cluster.js";
import { alert, deviceId } from "../support/alerts.js";
import { openSse, type SseStream } from "../support/sse.js";

/**
 * Two real `triage serve` processes on one PostgreSQL database: a client streaming changes from node A
 * sees the changes committed through node B, woken by the feed's NOTIFY rather than by polling.
 */
let c: Cluster;
const streams: SseStream[] = [];
beforeAll(async () => {
  c = await startCluster(2);
  c.token = await c.tokenFrom(0);
});
afterAll(async () => {
  for (const s of streams) s.close();
  await c?.close();
});

describe("live changes on two nodes", { timeout: 120_000 }, () => {
  it("streams from node A what is committed through node B, once each, in feed order", async () => {
    const a = await openSse(`${c.nodes[0]!.url}/triage/changes`, { authorization: `Bearer ${c.token}` });
    streams.push(a);
    expect(a.status).toBe(200);
    await a.waitFor((e) => e.some((x) => x.event === "ready"));
    const started = Date.now();

    const ing = await c.call(1, "POST", "/ingest/alerts", { value: [alert({ device: deviceId() })] });
    expect(ing.status, ing.text).toBe(200);
    const incidentId = ing.body.value[0].incidentId as string;
    await a.waitFor((e) => e.some((x) => x.event === "change" && x.data.entityType === "incident" && x.data.id === incidentId), 30_000);
    const latency = Date.now() - started;

    const patch = await c.call(1, "PATCH", `/v1.0/security/incidents/${incidentId}`, { assignedTo: "someone@contoso.com" });
    expect(patch.status, patch.text).toBe(200);
    await a.waitFor((e) => e.some((x) => x.event === "change" && x.data.id === incidentId && x.data.changeType === "updated"), 30_000);

    const seqs = a.events.filter((e) => e.event === "change").map((e) => e.data.seq as number);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    console.log(`live changes across nodes: ingestion on node B reached a stream on node A in ${latency} ms`);

    // A stream on node B resumes from where node A's left off.
    const last = a.events[a.events.length - 1]!.id!;
    a.close();
    const more = await c.call(0, "POST", "/ingest/alerts", { value: [alert({ device: deviceId() })] });
    expect(more.status, more.text).toBe(200);
    const b = await openSse(`${c.nodes[1]!.url}/triage/changes`, { authorization: `Bearer ${c.token}`, "last-event-id": last });
    streams.push(b);
    expect(b.status).toBe(200);
    await b.waitFor((e) => e.some((x) => x.event === "change" && x.data.id === more.body.value[0].id), 30_000);
    expect(b.events.find((e) => e.event === "change")!.data.seq).toBe(Number(last) + 1);
  });
});
