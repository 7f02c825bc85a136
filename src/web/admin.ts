import { Type } from "@sinclair/typebox";
import { graphErrors, json, type RouteDoc } from "../schema/openapi.js";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Store } from "../store/open.js";
import { callerOf } from "../identity/caller.js";
import {
  addSecret,
  appCertificates,
  consentedPermissions,
  createApp,
  createUser,
  DirectoryError,
  findApp,
  findUser,
  grantAdminConsent,
  listApps,
  listUsers,
  requestPermissions,
  revokeConsent,
  setUserRoles,
  type App,
  type User,
} from "../identity/directory.js";
import { deleteApp } from "../store/identity/apps.js";
import { listAppSecrets } from "../store/identity/app-credentials.js";
import { deleteClientGrants } from "../store/identity/grants.js";
import { userIdsWithPassword } from "../store/identity/users.js";
import { badRequest, GraphError, notFound } from "../errors/graph-error.js";
import { operation } from "../permissions/catalog.js";
import { isWebClient } from "./client.js";
import type { AppView, IssuedSecret, UserView, ValueList } from "./contracts.js";

/**
 * Triage's directory administration for the web app's admin pages: app registrations (create, request
 * permissions, admin consent and its revocation, secrets, deletion) and users with their Entra roles.
 * Every route declares its catalog operation (delegated only, Security Administrator: see
 * ADMIN_OPERATIONS in permissions/catalog.ts) and works in the caller's tenant only.
 */

const JSON_TYPE = "application/json; charset=utf-8";

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(JSON_TYPE).send(JSON.stringify(body));
}

function bodyOf(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (typeof b !== "object" || b === null || Array.isArray(b)) throw badRequest("The request body must be a JSON object.");
  return b as Record<string, unknown>;
}

function stringList(b: Record<string, unknown>, key: string): string[] {
  const v = b[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw badRequest(`'${key}' must be an array of strings.`);
  return v as string[];
}

/** Directory problems the caller can fix are 400s naming the problem. */
async function directory<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DirectoryError) throw badRequest(e.message);
    throw e;
  }
}

const ANY = Type.Object({}, { additionalProperties: true });
const ADMIN_ERRORS = graphErrors(400, 401, 403, 404);

