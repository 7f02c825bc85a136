/**
 * Which determinations go with which classification, as Microsoft Graph and the Defender portal pair
 * them when an incident is resolved. The API itself accepts any pair (as Graph does); generated data
 * keeps to these so the demo looks like a team that followed the portal's choices.
 */
import type { AlertClassification, AlertDetermination } from "../schema/enums.js";

export type Verdict = Exclude<AlertClassification, "unknown" | "unknownFutureValue">;

export const DETERMINATIONS_BY_CLASSIFICATION: Readonly<Record<Verdict, readonly AlertDetermination[]>> = {
  truePositive: ["multiStagedAttack", "maliciousUserActivity", "compromisedAccount", "malware", "phishing", "unwantedSoftware", "apt", "other"],
  informationalExpectedActivity: ["securityTesting", "lineOfBusinessApplication", "confirmedActivity", "securityPersonnel", "other"],
  falsePositive: ["notMalicious", "notEnoughDataToValidate", "other"],
};

export function isVerdict(c: unknown): c is Verdict {
  return typeof c === "string" && Object.hasOwn(DETERMINATIONS_BY_CLASSIFICATION, c);
}

/** Whether a determination is one Graph offers for the classification. */
export function determinationFits(classification: Verdict, determination: unknown): boolean {
  return (DETERMINATIONS_BY_CLASSIFICATION[classification] as readonly unknown[]).includes(determination);
}
