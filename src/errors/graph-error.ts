/**
 * The one factory for Graph error bodies: {"error":{"code","message","innerError":{…}}}.
 * Every error a client sees is a GraphError; anything else becomes a 500 that says nothing about
 * the internals.
 */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Graph's `details` array; present only on the errors where the real service sends it. */
    readonly details?: object[],
  ) {
    super(message);
    this.name = "GraphError";
  }
}

/**
 * Query-option problems mimic the real service's OData validator: empty code, the validator's
 * wording ("The query specified in the URI is not valid. …") and an empty `details` array.
 */
export function invalidQuery(detail: string): GraphError {
  return new GraphError(400, "", `The query specified in the URI is not valid. ${detail}`, {}, []);
}

/** A `$filter` literal that is no member of the enum it is compared with: the OData validator's wording. */
export function invalidEnumConstant(raw: string, enumName: string): GraphError {
  return invalidQuery(`The string '${raw}' is not a valid enumeration type constant for '${enumName}'.`);
}

export function badRequest(message: string): GraphError {
  return new GraphError(400, "BadRequest", message);
}

export function notFound(message: string): GraphError {
  return new GraphError(404, "NotFound", message);
}

export function methodNotAllowed(method: string, allowed: string[]): GraphError {
  return new GraphError(405, "MethodNotAllowed", `The HTTP method '${method}' is not allowed for this resource.`, {
    allow: allowed.join(", "),
  });
}

export function internalError(): GraphError {
  return new GraphError(500, "InternalServerError", "An internal server error occurred. Use the request-id to find it in the server log.");
}

export interface ErrorContext {
  requestId: string;
  clientRequestId: string;
  now: Date;
}

/** Graph's innerError date: yyyy-MM-ddTHH:mm:ss, no fraction, no zone. */
function innerDate(d: Date): string {
  return d.toISOString().slice(0, 19);
}

export function errorBody(err: GraphError, ctx: ErrorContext): object {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.details ? { details: err.details } : {}),
      innerError: {
        date: innerDate(ctx.now),
        "request-id": ctx.requestId,
        "client-request-id": ctx.clientRequestId,
      },
    },
  };
}

/**
 * A query stopped at its time limit. Graph answers a backend that runs out of time with 504
 * GatewayTimeout; the message says what to change, since the same query would be stopped again.
 */
export function queryTimedOut(limitMs: number): GraphError {
  return new GraphError(
    504,
    "GatewayTimeout",
    `The query ran longer than its time limit of ${limitMs} ms and was stopped. Narrow it (a time range, fewer any/all expressions) or ask for fewer items.`,
  );
}

/** More expensive queries are waiting than the service will queue: 503 with Retry-After, as Graph throttles. */
export function queriesQueued(): GraphError {
  return new GraphError(503, "ServiceUnavailable", "Too many queries are waiting to run. Please retry again later.", { "retry-after": "1" });
}

/** The statuses fault injection answers with (docs/testing-faults.md), each with Graph's code. */
export const INJECTED_STATUSES = {
  429: "TooManyRequests",
  500: "InternalServerError",
  502: "BadGateway",
  503: "ServiceUnavailable",
  504: "GatewayTimeout",
} as const;
export type InjectedStatus = keyof typeof INJECTED_STATUSES;

const INJECTED_MESSAGES: Record<InjectedStatus, string> = {
  // Graph's own throttling sample says this.
  429: "Please retry again later.",
  500: "An internal server error occurred.",
  502: "The service could not reach its backend. Please retry again later.",
  503: "The service is temporarily unavailable. Please retry again later.",
  504: "The backend did not answer in time.",
};

/**
 * An error a fault rule answers with: the body Graph sends for that status, and `Retry-After` (in
 * seconds) on a 429 or 503 where the rule gives one.
 */
export function injectedError(status: InjectedStatus, retryAfterSeconds?: number): GraphError {
  const headers: Record<string, string> = retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) };
  return new GraphError(status, INJECTED_STATUSES[status], INJECTED_MESSAGES[status], headers);
}
