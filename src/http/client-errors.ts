import { randomUUID } from "node:crypto";
import { STATUS_CODES, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GraphError, errorBody, internalError } from "../errors/graph-error.js";
import { sendError } from "./conventions.js";

/**
 * Requests that never reach a route: the ones Node's HTTP parser refuses (headers or URL too large,
 * a Content-Length that is invalid or disagrees with the bytes that follow, bytes that are not HTTP)
 * and the ones Fastify's router refuses (a malformed percent-encoding, an over-long path segment).
 * Both answer in Graph's error body instead of the framework's own.
 */

/** What a parser error code means to the client; anything unlisted is "not valid HTTP". */
function parserError(code: string): GraphError {
  switch (code) {
    case "HPE_HEADER_OVERFLOW":
      // Node counts the request line and the headers together: a long URL lands here too.
      return new GraphError(431, "RequestHeaderFieldsTooLarge", "The request's URL and headers are larger than this service accepts.");
    case "ERR_HTTP_REQUEST_TIMEOUT":
    case "ERR_HTTP_REQUEST_HEADERS_TIMEOUT":
      return new GraphError(408, "RequestTimeout", "The request was not received in full in time.");
    case "HPE_INVALID_CONTENT_LENGTH":
    case "HPE_UNEXPECTED_CONTENT_LENGTH":
      return new GraphError(400, "BadRequest", "The Content-Length header is not valid, or is sent with Transfer-Encoding or more than once.");
    case "HPE_INVALID_EOF_STATE":
      return new GraphError(400, "BadRequest", "The connection ended before the request body announced by Content-Length arrived.");
    case "HPE_INVALID_TRANSFER_ENCODING":
    case "HPE_INVALID_CHUNK_SIZE":
      return new GraphError(400, "BadRequest", "The request's Transfer-Encoding is not valid, or is sent together with Content-Length.");
    default:
      return new GraphError(400, "BadRequest", "The request is not valid HTTP/1.1 (if it carried a body, its Content-Length may not match the bytes sent).");
  }
}

/** Node's private view of the response in flight on a socket (see _http_server.js socketOnError). */
interface SocketWithMessage extends Socket {
  _httpMessage?: ServerResponse | null;
}

/**
 * Fastify's `clientErrorHandler`: the raw response Node's parser errors get. As Node itself does, it
 * writes only when no response of the connection has started, so a reply in flight is never corrupted.
 */
export function graphClientError(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const error = parserError(err.code ?? "");
  this.log.debug({ err }, "client error");
  const inFlight = (socket as SocketWithMessage)._httpMessage;
  if (socket.writable && (!inFlight || !inFlight.headersSent)) {
    const id = randomUUID();
    const body = JSON.stringify(errorBody(error, { requestId: id, clientRequestId: id, now: new Date() }));
    socket.write(
      `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\n` +
        "Content-Type: application/json\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `request-id: ${id}\r\nclient-request-id: ${id}\r\n` +
        "Connection: close\r\n\r\n" +
        body,
    );
  }
  socket.destroy();
}

/** Fastify's `frameworkErrors`: the router's refusals, before any route or hook has run. */
export function graphFrameworkErrors(error: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  switch (error.code) {
    case "FST_ERR_BAD_URL":
      void sendError(req, reply, new GraphError(400, "BadRequest", "The request URL is not valid: it contains a malformed percent-encoded sequence."));
      return;
    case "FST_ERR_MAX_PARAM_LENGTH":
      void sendError(req, reply, new GraphError(414, "RequestUriTooLong", "A segment of the request URL is longer than this service accepts."));
      return;
    default:
      req.log.error({ err: error }, "request failed");
      void sendError(req, reply, internalError());
  }
}
