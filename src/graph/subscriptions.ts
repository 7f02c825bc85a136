/**
 * Graph's /subscriptions for change notifications on security incidents and alerts_v2, under /v1.0
 * and /beta: create (with the validation handshake), list (the caller's app's, as Graph scopes it),
 * read, renew (PATCH), delete and reauthorize. The rules are the feature's
 * (features/notifications/subscriptions.ts); this module shapes Graph's answers.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import {
  createSubscription,
  getOwnSubscription,
  listOwnSubscriptions,
  reauthorizeSubscription,
  removeSubscription,
  renewSubscription,
  type Subscriber,
  type SubscriptionTable,
} from "../features/notifications/subscriptions.js";
import type { NotificationSettings } from "../features/notifications/settings.js";
import { invalidQuery } from "../errors/graph-error.js";
import { GRAPH_JSON } from "../http/conventions.js";
import { issuerFor } from "../identity/tokens.js";
import { routes, type GraphRouteOptions } from "./route-kit.js";
import { SUBSCRIPTION_DOCS } from "./route-docs.js";

export interface SubscriptionRouteOptions extends GraphRouteOptions {
  notifications: NotificationSettings;
}

/** A subscription as Graph renders it; a listing leaves clientState out, as Graph's does. */
export function subscriptionJson(row: SubscriptionTable, withClientState: boolean): Record<string, unknown> {
  return {
    id: row.id,
    resource: row.resource,
    applicationId: row.app_id,
    changeType: row.change_types,
    clientState: withClientState ? row.client_state : null,
    notificationUrl: row.notification_url,
    notificationQueryOptions: null,
    lifecycleNotificationUrl: row.lifecycle_url,
    expirationDateTime: row.expires_at,
    creatorId: row.creator_id,
    includeResourceData: row.encryption_certificate !== null,
    latestSupportedTlsVersion: row.tls_version,
    encryptionCertificate: row.encryption_certificate,
    encryptionCertificateId: row.encryption_certificate_id,
    notificationUrlAppId: null,
  };
}

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(GRAPH_JSON).send(JSON.stringify(body));
}

export async function registerSubscriptionRoutes(app: FastifyInstance, opts: SubscriptionRouteOptions): Promise<void> {
  const { store } = opts;
  const subscriber = async (req: FastifyRequest): Promise<Subscriber> => {
    const caller = await opts.caller(req);
    return { tenantId: caller.tenantId, principal: caller.principal };
  };
  const root = (req: FastifyRequest) => `${opts.origin(req)}/${opts.version}`;
  const entity = (req: FastifyRequest, row: SubscriptionTable) => ({
    "@odata.context": `${root(req)}/$metadata#subscriptions/$entity`,
    ...subscriptionJson(row, true),
  });
  const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;

  routes(app, "/subscriptions", {
    POST: {
      op: "POST /subscriptions",
      doc: SUBSCRIPTION_DOCS.create,
      handler: async (req, reply) => {
        const s = await subscriber(req);
        const row = await createSubscription(
          {
            store,
            settings: opts.notifications,
            filterLimits: opts.filterLimits,
            apiVersion: opts.version,
            tokenIssuer: issuerFor(opts.origin(req), s.tenantId),
          },
          s,
          req.body,
        );
        return send(reply, 201, entity(req, row));
      },
    },
    GET: {
      op: "GET /subscriptions",
      doc: SUBSCRIPTION_DOCS.list,
      handler: async (req, reply) => {
        const s = await subscriber(req);
        const params = new URLSearchParams(req.url.split("?")[1] ?? "");
        let after: string | null = null;
        for (const [k, v] of params) {
          if (k.toLowerCase() === "$skiptoken") after = v;
          else if (k.startsWith("$")) throw invalidQuery(`The query parameter '${k}' is not supported on subscriptions.`);
        }
        const page = await listOwnSubscriptions(store, s, after);
        const body: Record<string, unknown> = {
          "@odata.context": `${root(req)}/$metadata#subscriptions`,
          value: page.rows.map((r) => subscriptionJson(r, false)),
        };
        if (page.more) body["@odata.nextLink"] = `${root(req)}/subscriptions?$skiptoken=${encodeURIComponent(page.rows[page.rows.length - 1]!.id)}`;
        return send(reply, 200, body);
      },
    },
  });
  routes(app, "/subscriptions/:id", {
    GET: {
      op: "GET /subscriptions/{id}",
      doc: SUBSCRIPTION_DOCS.get,
      handler: async (req, reply) => send(reply, 200, entity(req, await getOwnSubscription(store, await subscriber(req), idOf(req)))),
    },
    PATCH: {
      op: "PATCH /subscriptions/{id}",
      doc: SUBSCRIPTION_DOCS.renew,
      handler: async (req, reply) => send(reply, 200, entity(req, await renewSubscription(store, await subscriber(req), idOf(req), req.body))),
    },
    DELETE: {
      op: "DELETE /subscriptions/{id}",
      doc: SUBSCRIPTION_DOCS.remove,
      handler: async (req, reply) => {
        await removeSubscription(store, await subscriber(req), idOf(req));
        return reply.code(204).send();
      },
    },
  });
  routes(app, "/subscriptions/:id/reauthorize", {
    POST: {
      op: "POST /subscriptions/{id}/reauthorize",
      doc: SUBSCRIPTION_DOCS.reauthorize,
      handler: async (req, reply) => {
        await reauthorizeSubscription(store, await subscriber(req), idOf(req));
        return reply.code(204).send();
      },
    },
  });
}
