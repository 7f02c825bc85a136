import type { FastifyRequest } from "fastify";

/**
 * Query parameters that carry a credential: authorization and device codes (the sign-in callback
 * and the device-login page take theirs in the URL), tokens, client secrets and assertions, PKCE
 * verifiers, passwords. Their values never reach the log.
 */
const SECRET_PARAMETERS = new Set([
  "code",
  "device_code",
  "user_code",
  "access_token",
  "id_token",
  "refresh_token",
  "token",
  "id_token_hint",
  "client_secret",
  "client_assertion",
  "assertion",
  "code_verifier",
  "password",
  "session_state",
]);

export const REDACTED = "[REDACTED]";

/** The URL with the value of every credential-bearing query parameter replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const hash = url.indexOf("#", q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  const parts = query.split("&").map((part) => {
    const eq = part.indexOf("=");
    const rawName = eq < 0 ? part : part.slice(0, eq);
    let name = rawName;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, " "));
    } catch {
      // A malformed escape: judged by its raw spelling.
    }
    return SECRET_PARAMETERS.has(name.trim().toLowerCase()) && eq >= 0 ? `${rawName}=${REDACTED}` : part;
  });
  return `${url.slice(0, q)}?${parts.join("&")}${hash < 0 ? "" : url.slice(hash)}`;
}

/** Fastify's request serializer, with credentials taken out of the URL. */
export function redactedRequest(req: FastifyRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: redactUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket ? req.socket.remotePort : undefined,
  };
}

/**
 * Logged objects never carry a body, a credential header or a credential field (pino's redact).
 * The paths cover the request (should a serializer ever include it) and objects logged with a
 * request's form or body under these names.
 */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "req.body",
  "body",
  "*.password",
  "*.client_secret",
  "*.client_assertion",
  "*.refresh_token",
  "*.access_token",
  "*.id_token",
  "*.code_verifier",
  "*.device_code",
];
