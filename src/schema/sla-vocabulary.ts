/**
 * The words of SLAs (docs/sla.md): the severities a policy sets targets for and the two clocks. Plain
 * lists without TypeBox, so that the web app's SLA page offers exactly these without bundling the
 * schemas (schema/sla.ts builds its schemas from them).
 */

/** The severities a policy sets targets for: Graph's alertSeverity members, unknown included. */
export const SLA_SEVERITIES = ["informational", "low", "medium", "high", "unknown"] as const;
export type SlaSeverity = (typeof SLA_SEVERITIES)[number];

/** The two clocks of an incident. */
export const SLA_KINDS = ["firstAction", "resolve"] as const;
export type SlaKind = (typeof SLA_KINDS)[number];
