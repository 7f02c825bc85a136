import { describe, expect, it } from "vitest";
import { kqlString, MAX_VALUES_PER_QUERY, recommendedHuntingQueries } from "../../src/domain/recommended-hunting.js";

const device = (name: string) => ({ "@odata.type": "#microsoft.graph.security.deviceEvidence", deviceDnsName: name });

describe("recommendedHuntingQueries", () => {
  it("escapes quotes, backslashes and control characters in KQL string literals", () => {
    expect(kqlString(`a"b\\c'd`)).toBe(String.raw`"a\"b\\c'd"`);
    expect(kqlString("x\ny\tz\r\u0001")).toBe(String.raw`"x\ny\tz\r\u0001"`);
  });

  it("has no queries for an incident without alerts, and no entity query for an entity it lacks", () => {
    expect(recommendedHuntingQueries([])).toEqual([]);
    const only = recommendedHuntingQueries([{ title: "T", detectionSource: "antivirus", createdDateTime: "2026-11-01T10:00:00Z", evidence: [] }]);
    expect(only).toHaveLength(1);
    expect(only[0]!.kqlText).toContain('let titles = dynamic(["T"]);');
    expect(only[0]!.kqlText).toContain("datetime(2026-10-02T10:00:00Z) .. datetime(2026-11-02T10:00:00Z)");
  });

  it("searches for at most MAX_VALUES_PER_QUERY values of a kind, each once", () => {
    const evidence = Array.from({ length: MAX_VALUES_PER_QUERY + 10 }, (_, i) => device(`host-${i % (MAX_VALUES_PER_QUERY + 5)}`));
    const [q] = recommendedHuntingQueries([{ title: "T", createdDateTime: "2026-11-01T10:00:00Z", evidence }]);
    const names = /let deviceNames = dynamic\((\[.*\])\);/.exec(q!.kqlText)![1]!;
    expect(JSON.parse(names)).toEqual(Array.from({ length: MAX_VALUES_PER_QUERY }, (_, i) => `host-${i}`));
  });

  it("ignores evidence fields that are not strings", () => {
    const [q] = recommendedHuntingQueries([{ createdDateTime: "2026-11-01T10:00:00Z", evidence: [device(42 as unknown as string), null, "x"] }]);
    expect(q).toBeUndefined();
  });
});
