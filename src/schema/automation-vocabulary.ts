/**
 * The words automation rules are made of: triggers, the properties a condition looks at and its
 * operators. Plain lists without TypeBox, so that the web app's rule editor offers exactly these
 * without bundling the schemas (schema/automation.ts builds its schemas from them).
 */
export const TRIGGERS = ["incidentCreated", "incidentUpdated", "alertCreated", "slaBreached"] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** What a condition can look at: properties of the incident (or alert) and of the entities in its evidence. */
export const CONDITION_PROPERTIES = [
  "severity",
  "status",
  "title",
  "detectionSource",
  "serviceSource",
  "tags",
  "assignedTo",
  "mitreTechniques",
  "account",
  "device",
  "ip",
  "slaBreach",
] as const;
export type ConditionProperty = (typeof CONDITION_PROPERTIES)[number];

export const CONDITION_OPERATORS = [
  "equals",
  "notEquals",
  "contains",
  "notContains",
  "startsWith",
  "notStartsWith",
  "endsWith",
  "notEndsWith",
  "isEmpty",
  "isNotEmpty",
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];
