import { isIP } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { GraphError } from "../errors/graph-error.js";

/**
 * Which `Host` headers name this server. Without a public URL, every URL Triage hands out — the
 * issuer, discovery, the web app's redirect URI, device-login and paging links — is built on the
 * request's Host; an unchecked Host would let a request make Triage send a user's authorization code
 * to any origin. So a Host is accepted only when it names the server: the configured public URL,
 * the address and port it listens on (localhost, 127.0.0.1 and [::1] for a loopback listener; every
 * interface address and the machine's name for a wildcard one), and names the operator adds.
 */
export interface HostPolicyOptions {
  /** The scheme the server itself serves: a Host without a port means this scheme's default port. */
  scheme: "http" | "https";
  publicUrl?: string | undefined;
  /** Further names (`name` or `name:port`) clients use: a proxy's, a DNS alias, a mapped container port. */
  allowedHosts?: readonly string[];
  /** Where the server listens; read at the first request (the port is known only then). */
  listening(): readonly (AddressInfo | string)[];
}

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];
const WILDCARDS = new Set(["0.0.0.0", "::"]);

function defaultPort(scheme: string): number {
  return scheme === "https" ? 443 : 80;
}

/** An address as it is written in a Host header: IPv6 in brackets, IPv4-mapped IPv6 as IPv4. */
export function hostLiteral(address: string): string {
  const a = address.toLowerCase().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, "$1");
  return isIP(a) === 6 ? `[${a}]` : a;
}

/** Every `Host` value (lower case) that names this server. */
export function acceptedHosts(opts: HostPolicyOptions): Set<string> {
  const out = new Set<string>();
  const own = defaultPort(opts.scheme);
  const ports = new Set<number>();
  const names = new Set<string>();
  for (const a of opts.listening()) {
    if (typeof a === "string") continue; // a Unix socket: no Host names it
    ports.add(a.port);
    const literal = hostLiteral(a.address);
    if (WILDCARDS.has(a.address)) {
      for (const list of Object.values(networkInterfaces())) {
        for (const i of list ?? []) if (!(i.family === "IPv6" && i.scopeid)) names.add(hostLiteral(i.address));
      }
      names.add(hostname().toLowerCase());
    } else {
      names.add(literal);
    }
    if (a.address === "127.0.0.1" || a.address === "::1" || WILDCARDS.has(a.address) || a.address.startsWith("127.")) {
      for (const n of LOOPBACK_NAMES) names.add(n);
    }
  }
  const add = (name: string, port: number) => {
    out.add(`${name}:${port}`);
    if (port === own) out.add(name);
  };
  for (const name of names) for (const port of ports) add(name, port);
  for (const entry of opts.allowedHosts ?? []) {
    const trimmed = entry.trim().toLowerCase();
    if (!trimmed) continue;
    // An IPv6 address as a certificate names it (`::1`) is written in brackets in a Host.
    const e = isIP(trimmed) === 6 ? `[${trimmed}]` : trimmed;
    if (/:\d+$/.test(e)) {
      out.add(e);
      if (e.endsWith(`:${own}`)) out.add(e.slice(0, -`:${own}`.length));
    } else {
      // A bare name: its default port (behind a proxy) or the port the server listens on.
      add(e, own);
      for (const port of ports) add(e, port);
    }
  }
  if (opts.publicUrl) {
    const u = new URL(opts.publicUrl);
    const port = u.port ? Number(u.port) : defaultPort(u.protocol.replace(":", ""));
    out.add(u.host.toLowerCase());
    out.add(`${u.hostname.toLowerCase()}:${port}`);
  }
  return out;
}

/** A name as `--allowed-host` takes it: a host name or address, with an optional port. */
export function isHostEntry(v: string): boolean {
  return (
    /^([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?(:\d{1,5})?$/i.test(v) || /^\[[0-9a-f:.]+\](:\d{1,5})?$/i.test(v) || isIP(v) !== 0
  );
}

/**
 * Refuses, before any route sees it, a request whose Host does not name this server (421
 * Misdirected Request, in Graph's error shape). `/healthz` and `/readyz` build no URL and are left to probes that
 * call an address the server cannot know (a load balancer's, a pod's).
 */
export function installHostCheck(app: FastifyInstance, opts: HostPolicyOptions): void {
  let accepted: Set<string> | null = null;
  app.addHook("onRequest", async (req) => {
    if (req.url === "/healthz" || req.url === "/readyz") return;
    const host = req.headers.host;
    if (!host) throw new GraphError(400, "BadRequest", "The request has no Host header; it must name this server.");
    if (!accepted) {
      const listening = opts.listening();
      const set = acceptedHosts(opts);
      // Before listen (app.inject alone) the port is unknown: do not remember a partial answer.
      if (listening.length > 0) accepted = set;
      if (!set.has(host.toLowerCase())) throw misdirected(host);
      return;
    }
    if (!accepted.has(host.toLowerCase())) throw misdirected(host);
  });
}

function misdirected(host: string): GraphError {
  const shown = host.length > 100 ? `${host.slice(0, 100)}…` : host;
  return new GraphError(
    421,
    "MisdirectedRequest",
    `The Host '${shown}' does not name this server. Use the server's configured public URL or the address it listens on; an operator can allow further names with --allowed-host.`,
  );
}
