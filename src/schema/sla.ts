/**
 * SLAs (docs/sla.md): a tenant's policy — per incident severity, the time to first action and the time
 * to resolve, as ISO 8601 durations — and the SLA state an incident shows (Triage's `@triage.sla`
 * instance annotation under the lenient profile). The API checks bodies against these and the
 * OpenAPI document shows them.
 */
// The date-time format its schemas use must be registered before Value.Check runs on them.
import "./formats.js";
import { Type, type Static } from "@sinclair/typebox";

import type { SlaSeverity } from "./sla-vocabulary.js";

export * from "./sla-vocabulary.js";

/** The shortest and longest target: one second (tests, drills) and 365 days. */
export const MIN_SLA_TARGET_MS = 1000;
export const MAX_SLA_TARGET_MS = 365 * 24 * 3600_000;
/** The name of the instance annotation an incident carries under the lenient profile. */
export const SLA_ANNOTATION = "@triage.sla";

const Duration = Type.Union(
  [
    Type.String({
      pattern: "^P(\\d+D)?(T(\\d+H)?(\\d+M)?(\\d+S)?)?$",
      maxLength: 32,
      description: "An ISO 8601 duration of days, hours, minutes and seconds (PT15M, PT4H, P2D, P1DT12H), from 1 second to 365 days.",
    }),
    Type.Null(),
  ],
  { description: "null: no target for this severity." },
);

export const SlaTargetSchema = Type.Object(
  {
    firstAction: Type.Optional(Duration),
    resolve: Type.Optional(Duration),
  },
  { additionalProperties: false },
);
export type SlaTarget = Static<typeof SlaTargetSchema>;

export const SlaTargetsSchema = Type.Object(
  {
    informational: Type.Optional(SlaTargetSchema),
    low: Type.Optional(SlaTargetSchema),
    medium: Type.Optional(SlaTargetSchema),
    high: Type.Optional(SlaTargetSchema),
    unknown: Type.Optional(SlaTargetSchema),
  } satisfies Record<SlaSeverity, unknown>,
  { additionalProperties: false, description: "Per incident severity; a severity left out has no targets." },
);

/** What a client sends to set the policy (PUT replaces the whole policy). */
export const SlaPolicyInputSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: "Default true. A disabled policy starts no clocks and stops the running ones from breaching." })),
    targets: SlaTargetsSchema,
  },
  { additionalProperties: false },
);
export type SlaPolicyInput = Static<typeof SlaPolicyInputSchema>;

/** The policy as the API answers it. */
export const SlaPolicySchema = Type.Object({
  enabled: Type.Boolean(),
  targets: SlaTargetsSchema,
  createdDateTime: Type.Union([Type.String({ format: "date-time" }), Type.Null()], { description: "When the tenant's first policy was saved; null: never." }),
  lastModifiedDateTime: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  lastModifiedBy: Type.Union([Type.String(), Type.Null()]),
});
export type SlaPolicy = Static<typeof SlaPolicySchema>;

const DateTimeOrNull = Type.Union([Type.String({ format: "date-time" }), Type.Null()]);

/** One clock of an incident. */
export const SlaClockSchema = Type.Object({
  dueDateTime: Type.Union([Type.String({ format: "date-time" }), Type.Null()], { description: "When it is due; null: the policy sets no target." }),
  metDateTime: DateTimeOrNull,
  breachedDateTime: Type.Union([Type.String({ format: "date-time" }), Type.Null()], { description: "When the breach was recorded (it triggered rules)." }),
  overdue: Type.Boolean({ description: "Past due and not met: true from the due time on, whether or not the breach has been recorded yet." }),
});
export type SlaClock = Static<typeof SlaClockSchema>;

/** What an incident shows: its `@triage.sla` annotation (lenient profile), and Triage's own API. */
export const IncidentSlaSchema = Type.Object({
  startDateTime: Type.String({ format: "date-time", description: "When the clocks started: when Triage created the incident." }),
  firstAction: SlaClockSchema,
  resolve: SlaClockSchema,
  overdue: Type.Boolean({ description: "Either clock is overdue." }),
  nextDueDateTime: Type.Union([Type.String({ format: "date-time" }), Type.Null()], { description: "The earliest due time of a clock still running." }),
});
export type IncidentSla = Static<typeof IncidentSlaSchema>;

/** An incident's clocks as the store keeps them (milliseconds since 1970; see store/sla.ts). */
export interface SlaState {
  incidentId: number;
  severity: string;
  startedMs: number;
  firstActionDueMs: number | null;
  firstActionMs: number | null;
  firstActionBy: string | null;
  firstActionBreachedMs: number | null;
  resolveDueMs: number | null;
  closedMs: number | null;
  resolveBreachedMs: number | null;
  nextDueMs: number | null;
}
