/**
 * Advanced hunting on Graph: the v1.0 and beta action runHuntingQuery, the beta function
 * getRunHuntingQuery(query='…',timespan='…') and the beta function getHuntingSchema. A query is KQL
 * over the tables AlertInfo and AlertEvidence (schema/hunting-tables.ts), translated by hunting/ and
 * run by the store in SQL, for the caller's tenant and within the query window.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { badRequest, GraphError, notFound } from "../errors/graph-error.js";
import { GRAPH_JSON } from "../http/conventions.js";
import { translateKql } from "../hunting/translate.js";
import type { HuntingWindow, KqlType } from "../query/hunting-plan.js";
import { HUNTING_TABLES } from "../schema/hunting-tables.js";
import { HuntingRowLimit, runHuntingPlan } from "../store/hunting-sql.js";
import { traced } from "../store/trace.js";
import type { HuntingOutcome } from "../http/metrics.js";
import { HUNTING_DOCS } from "./route-docs.js";
import { routes, type GraphRouteOptions } from "./route-kit.js";

const NAMESPACE = "microsoft.graph.security";

/** The hunting time limit when the server names none: well under the Defender API's 3 minutes. */
export const DEFAULT_HUNTING_TIMEOUT_MS = 30_000;
/** The window a query reads when it names none: the last 30 days, as Graph does. */
export const DEFAULT_TIMESPAN_MS = 30 * 24 * 3600 * 1000;

/** KQL types as Graph names them in a huntingQueryResults schema. */
const GRAPH_TYPE: Record<KqlType, string> = {
  string: "String",
  long: "Int64",
  int: "Int32",
  real: "Double",
  bool: "Boolean",
  datetime: "DateTime",
  timespan: "TimeSpan",
  dynamic: "Object",
};

const DURATION =
  /^P(?!$)(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?!$)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;
const INSTANT = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** An ISO 8601 duration in milliseconds (years as 365 days, months as 30), or undefined. */
export function durationMs(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const [y, mo, w, d, h, mi, s] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
  const days = y! * 365 + mo! * 30 + w! * 7 + d!;
  return ((days * 24 + h!) * 60 + mi!) * 60_000 + s! * 1000;
}

