/**
 * What a rule's actions do to an incident, in order, without doing it: the properties to set (each
 * action sees the result of the ones before it), the comments to add, and what to send out. The
 * feature applies the plan through the same PATCH rule as an analyst's change; a dry run shows it. Pure.
 */
import type { Action } from "../../schema/automation.js";
import type { PropertyChange } from "../../schema/records.js";

export type OutboundKind = "playbook" | "teams" | "slack" | "email";

/** Something a rule sends: its kind and where it goes (the body is built when the rule runs). */
export interface Outbound {
  kind: OutboundKind;
  url?: string;
  /** The playbook's signing secret, as kept with the rule. */
  secret?: string;
  to?: string[];
  subject?: string;
}

export interface Step {
  type: Action["type"];
  description: string;
  changes: PropertyChange[];
}

export interface RulePlan {
  /** Incident properties to set, as a PATCH body would (validated by the same rule). */
  patch: Record<string, unknown>;
  comments: string[];
  outbound: Outbound[];
  steps: Step[];
}

function tagsOf(doc: Record<string, unknown>): string[] {
  return Array.isArray(doc.customTags) ? (doc.customTags as unknown[]).filter((t): t is string => typeof t === "string") : [];
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * Plans `actions` against the incident `doc` (null when the change has no incident: then only what
 * is sent out is planned, and the incident actions say they have nothing to act on).
 */
export function planActions(actions: readonly Action[], doc: Record<string, unknown> | null): RulePlan {
  const plan: RulePlan = { patch: {}, comments: [], outbound: [], steps: [] };
  const work: Record<string, unknown> = { ...doc };
  const set = (property: string, value: unknown): PropertyChange[] => {
    if (same(work[property], value)) return [];
    const change = { property, before: work[property] ?? null, after: value };
    work[property] = value;
    plan.patch[property] = value;
    return [change];
  };
  for (const a of actions) {
    if (doc === null && a.type !== "runPlaybook" && a.type !== "notify") {
      plan.steps.push({ type: a.type, description: "Nothing to do: the alert is in no incident.", changes: [] });
      continue;
    }
    switch (a.type) {
      case "assign": {
        const changes = set("assignedTo", a.assignedTo);
        plan.steps.push({ type: a.type, description: a.assignedTo === null ? "Unassign the incident." : `Assign the incident to ${a.assignedTo}.`, changes });
        break;
      }
      case "changeStatus":
        plan.steps.push({ type: a.type, description: `Set the status to ${a.status}.`, changes: set("status", a.status) });
        break;
      case "classify": {
        const changes = set("classification", a.classification);
        if (a.determination !== undefined) changes.push(...set("determination", a.determination));
        plan.steps.push({
          type: a.type,
          description: `Classify as ${a.classification}${a.determination === undefined ? "" : ` (${a.determination})`}.`,
          changes,
        });
        break;
      }
      case "addTags": {
        const now = tagsOf(work);
        const added = a.tags.filter((t) => !now.includes(t));
        const changes = added.length ? set("customTags", [...now, ...new Set(added)]) : [];
        plan.steps.push({ type: a.type, description: `Add the tags ${a.tags.join(", ")}.`, changes });
        break;
      }
      case "removeTags": {
        const now = tagsOf(work);
        const kept = now.filter((t) => !a.tags.includes(t));
        const changes = kept.length !== now.length ? set("customTags", kept) : [];
        plan.steps.push({ type: a.type, description: `Remove the tags ${a.tags.join(", ")}.`, changes });
        break;
      }
      case "addComment":
        plan.comments.push(a.comment);
        plan.steps.push({ type: a.type, description: `Add the comment "${a.comment}".`, changes: [{ property: "comments", before: null, after: a.comment }] });
        break;
      case "runPlaybook":
        plan.outbound.push({ kind: "playbook", url: a.url, ...(a.secret === undefined ? {} : { secret: a.secret }) });
        plan.steps.push({ type: a.type, description: `POST the incident to the playbook at ${a.url}, signed with HMAC-SHA256.`, changes: [] });
        break;
      case "notify":
        if (a.channel === "email") {
          plan.outbound.push({ kind: "email", to: [...a.to], ...(a.subject === undefined ? {} : { subject: a.subject }) });
          plan.steps.push({ type: a.type, description: `E-mail ${a.to.join(", ")}.`, changes: [] });
        } else {
          plan.outbound.push({ kind: a.channel, url: a.url });
          plan.steps.push({
            type: a.type,
            description: `Post a message to the ${a.channel === "teams" ? "Microsoft Teams" : "Slack"} incoming webhook at ${a.url}.`,
            changes: [],
          });
        }
        break;
    }
  }
  return plan;
}

/** The incident document with a plan's properties set (what the next rule's conditions see). */
export function applyPatch(doc: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  return { ...doc, ...patch };
}
