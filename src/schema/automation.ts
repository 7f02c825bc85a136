/**
 * Automation rules (docs/automation.md): what a rule is made of — its trigger, conditions and ordered
 * actions — as TypeBox schemas, with their limits. The API checks bodies against these, the OpenAPI
 * document shows them, and the domain's matching and acting (domain/automation/) read the same types.
 */
// The date-time format its schemas use must be registered before Value.Check runs on them.
import "./formats.js";
import { Type, type Static, type TLiteral, type TUnion } from "@sinclair/typebox";
import { alertClassification, alertDetermination } from "./enums.js";
import { MAX_ASSIGNED_TO_LENGTH, MAX_TEXT_LENGTH } from "./limits.js";
import { CONDITION_OPERATORS, CONDITION_PROPERTIES, TRIGGERS } from "./automation-vocabulary.js";

export * from "./automation-vocabulary.js";

/** Most rules one tenant may hold (as Microsoft Sentinel's 512). */
export const MAX_RULES_PER_TENANT = 512;
export const MAX_RULE_NAME = 256;
export const MIN_ORDER = 1;
export const MAX_ORDER = 1000;
export const MAX_CONDITIONS = 50;
export const MAX_CONDITION_VALUES = 50;
export const MAX_CONDITION_VALUE_LENGTH = 256;
export const MAX_ACTIONS = 20;
export const MAX_ACTION_TAGS = 50;
export const MAX_TAG_LENGTH = 256;
export const MAX_RECIPIENTS = 20;
export const MAX_DESTINATION_URL = 2048;
export const MIN_SECRET_LENGTH = 16;
export const MAX_SECRET_LENGTH = 256;
export const MAX_SUBJECT_LENGTH = 256;

/** A union of string literals whose static type is the union of the values. */
const literals = <T extends readonly string[]>(values: T, description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    description ? { description } : {},
  ) as unknown as TUnion<TLiteral<T[number]>[]>;

export const ConditionSchema = Type.Object(
  {
    property: literals(CONDITION_PROPERTIES, "What is compared."),
    operator: literals(CONDITION_OPERATORS, "How. Text compares without regard to case; a negative operator holds when no value matches."),
    values: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: MAX_CONDITION_VALUE_LENGTH }), {
        maxItems: MAX_CONDITION_VALUES,
        description: "The condition holds when any of them matches (none, for a negative operator). Not given with isEmpty and isNotEmpty.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type Condition = Static<typeof ConditionSchema>;

export const ConditionsSchema = Type.Object(
  {
    match: literals(["all", "any"] as const, "all: every condition must hold; any: at least one."),
    items: Type.Array(ConditionSchema, { maxItems: MAX_CONDITIONS, description: "No conditions: the rule applies to every change of its trigger." }),
  },
  { additionalProperties: false },
);
export type Conditions = Static<typeof ConditionsSchema>;

const Tags = Type.Array(Type.String({ minLength: 1, maxLength: MAX_TAG_LENGTH }), { minItems: 1, maxItems: MAX_ACTION_TAGS });
const Url = Type.String({ minLength: 1, maxLength: MAX_DESTINATION_URL });

export const ActionSchema = Type.Union([
  Type.Object(
    { type: Type.Literal("assign"), assignedTo: Type.Union([Type.String({ maxLength: MAX_ASSIGNED_TO_LENGTH }), Type.Null()]) },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal("changeStatus"), status: literals(["active", "inProgress", "resolved"] as const) }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal("classify"),
      classification: literals(alertClassification.members.filter((m) => m !== "unknownFutureValue")),
      determination: Type.Optional(literals(alertDetermination.members.filter((m) => m !== "unknownFutureValue"))),
    },
    { additionalProperties: false },
  ),
  Type.Object({ type: Type.Literal("addTags"), tags: Tags }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal("removeTags"), tags: Tags }, { additionalProperties: false }),
  Type.Object({ type: Type.Literal("addComment"), comment: Type.String({ minLength: 1, maxLength: MAX_TEXT_LENGTH }) }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal("runPlaybook"),
      url: Url,
      secret: Type.Optional(
        Type.String({
          minLength: MIN_SECRET_LENGTH,
          maxLength: MAX_SECRET_LENGTH,
          description: "The HMAC-SHA256 key the request is signed with. Write-only: answers say secretSet instead.",
        }),
      ),
      secretSet: Type.Optional(Type.Boolean({ description: "In answers: a secret is kept for this playbook." })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    { type: Type.Literal("notify"), channel: literals(["teams", "slack"] as const, "The incoming-webhook format."), url: Url },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal("notify"),
      channel: Type.Literal("email"),
      to: Type.Array(Type.String({ minLength: 3, maxLength: 320 }), { minItems: 1, maxItems: MAX_RECIPIENTS }),
      subject: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_SUBJECT_LENGTH })),
    },
    { additionalProperties: false },
  ),
]);
export type Action = Static<typeof ActionSchema>;
export type ActionType = Action["type"];
/** Actions that change the incident (the rest send something out). */
export const INCIDENT_ACTIONS: ReadonlySet<ActionType> = new Set(["assign", "changeStatus", "classify", "addTags", "removeTags", "addComment"]);

