import { isIP } from "node:net";
import type { FastifyInstance, FastifyRequest } from "fastify";

/** HSTS lifetime: one year, the value HSTS preload lists and most guides ask for. */
export const DEFAULT_HSTS_MAX_AGE_SECONDS = 31_536_000;

export interface SecurityHeaderOptions {
  /** The origin the request is served under (its scheme says whether the client is on HTTPS). */
  origin(req: FastifyRequest): string;
  /** Strict-Transport-Security max-age; 0 sends none. */
  hstsMaxAgeSeconds: number;
}

/**
 * Headers every response carries: `X-Content-Type-Options: nosniff` (no response is sniffed into a
 * script or a page), and on HTTPS `Strict-Transport-Security`. HSTS is left off for localhost and
 * IP-address hosts: browsers ignore it for addresses, and for localhost they would carry it to every
 * other local service on every port.
 */
export function installSecurityHeaders(app: FastifyInstance, opts: SecurityHeaderOptions): void {
  const hsts = `max-age=${Math.trunc(opts.hstsMaxAgeSeconds)}`;
  app.addHook("onRequest", async (req, reply) => {
    reply.header("x-content-type-options", "nosniff");
    if (opts.hstsMaxAgeSeconds <= 0) return;
    let url: URL;
    try {
      url = new URL(opts.origin(req));
    } catch {
      return;
    }
    if (url.protocol !== "https:") return;
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (host === "localhost" || host.endsWith(".localhost") || isIP(host) !== 0) return;
    reply.header("strict-transport-security", hsts);
  });
}
