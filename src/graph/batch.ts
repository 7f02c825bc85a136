import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from "fastify";
import { GraphError, badRequest, errorBody, internalError, methodNotAllowed } from "../errors/graph-error.js";
import { GRAPH_JSON, sendError } from "../http/conventions.js";
import { METHOD_NOT_ALLOWED } from "../schema/openapi.js";
import { batchDoc } from "./route-docs.js";

/**
 * JSON batching (https://learn.microsoft.com/graph/json-batching): POST /{version}/$batch carries up to
 * 20 requests; each runs through this same application (app.inject), so it is authenticated,
 * validated and answered exactly like a direct call. Steps run one at a time (SQLite has one writer),
 * a step waits for the steps it names in dependsOn, and the responses keep the order of the requests.
 */

export interface BatchOptions {
  /** Most requests one batch may carry; Graph allows 20. */
  maxRequests?: number;
  /** Most bytes of step answers one batch's answer may hold (see DEFAULT_BATCH_RESPONSE_BYTES). */
  maxResponseBytes?: number;
}

/**
 * The default byte budget of a batch's answer. Twenty ordinary answers fit many times over; twenty
 * listings of thousands of alerts do not, and neither the server nor a client (which parses the whole
 * answer at once) should have to hold hundreds of megabytes for one request.
 */
export const DEFAULT_BATCH_RESPONSE_BYTES = 16 * 1024 * 1024;

type Version = "v1.0" | "beta";

const VERSIONS: readonly Version[] = ["v1.0", "beta"];
const METHODS = new Set(["GET", "POST", "PATCH", "PUT", "DELETE"]);

/** Headers of the outer request every step inherits (its own headers win). */
const FORWARDED = ["authorization", "prefer", "accept-language", "client-request-id", "user-agent"];

