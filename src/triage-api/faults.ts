/**
 * The testing controls of Triage's own API (docs/testing-faults.md): fault configurations of the
 * caller's tenant and its apps, the log of injected faults, and strictness profiles. Administrators
 * only (ADMIN_OPERATIONS in permissions/catalog.ts); every route works in the caller's tenant.
 */
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Store } from "../store/open.js";
import { clearFaultConfig, listFaultConfigs, listFaultEvents, setFaultConfig, TENANT_SCOPE, type StoredFaults } from "../store/faults.js";
import { listProfiles, setProfile } from "../store/profiles.js";
import { findApp } from "../identity/directory.js";
import { callerOf } from "../identity/caller.js";
import { graphRouteTemplates, operation } from "../permissions/catalog.js";
import { FaultConfigSchema, FaultEventSchema, parseFaultConfig } from "../schema/faults.js";
import { isProfile, PROFILES, type Profile } from "../schema/profile.js";
import { badRequest, notFound } from "../errors/graph-error.js";
import { graphErrors, json, type RouteDoc } from "../schema/openapi.js";
import type { CallerSettings } from "../http/caller-settings.js";

const JSON_TYPE = "application/json; charset=utf-8";
const ERRORS = graphErrors(400, 401, 403, 404);
/** Most events one page of GET /triage/admin/faults/events holds. */
export const FAULT_EVENTS_PAGE = 1000;

const ConfigViewSchema = Type.Object({
  scope: Type.Union([Type.Literal("tenant"), Type.Literal("app")]),
  clientId: Type.Union([Type.String(), Type.Null()]),
  seed: Type.String(),
  rules: FaultConfigSchema.properties.rules,
  counters: Type.Array(Type.Object({ matched: Type.Integer(), fired: Type.Integer() }), {
    description: "Per rule: requests it matched and faults it injected since it was set.",
  }),
  updatedDateTime: Type.String({ format: "date-time" }),
  updatedBy: Type.String(),
});
const ProfileBody = Type.Object({ profile: Type.Union([...PROFILES.map((p) => Type.Literal(p)), Type.Null()]) });
const ProfilesView = Type.Object({
  server: Type.Union(PROFILES.map((p) => Type.Literal(p))),
  tenant: Type.Union([...PROFILES.map((p) => Type.Literal(p)), Type.Null()]),
  apps: Type.Array(Type.Object({ clientId: Type.String(), profile: Type.Union(PROFILES.map((p) => Type.Literal(p))) })),
});

/** A stored configuration as the admin API and `startTriage().setFaults` answer it. */
export type FaultConfigView = ReturnType<typeof configView>;

export function configView(f: StoredFaults) {
  return {
    scope: f.clientId === TENANT_SCOPE ? ("tenant" as const) : ("app" as const),
    clientId: f.clientId === TENANT_SCOPE ? null : f.clientId,
    seed: f.config.seed,
    rules: f.config.rules,
    counters: f.counters,
    updatedDateTime: f.updatedAt,
    updatedBy: f.updatedBy,
  };
}

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(JSON_TYPE).send(JSON.stringify(body));
}

function doc(summary: string, extra: Partial<RouteDoc> = {}, ok: RouteDoc["responses"] = { 204: { description: "Done." } }): RouteDoc {
  return { tag: "Testing controls", summary, ...extra, responses: { ...ok, ...ERRORS } };
}

function profileOf(body: unknown): Profile | null {
  const p = typeof body === "object" && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>).profile : undefined;
  if (p === null) return null;
  if (!isProfile(p)) throw badRequest(`'profile' must be ${PROFILES.join(" or ")}, or null to inherit the tenant's (or the server's).`);
  return p;
}

