import type { ServerOptions } from "node:http";

/**
 * How long a connection may take over each part of an exchange. Without them a client that sends its
 * request a byte at a time, or never finishes its headers, holds a socket and a file descriptor for as
 * long as it likes — hundreds of them need no token.
 */
export interface Timeouts {
  /** The whole request, headers and body, must arrive within this (then 408 and the connection is closed). */
  requestMs: number;
  /**
   * The request's headers must arrive within this (then 408 and the connection is closed); at most
   * requestMs. Over HTTPS, the TLS handshake must complete within it too.
   */
  headersMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: number;
  /**
   * A connection on which nothing moves either way for this long is closed: a client that stopped
   * reading its answer, or a peer that vanished. Longer than any request takes to process.
   */
  idleMs: number;
}

/*
 * The live change stream (GET /triage/changes) lives within these on purpose, without an exemption:
 * its request arrives at once (requestMs and headersMs end there), and its heartbeat, kept at most
 * half of idleMs (server.ts), keeps the connection from idling out; a client that stops reading is
 * closed by idleMs or by the stream's own cap on waiting events. Its lifetime is bounded by the live
 * settings (features/live/hub.ts).
 */
export const DEFAULT_TIMEOUTS: Timeouts = {
  // A 32 MB ingestion batch needs about 1 MB/s to arrive in time.
  requestMs: 60_000,
  headersMs: 15_000,
  keepAliveMs: 10_000,
  idleMs: 120_000,
};

/** The Fastify options and Node server options that enforce the timeouts. */
export function timeoutOptions(given: Partial<Timeouts> = {}) {
  const t = { ...DEFAULT_TIMEOUTS, ...given };
  const headersMs = Math.min(t.headersMs, t.requestMs);
  // Node enforces request and header timeouts on a periodic sweep (every 30 s by default), which
  // would let a trickling client overstay its timeout by that much.
  const sweepMs = Math.max(100, Math.min(30_000, Math.floor(headersMs / 4)));
  const server: ServerOptions = {
    requestTimeout: t.requestMs,
    headersTimeout: headersMs,
    keepAliveTimeout: t.keepAliveMs,
    connectionsCheckingInterval: sweepMs,
  };
  return {
    fastify: { requestTimeout: t.requestMs, keepAliveTimeout: t.keepAliveMs, connectionTimeout: t.idleMs },
    server,
    // Before any HTTP there is the TLS handshake, which the header timeout does not cover.
    tls: { handshakeTimeout: headersMs },
  };
}
