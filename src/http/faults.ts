/**
 * Fault injection on the Graph surface (docs/testing-faults.md): once the guard knows who is calling,
 * a request of an app (or tenant) with a fault configuration may be delayed, answered with a Graph
 * error, or have its connection dropped, as the configuration's rules and seed decide. Off unless
 * configured; every fault is recorded in the store, logged and counted.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Store } from "../store/open.js";
import { applyFaultConfig } from "../store/faults.js";
import { countRequest } from "../store/rate-limits.js";
import { injectedError } from "../errors/graph-error.js";
import { incidentResource } from "../schema/incident.js";
import type { Caller } from "../identity/caller.js";
import type { CallerSettings } from "./caller-settings.js";
import { anyRuleMatches, decide, needsWindow, type Decision, type RequestFacts } from "./fault-decision.js";
import type { Metrics } from "./metrics.js";

export type FaultInjector = (req: FastifyRequest, reply: FastifyReply, caller: Caller) => Promise<void>;

/** The surfaces faults apply to: Graph's versions (their routes, subscriptions and $batch steps). */
const GRAPH_ROUTE = /^\/(v1\.0|beta)\//i;

function factsOf(req: FastifyRequest, route: string): RequestFacts {
  // Query option names are case-insensitive, as the OData layer reads them.
  const q = new Map(Object.entries(req.query as Record<string, unknown>).map(([k, v]) => [k.trim().toLowerCase(), v]));
  const top = q.get("$top");
  const rawTop = typeof top === "string" ? Number(top) : NaN;
  const expandValue = q.get("$expand");
  const expand = typeof expandValue === "string" ? expandValue : "";
  return {
    method: req.method,
    route,
    top: Number.isInteger(rawTop) ? rawTop : incidentResource.defaultPageSize,
    expandsAlerts: /(^|,)\s*alerts\b/i.test(expand),
  };
}

function retryAttemptOf(req: FastifyRequest): number | null {
  const v = req.headers["retry-attempt"];
  const n = typeof v === "string" ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 && n < 1_000_000 ? n : null;
}

export function createFaultInjector(opts: { store: Store; settings: CallerSettings; metrics?: Metrics | undefined }): FaultInjector {
  const { store, settings, metrics } = opts;
  return async (req, reply, caller) => {
    const url = req.routeOptions.url ?? "";
    const op = req.routeOptions.config.operation;
    if (!op || !GRAPH_ROUTE.test(url)) return;
    const clientId = caller.principal.clientId;
    const found = await settings.faultsOf(caller.tenantId, clientId);
    if (!found) return;
    const facts = factsOf(req, op.key.slice(op.key.indexOf(" ") + 1));
    if (!anyRuleMatches(found.config, facts)) return;
    if (needsWindow(found.config, facts)) {
      const w = await countRequest(store.db, `fault-throttle:${caller.tenantId}:${clientId}`, 60_000);
      facts.window = { count: w.current, ttlMs: w.ttl };
    }
    const request = { clientId, requestId: req.id, at: new Date().toISOString(), retryAttempt: retryAttemptOf(req) };
    const decided = await applyFaultConfig(store.db, caller.tenantId, found.clientId, (current) => {
      const d = decide({ config: current.config, counters: current.counters, facts, request });
      return { counters: d.counters, events: d.events, result: { decision: d.decision, events: d.events } };
    });
    if (!decided || decided.events.length === 0) return;
    for (const e of decided.events) {
      metrics?.faultInjected(e.fault, found.config.rules[e.rule]?.preset ?? "rule");
      req.log.info({ fault: e.fault, rule: e.rule, delayMs: e.delayMs, scope: found.clientId ? "app" : "tenant" }, "fault injected");
    }
    await act(req, reply, decided.decision);
  };
}

async function act(req: FastifyRequest, reply: FastifyReply, d: Decision): Promise<void> {
  if (d.delayMs > 0) await sleep(d.delayMs);
  if (d.answer === null) return;
  if (d.answer === "drop") {
    // A $batch step runs inside the batch's own request: there is no connection of its own to drop,
    // so the step gets what a gateway answers for a backend that went away.
    if ("_lightMyRequest" in req.raw) throw injectedError(504);
    reply.hijack();
    req.raw.socket.destroy();
    return;
  }
  throw injectedError(d.answer.status, d.answer.retryAfter);
}
