import { Type } from "@sinclair/typebox";
import { graphErrors, json, ref, type RouteDoc } from "../schema/openapi.js";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Store } from "../store/open.js";
import type { Caller } from "../identity/caller.js";
import { ingestAlerts } from "../features/ingest/index.js";
import { traced } from "../store/trace.js";
import { IngestError, normalizeAlert } from "../domain/normalize-alert.js";
import { badRequest } from "../errors/graph-error.js";
import { GRAPH_JSON } from "../http/conventions.js";
import { operation } from "../permissions/catalog.js";
import type { CorrelationLimits } from "../domain/correlate.js";
import type { IngestResult } from "../domain/ingest/result.js";

export interface IngestRouteOptions {
  store: Store;
  caller(req: FastifyRequest): Promise<Caller>;
  correlationWindowMs: number;
  correlationLimits: CorrelationLimits;
  /** The most alerts one request may carry. */
  maxBatch: number;
  /** Largest request body accepted, in bytes. */
  bodyLimit: number;
  /** Told each committed batch's answer and how long it took (metrics). */
  onIngested?: ((results: readonly IngestResult[], seconds: number) => void) | undefined;
}

/**
 * POST /ingest/alerts — Triage's own API for alert sources. The body is a Graph alert, an array of
 * them, or {"value":[…]}. The batch is validated whole, then written in one transaction: every alert
 * lands (and is correlated) or none does.
 */
const INGEST_DOC: RouteDoc = {
  tag: "Ingestion",
  summary: "Ingest alerts",
  description:
    'A Graph alert, an array of them, or {"value": [...]}: validated whole, then written and correlated into incidents in one transaction (every alert lands or none does). Sending an alert again updates it.',
  body: {
    content: json(
      Type.Union([
        ref("microsoft.graph.security.alert"),
        Type.Array(ref("microsoft.graph.security.alert")),
        Type.Object({ value: Type.Array(ref("microsoft.graph.security.alert")) }),
      ]),
    ),
  },
  responses: {
    200: {
      description: "Per alert, what happened to it and the incident it is in.",
      content: json(Type.Object({ value: Type.Array(Type.Object({}, { additionalProperties: true })) })),
    },
    ...graphErrors(400, 401, 403, 413, 429),
  },
};

export async function registerIngestRoutes(app: FastifyInstance, opts: IngestRouteOptions): Promise<void> {
  app.post(
    "/ingest/alerts",
    { bodyLimit: opts.bodyLimit, config: { operation: operation("POST /ingest/alerts"), openapi: INGEST_DOC } },
    async (req, reply) => {
      const caller = await opts.caller(req);
      const body = req.body as unknown;
      const items: unknown[] = Array.isArray(body)
        ? body
        : typeof body === "object" && body !== null && Array.isArray((body as { value?: unknown }).value)
          ? (body as { value: unknown[] }).value
          : [body];
      if (items.length === 0) throw badRequest("The batch is empty: send at least one alert.");
      if (items.length > opts.maxBatch) throw badRequest(`A batch may hold at most ${opts.maxBatch} alerts; this one has ${items.length}.`);
      const start = performance.now();
      const now = new Date().toISOString();
      const seen = new Set<string>();
      const alerts = items.map((item, i) => {
        try {
          const a = normalizeAlert(item, `value[${i}]`, caller.tenantId, now);
          if (seen.has(a.id)) throw new IngestError(`value[${i}].id '${a.id}' appears more than once in the batch.`);
          seen.add(a.id);
          return a;
        } catch (e) {
          if (e instanceof IngestError) throw badRequest(e.message);
          throw e;
        }
      });
      const results = await traced("ingest.batch", { "triage.ingest.alerts": alerts.length }, async (span) => {
        const done = await ingestAlerts(opts.store.db, caller.tenantId, alerts, {
          windowMs: opts.correlationWindowMs,
          limits: opts.correlationLimits,
          actor: caller.displayName,
          requestId: req.id,
          now,
        });
        span?.set({ "triage.ingest.created": done.filter((r) => r.outcome === "created").length });
        return done;
      });
      opts.onIngested?.(results, (performance.now() - start) / 1000);
      return reply
        .code(200)
        .type(GRAPH_JSON)
        .send(JSON.stringify({ value: results }));
    },
  );
}