export async function registerAdminRoutes(app: FastifyInstance, opts: { store: Store }): Promise<void> {
  const db = opts.store.db;
  const op = (key: string, doc: RouteDoc) => ({ config: { operation: operation(key), openapi: doc } });

  async function appView(a: App): Promise<AppView> {
    const secrets = await listAppSecrets(db, a.clientId);
    const certs = await appCertificates(db, a.clientId);
    return {
      clientId: a.clientId,
      displayName: a.displayName,
      createdDateTime: a.createdAt,
      publicClient: a.publicClient,
      redirectUris: a.redirectUris,
      firstParty: isWebClient(a),
      requested: { application: a.appPermissions, delegated: a.delegatedPermissions },
      consented: {
        application: await consentedPermissions(db, a.tenantId, a.clientId, "Application"),
        delegated: await consentedPermissions(db, a.tenantId, a.clientId, "DelegatedWork"),
      },
      secrets: secrets.map((s) => ({ id: s.id, hint: s.hint, createdDateTime: s.created_at, expiresDateTime: s.expires_at })),
      certificates: certs.map((c) => ({ thumbprint: c.thumbprint, expiresDateTime: c.expiresAt })),
    };
  }

  function userView(u: User, hasPassword: boolean): UserView {
    return { id: u.id, userPrincipalName: u.upn, displayName: u.displayName, roles: u.roles, hasPassword, createdDateTime: u.createdAt };
  }

  /** The caller's tenant's app with this client id; another tenant's is a 404, as if it did not exist. */
  async function appOf(req: FastifyRequest): Promise<App> {
    const { id } = req.params as { id: string };
    const a = await findApp(db, id);
    if (!a || a.tenantId !== callerOf(req).tenantId) throw notFound(`No app registration with client id '${id}' in this tenant.`);
    return a;
  }

  app.get(
    "/triage/admin/apps",
    op("GET /triage/admin/apps", {
      tag: "Administration",
      summary: "List the tenant's app registrations",
      responses: { 200: { description: "The apps (AppView in web/contracts.ts).", content: json(ANY) }, ...ADMIN_ERRORS },
    }),
    async (req, reply) => {
      const apps = await listApps(db, callerOf(req).tenantId);
      return send(reply, 200, { value: await Promise.all(apps.map(appView)) } satisfies ValueList<AppView>);
    },
  );

  app.post(
    "/triage/admin/apps",
    op("POST /triage/admin/apps", {
      tag: "Administration",
      summary: "Register an app",
      body: { description: "displayName, publicClient, redirectUris, applicationPermissions, delegatedPermissions.", content: json(ANY) },
      responses: { 201: { description: "The new app.", content: json(ANY) }, ...ADMIN_ERRORS },
    }),
    async (req, reply) => {
      const b = bodyOf(req);
      const displayName = typeof b.displayName === "string" ? b.displayName.trim() : "";
      if (!displayName || displayName.length > 200) throw badRequest("'displayName' is required (1 to 200 characters).");
      if (b.publicClient !== undefined && typeof b.publicClient !== "boolean") throw badRequest("'publicClient' must be true or false.");
      const redirectUris = stringList(b, "redirectUris");
      for (const u of redirectUris) {
        if (!/^(https?:\/\/[^\s]+|\/[^/\s][^\s]*)$/.test(u)) throw badRequest(`The redirect URI '${u}' must be an http(s) URL or a path on Triage's origin.`);
      }
      const created = await directory(() =>
        createApp(db, {
          tenantId: callerOf(req).tenantId,
          displayName,
          publicClient: b.publicClient === true,
          redirectUris,
          appPermissions: stringList(b, "applicationPermissions"),
          delegatedPermissions: stringList(b, "delegatedPermissions"),
        }),
      );
      req.log.info({ clientId: created.clientId, actor: callerOf(req).displayName }, "admin: app registered");
      return send(reply, 201, await appView(created));
    },
  );

  app.delete(
    "/triage/admin/apps/:id",
    op("DELETE /triage/admin/apps/{id}", {
      tag: "Administration",
      summary: "Delete an app registration",
      responses: { 204: { description: "Deleted." }, ...ADMIN_ERRORS },
    }),
    async (req, reply) => {
      const a = await appOf(req);
      if (isWebClient(a)) throw badRequest("Triage's web app registration cannot be deleted: the web app signs users in with it.");
      await deleteApp(db, a.clientId);
      req.log.info({ clientId: a.clientId, actor: callerOf(req).displayName }, "admin: app deleted");
      return reply.code(204).send();
    },
  );

  app.post(
    "/triage/admin/apps/:id/permissions",
    op("POST /triage/admin/apps/{id}/permissions", {
      tag: "Administration",
      summary: "Request more permissions for an app",
      body: { description: "application and delegated: the permission names to add.", content: json(ANY) },
      responses: { 200: { description: "The updated app.", content: json(ANY) }, ...ADMIN_ERRORS },
    }),
    async (req, reply) => {
      const a = await appOf(req);
      const b = bodyOf(req);
      const application = stringList(b, "application");
      const delegated = stringList(b, "delegated");
      if (!application.length && !delegated.length) throw badRequest("Name at least one permission in 'application' or 'delegated'.");
      const updated = await directory(() => requestPermissions(db, a.clientId, { application, delegated }));
      return send(reply, 200, await appView(updated));
    },
  );

  app.post(
    "/triage/admin/apps/:id/consent",
    op("POST /triage/admin/apps/{id}/consent", {
      tag: "Administration",
      summary: "Grant admin consent to an app",
      responses: { 200: { description: "The updated app.", content: json(ANY) }, ...ADMIN_ERRORS },
    }),
    async (req, reply) => {
      const a = await appOf(req);
      await grantAdminConsent(db, a.clientId);
      req.log.info({ clientId: a.clientId, actor: callerOf(req).displayName }, "admin: consent granted");
      return send(reply, 200, await appView(a));
    },
  );

  app.delete(
    "/triage/admin/apps/:id/consent",
    op("DELETE /triage/admin/apps/{id}/consent", {
      tag: "Administration",
      summary: "Revoke an app's admin consent",
      responses: { 200: { description: "The updated app.", content: json(ANY) }, ...ADMIN_ERRORS },
    }),
    async (req, reply) => {
      const a = await appOf(req);
      if (isWebClient(a)) throw badRequest("The consent of Triage's web app cannot be revoked: nobody could sign in to the web app.");
      await revokeConsent(db, a.clientId);
      // Refresh tokens stop working at once; access tokens already issued expire within the hour.
      await deleteClientGrants(db, a.clientId);
      req.log.info({ clientId: a.clientId, actor: callerOf(req).displayName }, "admin: consent revoked");
      return send(reply, 200, await appView(a));
    },
  );

  app.post(
    "/triage/admin/apps/:id/secrets",
    op("POST /triage/admin/apps/{id}/secrets", {
      tag: "Administration",
      summary: "Add a client secret to an app",
      body: { description: "days: the secret's lifetime, 1 to 730 (180 when absent).", required: false, content: json(ANY) },
      responses: { 201: { description: "The new secret (its text is shown only here).", content: json(ANY) }, ...ADMIN_ERRORS },
    }),
    async (req, reply) => {
      const a = await appOf(req);
      if (a.publicClient) throw badRequest("A public client has no secrets.");
      const b = req.body === undefined || req.body === null ? {} : bodyOf(req);
      const days = b.days === undefined ? 180 : b.days;
      if (typeof days !== "number" || !Number.isInteger(days) || days < 1 || days > 730) throw badRequest("'days' must be a whole number from 1 to 730.");
      const issued = await addSecret(db, a.clientId, days);
      req.log.info({ clientId: a.clientId, actor: callerOf(req).displayName }, "admin: secret added");
      return send(reply, 201, { id: issued.id, hint: issued.hint, secretText: issued.secret, expiresDateTime: issued.expiresAt } satisfies IssuedSecret);
    },
  );

  app.get(
    "/triage/admin/users",
    op("GET /triage/admin/users", {
      tag: "Administration",
      summary: "List the tenant's users",
      responses: { 200: { description: "The users (UserView in web/contracts.ts).", content: json(ANY) }, ...ADMIN_ERRORS },
    }),
    async (req, reply) => {
      const tenantId = callerOf(req).tenantId;
      const withPassword = await userIdsWithPassword(db, tenantId);
      const users = await listUsers(db, tenantId);
      return send(reply, 200, { value: users.map((u) => userView(u, withPassword.has(u.id))) } satisfies ValueList<UserView>);
    },
  );

  app.post(
    "/triage/admin/users",
    op("POST /triage/admin/users", {
      tag: "Administration",
      summary: "Create a user",
      body: { description: "userPrincipalName, displayName, password and Entra roles.", content: json(ANY) },
      responses: { 201: { description: "The new user.", content: json(ANY) }, ...ADMIN_ERRORS },
    }),
    async (req, reply) => {
      const b = bodyOf(req);
      const upn = typeof b.userPrincipalName === "string" ? b.userPrincipalName : "";
      if (!upn) throw badRequest("'userPrincipalName' is required.");
      if (b.displayName !== undefined && typeof b.displayName !== "string") throw badRequest("'displayName' must be a string.");
      if (b.password !== undefined && (typeof b.password !== "string" || b.password.length < 8))
        throw badRequest("'password' must be a string of at least 8 characters.");
      const user = await directory(() =>
        createUser(db, {
          tenantId: callerOf(req).tenantId,
          upn,
          displayName: typeof b.displayName === "string" && b.displayName.trim() ? b.displayName.trim() : undefined,
          password: typeof b.password === "string" ? b.password : undefined,
          roles: stringList(b, "roles"),
        }),
      );
      req.log.info({ userId: user.id, actor: callerOf(req).displayName }, "admin: user created");
      return send(reply, 201, userView(user, typeof b.password === "string"));
    },
  );

  app.patch(
    "/triage/admin/users/:id",
    op("PATCH /triage/admin/users/{id}", {
      tag: "Administration",
      summary: "Set a user's Entra roles",
      body: { description: "roles: the Entra role names.", content: json(ANY) },
      responses: { 200: { description: "The updated user.", content: json(ANY) }, ...ADMIN_ERRORS },
    }),
    async (req, reply) => {
      const { id } = req.params as { id: string };
      const tenantId = callerOf(req).tenantId;
      const user = await findUser(db, tenantId, id);
      if (!user) throw notFound(`No user with id '${id}' in this tenant.`);
      const b = bodyOf(req);
      const unknown = Object.keys(b).filter((k) => k !== "roles");
      if (unknown.length) throw badRequest(`Only 'roles' can be changed; '${unknown[0]}' cannot.`);
      if (!Array.isArray(b.roles)) throw badRequest("'roles' must be an array of Entra role names.");
      const roles = stringList(b, "roles");
      const caller = callerOf(req).principal;
      if (caller.kind === "user" && caller.objectId === user.id && !roles.some((r) => r.replace(/\s/g, "").toLowerCase() === "securityadministrator")) {
        throw new GraphError(400, "BadRequest", "You cannot remove your own Security Administrator role: another administrator must do it.");
      }
      const updated = await directory(() => setUserRoles(db, tenantId, user.upn, roles));
      req.log.info({ userId: user.id, roles: updated.roles, actor: callerOf(req).displayName }, "admin: roles changed");
      const withPassword = await userIdsWithPassword(db, tenantId);
      return send(reply, 200, userView(updated, withPassword.has(updated.id)));
    },
  );
}
