/**
 * Triage's own API for automation rules (docs/automation.md): list, create, read, change, delete, and
 * dry runs; and the jobs rules queued and not yet sent (pending or failed), with a failed job's retry. Administrators only (see AUTOMATION_OPERATIONS in permissions/catalog.ts); every route
 * works in the caller's tenant.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import type { Caller } from "../identity/caller.js";
import { operation } from "../permissions/catalog.js";
import { graphErrors, json, ref, type RouteDoc } from "../schema/openapi.js";
import type { Store } from "../store/open.js";
import { dryRun } from "../features/automation/dry-run.js";
import { getJob, listJobs, retryJob } from "../features/automation/jobs.js";
import { JOB_STATES, MAX_JOBS_PAGE } from "../schema/automation.js";
import { createRule, getRule, listTenantRules, removeRule, ruleView, updateRule, type RuleContext, type SecretSealer } from "../features/automation/rules.js";
import type { AutomationSettings } from "../features/automation/settings.js";

export interface AutomationRouteOptions {
  store: Store;
  caller(req: FastifyRequest): Promise<Caller>;
  settings: AutomationSettings;
  sealer: SecretSealer | undefined;
  /** Wakes this node's job sender (a retried job is due now). */
  onJobs?: () => void;
}

const JSON_TYPE = "application/json; charset=utf-8";
const ID = { id: { description: "The rule's id." } };
const doc = (summary: string, rest: Omit<RouteDoc, "tag" | "summary">): RouteDoc => ({ tag: "Automation", summary, ...rest });

const DOCS = {
  list: doc("List the tenant's automation rules, in the order they run", {
    responses: { 200: { description: "The rules.", content: json(ref("triage.automationRuleList")) }, ...graphErrors(401, 403) },
  }),
  create: doc("Create an automation rule", {
    description: "A playbook's secret is kept sealed and never answered back (secretSet). At most 512 rules per tenant (403 beyond).",
    body: { required: true, content: json(ref("triage.automationRuleInput")) },
    responses: { 201: { description: "The rule.", content: json(ref("triage.automationRule")) }, ...graphErrors(400, 401, 403) },
  }),
  get: doc("Read an automation rule", {
    params: ID,
    responses: { 200: { description: "The rule.", content: json(ref("triage.automationRule")) }, ...graphErrors(401, 403, 404) },
  }),
  patch: doc("Change an automation rule", {
    description:
      "The properties given replace the rule's; the rest stay. A runPlaybook action without a secret keeps the secret of the rule's playbook with the same url.",
    params: ID,
    body: { required: true, content: json(Type.Partial(Type.Object({}, { additionalProperties: true }))) },
    responses: { 200: { description: "The rule as changed.", content: json(ref("triage.automationRule")) }, ...graphErrors(400, 401, 403, 404) },
  }),
  delete: doc("Delete an automation rule", {
    params: ID,
    responses: { 204: { description: "Deleted." }, ...graphErrors(401, 403, 404) },
  }),
  dryRunSaved: doc("What a saved rule would do to an incident or alert as it is now", {
    description: "Writes nothing and sends nothing. Body: incidentId, or alertId for an alertCreated rule.",
    params: ID,
    body: { required: true, content: json(ref("triage.automationDryRunRequest")) },
    responses: {
      200: { description: "The conditions' results and the actions' effects.", content: json(ref("triage.automationDryRun")) },
      ...graphErrors(400, 401, 403, 404),
    },
  }),
  dryRunNew: doc("What a rule not yet saved would do to an incident or alert as it is now", {
    description: "Writes nothing and sends nothing. Body: rule, and incidentId or alertId.",
    body: { required: true, content: json(ref("triage.automationDryRunRequest")) },
    responses: {
      200: { description: "The conditions' results and the actions' effects.", content: json(ref("triage.automationDryRun")) },
      ...graphErrors(400, 401, 403, 404),
    },
  }),
  jobs: doc("List the jobs rules queued and not yet sent: pending, or failed and waiting to be retried", {
    description: `Oldest first, in pages: follow nextLink. A job accepted by its destination, or dropped after its retry period, is no longer listed.`,
    query: {
      state: { description: `Only the jobs in this state: ${JOB_STATES.join(" or ")}.`, schema: Type.Union(JOB_STATES.map((s) => Type.Literal(s))) },
      top: { description: `Jobs per page, 1 to ${MAX_JOBS_PAGE} (100 by default).`, schema: Type.Integer({ minimum: 1, maximum: MAX_JOBS_PAGE }) },
      skipToken: { description: "The next page's token, from nextLink.", schema: Type.String() },
    },
    responses: { 200: { description: "A page of jobs.", content: json(ref("triage.automationJobList")) }, ...graphErrors(400, 401, 403) },
  }),
  job: doc("Read a job not yet sent", {
    params: { id: { description: "The job's id." } },
    responses: { 200: { description: "The job.", content: json(ref("triage.automationJob")) }, ...graphErrors(401, 403, 404) },
  }),
  retry: doc("Retry a failed job now", {
    description:
      "Its next attempt is brought forward to now; its retry period still counts from its first failure. 400 for a job that has not failed or is being sent.",
    params: { id: { description: "The job's id." } },
    responses: { 200: { description: "The job, due now.", content: json(ref("triage.automationJob")) }, ...graphErrors(400, 401, 403, 404) },
  }),
};

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(JSON_TYPE).send(JSON.stringify(body));
}

