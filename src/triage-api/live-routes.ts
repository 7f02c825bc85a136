/**
 * GET /triage/changes: the caller's tenant's changes as server-sent events, for the web app's live
 * queue and incident page. Authenticated like every API call (a bearer token in the Authorization
 * header; never in the URL), admitted with a read permission for incidents or alerts, and carrying
 * only the entities the caller may read. The node's live hub (features/live/hub.ts) reads the change
 * feed once for all of a tenant's streams; this route only writes what it is handed, with a heartbeat,
 * a cap on what may wait for a slow client, and an end before the token expires.
 */
import { PassThrough } from "node:stream";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Caller } from "../identity/caller.js";
import { authorize } from "../permissions/authorize.js";
import { operation } from "../permissions/catalog.js";
import { GraphError } from "../errors/graph-error.js";
import { graphErrors, type RouteDoc } from "../schema/openapi.js";
import type { LiveChange, LiveClose, LiveReady, LiveReset } from "../schema/triage-api.js";
import { LiveLimitError, type LiveHub, type LiveListener } from "../features/live/hub.js";
import type { FeedEntry } from "../store/feed.js";

export interface LiveRouteOptions {
  hub: LiveHub;
  caller(req: FastifyRequest): Promise<Caller>;
}

/** How long a client waits before reconnecting after the stream drops (the SSE `retry` field). */
const RETRY_MS = 3_000;

const LIVE_DOC: RouteDoc = {
  tag: "Triage API",
  summary: "The tenant's changes to incidents and alerts, live (server-sent events)",
  description:
    "A text/event-stream of `change` events, one per change-feed entry the caller may read (its `id` is the feed number), " +
    "after a `ready` event. Send `Last-Event-ID` to resume after a dropped stream; a `reset` event says the position cannot be resumed " +
    "(load everything again). Comment lines are heartbeats. Limits and events: docs/triage-api.md#live-changes.",
  headers: {
    "last-event-id": { description: "The id of the last event received: the stream resumes after it.", schema: Type.Integer({ minimum: 0 }) },
  },
  responses: {
    200: {
      description: "The event stream (events `ready`, `change`, `reset`, `close`).",
      content: { "text/event-stream": Type.String() },
    },
    ...graphErrors(400, 401, 403, 429, 503),
  },
};

function mayRead(caller: Caller, key: string): boolean {
  try {
    authorize(caller.principal, operation(key));
    return true;
  } catch (e) {
    if (e instanceof GraphError && e.status === 403) return false;
    throw e;
  }
}

function lastEventIdOf(req: FastifyRequest): number | null {
  const raw = req.headers["last-event-id"];
  if (raw === undefined || raw === "") return null;
  const value = Array.isArray(raw) ? raw[0]! : raw;
  if (!/^\d{1,15}$/.test(value)) throw new GraphError(400, "BadRequest", "Last-Event-ID must be the id of an event of this stream (a non-negative integer).");
  return Number(value);
}