function instant(text: string): number | undefined {
  if (!INSTANT.test(text)) return undefined;
  const withZone = /T/i.test(text) && !/(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? `${text}Z` : text;
  const t = Date.parse(withZone);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * The query window of a `timespan` in any of the forms Graph documents: start/end, duration/end,
 * start/duration, a duration counted back from now, or a single instant meaning from then until now.
 */
export function parseTimespan(value: string | undefined, now: Date): HuntingWindow {
  const end = now.getTime();
  const window = (from: number, to: number): HuntingWindow => {
    if (from > to) throw badRequest(`The timespan '${value}' ends before it starts.`);
    return { from: new Date(Math.max(from, -62135596800000)).toISOString(), to: new Date(Math.min(to, 253402300799999)).toISOString() };
  };
  if (value === undefined || value.trim() === "") return window(end - DEFAULT_TIMESPAN_MS, end + 1);
  const text = value.trim();
  const invalid = () =>
    badRequest(
      `The timespan '${text.slice(0, 100)}' is not an ISO 8601 interval: use a duration (P30D), a start and an end (2024-02-01T08:00:00Z/2024-02-15T08:00:00Z), a duration and an end, a start and a duration, or a start alone.`,
    );
  const parts = text.split("/");
  if (parts.length > 2) throw invalid();
  if (parts.length === 1) {
    const d = durationMs(text);
    if (d !== undefined) return window(end - d, end + 1);
    const from = instant(text);
    if (from !== undefined) return window(from, end + 1);
    throw invalid();
  }
  const [a, b] = parts as [string, string];
  const da = durationMs(a);
  const db = durationMs(b);
  const ia = instant(a);
  const ib = instant(b);
  if (ia !== undefined && ib !== undefined) return window(ia, ib);
  if (da !== undefined && ib !== undefined) return window(ib - da, ib);
  if (ia !== undefined && db !== undefined) return window(ia, ia + db);
  throw invalid();
}

/** The query's parameters, their names matched case-insensitively as Graph's clients send both. */
function parameters(source: Record<string, unknown>, what: string): { query: string; timespan: string | undefined } {
  let query: unknown;
  let timespan: unknown;
  for (const [key, value] of Object.entries(source)) {
    switch (key.toLowerCase()) {
      case "query":
        query = value;
        break;
      case "timespan":
        timespan = value;
        break;
      case "workspaceid":
        // beta: a Log Analytics workspace; Triage has one store, as an unknown workspace falls back to the primary one.
        break;
      default:
        throw badRequest(`'${key}' is not a parameter of ${what}; its parameters are Query and Timespan.`);
    }
  }
  if (typeof query !== "string") throw badRequest(`The parameter 'Query' of ${what} is required and must be a string.`);
  if (timespan !== undefined && timespan !== null && typeof timespan !== "string")
    throw badRequest("The parameter 'Timespan' must be an ISO 8601 string, such as P30D.");
  return { query, timespan: typeof timespan === "string" ? timespan : undefined };
}

/** The function-call parameters of getRunHuntingQuery(query='…',timespan='…'): single-quoted strings, '' for a quote. */
export function functionParameters(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const fail = () =>
    badRequest(
      "The parameters of getRunHuntingQuery must be written as name='value' pairs separated by commas, such as (query='AlertInfo | take 2',timespan='P1D').",
    );
  while (i < text.length) {
    const m = /^\s*([A-Za-z]+)\s*=\s*/.exec(text.slice(i));
    if (!m) throw fail();
    const name = m[1]!;
    i += m[0].length;
    let value = "";
    if (text[i] === "'") {
      i++;
      for (;;) {
        if (i >= text.length) throw fail();
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
    } else {
      const end = text.indexOf(",", i);
      value = (end < 0 ? text.slice(i) : text.slice(i, end)).trim();
      i = end < 0 ? text.length : end;
    }
    if (Object.keys(out).some((k) => k.toLowerCase() === name.toLowerCase())) throw badRequest(`The parameter '${name}' is given twice.`);
    out[name] = value;
    const rest = /^\s*(,|$)/.exec(text.slice(i));
    if (!rest) throw fail();
    i += rest[0].length;
  }
  return out;
}

/** How a hunting query ended, for its metrics and span: a bounded set of values. */
export function huntingOutcome(e: unknown): HuntingOutcome {
  if (e instanceof HuntingRowLimit) return "too_many_rows";
  if (e instanceof GraphError && e.status === 504) return "timeout";
  // The query's own fault: KQL that does not parse or check, or a value it read that does not convert.
  if (e instanceof GraphError && e.status === 400) return "invalid";
  return "failed";
}

export function registerHuntingRoutes(app: FastifyInstance, opts: GraphRouteOptions & { huntingTimeoutMs?: number | undefined }): void {
  const root = (req: FastifyRequest) => `${opts.origin(req)}/${opts.version}`;
  const timeoutMs = opts.huntingTimeoutMs ?? DEFAULT_HUNTING_TIMEOUT_MS;

  async function run(req: FastifyRequest, reply: FastifyReply, params: { query: string; timespan: string | undefined }) {
    const caller = await opts.caller(req);
    const now = new Date();
    const window = parseTimespan(params.timespan, now);
    const start = performance.now();
    // The query's text is the caller's (it may name accounts, hosts, addresses): the span records how it went, not what it asked.
    const result = await traced("hunting.query", {}, async (span) => {
      let outcome: HuntingOutcome = "failed";
      let rows = 0;
      try {
        const plan = translateKql(params.query, { now });
        const found = await runHuntingPlan(opts.store, plan, caller.tenantId, window, timeoutMs);
        outcome = "ok";
        rows = found.rows.length;
        span?.set({ "db.response.returned_rows": rows, "triage.hunting.columns": found.columns.length });
        return found;
      } catch (e) {
        outcome = huntingOutcome(e);
        if (outcome === "timeout") {
          throw new GraphError(
            504,
            "GatewayTimeout",
            `The hunting query ran longer than its time limit of ${timeoutMs} ms and was stopped. Narrow it: a shorter timespan, a where on Timestamp, fewer joins.`,
          );
        }
        throw e;
      } finally {
        span?.set({ "triage.hunting.outcome": outcome });
        opts.metrics?.hunted(outcome, (performance.now() - start) / 1000, rows);
      }
    });
    const results = result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, row[i]])));
    const body = {
      "@odata.context": `${root(req)}/$metadata#${NAMESPACE}.huntingQueryResults`,
      schema: result.columns.map((c) => ({ name: c.name, type: GRAPH_TYPE[c.type] })),
      results,
    };
    return reply.code(200).type(GRAPH_JSON).send(JSON.stringify(body));
  }

  const post = async (req: FastifyRequest, reply: FastifyReply) => {
    const body = req.body;
    if (typeof body !== "object" || body === null || Array.isArray(body))
      throw badRequest("The request body of runHuntingQuery must be a JSON object with Query and, optionally, Timespan.");
    return run(req, reply, parameters(body as Record<string, unknown>, "runHuntingQuery"));
  };

  for (const name of ["runHuntingQuery", `${NAMESPACE}.runHuntingQuery`]) {
    routes(app, `/security/${name}`, { POST: { op: "POST /security/runHuntingQuery", doc: HUNTING_DOCS.run, handler: post } });
  }

  if (opts.version !== "beta") return;

  const getRun = async (req: FastifyRequest, reply: FastifyReply) => {
    // find-my-way has no parameter inside parentheses: the route takes the rest of the segment.
    const rest = (req.params as Record<string, string>)["*"] ?? "";
    if (!rest.startsWith("(") || !rest.endsWith(")")) throw notFound(`Resource not found for the segment 'getRunHuntingQuery${rest.slice(0, 40)}'.`);
    return run(req, reply, parameters(functionParameters(rest.slice(1, -1)), "getRunHuntingQuery"));
  };
  for (const name of ["getRunHuntingQuery", `${NAMESPACE}.getRunHuntingQuery`]) {
    routes(app, `/security/${name}*`, { GET: { op: "GET /security/getRunHuntingQuery", doc: HUNTING_DOCS.getRun, handler: getRun } });
  }

  const schema = async (req: FastifyRequest, reply: FastifyReply) => {
    await opts.caller(req);
    // A function without parameters: getHuntingSchema or getHuntingSchema().
    const rest = (req.params as Record<string, string>)["*"] ?? "";
    if (rest !== "" && rest !== "()") throw notFound(`Resource not found for the segment 'getHuntingSchema${rest.slice(0, 40)}'.`);
    const body = {
      "@odata.context": `${root(req)}/$metadata#${NAMESPACE}.huntingSchemaResult`,
      tables: HUNTING_TABLES.map((t) => ({
        name: t.name,
        description: t.description,
        // Graph's type names, as in a query's answer (Graph's reference shows DateTime and String).
        columns: t.columns.map((c) => ({ name: c.name, dataType: GRAPH_TYPE[c.type], description: c.description })),
      })),
      // Triage's KQL has no stored or built-in functions to offer (docs/hunting.md).
      functions: { builtInFunctions: [], savedFunctions: [] },
    };
    return reply.code(200).type(GRAPH_JSON).send(JSON.stringify(body));
  };
  for (const name of ["getHuntingSchema", `${NAMESPACE}.getHuntingSchema`]) {
    routes(app, `/security/${name}*`, { GET: { op: "GET /security/getHuntingSchema", doc: HUNTING_DOCS.schema, handler: schema } });
  }
}
