/**
 * Automation rules' use cases: create, read, list, replace parts of, delete. A rule belongs to its
 * tenant; creating a tenant's first rule starts the tenant's automation cursor at the end of its
 * change feed. Destinations are checked as change notifications' are (HTTPS, no credentials, public
 * unless private destinations are allowed); a playbook's signing secret is sealed with the store's
 * key-encryption key when the server has one and is never answered back.
 */
import { randomUUID } from "node:crypto";
import { badRequest, GraphError, notFound } from "../../errors/graph-error.js";
import { checkRuleInput } from "../../domain/automation/rule-input.js";
import { KeyEncryption } from "../../identity/key-encryption.js";
import { MAX_ORDER, MAX_RULES_PER_TENANT, type Action, type Conditions, type Rule, type RuleInput, type Trigger } from "../../schema/automation.js";
import { countRules, deleteRule, ensureCursor, findRule, insertRule, listRules, replaceRule, type AutomationRuleTable } from "../../store/automation.js";
import { inTransaction, type StoreDb } from "../../store/transaction.js";
import { checkUrlForm, DestinationRefused } from "../notifications/outbound.js";
import type { AutomationSettings } from "./settings.js";

/** Seals and opens playbook secrets (the server's KeyEncryption). */
export interface SecretSealer {
  seal(plain: string, context: string): string;
  open(stored: string, context: string): string;
}

/** A rule as the runner uses it: parsed, with its secrets still sealed. */
export interface StoredRule {
  id: string;
  tenantId: string;
  displayName: string;
  order: number;
  enabled: boolean;
  expirationDateTime: string | null;
  trigger: Trigger;
  conditions: Conditions;
  actions: Action[];
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
}

/** The context a playbook secret is sealed for: it opens only for its own rule. */
export function secretContext(ruleId: string): string {
  return `automation-rule:${ruleId}`;
}

export function openSecret(sealer: SecretSealer | undefined, stored: string, ruleId: string): string {
  return KeyEncryption.isSealed(stored) && sealer ? sealer.open(stored, secretContext(ruleId)) : stored;
}

