import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isDeepStrictEqual } from "node:util";
import { auditOf, startCluster, type CallResult, type Cluster } from "../support/cluster.js";
import { alert, deviceId } from "../support/alerts.js";

/**
 * Concurrent writes to one incident (and one alert) from two real nodes on one PostgreSQL: no update
 * is lost, every acknowledged change is in the audit trail exactly once, and the trail chains.
 */
const TRIALS = 4;
const PATCHES_PER_NODE = 25;
const COMMENTS_PER_NODE = 6;

let c: Cluster;
beforeAll(async () => {
  c = await startCluster(2);
});
afterAll(async () => {
  await c?.close();
});

interface Acked {
  requestId: string;
  property: string;
  value: unknown;
}

/**
 * The audit trail holds each acknowledged write exactly once; per property each entry's `before` is
 * the previous entry's `after` (starting from `initial`), and the entity ends as the last entry left it.
 */
function checkTrail(
  trail: any[],
  acked: Acked[],
  comments: { requestId: string; text: string }[],
  initial: Record<string, unknown>,
  final: Record<string, unknown>,
) {
  const byRequest = new Map<string, any[]>();
  for (const e of trail) byRequest.set(e.requestId, [...(byRequest.get(e.requestId) ?? []), e]);
  for (const a of acked) {
    const entries = (byRequest.get(a.requestId) ?? []).filter((e) => e.property === a.property);
    expect(entries, `PATCH ${a.requestId} (${a.property}) in the audit trail`).toHaveLength(1);
    expect(entries[0].after).toEqual(a.value);
  }
  for (const [property, start] of Object.entries(initial)) {
    const entries = trail.filter((e) => e.property === property);
    expect(entries.length).toBe(acked.filter((a) => a.property === property).length);
    let current: unknown = start;
    for (const e of entries) {
      expect(e.before, `audit seq ${e.seq}: ${property} before`).toEqual(current);
      current = e.after;
    }
    expect(final[property], `final ${property}`).toEqual(current);
  }
  const commentEntries = trail.filter((e) => e.property === "comments");
  expect(commentEntries).toHaveLength(comments.length);
  for (const k of comments) expect(commentEntries.filter((e) => e.requestId === k.requestId && e.after.comment === k.text)).toHaveLength(1);
  const kept = (final.comments as { comment: string }[]).map((x) => x.comment);
  expect(kept.sort()).toEqual(comments.map((k) => k.text).sort());
  // Seqs are increasing: the trail is in commit order.
  expect(trail.map((e) => e.seq)).toEqual([...trail.map((e) => e.seq)].sort((a, b) => a - b));
}

function ok(r: CallResult, what: string): string {
  expect(r.status, `${what}: ${r.text}`).toBe(200);
  return r.headers.get("request-id")!;
}

describe("concurrent PATCHes from two nodes", () => {
  it(`of one incident lose no update and leave a complete, chained audit trail (${TRIALS} trials)`, async () => {
    for (let trial = 0; trial < TRIALS; trial++) {
      const seed = await c.call(0, "POST", "/ingest/alerts", [alert({ device: deviceId() })]);
      expect(seed.status, seed.text).toBe(200);
      const id = seed.body.value[0].incidentId as string;
      const base = `/v1.0/security/incidents/${id}`;

      const acked: Acked[] = [];
      const comments: { requestId: string; text: string }[] = [];
      const writes: Promise<void>[] = [];
      for (let i = 0; i < 2 * PATCHES_PER_NODE; i++) {
        const node = i % 2;
        const [property, value] = i % 4 < 2 ? ["customTags", [`t${trial}-${i}`, "shared"]] : ["assignedTo", `analyst${i}@contoso.com`];
        writes.push(
          c.call(node, "PATCH", base, { [property]: value }).then((r) => {
            acked.push({ requestId: ok(r, `PATCH ${i}`), property, value });
          }),
        );
      }
      for (let i = 0; i < 2 * COMMENTS_PER_NODE; i++) {
        const text = `trial ${trial} comment ${i}`;
        writes.push(
          c.call(i % 2, "POST", `${base}/comments`, { comment: text }).then((r) => {
            comments.push({ requestId: ok(r, `comment ${i}`), text });
            expect(r.body.value.filter((x: any) => x.comment === text)).toHaveLength(1);
          }),
        );
      }
      await Promise.all(writes);

      const final = await c.call(1, "GET", base);
      expect(final.status).toBe(200);
      const trail = await auditOf(c, 0, "incidents", id);
      checkTrail(trail, acked, comments, { customTags: [], assignedTo: null }, final.body);
      // Both nodes see the same state.
      const other = await c.call(0, "GET", base);
      expect(isDeepStrictEqual(other.body, final.body)).toBe(true);
    }
  });

  it("of one alert lose no update either", async () => {
    const seed = await c.call(1, "POST", "/ingest/alerts", [alert({ device: deviceId() })]);
    expect(seed.status, seed.text).toBe(200);
    const id = seed.body.value[0].id as string;
    const base = `/v1.0/security/alerts_v2/${id}`;
    const acked: Acked[] = [];
    const comments: { requestId: string; text: string }[] = [];
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 30; i++) {
      const value = `owner${i}@contoso.com`;
      writes.push(
        c.call(i % 2, "PATCH", base, { assignedTo: value }).then((r) => {
          acked.push({ requestId: ok(r, `PATCH ${i}`), property: "assignedTo", value });
        }),
      );
    }
    for (let i = 0; i < 10; i++) {
      const text = `alert comment ${i}`;
      writes.push(
        c.call(i % 2, "POST", `${base}/comments`, { comment: text }).then((r) => {
          comments.push({ requestId: ok(r, `comment ${i}`), text });
        }),
      );
    }
    await Promise.all(writes);
    const final = await c.call(0, "GET", base);
    expect(final.status).toBe(200);
    checkTrail(await auditOf(c, 1, "alerts", id), acked, comments, { assignedTo: null }, final.body);
  });
});
