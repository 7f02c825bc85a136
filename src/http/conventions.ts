import { STATUS_CODES } from "node:http";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GraphError, errorBody, internalError } from "../errors/graph-error.js";

/** Graph's JSON media type, parameters and all; clients compare only the part before the first ';'. */
export const GRAPH_JSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

declare module "fastify" {
  interface FastifyRequest {
    clientRequestId: string;
  }
}

function clientRequestIdOf(req: FastifyRequest): string {
  const sent = req.headers["client-request-id"];
  return typeof sent === "string" && sent.length > 0 && sent.length <= 200 ? sent : req.id;
}

export function sendError(req: FastifyRequest, reply: FastifyReply, err: GraphError): FastifyReply {
  // Errors raised before the onRequest hook (the router's own refusals) have no ids set yet.
  if (!req.clientRequestId) {
    req.clientRequestId = clientRequestIdOf(req);
    reply.header("request-id", req.id);
    reply.header("client-request-id", req.clientRequestId);
  }
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply
    .code(err.status)
    .type("application/json")
    .send(JSON.stringify(errorBody(err, { requestId: req.id, clientRequestId: req.clientRequestId, now: new Date() })));
}

/** Graph's code for a status Fastify or a plugin chose: the reason phrase in PascalCase ("Not Found" → "NotFound"). */
function codeFor(status: number): string {
  return (STATUS_CODES[status] ?? "Error").replace(/[^A-Za-z]/g, "");
}

/** Fastify's own errors (body parsing, limits) in Graph's terms. */
function translate(err: FastifyError): GraphError | null {
  switch (err.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new GraphError(413, "RequestEntityTooLarge", "The request body is larger than this service accepts.");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new GraphError(415, "UnsupportedMediaType", "The request body must be sent as Content-Type: application/json.");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new GraphError(400, "BadRequest", "The request body is empty; a JSON object was expected.");
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new GraphError(400, "BadRequest", "The Content-Length header does not match the request body.");
  }
  if (err instanceof SyntaxError || err.code === "FST_ERR_CTP_INVALID_JSON_BODY") {
    return new GraphError(400, "BadRequest", "The request body is not valid JSON.");
  }
  if (err.statusCode === 400) return new GraphError(400, "BadRequest", err.message);
  // Other client errors a plugin raises (a file the static server refuses): the status stands, the
  // message is the status's own, since a plugin's message may describe the file system.
  if (typeof err.statusCode === "number" && err.statusCode > 400 && err.statusCode < 500) {
    return new GraphError(err.statusCode, codeFor(err.statusCode), `The request failed: ${STATUS_CODES[err.statusCode] ?? "client error"}.`);
  }
  return null;
}

function acceptable(accept: string | undefined, alsoText: boolean, alsoCsv = false, alsoXml = false, alsoEvents = false): boolean {
  if (!accept) return true;
  return accept.split(",").some((part) => {
    const type = part.split(";")[0]!.trim().toLowerCase();
    return (
      type === "*/*" ||
      type === "application/*" ||
      type === "application/json" ||
      (alsoText && (type === "text/*" || type === "text/plain")) ||
      (alsoCsv && (type === "text/*" || type === "text/csv")) ||
      (alsoXml && (type === "application/xml" || type === "text/xml" || type === "text/*")) ||
      (alsoEvents && (type === "text/event-stream" || type === "text/*"))
    );
  });
}

/** The page a browser gets for an address that is neither an API resource nor a page of the web app. */
export interface NotFoundPage {
  /** Whether the request is a browser asking for a page (not an API call). */
  matches(req: FastifyRequest): boolean;
  send(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply>;
}

export interface HttpConventionOptions {
  notFoundPage?: NotFoundPage | undefined;
}

/**
 * Everything every response shares: request-id and client-request-id headers, Graph error bodies for
 * every failure (including Fastify's own), 406 for an Accept the service cannot satisfy, and 500s that
 * say nothing about the internals. A browser asking for an unknown page gets an HTML page instead.
 */
export function installHttpConventions(app: FastifyInstance, opts: HttpConventionOptions = {}): void {
  const { notFoundPage } = opts;
  app.decorateRequest("clientRequestId", "");
  app.addHook("onRequest", async (req, reply) => {
    req.clientRequestId = clientRequestIdOf(req);
    reply.header("request-id", req.id);
    reply.header("client-request-id", req.clientRequestId);
    const path = req.url.split("?")[0]!;
    const isCount = path.endsWith("/$count");
    // The permissions reference is also served as CSV.
    const isPermissions = /^\/permissions(\/|$)/i.test(path);
    // The CSDL document is XML.
    const isMetadata = /\/\$metadata$/i.test(path);
    // The live change stream is server-sent events (its errors are JSON all the same).
    const isEventStream = /^\/triage\/changes$/i.test(path);
    if (!acceptable(req.headers.accept, isCount, isPermissions, isMetadata, isEventStream) && !notFoundPage?.matches(req)) {
      return sendError(
        req,
        reply,
        new GraphError(
          406,
          "NotAcceptable",
          `The Accept header '${req.headers.accept}' does not allow application/json, the only format this resource is served in.`,
        ),
      );
    }
  });

  // Graph's OData answers say which protocol version they speak (seen on the real service's answers).
  app.addHook("onSend", async (_req, reply, payload) => {
    if (reply.getHeader("content-type") === GRAPH_JSON) reply.header("odata-version", "4.0");
    return payload;
  });

  app.setErrorHandler((error: FastifyError | GraphError, req, reply) => {
    if (error instanceof GraphError) return sendError(req, reply, error);
    const translated = translate(error as FastifyError);
    if (translated) return sendError(req, reply, translated);
    req.log.error({ err: error }, "request failed");
    return sendError(req, reply, internalError());
  });

  app.setNotFoundHandler((req, reply) => {
    if (notFoundPage?.matches(req)) return notFoundPage.send(req, reply);
    const path = req.url.split("?")[0]!;
    if (/^\/(v1\.0|beta)(\/|$)/i.test(path)) {
      const segments = path.split("/").filter(Boolean);
      const last = safeDecode(segments[segments.length - 1] ?? "");
      return sendError(req, reply, new GraphError(400, "BadRequest", `Resource not found for the segment '${last}'.`));
    }
    return sendError(req, reply, new GraphError(404, "NotFound", `No resource was found at ${req.method} ${path}.`));
  });
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
