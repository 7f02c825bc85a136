/**
 * The automation rule editor's model (docs/automation.md): a rule as the form holds it — every field a
 * string, lists as comma-separated text — and its conversion to and from the API's shape. The server
 * checks what is sent; this only shapes it, so the API's own errors are what the user reads.
 */
import type { Action, Condition, Rule, RuleInput } from "../../src/schema/automation.js";
import {
  CONDITION_OPERATORS as OPERATORS,
  CONDITION_PROPERTIES as PROPERTIES,
  TRIGGERS,
  type ConditionOperator,
  type ConditionProperty,
  type Trigger,
} from "../../src/schema/automation-vocabulary.js";

export { OPERATORS, PROPERTIES, TRIGGERS };

export const TRIGGER_LABELS: Record<Trigger, string> = {
  incidentCreated: "Incident created",
  incidentUpdated: "Incident updated",
  alertCreated: "Alert created",
  slaBreached: "SLA breached",
};

export const PROPERTY_LABELS: Record<ConditionProperty, string> = {
  severity: "Severity",
  status: "Status",
  title: "Title",
  detectionSource: "Detection source",
  serviceSource: "Service source",
  tags: "Tags",
  assignedTo: "Assigned to",
  mitreTechniques: "MITRE techniques",
  account: "Account",
  device: "Device",
  ip: "IP address",
  slaBreach: "SLA breached (firstAction, resolve)",
};

export const OPERATOR_LABELS: Record<ConditionOperator, string> = {
  equals: "equals",
  notEquals: "does not equal",
  contains: "contains",
  notContains: "does not contain",
  startsWith: "starts with",
  notStartsWith: "does not start with",
  endsWith: "ends with",
  notEndsWith: "does not end with",
  isEmpty: "is empty",
  isNotEmpty: "is not empty",
};
export const takesValues = (op: ConditionOperator) => op !== "isEmpty" && op !== "isNotEmpty";

/** The kinds of action the form offers; notify is three (its channels differ in fields). */
export const ACTION_KINDS = ["assign", "changeStatus", "classify", "addTags", "removeTags", "addComment", "runPlaybook", "teams", "slack", "email"] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];
export const ACTION_LABELS: Record<ActionKind, string> = {
  assign: "Assign",
  changeStatus: "Change status",
  classify: "Classify",
  addTags: "Add tags",
  removeTags: "Remove tags",
  addComment: "Add a comment",
  runPlaybook: "Run a playbook (webhook)",
  teams: "Notify a Teams channel",
  slack: "Notify a Slack channel",
  email: "Send an e-mail",
};

export interface ConditionDraft {
  key: number;
  property: ConditionProperty;
  operator: ConditionOperator;
  values: string;
}

export interface ActionDraft {
  key: number;
  kind: ActionKind;
  assignedTo: string;
  status: string;
  classification: string;
  determination: string;
  tags: string;
  comment: string;
  url: string;
  secret: string;
  secretSet: boolean;
  to: string;
  subject: string;
}

export interface RuleDraft {
  displayName: string;
  order: string;
  enabled: boolean;
  /** A datetime-local value (the browser's time zone), or "". */
  expiration: string;
  trigger: Trigger;
  match: "all" | "any";
  conditions: ConditionDraft[];
  actions: ActionDraft[];
}

let nextKey = 1;
export const newKey = () => nextKey++;

export function newCondition(): ConditionDraft {
  return { key: newKey(), property: "severity", operator: "equals", values: "" };
}

export function newAction(kind: ActionKind = "addTags"): ActionDraft {
  return {
    key: newKey(),
    kind,
    assignedTo: "",
    status: "inProgress",
    classification: "truePositive",
    determination: "",
    tags: "",
    comment: "",
    url: "",
    secret: "",
    secretSet: false,
    to: "",
    subject: "",
  };
}

export function emptyDraft(): RuleDraft {
  return { displayName: "", order: "1000", enabled: true, expiration: "", trigger: "incidentCreated", match: "all", conditions: [], actions: [newAction()] };
}

/** "a, b ,c" → ["a", "b", "c"]. */
export const list = (text: string) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

