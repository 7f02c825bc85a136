import { describe, expect, it } from "vitest";
import { rank, type Candidate } from "../../src/domain/correlate.js";
import { MAX_MERGED_INCIDENTS } from "../../src/domain/merge.js";
import { expectedTarget, MAX_MERGE, mergeSelectionRefusal, type MergeCandidate } from "../../web/src/merge.js";

/** The web app's expectation of a merge: the same limit and the same target rule as the server's. */

/** A small deterministic generator, so a failure repeats. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("the web app's merge expectations", () => {
  it("takes the server's limit of incidents per merge", () => {
    expect(MAX_MERGE).toBe(MAX_MERGED_INCIDENTS);
    expect(mergeSelectionRefusal(0)).toMatch(/^Select 2 to 5/);
    expect(mergeSelectionRefusal(1)).toMatch(/^Select 2 to 5/);
    for (let n = 2; n <= MAX_MERGE; n++) expect(mergeSelectionRefusal(n)).toBeNull();
    expect(mergeSelectionRefusal(MAX_MERGE + 1)).toBe("A merge takes at most 5 incidents; 6 are selected.");
  });

  it("expects the target the server's rule chooses, on generated selections with ties", () => {
    const next = random(20261204);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
    // Few distinct counts and times, so ties on alerts and on creation time are common.
    const times = ["2026-11-01T10:00:00.000Z", "2026-11-01T10:00:00.500Z", "2026-11-02T09:30:00.000Z"];
    for (let round = 0; round < 500; round++) {
      const n = 2 + Math.floor(next() * (MAX_MERGE - 1));
      const ids = new Set<number>();
      while (ids.size < n) ids.add(1 + Math.floor(next() * 1200));
      const web: MergeCandidate[] = [...ids].map((id) => ({ id: String(id), createdDateTime: pick(times), alertCount: 1 + Math.floor(next() * 3) }));
      const server: Candidate[] = web.map((c) => ({
        id: Number(c.id),
        status: "active",
        assignedTo: null,
        classification: null,
        alertCount: c.alertCount,
        createdAt: c.createdDateTime,
        shared: [],
      }));
      const chosen = [...server].sort(rank)[0]!;
      expect(expectedTarget(web), JSON.stringify(web)).toBe(String(chosen.id));
    }
    expect(expectedTarget([])).toBeUndefined();
  });
});