/** Step headers that describe the transport, not the request; the batch sets them itself. */
const TRANSPORT = new Set(["host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "expect", "te", "trailer"]);

/** Response headers reported per step, spelled as Graph writes them (clients read `Content-Type` case-sensitively). */
const REPORTED: Record<string, string> = {
  "content-type": "Content-Type",
  location: "Location",
  "retry-after": "Retry-After",
  "preference-applied": "Preference-Applied",
  allow: "Allow",
  "www-authenticate": "WWW-Authenticate",
  etag: "ETag",
  "odata-version": "OData-Version",
  "cache-control": "Cache-Control",
};

/** A step's answer as it goes into the batch's answer: its JSON text, and its status for the steps that depend on it. */
interface StepAnswer {
  id: string;
  status: number;
  json: string;
}

/** A request of the batch: either ready to run, or already answered because it is malformed. */
interface Step {
  id: string;
  dependsOn: string[];
  invalid?: GraphError;
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  payload?: string | Buffer;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

function isJsonType(type: string): boolean {
  return type === "application/json" || type.endsWith("+json");
}

/**
 * The step's URL as a path on this server: relative to the version root, with a leading `/v1.0` or
 * `/beta` tolerated (graph-client sends it) and no way out of the version root.
 */
function stepPath(version: Version, raw: string): string | GraphError {
  if (/^[a-z][a-z0-9+.-]*:/i.test(raw) || raw.startsWith("//") || raw.startsWith("\\\\")) {
    return badRequest(`The url '${raw}' is absolute; a batched request's url must be relative to the version root, such as '/security/incidents'.`);
  }
  let rest = raw;
  const named = /^\/?(v1\.0|beta)(?=[/?#]|$)/i.exec(rest);
  if (named) {
    if (named[1]!.toLowerCase() !== version) {
      return badRequest(`The url '${raw}' names API version '${named[1]}', but this batch was sent to /${version}/$batch.`);
    }
    rest = rest.slice(named[0].length);
  }
  if (!rest.startsWith("/")) rest = `/${rest}`;
  const parsed = new URL(`/${version}${rest}`, "http://batch.invalid");
  const path = parsed.pathname;
  if (path.toLowerCase() !== `/${version}` && !path.toLowerCase().startsWith(`/${version}/`)) {
    return badRequest(`The url '${raw}' leads outside the /${version} API.`);
  }
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // Left to the router, which answers malformed escapes itself.
  }
  if (
    decoded
      .toLowerCase()
      .replace(/\/{2,}/g, "/")
      .replace(/\/+$/, "") === `/${version}/$batch`
  ) {
    return badRequest("A batched request cannot itself be a $batch request.");
  }
  return path + parsed.search;
}

/** Reads one entry of `requests`; problems that leave it without a usable id fail the whole batch. */
function readStep(version: Version, raw: unknown, index: number): Step {
  if (!isObject(raw)) throw badRequest(`Request ${index + 1} of the batch is not a JSON object.`);
  const { id } = raw;
  if (typeof id !== "string" || id.length === 0) throw badRequest(`Request ${index + 1} of the batch needs an 'id' that is a non-empty string.`);
  let dependsOn: string[] = [];
  if (raw.dependsOn !== undefined && raw.dependsOn !== null) {
    if (!Array.isArray(raw.dependsOn) || !raw.dependsOn.every((d): d is string => typeof d === "string")) {
      throw badRequest(`The 'dependsOn' of request '${id}' must be an array of request ids.`);
    }
    dependsOn = [...new Set(raw.dependsOn)];
  }
  const step: Step = { id, dependsOn };

  const method = raw.method;
  if (typeof method !== "string" || !METHODS.has(method.toUpperCase())) {
    step.invalid = badRequest(`Request '${id}' needs a 'method': one of ${[...METHODS].join(", ")}.`);
    return step;
  }
  step.method = method.toUpperCase();

  if (typeof raw.url !== "string" || raw.url.trim() === "") {
    step.invalid = badRequest(`Request '${id}' needs a 'url' relative to the version root, such as '/security/incidents'.`);
    return step;
  }
  const url = stepPath(version, raw.url.trim());
  if (url instanceof GraphError) {
    step.invalid = url;
    return step;
  }
  step.url = url;

  const headers: Record<string, string> = {};
  if (raw.headers !== undefined && raw.headers !== null) {
    if (!isObject(raw.headers) || !Object.values(raw.headers).every((v) => typeof v === "string")) {
      step.invalid = badRequest(`The 'headers' of request '${id}' must be an object of string values.`);
      return step;
    }
    for (const [k, v] of Object.entries(raw.headers as Record<string, string>)) {
      const name = k.toLowerCase();
      if (!TRANSPORT.has(name)) headers[name] = v;
    }
  }
  step.headers = headers;

  if (raw.body !== undefined && raw.body !== null) {
    const type = headers["content-type"];
    if (!type) {
      step.invalid = badRequest(`Write request id : ${id} does not contain Content-Type header or body.`);
      return step;
    }
    // JSON bodies are JSON values; any other content type carries its body base64-encoded, as in Graph.
    step.payload = !isJsonType(mediaType(type)) && typeof raw.body === "string" ? Buffer.from(raw.body, "base64") : JSON.stringify(raw.body);
  }
  return step;
}

/** Unknown ids and cycles in dependsOn fail the whole batch. */
function checkDependencies(steps: Map<string, Step>): void {
  for (const step of steps.values()) {
    for (const d of step.dependsOn) {
      if (!steps.has(d)) throw badRequest(`Request '${step.id}' depends on '${d}', which is not a request of this batch.`);
    }
  }
  const state = new Map<string, "visiting" | "done">();
  const visit = (id: string, path: string[]): void => {
    if (state.get(id) === "done") return;
    if (state.get(id) === "visiting") {
      const cycle = [...path.slice(path.indexOf(id)), id];
      throw badRequest(`The dependsOn of the batch form a cycle: ${cycle.map((c) => `'${c}'`).join(" -> ")}.`);
    }
    state.set(id, "visiting");
    for (const d of steps.get(id)!.dependsOn) visit(d, [...path, id]);
    state.set(id, "done");
  };
  for (const id of steps.keys()) visit(id, []);
}

function readBatch(version: Version, body: unknown, max: number): Step[] {
  if (!isObject(body)) throw badRequest('The batch request body must be a JSON object: {"requests":[…]}.');
  const { requests } = body;
  if (!Array.isArray(requests)) throw badRequest("The batch request body needs a 'requests' array.");
  if (requests.length === 0) throw badRequest("The batch contains no requests.");
  if (requests.length > max) throw badRequest(`The batch contains ${requests.length} requests; at most ${max} are allowed.`);
  const steps = new Map<string, Step>();
  requests.forEach((raw, i) => {
    const step = readStep(version, raw, i);
    if (steps.has(step.id)) throw badRequest(`The id '${step.id}' is used by more than one request of the batch; ids must be unique.`);
    steps.set(step.id, step);
  });
  checkDependencies(steps);
  return [...steps.values()];
}

/**
 * The step's response as Graph reports it — JSON bodies as JSON, text as strings, anything else
 * base64 — written as JSON text directly. A JSON body is spliced in as the step produced it: every
 * answer of this application is serialized JSON already, and parsing it only to serialize it again
 * cost the memory of both forms at once.
 */
function stepJson(id: string, status: number, rawHeaders: Record<string, unknown>, payload: Buffer): string {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(rawHeaders)) {
    const key = REPORTED[name.toLowerCase()];
    if (key && value !== undefined) headers[key] = Array.isArray(value) ? value.join(", ") : String(value);
  }
  const head = `{"id":${JSON.stringify(id)},"status":${status},"headers":${JSON.stringify(headers)}`;
  if (status === 204 || status === 304 || payload.length === 0) return `${head}}`;
  const type = mediaType(headers["Content-Type"]);
  let body: string;
  if (isJsonType(type)) body = payload.toString("utf8");
  else if (type.startsWith("text/")) body = JSON.stringify(payload.toString("utf8"));
  else body = JSON.stringify(payload.toString("base64"));
  return `${head},"body":${body}}`;
}

function errorStep(req: FastifyRequest, id: string, err: GraphError): StepAnswer {
  const headers = {
    "Content-Type": "application/json",
    ...Object.fromEntries(Object.entries(err.headers).map(([k, v]) => [REPORTED[k.toLowerCase()] ?? k, v])),
  };
  const body = errorBody(err, { requestId: req.id, clientRequestId: req.clientRequestId || req.id, now: new Date() });
  return { id, status: err.status, json: JSON.stringify({ id, status: err.status, headers, body }) };
}

/** The error a GET step answers when its answer does not fit in what is left of the batch's byte budget. */
function tooLarge(id: string, size: number, limit: number, whole: boolean): GraphError {
  const advice = whole
    ? `it is larger than the ${limit}-byte limit of a batch's answer: send it on its own, outside $batch, or ask for less ($top, $select).`
    : `it does not fit in what is left of the ${limit}-byte limit of this batch's answer: send it again in another batch, or on its own.`;
  return new GraphError(507, "ResponseTooLarge", `The answer to request '${id}' (${size} bytes or more) was not included: ${advice}`);
}

/** Reads a step's answer, giving up (and saying how much it had read) once it passes `limit` bytes. */
async function readCapped(stream: Readable, limit: number): Promise<{ payload: Buffer | null; size: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) {
      stream.destroy();
      return { payload: null, size };
    }
    chunks.push(b);
  }
  return { payload: Buffer.concat(chunks), size };
}

export async function registerBatchRoutes(app: FastifyInstance, opts: BatchOptions = {}): Promise<void> {
  const max = opts.maxRequests ?? 20;
  const limit = opts.maxResponseBytes ?? DEFAULT_BATCH_RESPONSE_BYTES;

  async function runBatch(version: Version, req: FastifyRequest, reply: FastifyReply) {
    const steps = readBatch(version, req.body, max);

    const inherited: Record<string, string | string[]> = {};
    for (const name of FORWARDED) {
      const v = req.headers[name];
      if (v !== undefined) inherited[name] = v;
    }
    // Links in step responses (@odata.context, nextLink) are built from the Host the client used,
    // which the server has already checked; steps cannot set their own (TRANSPORT).
    if (req.headers.host) inherited.host = req.headers.host;

    const byId = new Map(steps.map((s) => [s.id, s]));
    const results = new Map<string, Promise<StepAnswer>>();
    /** Bytes of the answers taken into the batch so far. */
    let used = 0;

    async function execute(step: Step): Promise<StepAnswer> {
      const done: StepAnswer[] = [];
      for (const d of step.dependsOn) done.push(await run(byId.get(d)!));
      if (step.invalid) return errorStep(req, step.id, step.invalid);
      const failed = done.find((r) => r.status >= 400);
      if (failed) {
        return errorStep(
          req,
          step.id,
          new GraphError(
            424,
            "FailedDependency",
            `Request '${step.id}' was not run because request '${failed.id}', which it depends on, failed with status ${failed.status}.`,
          ),
        );
      }
      try {
        const res = await app.inject({
          method: step.method as HTTPMethods,
          url: step.url!,
          headers: { ...inherited, ...step.headers },
          // A step is the client's request: throttled and logged under the client's address.
          remoteAddress: req.ip,
          ...(step.payload !== undefined ? { payload: step.payload } : {}),
          payloadAsStream: true,
        });
        // A read can be dropped from the batch and asked again; a write has happened, and its
        // answer (one entity) is always given, so that the client learns what it did.
        const capped = step.method === "GET";
        const read = await readCapped(res.stream(), capped ? limit : Infinity);
        const json = read.payload === null ? null : stepJson(step.id, res.statusCode, res.headers, read.payload);
        const size = json === null ? read.size : Buffer.byteLength(json);
        if (json === null || (capped && used + size > limit)) {
          return errorStep(req, step.id, tooLarge(step.id, size, limit, size > limit));
        }
        used += size;
        return { id: step.id, status: res.statusCode, json };
      } catch (err) {
        req.log.error({ err, step: step.id }, "batched request failed");
        return errorStep(req, step.id, internalError());
      }
    }

    /** Each step runs once; a step that others wait for runs before them. */
    function run(step: Step): Promise<StepAnswer> {
      let r = results.get(step.id);
      if (!r) {
        r = execute(step);
        results.set(step.id, r);
      }
      return r;
    }

    // The answer is streamed as the steps complete, in request order: a slow reader holds up the
    // next step (back-pressure) rather than the server holding every answer for it.
    async function* answer(): AsyncGenerator<string> {
      yield '{"responses":[';
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i]!;
        const r = await run(step);
        yield i === 0 ? r.json : `,${r.json}`;
        // Written: only its status is needed any more, by the steps that depend on it.
        results.set(step.id, Promise.resolve({ id: r.id, status: r.status, json: "" }));
      }
      yield "]}";
    }
    return reply
      .code(200)
      .type(GRAPH_JSON)
      .send(Readable.from(answer(), { objectMode: false }));
  }

  for (const version of VERSIONS) {
    // Public at this level: every step is authenticated and authorized as a direct call would be.
    app.post(`/${version}/$batch`, { config: { public: true, openapi: batchDoc(version) } }, (req, reply) => runBatch(version, req, reply));
    app.route({
      method: ["GET", "PATCH", "PUT", "DELETE"],
      url: `/${version}/$batch`,
      config: { public: true, openapi: METHOD_NOT_ALLOWED },
      handler: async (req, reply) => sendError(req, reply, methodNotAllowed(req.method, ["POST"])),
    });
  }
}
