import { randomUUID } from "node:crypto";

/**
 * Token-endpoint errors in Entra's shape. MSAL and @azure/identity read the body's `error` (not the
 * HTTP status) and surface `error_description`; `error_codes` carry the AADSTS number.
 */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly aadsts: number,
    readonly description: string,
    readonly status = 400,
    /** Sent as Retry-After (lockouts, a full hashing queue). */
    readonly retryAfterSeconds?: number,
  ) {
    super(description);
    this.name = "OAuthError";
  }
}

export function oauthErrorBody(err: OAuthError, correlationId: string = randomUUID()): Record<string, unknown> {
  const traceId = randomUUID();
  const now = new Date();
  const timestamp = `${now.toISOString().slice(0, 19).replace("T", " ")}Z`;
  return {
    error: err.error,
    error_description: `AADSTS${err.aadsts}: ${err.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [err.aadsts],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${err.aadsts}`,
  };
}

export const invalidClient = (why: string) => new OAuthError("invalid_client", 7000215, why, 401);
export const unauthorizedClient = (why: string) => new OAuthError("unauthorized_client", 700016, why, 400);
export const invalidGrant = (why: string, code = 50126) => new OAuthError("invalid_grant", code, why, 400);
export const invalidRequest = (why: string, code = 900144) => new OAuthError("invalid_request", code, why, 400);
export const invalidScope = (why: string, code = 70011) => new OAuthError("invalid_scope", code, why, 400);
export const unsupportedGrant = (type: string) =>
  new OAuthError("unsupported_grant_type", 70003, `The app requested an unsupported grant type '${type}'.`, 400);
/** AADSTS50053: Entra's answer while an account (here also an app's secret, or a source address) is locked. */
export const accountLocked = (error: "invalid_grant" | "invalid_client", why: string, retryAfterSeconds: number) =>
  new OAuthError(error, 50053, `${why} Try again in ${retryAfterSeconds} seconds.`, error === "invalid_client" ? 401 : 400, retryAfterSeconds);
/** Too many credential checks queued: Entra's throttling code, as a 429 with Retry-After. */
export const temporarilyUnavailable = () =>
  new OAuthError("temporarily_unavailable", 90055, "There are too many incoming sign-in requests. Retry after the time in Retry-After.", 429, 1);