function event(name: string, data: LiveChange | LiveReady | LiveReset | LiveClose, id?: number): string {
  return `${id === undefined ? "" : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

export async function registerLiveRoutes(app: FastifyInstance, opts: LiveRouteOptions): Promise<void> {
  const { hub } = opts;
  const settings = hub.settings;

  app.get("/triage/changes", { config: { operation: operation("GET /triage/changes"), openapi: LIVE_DOC } }, async (req, reply) => {
    const caller = await opts.caller(req);
    const incidents = mayRead(caller, "GET /security/incidents");
    const alerts = mayRead(caller, "GET /security/alerts_v2");
    if (!incidents && !alerts) {
      throw new GraphError(
        403,
        "Forbidden",
        "Reading changes needs the permission to read incidents (GET /security/incidents) or alerts (GET /security/alerts_v2).",
      );
    }
    const lastEventId = lastEventIdOf(req);
    // HEAD (Fastify's twin of the GET, guarded alike) answers the headers without opening a stream.
    if (req.method === "HEAD") return reply.header("content-type", "text/event-stream; charset=utf-8").header("cache-control", "no-store").send();
    const userKey = `${caller.tenantId}|${caller.principal.objectId}`;
    try {
      hub.reserve(userKey);
    } catch (e) {
      if (!(e instanceof LiveLimitError)) throw e;
      const retry = { "retry-after": "30" };
      throw e.scope === "user"
        ? new GraphError(
            429,
            "TooManyRequests",
            `At most ${settings.maxConnectionsPerUser} live streams per user are open at once; close one, or retry later.`,
            retry,
          )
        : new GraphError(503, "ServiceUnavailable", "This node serves as many live streams as it may; retry later.", retry);
    }

    const stream = new PassThrough();
    /** Events written while the stream waits for its client to read. */
    let backlog = 0;
    /** Deliveries held back until the replay is written; null once it is. */
    let held: FeedEntry[] | null = [];
    let ended = false;
    let lifetime: NodeJS.Timeout | undefined;

    const finish = () => {
      if (ended) return;
      ended = true;
      clearTimeout(lifetime);
      hub.leave(listener);
      hub.release(userKey);
    };
    const end = (reason: LiveClose["reason"]) => {
      if (ended) return;
      stream.end(event("close", { reason }));
      finish();
    };
    const drop = () => {
      // The client does not keep up: rather than hold more for it, the stream goes; it resumes with Last-Event-ID.
      req.log.info({ tenantId: caller.tenantId }, "live changes: a stream fell too far behind and was closed");
      finish();
      stream.destroy();
      reply.raw.destroy();
    };
    const write = (chunk: string, events: number) => {
      if (ended) return;
      if (stream.writableNeedDrain) {
        backlog += events;
        if (backlog > settings.maxBufferedEvents) return drop();
      }
      stream.write(chunk);
    };
    const send = (entries: readonly FeedEntry[]) => {
      let chunk = "";
      let n = 0;
      for (const e of entries) {
        if (e.entityType === "incident" ? !incidents : !alerts) continue;
        chunk += event("change", { seq: e.seq, entityType: e.entityType, id: e.entityId, changeType: e.changeType, at: e.at }, e.seq);
        n++;
      }
      if (n) write(chunk, n);
    };
    const listener: LiveListener = {
      tenantId: caller.tenantId,
      userKey,
      deliver(entries) {
        if (held === null) return send(entries);
        held.push(...entries);
        if (held.length > settings.maxBufferedEvents) drop();
      },
      heartbeat() {
        if (held === null) write(": heartbeat\n\n", 0);
      },
      close() {
        end("shutdown");
      },
    };
    stream.on("drain", () => (backlog = 0));
    reply.raw.on("close", () => {
      finish();
      stream.end();
    });

    let joined;
    try {
      joined = await hub.join(listener, lastEventId);
    } catch (e) {
      finish();
      throw e;
    }
    if (ended) {
      // The client went while the stream was being opened.
      hub.leave(listener);
    } else if (!joined.ok) {
      finish();
      stream.end(`retry: ${RETRY_MS}\n` + event("reset", { reason: joined.reason, position: joined.position }, joined.position));
    } else {
      stream.write(`retry: ${RETRY_MS}\n` + event("ready", { position: joined.position }, joined.position));
      send(joined.replay);
      const last = joined.replay.length ? joined.replay[joined.replay.length - 1]!.seq : joined.position;
      const pending = held;
      held = null;
      if (pending) send(pending.filter((e) => e.seq > last));
      // Closed before the token expires, so a revoked access lasts no longer than a token does.
      const untilExpiry = caller.principal.exp * 1000 - Date.now() - 5_000;
      const ms = Math.max(1_000, Math.min(settings.maxStreamMs, untilExpiry));
      lifetime = setTimeout(() => end(untilExpiry <= settings.maxStreamMs ? "tokenExpiry" : "maxDuration"), ms);
      lifetime.unref();
    }
    return reply.header("content-type", "text/event-stream; charset=utf-8").header("cache-control", "no-store").header("x-accel-buffering", "no").send(stream);
  });
}
