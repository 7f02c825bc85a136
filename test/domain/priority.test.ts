import { describe, expect, it } from "vitest";
import { priorityScore } from "../../src/domain/priority.js";
import { incidentName } from "../../src/domain/incident-name.js";
import { highestSeverity } from "../../src/domain/severity.js";

describe("priorityScore", () => {
  const base = { severity: "medium" as const, alertCount: 1, affectedAssets: 1, detectionSources: ["antivirus"], rarestDetectorCount: 500 };

  it("is a deterministic sum of explained factors, within 0..100", () => {
    const p = priorityScore(base);
    expect(p.factors.map((f) => [f.factor, f.points])).toEqual([
      ["severity", 35],
      ["alerts", 5],
      ["assets", 0],
      ["detectionSource", 4],
      ["rarity", 1],
    ]);
    expect(p.score).toBe(45);
    expect(priorityScore(base)).toEqual(p);
  });

  it("rises with severity, alerts, assets, telling sources and rarity", () => {
    const low = priorityScore(base).score;
    expect(priorityScore({ ...base, severity: "high" }).score).toBeGreaterThan(low);
    expect(priorityScore({ ...base, alertCount: 7 }).score).toBeGreaterThan(low);
    expect(priorityScore({ ...base, affectedAssets: 3 }).score).toBeGreaterThan(low);
    expect(priorityScore({ ...base, detectionSources: ["antivirus", "microsoftThreatExperts"] }).score).toBeGreaterThan(low);
    expect(priorityScore({ ...base, rarestDetectorCount: 1 }).score).toBeGreaterThan(low);
  });

  it("reaches the top band only for severe, broad, rare incidents", () => {
    const top = priorityScore({ severity: "high", alertCount: 20, affectedAssets: 6, detectionSources: ["microsoftThreatExperts"], rarestDetectorCount: 1 });
    expect(top.score).toBe(100);
    expect(priorityScore({ ...base, severity: "informational" }).score).toBeLessThan(25);
  });
});

describe("incidentName", () => {
  it("takes a single alert's title", () => {
    expect(incidentName({ alertTitles: ["Suspicious PowerShell", "Suspicious PowerShell"], categories: ["Execution"], devices: 1, accounts: 0 })).toBe(
      "Suspicious PowerShell",
    );
  });
  it("names a multi-stage incident after categories and assets", () => {
    expect(incidentName({ alertTitles: ["a", "b"], categories: ["Execution", "DefenseEvasion"], devices: 1, accounts: 1 })).toBe(
      "Multi-stage incident involving Execution & Defense evasion on one endpoint",
    );
    expect(incidentName({ alertTitles: ["a", "b"], categories: ["InitialAccess", "Execution", "Persistence", "Exfiltration"], devices: 0, accounts: 3 })).toBe(
      "Multi-stage incident involving Initial access, Execution & 2 more on 3 users",
    );
  });
});

it("highestSeverity ignores unknownFutureValue", () => {
  expect(highestSeverity(["low", "high", "medium"])).toBe("high");
  expect(highestSeverity([])).toBe("unknown");
  expect(highestSeverity(["unknownFutureValue", "informational"])).toBe("informational");
});
