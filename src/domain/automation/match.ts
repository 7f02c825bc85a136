/**
 * Whether a rule's conditions hold for a set of facts. Text compares without regard to case; a
 * positive operator holds when any fact matches any value, a negative one when no fact matches any
 * value (so "tags notContains x" holds for an incident without tags). Pure.
 */
import type { Condition, ConditionOperator, Conditions } from "../../schema/automation.js";
import type { Facts } from "./subject.js";

const NEGATION: Partial<Record<ConditionOperator, ConditionOperator>> = {
  notEquals: "equals",
  notContains: "contains",
  notStartsWith: "startsWith",
  notEndsWith: "endsWith",
};

function test(op: ConditionOperator, fact: string, value: string): boolean {
  const f = fact.toLowerCase();
  const v = value.toLowerCase();
  switch (op) {
    case "equals":
      return f === v;
    case "contains":
      return f.includes(v);
    case "startsWith":
      return f.startsWith(v);
    case "endsWith":
      return f.endsWith(v);
    default:
      return false;
  }
}

export interface ConditionResult {
  property: string;
  operator: string;
  values: string[];
  holds: boolean;
  /** The facts compared. */
  actual: string[];
}

export function conditionHolds(c: Condition, facts: Facts): ConditionResult {
  const actual = facts[c.property];
  const values = c.values ?? [];
  let holds: boolean;
  if (c.operator === "isEmpty") holds = actual.length === 0;
  else if (c.operator === "isNotEmpty") holds = actual.length > 0;
  else {
    const positive = NEGATION[c.operator];
    const any = actual.some((f) => values.some((v) => test(positive ?? c.operator, f, v)));
    holds = positive ? !any : any;
  }
  return { property: c.property, operator: c.operator, values, holds, actual };
}

/** Every condition's result, and whether the rule's conditions hold (all or any; none given always hold). */
export function evaluateConditions(conditions: Conditions, facts: Facts): { matched: boolean; results: ConditionResult[] } {
  const results = conditions.items.map((c) => conditionHolds(c, facts));
  if (results.length === 0) return { matched: true, results };
  const matched = conditions.match === "all" ? results.every((r) => r.holds) : results.some((r) => r.holds);
  return { matched, results };
}
