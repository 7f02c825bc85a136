/**
 * A dry run: what a rule (saved, or sent in the request) would do to an existing incident — or, for
 * the alertCreated trigger, to an alert and its incident — as they are now. It reads, evaluates and
 * plans with the runner's own functions, and writes nothing and sends nothing.
 */
import { badRequest } from "../../errors/graph-error.js";
import { planActions } from "../../domain/automation/act.js";
import { evaluateConditions } from "../../domain/automation/match.js";
import { checkRuleInput, whyNotRunning } from "../../domain/automation/rule-input.js";
import { alertFacts, incidentFacts } from "../../domain/automation/subject.js";
import type { DryRun } from "../../schema/automation.js";
import { alertNotFound, findAlertRow } from "../../store/alerts.js";
import { incidentAlertDocs } from "../../store/automation.js";
import { incidentRecordOf } from "../../store/incident-rows.js";
import { findIncidentRow, incidentNotFound } from "../../store/incidents.js";
import type { StoreDb } from "../../store/transaction.js";
import { getRule, type StoredRule } from "./rules.js";

export async function dryRun(db: StoreDb, tenantId: string, ruleId: string | null, body: unknown, maxAlertsRead: number, now: string): Promise<DryRun> {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw badRequest("The request body must be a JSON object: incidentId (or alertId), and rule unless the path names one.");
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b))
    if (!["rule", "incidentId", "alertId"].includes(k)) throw badRequest(`The property '${k}' is not known; a dry run takes rule, incidentId and alertId.`);
  let rule: Pick<StoredRule, "enabled" | "expirationDateTime" | "trigger" | "conditions" | "actions">;
  if (ruleId !== null) {
    if (b.rule !== undefined) throw badRequest("The path names the rule: leave 'rule' out of the body.");
    rule = await getRule(db, tenantId, ruleId);
  } else {
    if (b.rule === undefined) throw badRequest("The property 'rule' is required: the rule to try.");
    const input = checkRuleInput(b.rule);
    rule = {
      enabled: input.enabled !== false,
      expirationDateTime: input.expirationDateTime ?? null,
      trigger: input.trigger,
      conditions: input.conditions ?? { match: "all", items: [] },
      actions: input.actions,
    };
  }
  const idOf = (k: "incidentId" | "alertId"): string | null => {
    const v = b[k];
    if (v === undefined || v === null) return null;
    if (typeof v !== "string" && typeof v !== "number") throw badRequest(`'${k}' must be a string.`);
    return String(v);
  };
  const incidentId = idOf("incidentId");
  const alertId = idOf("alertId");
  if ((incidentId === null) === (alertId === null)) throw badRequest("Give exactly one of incidentId and alertId.");

  let incidentDoc: Record<string, unknown> | null = null;
  let alertDoc: Record<string, unknown> | null = null;
  let alerts: Record<string, unknown>[] = [];
  if (alertId !== null) {
    const a = await findAlertRow(db, tenantId, alertId);
    if (!a) throw alertNotFound(alertId);
    alertDoc = JSON.parse(a.doc) as Record<string, unknown>;
    const inc = a.incident_id === null ? undefined : await findIncidentRow(db, tenantId, a.incident_id);
    if (inc) incidentDoc = incidentRecordOf(inc).doc;
  } else {
    const inc = await findIncidentRow(db, tenantId, incidentId!);
    if (!inc) throw incidentNotFound(incidentId!);
    incidentDoc = incidentRecordOf(inc).doc;
    alerts = await incidentAlertDocs(db, tenantId, inc.id, maxAlertsRead);
    // An alert rule tried on an incident looks at the incident's latest alert.
    if (rule.trigger === "alertCreated") alertDoc = alerts[alerts.length - 1] ?? null;
  }
  if (rule.trigger === "alertCreated" && alertDoc === null) throw badRequest("The incident has no alert to try an alertCreated rule on.");
  const facts = rule.trigger === "alertCreated" ? alertFacts(alertDoc!) : incidentFacts(incidentDoc!, alerts);
  const { matched, results } = evaluateConditions(rule.conditions, facts);
  const plan = matched ? planActions(rule.actions, incidentDoc) : null;
  return {
    matched,
    skipped: whyNotRunning(rule, now),
    conditions: results,
    actions: (plan?.steps ?? []).map((s) => ({ type: s.type, description: s.description, changes: s.changes })),
  };
}
