import type { AlertSeverity } from "../schema/enums.js";
// The correlation endpoint serves these factors as stored, so their one declaration is the wire contract.
import type { PriorityFactor } from "../schema/triage-api.js";

export type { PriorityFactor };

/**
 * Triage's priorityScore: a deterministic stand-in for Defender's machine-learned score, 0–100,
 * with the same bands (above 85 top, 15–85 medium, below 15 low). Every point is explained.
 *
 *   severity        high 50, medium 35, low 20, informational 8, unknown 5
 *   alerts          5 × log2(1 + alert count), at most 15
 *   assets          5 per affected device, account or mailbox beyond the first, at most 15
 *   detection       the most telling detection source among the alerts, 2 to 10
 *   rarity          how rarely the tenant has seen the incident's rarest detector: once 10,
 *                   ≤ 10 times 7, ≤ 100 times 4, more 1
 */
export interface PriorityInput {
  severity: AlertSeverity;
  alertCount: number;
  affectedAssets: number;
  detectionSources: readonly string[];
  /** How many alerts the tenant has seen from the incident's rarest detector (≥ 1). */
  rarestDetectorCount: number;
}

export interface Priority {
  score: number;
  factors: PriorityFactor[];
}

const SEVERITY_POINTS: Record<string, number> = { high: 50, medium: 35, low: 20, informational: 8, unknown: 5 };

/** Sources whose alerts are more often real: human-curated or behaviour-based detections. */
const DETECTION_POINTS: Record<string, number> = {
  microsoftThreatExperts: 10,
  customDetection: 9,
  customTi: 9,
  microsoftDefenderForIdentity: 8,
  microsoftDefenderForEndpoint: 8,
  automatedInvestigation: 7,
  microsoft365Defender: 7,
  microsoftDefenderForOffice365: 6,
  azureAdIdentityProtection: 6,
  cloudAppSecurity: 5,
  appGovernanceDetection: 5,
  manual: 5,
  antivirus: 4,
  smartScreen: 3,
  microsoftDataLossPrevention: 3,
  appGovernancePolicy: 3,
};

export function priorityScore(input: PriorityInput): Priority {
  const factors: PriorityFactor[] = [];
  factors.push({ factor: "severity", points: SEVERITY_POINTS[input.severity] ?? 5, reason: `severity ${input.severity}` });

  const alerts = Math.min(15, Math.round(5 * Math.log2(1 + Math.max(0, input.alertCount))));
  factors.push({ factor: "alerts", points: alerts, reason: `${input.alertCount} alert${input.alertCount === 1 ? "" : "s"}` });

  const assets = Math.min(15, 5 * Math.max(0, input.affectedAssets - 1));
  factors.push({ factor: "assets", points: assets, reason: `${input.affectedAssets} affected asset${input.affectedAssets === 1 ? "" : "s"}` });

  let best = { source: "unknown", points: 2 };
  for (const s of input.detectionSources) {
    const pts = DETECTION_POINTS[s] ?? 2;
    if (pts > best.points) best = { source: s, points: pts };
  }
  factors.push({ factor: "detectionSource", points: best.points, reason: `detected by ${best.source}` });

  const n = Math.max(1, input.rarestDetectorCount);
  const rarity = n <= 1 ? 10 : n <= 10 ? 7 : n <= 100 ? 4 : 1;
  factors.push({ factor: "rarity", points: rarity, reason: `rarest detector seen ${n} time${n === 1 ? "" : "s"} in this tenant` });

  const score = Math.max(
    0,
    Math.min(
      100,
      factors.reduce((sum, f) => sum + f.points, 0),
    ),
  );
  return { score, factors };
}
