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
  // Requests come under one origin or a few: the last one's answer is kept (one entry, whatever the
  // Host headers sent), so that most requests parse no URL.
  let last = { origin: "", hsts: false };
  app.addHook("onRequest", async (req, reply) => {
    reply.header("x-content-type-options", "nosniff");
    if (opts.hstsMaxAgeSeconds <= 0) return;
    const origin = opts.origin(req);
    if (origin !== last.origin) last = { origin, hsts: wantsHsts(origin) };
    if (last.hsts) reply.header("strict-transport-security", hsts);
  });
}

/** Whether responses under this origin carry HSTS: HTTPS, and a host name that is not localhost. */
function wantsHsts(origin: string): boolean {
  if (!/^https:/i.test(origin)) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return !(host === "localhost" || host.endsWith(".localhost") || isIP(host) !== 0);
}