/** What a client sends to create a rule (PATCH sends any of these properties). */
export const RuleInputSchema = Type.Object(
  {
    displayName: Type.String({ minLength: 1, maxLength: MAX_RULE_NAME }),
    order: Type.Optional(
      Type.Integer({ minimum: MIN_ORDER, maximum: MAX_ORDER, description: "Rules run in this order, lowest first (then oldest first). Default 1000." }),
    ),
    enabled: Type.Optional(Type.Boolean({ description: "Default true." })),
    expirationDateTime: Type.Optional(Type.Union([Type.String({ format: "date-time" }), Type.Null()], { description: "After it, the rule no longer runs." })),
    trigger: literals(TRIGGERS),
    conditions: Type.Optional(ConditionsSchema),
    actions: Type.Array(ActionSchema, { minItems: 1, maxItems: MAX_ACTIONS, description: "Run in this order." }),
  },
  { additionalProperties: false },
);
export type RuleInput = Static<typeof RuleInputSchema>;

/** A rule as the API answers it. */
export const RuleSchema = Type.Object({
  id: Type.String(),
  displayName: Type.String(),
  order: Type.Integer(),
  enabled: Type.Boolean(),
  expirationDateTime: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  trigger: literals(TRIGGERS),
  conditions: ConditionsSchema,
  actions: Type.Array(ActionSchema),
  createdDateTime: Type.String({ format: "date-time" }),
  createdBy: Type.String(),
  lastModifiedDateTime: Type.String({ format: "date-time" }),
  lastModifiedBy: Type.String(),
});
export type Rule = Static<typeof RuleSchema>;

export const RuleListSchema = Type.Object({ value: Type.Array(RuleSchema) });

/** What a dry run is asked: a saved rule's id in the path, or a rule in the body; and what to run it against. */
export const DryRunRequestSchema = Type.Object(
  {
    rule: Type.Optional(RuleInputSchema),
    incidentId: Type.Optional(Type.String({ description: "The incident to run against (incident triggers)." })),
    alertId: Type.Optional(Type.String({ description: "The alert to run against (the alertCreated trigger)." })),
  },
  { additionalProperties: false },
);

export const DryRunSchema = Type.Object({
  matched: Type.Boolean({ description: "Whether the rule's conditions hold for the incident or alert as it is now." }),
  skipped: Type.Union([Type.String(), Type.Null()], { description: "Why the rule would not run at all (disabled, expired), or null." }),
  conditions: Type.Array(
    Type.Object({
      property: Type.String(),
      operator: Type.String(),
      values: Type.Array(Type.String()),
      holds: Type.Boolean(),
      actual: Type.Array(Type.String()),
    }),
  ),
  actions: Type.Array(
    Type.Object({
      type: Type.String(),
      description: Type.String({ description: "What the action would do, in words." }),
      changes: Type.Array(Type.Object({ property: Type.String(), before: Type.Unknown(), after: Type.Unknown() })),
    }),
  ),
});
export type DryRun = Static<typeof DryRunSchema>;

/** Most jobs one page of GET /triage/automation/jobs holds; the default page. */
export const MAX_JOBS_PAGE = 500;
export const DEFAULT_JOBS_PAGE = 100;
export const JOB_STATES = ["pending", "failed"] as const;
export const JOB_KINDS = ["playbook", "teams", "slack", "email"] as const;

/** Something a rule queued to send (a playbook's POST, a Teams or Slack message, an e-mail) and not yet sent. */
export const JobSchema = Type.Object({
  id: Type.String({ description: "The job's id: the X-Triage-Delivery header of its requests." }),
  ruleId: Type.String(),
  ruleDisplayName: Type.Union([Type.String(), Type.Null()], { description: "The rule's name, or null once the rule is deleted." }),
  kind: Type.Union(
    JOB_KINDS.map((k) => Type.Literal(k)),
    { description: "playbook, teams, slack or email." },
  ),
  destination: Type.String({ description: "The webhook URL, or the e-mail recipients separated by commas. Never the playbook's secret." }),
  state: Type.Union(
    JOB_STATES.map((s) => Type.Literal(s)),
    { description: "pending: not yet tried, or being sent; failed: tried and refused, waiting for its next attempt." },
  ),
  attempts: Type.Integer({ description: "Failed attempts so far." }),
  lastError: Type.Union([Type.String(), Type.Null()], { description: "Why the last attempt failed." }),
  createdDateTime: Type.String({ format: "date-time", description: "When the rule ran and queued it." }),
  firstFailureDateTime: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  nextAttemptDateTime: Type.String({ format: "date-time" }),
  giveUpDateTime: Type.Union([Type.String({ format: "date-time" }), Type.Null()], {
    description: "When a failing job is dropped if it has not been accepted by then (4 hours after its first failure).",
  }),
  sending: Type.Boolean({ description: "A node holds the job and is sending it now." }),
});
export type Job = Static<typeof JobSchema>;

export const JobListSchema = Type.Object({
  value: Type.Array(JobSchema),
  nextLink: Type.Optional(Type.String({ description: "The next page (a path and query), when there is one." })),
});
