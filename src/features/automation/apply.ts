/**
 * Running a tenant's rules for one change, inside the transaction that records it as handled: the
 * rules of the change's trigger run in order, each seeing the incident as the rules before it left it;
 * a rule whose conditions hold changes the incident through the same PATCH and comment rules as an
 * analyst (audited with the rule as the actor) and queues what it sends as jobs in the same
 * transaction. A rule that cannot act (a refused change) is logged and the next one runs.
 */
import { randomUUID } from "node:crypto";
import { planActions, type Outbound } from "../../domain/automation/act.js";
import { emailBody, playbookBody, slackBody, teamsBody, type MessageContext } from "../../domain/automation/messages.js";
import { evaluateConditions } from "../../domain/automation/match.js";
import { whyNotRunning } from "../../domain/automation/rule-input.js";
import { alertFacts, incidentFacts } from "../../domain/automation/subject.js";
import { validatePatch } from "../../domain/patch.js";
import { GraphError } from "../../errors/graph-error.js";
import { incidentResource } from "../../schema/incident.js";
import type { Trigger } from "../../schema/automation.js";
import { findAlertRow } from "../../store/alerts.js";
import { incidentAlertDocs, type AutomationJobTable } from "../../store/automation.js";
import { incidentRecordOf } from "../../store/incident-rows.js";
import { findIncidentRow } from "../../store/incidents.js";
import type { IncidentTable } from "../../store/tables.js";
import type { StoreTx } from "../../store/transaction.js";
import { commentOnIncidentRow } from "../add-comment.js";
import { patchIncidentRow } from "../update-incident.js";
import type { StoredRule } from "./rules.js";

export interface RunLog {
  warn(obj: object, msg: string): void;
}

/** The actor a rule's changes are audited under. */
export function ruleActor(rule: { id: string; displayName: string }): string {
  return `Automation rule '${rule.displayName}' (${rule.id})`;
}

/** The job rows for what a rule sends, with bodies built from what the rule saw and left. */
export function jobsOf(outbound: readonly Outbound[], msg: MessageContext, now: string): AutomationJobTable[] {
  return outbound.map((o) => {
    let payload: string;
    const destination: Record<string, unknown> = {};
    if (o.kind === "email") {
      payload = JSON.stringify(emailBody(msg, o.subject));
      destination.to = o.to;
    } else {
      payload = o.kind === "playbook" ? playbookBody(msg) : o.kind === "teams" ? teamsBody(msg) : slackBody(msg);
      destination.url = o.url;
      if (o.secret !== undefined) destination.secret = o.secret;
    }
    return {
      id: randomUUID(),
      tenant_id: msg.tenantId,
      rule_id: msg.rule.id,
      kind: o.kind,
      destination: JSON.stringify(destination),
      payload,
      created_at: now,
      attempts: 0,
      failing_since: null,
      last_error: null,
      next_attempt_at: now,
      lease_owner: null,
      lease_until: null,
    };
  });
}

/** What one change's rules did: the jobs to queue and how many rules acted. */
export interface ChangeOutcome {
  jobs: AutomationJobTable[];
  fired: number;
}

/**
 * Runs `rules` (already those of `trigger`, in order) for the change to `entityId`. Returns the jobs
 * to insert; the incident's changes are written here.
 */
export async function runRulesForChange(
  tx: StoreTx,
  tenantId: string,
  trigger: Trigger,
  entityId: string,
  rules: readonly StoredRule[],
  now: string,
  maxAlertsRead: number,
  log: RunLog,
  /** For the slaBreached trigger: the clock breached (firstAction or resolve). */
  slaBreach: string | null = null,
): Promise<ChangeOutcome> {
  const out: ChangeOutcome = { jobs: [], fired: 0 };
  const running = rules.filter((r) => r.trigger === trigger && whyNotRunning(r, now) === null);
  if (running.length === 0) return out;
  let incident: IncidentTable | undefined;
  let alertDoc: Record<string, unknown> | null = null;
  if (trigger === "alertCreated") {
    const alert = await findAlertRow(tx, tenantId, entityId);
    if (!alert) return out;
    alertDoc = JSON.parse(alert.doc) as Record<string, unknown>;
    if (alert.incident_id !== null) incident = await findIncidentRow(tx, tenantId, alert.incident_id, true);
  } else {
    incident = await findIncidentRow(tx, tenantId, entityId, true);
    if (!incident) return out;
  }
  // A merged incident is frozen: its alerts and its future live in the incident it points to.
  if (incident && incidentRecordOf(incident).doc.status === "redirected") incident = undefined;
  if (trigger !== "alertCreated" && !incident) return out;
  const alerts = incident ? await incidentAlertDocs(tx, tenantId, incident.id, maxAlertsRead) : [];
  for (const rule of running) {
    const doc = incident ? incidentRecordOf(incident).doc : null;
    const facts = alertDoc ? alertFacts(alertDoc) : incidentFacts(doc!, alerts, slaBreach);
    if (!evaluateConditions(rule.conditions, facts).matched) continue;
    out.fired++;
    const plan = planActions(rule.actions, doc);
    const ctx = { tenantId, actor: ruleActor(rule), requestId: null, now };
    if (incident) {
      try {
        if (Object.keys(plan.patch).length > 0) incident = await patchIncidentRow(tx, ctx, incident, validatePatch(incidentResource, plan.patch, false));
        for (const comment of plan.comments) incident = (await commentOnIncidentRow(tx, ctx, incident, comment)).row;
      } catch (e) {
        if (!(e instanceof GraphError)) throw e;
        log.warn(
          { ruleId: rule.id, incidentId: incident.id, reason: e.message },
          "automation: a rule's change to an incident was refused; its other actions still run",
        );
      }
    }
    const msg: MessageContext = {
      tenantId,
      rule: { id: rule.id, displayName: rule.displayName },
      trigger,
      incident: incident ? incidentRecordOf(incident).doc : null,
      alert: alertDoc,
      at: now,
      slaBreach,
    };
    out.jobs.push(...jobsOf(plan.outbound, msg, now));
  }
  return out;
}
