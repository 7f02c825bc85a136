/**
 * Checking a rule a client sends: the schema (schema/automation.ts) and what a schema cannot say —
 * values given exactly when the operator needs them, an expiry that is a date and time, recipients
 * that look like addresses, a playbook with a secret. Bad input is a 400 naming the problem. Pure.
 */
import { Value } from "@sinclair/typebox/value";
import { badRequest } from "../../errors/graph-error.js";
import { ActionSchema, RuleInputSchema, type Action, type RuleInput } from "../../schema/automation.js";

const ADDRESS = /^[^\s@<>(),;:"[\]]+@[^\s@<>(),;:"[\]]+\.[^\s@<>(),;:"[\]]+$/;
const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,7})?)?(Z|[+-]\d\d:\d\d)$/i;

function where(path: string): string {
  return path === "" ? "the rule" : `'${path.slice(1).replace(/\//g, ".")}'`;
}

/**
 * A rule from a request body. `previous` (on an update) lends its playbook secrets to playbook actions
 * that name the same URL without one, so a rule read, edited and sent back keeps its secrets.
 */
export function checkRuleInput(body: unknown, previous?: readonly Action[]): RuleInput {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("The request body must be a JSON object describing the rule.");
  const input = structuredClone(body) as Record<string, unknown>;
  if (Array.isArray(input.actions)) {
    for (const a of input.actions as Record<string, unknown>[]) {
      if (typeof a !== "object" || a === null || a.type !== "runPlaybook") continue;
      if (a.secret === undefined) {
        const kept = previous?.find((p) => p.type === "runPlaybook" && p.url === a.url && p.secret !== undefined);
        if (kept && kept.type === "runPlaybook") a.secret = kept.secret;
      }
      delete a.secretSet;
    }
  }
  if (Array.isArray(input.actions)) {
    // A union's error says only "Expected union value": name the action and check it against its own member.
    for (const [i, a] of (input.actions as unknown[]).entries()) {
      const rec = (typeof a === "object" && a !== null ? a : {}) as Record<string, unknown>;
      const members = ActionSchema.anyOf.filter((m) => (m.properties.type as { const: string }).const === rec.type);
      if (members.length === 0)
        throw badRequest(
          `Action ${i + 1}: 'type' must be one of ${[...new Set(ActionSchema.anyOf.map((m) => (m.properties.type as { const: string }).const))].join(", ")}.`,
        );
      const member = members.find((m) => !("channel" in m.properties) || Value.Check(m.properties.channel, rec.channel)) ?? members[0]!;
      if (!Value.Check(member, a)) {
        const first = [...Value.Errors(member, a)][0];
        throw badRequest(`Action ${i + 1} (${String(rec.type)}): ${first ? `${first.path ? `'${first.path.slice(1)}' ` : ""}${first.message}` : "not valid"}.`);
      }
    }
  }
  if (!Value.Check(RuleInputSchema, input)) {
    const first = [...Value.Errors(RuleInputSchema, input)].sort((a, b) => b.path.length - a.path.length)[0];
    throw badRequest(first ? `Invalid value for ${where(first.path)}: ${first.message}.` : "The rule is not valid.");
  }
  const rule = input as unknown as RuleInput;
  for (const [i, c] of (rule.conditions?.items ?? []).entries()) {
    const needsValues = c.operator !== "isEmpty" && c.operator !== "isNotEmpty";
    if (needsValues && (c.values === undefined || c.values.length === 0))
      throw badRequest(`Condition ${i + 1} (${c.property} ${c.operator}) needs at least one value.`);
    if (!needsValues && c.values !== undefined && c.values.length > 0) throw badRequest(`Condition ${i + 1} (${c.property} ${c.operator}) takes no values.`);
  }
  if (rule.expirationDateTime !== undefined && rule.expirationDateTime !== null) {
    if (!DATE_TIME.test(rule.expirationDateTime) || Number.isNaN(Date.parse(rule.expirationDateTime))) {
      throw badRequest(`The expirationDateTime '${rule.expirationDateTime}' is not a valid date and time.`);
    }
  }
  for (const [i, a] of rule.actions.entries()) {
    if (a.type === "runPlaybook" && a.secret === undefined)
      throw badRequest(`Action ${i + 1} (runPlaybook) needs a secret: Triage signs each request with it (HMAC-SHA256).`);
    if (a.type === "notify" && a.channel === "email") {
      const bad = a.to.find((t) => !ADDRESS.test(t));
      if (bad !== undefined) throw badRequest(`Action ${i + 1}: '${bad}' is not an e-mail address.`);
    }
  }
  return rule;
}

/** Whether a rule runs at `now`: enabled and not expired; else why not. */
export function whyNotRunning(rule: { enabled: boolean; expirationDateTime: string | null }, now: string): string | null {
  if (!rule.enabled) return "The rule is disabled.";
  if (rule.expirationDateTime !== null && Date.parse(rule.expirationDateTime) <= Date.parse(now)) return `The rule expired at ${rule.expirationDateTime}.`;
  return null;
}