export function storedRuleOf(row: AutomationRuleTable): StoredRule {
  const def = JSON.parse(row.definition) as { conditions: Conditions; actions: Action[] };
  return {
    id: row.id,
    tenantId: row.tenant_id,
    displayName: row.display_name,
    order: row.rule_order,
    enabled: Number(row.enabled) === 1,
    expirationDateTime: row.expires_at,
    trigger: row.trigger as Trigger,
    conditions: def.conditions,
    actions: def.actions,
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

/** A rule as the API answers it: secrets replaced by secretSet. */
export function ruleView(r: StoredRule): Rule {
  return {
    id: r.id,
    displayName: r.displayName,
    order: r.order,
    enabled: r.enabled,
    expirationDateTime: r.expirationDateTime,
    trigger: r.trigger,
    conditions: r.conditions,
    actions: r.actions.map((a) => (a.type === "runPlaybook" ? { type: a.type, url: a.url, secretSet: a.secret !== undefined } : a)),
    createdDateTime: r.createdAt,
    createdBy: r.createdBy,
    lastModifiedDateTime: r.updatedAt,
    lastModifiedBy: r.updatedBy,
  };
}

export interface RuleContext {
  tenantId: string;
  actor: string;
  now: string;
  settings: AutomationSettings;
  sealer: SecretSealer | undefined;
  /** Whether e-mail actions are accepted; by default, when the settings name a mail server. */
  emailAllowed?: boolean;
}

/** Checks what a rule sends to: webhook URLs by the outbound rules, e-mail only with a mail server. */
function checkDestinations(actions: readonly Action[], settings: AutomationSettings, emailAllowed: boolean): void {
  for (const [i, a] of actions.entries()) {
    try {
      if (a.type === "runPlaybook" || (a.type === "notify" && a.channel !== "email")) checkUrlForm(a.url, settings, `url of action ${i + 1}`);
    } catch (e) {
      if (e instanceof DestinationRefused) throw badRequest(e.message);
      throw e;
    }
    if (a.type === "notify" && a.channel === "email" && !emailAllowed) {
      throw badRequest(`Action ${i + 1} sends e-mail, but this server has no mail server configured (triage serve --smtp-url).`);
    }
  }
}

/** The definition as stored: secrets sealed for the rule (an already sealed one is kept as it is). */
function definitionOf(input: RuleInput, ruleId: string, sealer: SecretSealer | undefined): string {
  const actions = input.actions.map((a) => {
    if (a.type !== "runPlaybook" || a.secret === undefined || KeyEncryption.isSealed(a.secret) || !sealer) return a;
    return { ...a, secret: sealer.seal(a.secret, secretContext(ruleId)) };
  });
  return JSON.stringify({ conditions: input.conditions ?? { match: "all", items: [] }, actions });
}

function rowOf(id: string, input: RuleInput, c: RuleContext, created: { at: string; by: string }): AutomationRuleTable {
  return {
    id,
    tenant_id: c.tenantId,
    display_name: input.displayName,
    rule_order: input.order ?? MAX_ORDER,
    enabled: input.enabled === false ? 0 : 1,
    trigger: input.trigger,
    expires_at: input.expirationDateTime ? new Date(input.expirationDateTime).toISOString() : null,
    definition: definitionOf(input, id, c.sealer),
    created_at: created.at,
    created_by: created.by,
    updated_at: c.now,
    updated_by: c.actor,
  };
}

export async function createRule(db: StoreDb, c: RuleContext, body: unknown): Promise<Rule> {
  const input = checkRuleInput(body);
  checkDestinations(input.actions, c.settings, c.emailAllowed ?? c.settings.smtp !== null);
  const id = randomUUID();
  const row = rowOf(id, input, c, { at: c.now, by: c.actor });
  await inTransaction(db, async (tx) => {
    if ((await countRules(tx, c.tenantId)) >= MAX_RULES_PER_TENANT) {
      throw new GraphError(403, "Forbidden", `The tenant already has ${MAX_RULES_PER_TENANT} automation rules, the most it may have.`);
    }
    await ensureCursor(tx, c.tenantId);
    await insertRule(tx, row);
  });
  return ruleView(storedRuleOf(row));
}

export async function getRule(db: StoreDb, tenantId: string, id: string): Promise<StoredRule> {
  const row = await findRule(db, tenantId, id);
  if (!row) throw notFound(`Automation rule '${id}' was not found.`);
  return storedRuleOf(row);
}

export async function listTenantRules(db: StoreDb, tenantId: string): Promise<StoredRule[]> {
  return (await listRules(db, tenantId)).map(storedRuleOf);
}

/** Changes the properties the body names; the rest stay. */
export async function updateRule(db: StoreDb, c: RuleContext, id: string, body: unknown): Promise<Rule> {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw badRequest("The request body must be a JSON object with the rule's properties to change.");
  return inTransaction(db, async (tx) => {
    const row = await findRule(tx, c.tenantId, id);
    if (!row) throw notFound(`Automation rule '${id}' was not found.`);
    const old = storedRuleOf(row);
    const merged = {
      displayName: old.displayName,
      order: old.order,
      enabled: old.enabled,
      expirationDateTime: old.expirationDateTime,
      trigger: old.trigger,
      conditions: old.conditions,
      actions: old.actions,
      ...(body as Record<string, unknown>),
    };
    const input = checkRuleInput(merged, old.actions);
    checkDestinations(input.actions, c.settings, c.emailAllowed ?? c.settings.smtp !== null);
    const next = rowOf(id, input, c, { at: row.created_at, by: row.created_by });
    await replaceRule(tx, next);
    return ruleView(storedRuleOf(next));
  });
}

export async function removeRule(db: StoreDb, tenantId: string, id: string): Promise<void> {
  if (!(await deleteRule(db, tenantId, id))) throw notFound(`Automation rule '${id}' was not found.`);
}