const pad = (n: number) => String(n).padStart(2, "0");
/** An ISO instant as a datetime-local value in the browser's time zone. */
export function toLocalInput(iso: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function actionDraft(a: Action): ActionDraft {
  const d = newAction();
  switch (a.type) {
    case "assign":
      return { ...d, kind: "assign", assignedTo: a.assignedTo ?? "" };
    case "changeStatus":
      return { ...d, kind: "changeStatus", status: a.status };
    case "classify":
      return { ...d, kind: "classify", classification: a.classification, determination: a.determination ?? "" };
    case "addTags":
    case "removeTags":
      return { ...d, kind: a.type, tags: a.tags.join(", ") };
    case "addComment":
      return { ...d, kind: "addComment", comment: a.comment };
    case "runPlaybook":
      return { ...d, kind: "runPlaybook", url: a.url, secretSet: a.secretSet === true };
    case "notify":
      return a.channel === "email" ? { ...d, kind: "email", to: a.to.join(", "), subject: a.subject ?? "" } : { ...d, kind: a.channel, url: a.url };
  }
}

export function draftOf(rule: Rule): RuleDraft {
  return {
    displayName: rule.displayName,
    order: String(rule.order),
    enabled: rule.enabled,
    expiration: toLocalInput(rule.expirationDateTime),
    trigger: rule.trigger,
    match: rule.conditions.match,
    conditions: rule.conditions.items.map((c) => ({ key: newKey(), property: c.property, operator: c.operator, values: (c.values ?? []).join(", ") })),
    actions: rule.actions.map(actionDraft),
  };
}

function actionOf(d: ActionDraft): Action {
  switch (d.kind) {
    case "assign":
      return { type: "assign", assignedTo: d.assignedTo.trim() || null };
    case "changeStatus":
      return { type: "changeStatus", status: d.status as "active" };
    case "classify":
      return {
        type: "classify",
        classification: d.classification as "truePositive",
        ...(d.determination ? { determination: d.determination as "malware" } : {}),
      };
    case "addTags":
    case "removeTags":
      return { type: d.kind, tags: list(d.tags) };
    case "addComment":
      return { type: "addComment", comment: d.comment };
    case "runPlaybook":
      // Without a new secret the server keeps the one it holds for this url.
      return { type: "runPlaybook", url: d.url.trim(), ...(d.secret ? { secret: d.secret } : {}) };
    case "teams":
    case "slack":
      return { type: "notify", channel: d.kind, url: d.url.trim() };
    case "email":
      return { type: "notify", channel: "email", to: list(d.to), ...(d.subject.trim() ? { subject: d.subject.trim() } : {}) };
  }
}

function conditionOf(c: ConditionDraft): Condition {
  return takesValues(c.operator) ? { property: c.property, operator: c.operator, values: list(c.values) } : { property: c.property, operator: c.operator };
}

/** The API's rule for a draft. The order is sent as typed (a non-number is the server's 400 to explain). */
export function ruleOf(d: RuleDraft): RuleInput {
  const order = d.order.trim() === "" ? undefined : Number(d.order);
  return {
    displayName: d.displayName.trim(),
    ...(order === undefined ? {} : { order }),
    enabled: d.enabled,
    expirationDateTime: d.expiration ? new Date(d.expiration).toISOString() : null,
    trigger: d.trigger,
    conditions: { match: d.match, items: d.conditions.map(conditionOf) },
    actions: d.actions.map(actionOf),
  };
}

/** A rule's conditions in a line, for the list. */
export function conditionSummary(rule: Rule): string {
  if (!rule.conditions.items.length) return "Always";
  const parts = rule.conditions.items.map(
    (c) => `${PROPERTY_LABELS[c.property]} ${OPERATOR_LABELS[c.operator]}${c.values?.length ? ` ${c.values.join(" or ")}` : ""}`,
  );
  return parts.join(rule.conditions.match === "all" ? " and " : " or ");
}

export function actionSummary(a: Action): string {
  switch (a.type) {
    case "assign":
      return a.assignedTo ? `Assign to ${a.assignedTo}` : "Unassign";
    case "changeStatus":
      return `Status ${a.status}`;
    case "classify":
      return `Classify ${a.classification}${a.determination ? ` (${a.determination})` : ""}`;
    case "addTags":
      return `Add tags ${a.tags.join(", ")}`;
    case "removeTags":
      return `Remove tags ${a.tags.join(", ")}`;
    case "addComment":
      return "Comment";
    case "runPlaybook":
      return "Playbook";
    case "notify":
      return a.channel === "email" ? `E-mail ${a.to.join(", ")}` : a.channel === "teams" ? "Teams" : "Slack";
  }
}
