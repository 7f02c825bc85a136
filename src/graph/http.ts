import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GraphError, errorBody, internalError } from "./errors.js";

/** Graph's JSON media type, parameters and all; clients compare only the part before the first ';'. */
export const GRAPH_JSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

declare module "fastify" {
  interface FastifyRequest {
    clientRequestId: string;
  }
}

export function sendError(req: FastifyRequest, reply: FastifyReply, err: GraphError): FastifyReply {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply
    .code(err.status)
    .type("application/json")
    .send(JSON.stringify(errorBody(err, { requestId: req.id, clientRequestId: req.clientRequestId ?? req.id, now: new Date() })));
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
  return null;
}

function acceptable(accept: string | undefined, alsoText: boolean, alsoCsv = false): boolean {
  if (!accept) return true;
  return accept.split(",").some((part) => {
    const type = part.split(";")[0]!.trim().toLowerCase();
    return type === "*/*" || type === "application/*" || type === "application/json" || (alsoText && (type === "text/*" || type === "text/plain")) || (alsoCsv && (type === "text/*" || type === "text/csv"));
  });
}

/**
 * Everything every response shares: request-id and client-request-id headers, Graph error bodies for
 * every failure (including Fastify's own), 406 for an Accept the service cannot satisfy, and 500s that
 * say nothing about the internals.
 */
export function installHttpConventions(app: FastifyInstance): void {
  app.decorateRequest("clientRequestId", "");
  app.addHook("onRequest", async (req, reply) => {
    const sent = req.headers["client-request-id"];
    req.clientRequestId = typeof sent === "string" && sent.length > 0 && sent.length <= 200 ? sent : req.id;
    reply.header("request-id", req.id);
    reply.header("client-request-id", req.clientRequestId);
    const path = req.url.split("?")[0]!;
    const isCount = path.endsWith("/$count");
    // The permissions reference is also served as CSV.
    const isPermissions = /^\/permissions(\/|$)/i.test(path);
    if (!acceptable(req.headers.accept, isCount, isPermissions)) {
      return sendError(req, reply, new GraphError(406, "NotAcceptable", `The Accept header '${req.headers.accept}' does not allow application/json, the only format this resource is served in.`));
    }
  });

  app.setErrorHandler((error: FastifyError | GraphError, req, reply) => {
    if (error instanceof GraphError) return sendError(req, reply, error);
    const translated = translate(error as FastifyError);
    if (translated) return sendError(req, reply, translated);
    req.log.error({ err: error }, "request failed");
    return sendError(req, reply, internalError());
  });

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split("?")[0]!;
    if (/^\/(v1\.0|beta)(\/|$)/i.test(path)) {
      const segments = path.split("/").filter(Boolean);
      const last = decodeURIComponent(segments[segments.length - 1] ?? "");
      return sendError(req, reply, new GraphError(400, "BadRequest", `Resource not found for the segment '${last}'.`));
    }
    return sendError(req, reply, new GraphError(404, "NotFound", `No resource was found at ${req.method} ${path}.`));
  });
}