export async function registerAutomationRoutes(app: FastifyInstance, opts: AutomationRouteOptions): Promise<void> {
  const db = opts.store.db;
  const context = async (req: FastifyRequest): Promise<RuleContext> => {
    const caller = await opts.caller(req);
    return { tenantId: caller.tenantId, actor: caller.displayName, now: new Date().toISOString(), settings: opts.settings, sealer: opts.sealer };
  };
  const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;
  const op = (key: string, openapi: RouteDoc) => ({ config: { operation: operation(key), openapi } });

  app.get("/triage/automation/rules", op("GET /triage/automation/rules", DOCS.list), async (req, reply) => {
    const c = await context(req);
    return send(reply, 200, { value: (await listTenantRules(db, c.tenantId)).map(ruleView) });
  });
  app.post("/triage/automation/rules", op("POST /triage/automation/rules", DOCS.create), async (req, reply) => {
    const c = await context(req);
    const rule = await createRule(db, c, req.body);
    req.log.info({ ruleId: rule.id, actor: c.actor }, "automation: rule created");
    return send(reply, 201, rule);
  });
  app.get("/triage/automation/rules/:id", op("GET /triage/automation/rules/{id}", DOCS.get), async (req, reply) => {
    const c = await context(req);
    return send(reply, 200, ruleView(await getRule(db, c.tenantId, idOf(req))));
  });
  app.patch("/triage/automation/rules/:id", op("PATCH /triage/automation/rules/{id}", DOCS.patch), async (req, reply) => {
    const c = await context(req);
    const rule = await updateRule(db, c, idOf(req), req.body);
    req.log.info({ ruleId: rule.id, actor: c.actor }, "automation: rule changed");
    return send(reply, 200, rule);
  });
  app.delete("/triage/automation/rules/:id", op("DELETE /triage/automation/rules/{id}", DOCS.delete), async (req, reply) => {
    const c = await context(req);
    await removeRule(db, c.tenantId, idOf(req));
    req.log.info({ ruleId: idOf(req), actor: c.actor }, "automation: rule deleted");
    return reply.code(204).send();
  });
  app.post("/triage/automation/rules/:id/dryRun", op("POST /triage/automation/rules/{id}/dryRun", DOCS.dryRunSaved), async (req, reply) => {
    const c = await context(req);
    return send(reply, 200, await dryRun(db, c.tenantId, idOf(req), req.body, opts.settings.maxAlertsRead, c.now));
  });
  app.post("/triage/automation/dryRun", op("POST /triage/automation/dryRun", DOCS.dryRunNew), async (req, reply) => {
    const c = await context(req);
    return send(reply, 200, await dryRun(db, c.tenantId, null, req.body, opts.settings.maxAlertsRead, c.now));
  });
  app.get("/triage/automation/jobs", op("GET /triage/automation/jobs", DOCS.jobs), async (req, reply) => {
    const c = await context(req);
    const page = await listJobs(db, c.tenantId, req.query as Record<string, string>, opts.settings.retryForMs);
    const body: Record<string, unknown> = { value: page.value };
    if (page.skipToken !== null) {
      const q = new URLSearchParams(req.query as Record<string, string>);
      q.set("skipToken", page.skipToken);
      body.nextLink = `${req.url.split("?")[0]}?${q.toString()}`;
    }
    return send(reply, 200, body);
  });
  app.get("/triage/automation/jobs/:id", op("GET /triage/automation/jobs/{id}", DOCS.job), async (req, reply) => {
    const c = await context(req);
    return send(reply, 200, await getJob(db, c.tenantId, idOf(req), opts.settings.retryForMs));
  });
  app.post("/triage/automation/jobs/:id/retry", op("POST /triage/automation/jobs/{id}/retry", DOCS.retry), async (req, reply) => {
    const c = await context(req);
    const job = await retryJob(db, c.tenantId, idOf(req), opts.settings.retryForMs);
    req.log.info({ jobId: job.id, actor: c.actor }, "automation: a failed job's retry was brought forward");
    opts.onJobs?.();
    return send(reply, 200, job);
  });
}
