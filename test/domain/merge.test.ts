import { describe, expect, it } from "vitest";
import { mergedTarget, moveRefusal, planMerge, redirectedSource } from "../../src/domain/merge.js";
import { decide, type Candidate } from "../../src/domain/correlate.js";
import type { IncidentRecord } from "../../src/schema/records.js";
import { GraphError } from "../../src/errors/graph-error.js";

function inc(id: number, alertCount: number, createdAt: string, doc: Record<string, unknown> = {}): IncidentRecord {
  return {
    id,
    createdAt,
    alertCount,
    doc: { id: String(id), status: "active", assignedTo: null, classification: "unknown", determination: "unknown", customTags: [], systemTags: [], ...doc },
    severitySource: "alerts",
    nameSource: "alerts",
    priorityFactors: null,
  };
}

function refusal(incidents: IncidentRecord[]): string {
  try {
    planMerge(incidents);
  } catch (e) {
    expect(e).toBeInstanceOf(GraphError);
    expect((e as GraphError).status).toBe(400);
    return (e as GraphError).message;
  }
  throw new Error("the merge was not refused");
}

describe("planMerge", () => {
  it("keeps the incident with the most alerts, then the oldest, then the lowest id, whatever the order", () => {
    const a = inc(7, 1, "2026-01-02T00:00:00.000Z");
    const b = inc(3, 1, "2026-01-02T00:00:00.000Z");
    const c = inc(9, 1, "2026-01-01T00:00:00.000Z");
    const d = inc(12, 4, "2026-01-05T00:00:00.000Z");
    expect(planMerge([a, b]).target.id).toBe(3);
    expect(planMerge([b, a]).target.id).toBe(3);
    expect(planMerge([a, b, c]).target.id).toBe(9);
    const plan = planMerge([a, b, c, d]);
    expect(plan.target.id).toBe(12);
    expect(plan.sources.map((s) => s.id)).toEqual([9, 3, 7]);
  });

  it("chooses the target the way automatic correlation does", () => {
    const incidents = [inc(5, 2, "2026-01-03T00:00:00.000Z"), inc(6, 2, "2026-01-01T00:00:00.000Z"), inc(2, 1, "2026-01-01T00:00:00.000Z")];
    const candidates: Candidate[] = incidents.map((i) => ({
      id: i.id,
      status: "active",
      assignedTo: null,
      classification: null,
      alertCount: i.alertCount,
      createdAt: i.createdAt,
      shared: ["device:x"],
    }));
    const auto = decide(candidates);
    expect(auto.kind === "join" && auto.incident).toBe(planMerge(incidents).target.id);
  });

  it("refuses a closed incident, naming it", () => {
    expect(refusal([inc(1, 2, "2026-01-01"), inc(2, 1, "2026-01-02", { status: "resolved" })])).toMatch(/Incident '2'.*resolved/);
    expect(refusal([inc(1, 2, "2026-01-01", { status: "redirected" }), inc(2, 1, "2026-01-02")])).toMatch(/Incident '1'.*redirected/);
  });

  it("refuses different owners, classifications and determinations; unset on one side merges", () => {
    expect(refusal([inc(1, 2, "a", { assignedTo: "ann" }), inc(2, 1, "b", { assignedTo: "bob" })])).toMatch(
      /'2' cannot be merged into incident '1': assigned to different people/,
    );
    expect(refusal([inc(1, 2, "a", { classification: "truePositive" }), inc(2, 1, "b", { classification: "falsePositive" })])).toMatch(
      /classified differently/,
    );
    expect(refusal([inc(1, 2, "a", { determination: "malware" }), inc(2, 1, "b", { determination: "phishing" })])).toMatch(/determined differently/);
    expect(planMerge([inc(1, 2, "a", { assignedTo: "ann" }), inc(2, 1, "b", { assignedTo: "ANN", determination: "malware" })]).target.id).toBe(1);
  });

  it("checks each source against the target as the earlier merges leave it", () => {
    // 2 gives the target an owner; 3, assigned to someone else, then conflicts with it.
    expect(refusal([inc(1, 3, "a"), inc(2, 2, "b", { assignedTo: "ann" }), inc(3, 1, "c", { assignedTo: "bob" })])).toMatch(
      /'3' cannot be merged into incident '1'/,
    );
  });
});

describe("what a merge and a move change", () => {
  it("redirects the source with the Redirected tag, once", () => {
    const r = redirectedSource({ status: "active", redirectIncidentId: null, systemTags: ["Redirected"] }, 4, "2026-01-01T00:00:00.000Z");
    expect(r.doc).toMatchObject({ status: "redirected", redirectIncidentId: "4", systemTags: ["Redirected"] });
    expect(r.changes.map((c) => c.property)).toEqual(["status", "redirectIncidentId"]);
    expect(redirectedSource({ status: "active", systemTags: [] }, 4, "x").doc.systemTags).toEqual(["Redirected"]);
  });

  it("gives the target the sources' tags, and their owner and verdicts where it has none", () => {
    const m = mergedTarget({ customTags: ["a"], assignedTo: null, classification: "unknown", determination: "malware" }, [
      { customTags: ["b", "a"], assignedTo: "ann", classification: "truePositive", determination: "unknown" },
    ]);
    expect(m.doc).toMatchObject({ customTags: ["a", "b"], assignedTo: "ann", classification: "truePositive", determination: "malware" });
    expect(m.changes.map((c) => c.property)).toEqual(["customTags", "assignedTo", "classification"]);
  });

  it("moves alerts only into an open incident", () => {
    expect(moveRefusal(inc(1, 1, "a"))).toBeNull();
    expect(moveRefusal(inc(1, 1, "a", { status: "resolved" }))).toMatch(/incident '1'.*resolved/);
  });
});