export async function registerFaultRoutes(app: FastifyInstance, opts: { store: Store; settings: CallerSettings }): Promise<void> {
  const db = opts.store.db;
  const routes = graphRouteTemplates();
  const op = (key: string, d: RouteDoc) => ({ config: { operation: operation(key), openapi: d } });

  /** The app a path names, in the caller's tenant (another tenant's is a 404, as if it did not exist). */
  async function appOf(req: FastifyRequest): Promise<string> {
    const { id } = req.params as { id: string };
    const a = await findApp(db, id);
    if (!a || a.tenantId !== callerOf(req).tenantId) throw notFound(`No app registration with client id '${id}' in this tenant.`);
    return a.clientId;
  }

  async function put(req: FastifyRequest, reply: FastifyReply, clientId: string) {
    const caller = callerOf(req);
    const config = parseFaultConfig(req.body, routes);
    const saved = await setFaultConfig(db, caller.tenantId, clientId, config, caller.displayName);
    opts.settings.forget(caller.tenantId);
    req.log.info({ scope: clientId || "tenant", rules: config.rules.length, actor: caller.displayName }, "admin: fault configuration set");
    return send(reply, 200, configView(saved));
  }

  async function clear(req: FastifyRequest, reply: FastifyReply, clientId: string) {
    const caller = callerOf(req);
    if (!(await clearFaultConfig(db, caller.tenantId, clientId)))
      throw notFound(`No fault configuration for ${clientId ? `app '${clientId}'` : "this tenant"}.`);
    opts.settings.forget(caller.tenantId);
    req.log.info({ scope: clientId || "tenant", actor: caller.displayName }, "admin: fault configuration cleared");
    return reply.code(204).send();
  }

  async function putProfile(req: FastifyRequest, reply: FastifyReply, clientId: string) {
    const caller = callerOf(req);
    const profile = profileOf(req.body);
    await setProfile(db, caller.tenantId, clientId, profile);
    opts.settings.forget(caller.tenantId);
    req.log.info({ scope: clientId || "tenant", profile, actor: caller.displayName }, "admin: profile set");
    return reply.code(204).send();
  }

  const configBody = { body: { description: "seed (optional) and rules (docs/testing-faults.md).", content: json(FaultConfigSchema) } };
  const configOk = { 200: { description: "The configuration as stored, its seed included.", content: json(ConfigViewSchema) } };

  app.get(
    "/triage/admin/faults",
    op(
      "GET /triage/admin/faults",
      doc(
        "List the tenant's fault configurations and their counters",
        {},
        { 200: { description: "The configurations.", content: json(Type.Object({ value: Type.Array(ConfigViewSchema) })) } },
      ),
    ),
    async (req, reply) => send(reply, 200, { value: (await listFaultConfigs(db, callerOf(req).tenantId)).map(configView) }),
  );
  app.put("/triage/admin/faults", op("PUT /triage/admin/faults", doc("Set the tenant's fault configuration", configBody, configOk)), (req, reply) =>
    put(req, reply, TENANT_SCOPE),
  );
  app.delete("/triage/admin/faults", op("DELETE /triage/admin/faults", doc("Clear the tenant's fault configuration")), (req, reply) =>
    clear(req, reply, TENANT_SCOPE),
  );
  app.put(
    "/triage/admin/apps/:id/faults",
    op("PUT /triage/admin/apps/{id}/faults", doc("Set an app's fault configuration (it replaces the tenant's for that app)", configBody, configOk)),
    async (req, reply) => put(req, reply, await appOf(req)),
  );
  app.delete("/triage/admin/apps/:id/faults", op("DELETE /triage/admin/apps/{id}/faults", doc("Clear an app's fault configuration")), async (req, reply) =>
    clear(req, reply, await appOf(req)),
  );
  app.get(
    "/triage/admin/faults/events",
    op(
      "GET /triage/admin/faults/events",
      doc(
        "The faults injected in the tenant, oldest first",
        {
          query: {
            after: { description: "Only events after this seq (the last one of the previous page).", schema: Type.Integer({ minimum: 0 }) },
            clientId: { description: "Only requests of this app." },
            top: { description: `Most events to answer, 1 to ${FAULT_EVENTS_PAGE} (default ${FAULT_EVENTS_PAGE}).`, schema: Type.Integer({ minimum: 1 }) },
          },
        },
        {
          200: {
            description: "The events; nextLink when more follow.",
            content: json(Type.Object({ value: Type.Array(FaultEventSchema), nextLink: Type.Optional(Type.String()) })),
          },
        },
      ),
    ),
    async (req, reply) => {
      const q = req.query as Record<string, unknown>;
      const num = (name: string, v: unknown, min: number, max: number, dflt: number) => {
        if (v === undefined) return dflt;
        const n = typeof v === "string" && /^\d{1,15}$/.test(v) ? Number(v) : NaN;
        if (!(n >= min && n <= max)) throw badRequest(`'${name}' must be a whole number from ${min} to ${max}.`);
        return n;
      };
      const after = num("after", q.after, 0, Number.MAX_SAFE_INTEGER, 0);
      const top = num("top", q.top, 1, FAULT_EVENTS_PAGE, FAULT_EVENTS_PAGE);
      if (q.clientId !== undefined && (typeof q.clientId !== "string" || q.clientId.length > 100)) throw badRequest("'clientId' must be an app's client id.");
      const clientId = q.clientId as string | undefined;
      const events = await listFaultEvents(db, callerOf(req).tenantId, { after, clientId, limit: top + 1 });
      const page = events.slice(0, top);
      const body: { value: typeof page; nextLink?: string } = { value: page };
      if (events.length > top) {
        const params = new URLSearchParams({ after: String(page[page.length - 1]!.seq), top: String(top) });
        if (clientId) params.set("clientId", clientId);
        body.nextLink = `/triage/admin/faults/events?${params}`;
      }
      return send(reply, 200, body);
    },
  );

  app.get(
    "/triage/admin/profiles",
    op(
      "GET /triage/admin/profiles",
      doc("The strictness profiles: the server's, the tenant's and its apps'", {}, { 200: { description: "The profiles.", content: json(ProfilesView) } }),
    ),
    async (req, reply) => {
      const stored = await listProfiles(db, callerOf(req).tenantId);
      return send(reply, 200, {
        server: opts.settings.serverProfile,
        tenant: stored.find((p) => p.clientId === TENANT_SCOPE)?.profile ?? null,
        apps: stored.filter((p) => p.clientId !== TENANT_SCOPE).map((p) => ({ clientId: p.clientId, profile: p.profile })),
      });
    },
  );
  const profileBody = { body: { description: "profile: lenient, strict, or null to inherit.", content: json(ProfileBody) } };
  app.put("/triage/admin/profile", op("PUT /triage/admin/profile", doc("Set the tenant's strictness profile", profileBody)), (req, reply) =>
    putProfile(req, reply, TENANT_SCOPE),
  );
  app.put(
    "/triage/admin/apps/:id/profile",
    op("PUT /triage/admin/apps/{id}/profile", doc("Set an app's strictness profile", profileBody)),
    async (req, reply) => putProfile(req, reply, await appOf(req)),
  );
}
