import { describe, expect, it } from "vitest";
import { decide, mergeBlocker, reasonsFor, type Candidate } from "../../src/domain/correlate.js";

function c(id: number, over: Partial<Candidate> = {}): Candidate {
  return {
    id,
    status: "active",
    assignedTo: null,
    classification: "unknown",
    alertCount: 1,
    createdAt: `2026-10-0${id}T00:00:00.000Z`,
    shared: ["device:x"],
    ...over,
  };
}

describe("decide", () => {
  it("opens a new incident when nothing open shares an entity", () => {
    expect(decide([])).toEqual({ kind: "new" });
    expect(decide([c(1, { status: "resolved" })])).toEqual({ kind: "new" });
  });

  it("joins the only candidate, with reasons from the shared entity kinds", () => {
    expect(decide([c(1, { shared: ["account:a@b.c", "ip:10.0.0.1"] })])).toEqual({
      kind: "join",
      incident: 1,
      reasons: ["sameTargetedAsset", "sharedIndicators", "temporalProximity"],
      merges: [],
      refused: [],
    });
  });

  it("merges the smaller incidents into the one with the most alerts", () => {
    const d = decide([c(1, { alertCount: 2 }), c(2, { alertCount: 5 }), c(3, { alertCount: 1, shared: ["fileHash:ab"] })]);
    expect(d).toMatchObject({ kind: "join", incident: 2 });
    if (d.kind !== "join") throw new Error();
    expect(d.merges).toEqual([
      { from: 1, into: 2, reasons: ["sameAsset", "temporalProximity"] },
      { from: 3, into: 2, reasons: ["similarArtifacts", "temporalProximity"] },
    ]);
  });

  it("breaks ties by age, then by id", () => {
    expect(decide([c(2), c(1)])).toMatchObject({ incident: 1 });
    expect(decide([c(2, { createdAt: "2026-01-01T00:00:00.000Z" }), c(1, { createdAt: "2026-01-01T00:00:00.000Z" })])).toMatchObject({ incident: 1 });
  });

  it("refuses merges across owners and classifications, judged against the merged result", () => {
    const d = decide([
      c(1, { alertCount: 9 }),
      c(2, { alertCount: 5, assignedTo: "a@x.com" }),
      c(3, { alertCount: 3, assignedTo: "b@x.com" }),
      c(4, { alertCount: 2, classification: "falsePositive" }),
      c(5, { alertCount: 1, classification: "truePositive" }),
    ]);
    if (d.kind !== "join") throw new Error();
    expect(d.merges.map((m) => m.from)).toEqual([2, 4]);
    expect(d.refused.map((r) => r.incident)).toEqual([3, 5]);
  });
});

describe("mergeBlocker", () => {
  it("ignores the case of owners and treats unknown as unclassified", () => {
    expect(mergeBlocker(c(1, { assignedTo: "A@x.com" }), c(2, { assignedTo: "a@X.com" }))).toBeNull();
    expect(mergeBlocker(c(1, { classification: null }), c(2, { classification: "truePositive" }))).toBeNull();
    expect(mergeBlocker(c(1), c(2, { status: "resolved" }))).toMatch(/closed/);
  });
});

it("always adds temporalProximity", () => {
  expect(reasonsFor([])).toEqual(["temporalProximity"]);
});

describe("decide within limits", () => {
  const limits = { maxAlerts: 5, maxEntities: 4 };

  it("joins an incident that has room, counting only the alert's entities it has not seen", () => {
    const d = decide(
      [c(1, { alertCount: 4, entityCount: 4, knownKeys: new Set(["device:x", "account:a"]), shared: ["device:x"] })],
      ["device:x", "account:a"],
      limits,
    );
    expect(d).toMatchObject({ kind: "join", incident: 1 });
    expect(d).not.toHaveProperty("notJoined");
  });

  it("starts a new incident when the only candidate holds the most alerts, and says why", () => {
    expect(decide([c(1, { alertCount: 5, entityCount: 1 })], ["device:x"], limits)).toEqual({
      kind: "new",
      notJoined: [{ incident: 1, why: "incident 1 would hold 6 alerts, more than the 5 one incident may hold (maxAlertsPerIncident)" }],
    });
  });

  it("does not join an incident the alert's new entities would take past the entity limit", () => {
    const d = decide([c(1, { alertCount: 1, entityCount: 3, knownKeys: new Set(["device:x"]) })], ["device:x", "account:a", "ip:1.2.3.4"], limits);
    expect(d).toEqual({ kind: "new", notJoined: [{ incident: 1, why: expect.stringContaining("would see 5 entities, more than the 4") }] });
  });

  it("joins the largest candidate with room, reporting the larger ones it passed over", () => {
    const d = decide([c(1, { alertCount: 5 }), c(2, { alertCount: 2 }), c(3, { alertCount: 1 })], ["device:x"], limits);
    expect(d).toMatchObject({ kind: "join", incident: 2, merges: [{ from: 3, into: 2 }], refused: [] });
    if (d.kind !== "join") throw new Error();
    expect(d.notJoined?.map((r) => r.incident)).toEqual([1]);
  });

  it("refuses a merge that would take the target past a limit, judged against the merged result", () => {
    const d = decide([c(1, { alertCount: 2 }), c(2, { alertCount: 2 }), c(3, { alertCount: 1 })], ["device:x"], limits);
    if (d.kind !== "join") throw new Error();
    // 1 + the alert = 3; merging 2 makes 5; merging 3 as well would make 6.
    expect(d.merges.map((m) => m.from)).toEqual([2]);
    expect(d.refused).toEqual([
      { incident: 3, into: 1, why: "merging incident 3 into incident 1 would hold 6 alerts, more than the 5 one incident may hold (maxAlertsPerIncident)" },
    ]);
  });

  it("counts entities two incidents are both known to have once when merging", () => {
    const a = c(1, { alertCount: 1, entityCount: 2, knownKeys: new Set(["device:x", "account:a"]) });
    const b = c(2, { alertCount: 1, entityCount: 2, knownKeys: new Set(["device:x", "account:b"]), createdAt: "2026-10-09T00:00:00.000Z" });
    expect(decide([a, b], ["device:x"], limits)).toMatchObject({ kind: "join", incident: 1, merges: [{ from: 2, into: 1 }], refused: [] });
    const wider = { ...b, entityCount: 4 };
    const d = decide([a, wider], ["device:x"], limits);
    if (d.kind !== "join") throw new Error();
    expect(d.refused[0]?.why).toContain("would see 5 entities");
  });
});
