import { describe, expect, it } from "vitest";
import { decide, mergeBlocker, reasonsFor, type Candidate } from "../../src/domain/correlate.js";

function c(id: number, over: Partial<Candidate> = {}): Candidate {
  return { id, status: "active", assignedTo: null, classification: "unknown", alertCount: 1, createdAt: `2026-10-0${id}T00:00:00.000Z`, shared: ["device:x"], ...over };
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
