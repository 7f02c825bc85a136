/**
 * Outbound HTTP to subscribers' endpoints, with the safety rules every delivery and handshake follows:
 * HTTPS only, no credentials in the URL, and (unless private destinations are allowed) no
 * destination whose name resolves to a loopback, private, link-local or otherwise non-public
 * address. The name is resolved once per request and the connection is made to the address that was
 * checked, so a DNS answer that changes between the check and the connection (rebinding) cannot
 * redirect it. Redirects are never followed (a 3xx is an answer like any other) and the response body
 * is read only up to a bound.
 *
 * Connections are kept alive and reused, per destination: an agent per checked address (and scheme,
 * port and name), so a reused socket is always one to an address that was checked, and TLS is set up
 * once per connection rather than once per POST. Each agent holds at most MAX_SOCKETS_PER_DESTINATION
 * sockets, an idle one is closed after IDLE_SOCKET_MS, and at most MAX_DESTINATIONS agents are kept
 * (the least recently used one goes, its idle sockets closed).
 */
import { lookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";

export interface OutboundPolicy {
  /** Allow loopback, private and link-local destinations, and plain HTTP: local development and tests only. */
  allowPrivateDestinations: boolean;
}

/** Longest notificationUrl accepted. */
export const MAX_URL_LENGTH = 2048;

// Two lists: Node's BlockList matches an IPv4 address against IPv4-mapped IPv6 subnets too, so the
// families are kept apart.
const blocked4 = new BlockList();
const blocked6 = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked4.addSubnet(net, bits, "ipv4");
}
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["::ffff:0:0", 96],
  ["64:ff9b::", 96],
  ["64:ff9b:1::", 48],
  ["100::", 64],
  ["2001::", 23],
  ["2001:db8::", 32],
  ["2002::", 16],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const) {
  blocked6.addSubnet(net, bits, "ipv6");
}

/** Whether an address is public: not loopback, private, link-local, shared, documentation, multicast or reserved. */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 6) {
    // IPv4-mapped and -translated addresses (::ffff:0:0/96, 64:ff9b::/96) are in the list: refused.
    return !blocked6.check(address, "ipv6");
  }
  return !blocked4.check(address, "ipv4");
}

export class DestinationRefused extends Error {}

/** Checks a notification URL's form: absolute, HTTPS (or HTTP when private destinations are allowed), no credentials. */
export function checkUrlForm(raw: string, policy: OutboundPolicy, property: string): URL {
  if (raw.length > MAX_URL_LENGTH) throw new DestinationRefused(`The ${property} is longer than ${MAX_URL_LENGTH} characters.`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DestinationRefused(`The ${property} '${raw}' is not an absolute URL.`);
  }
  const httpsOnly = !policy.allowPrivateDestinations;
  if (url.protocol !== "https:" && !(url.protocol === "http:" && !httpsOnly)) {
    throw new DestinationRefused(`The ${property} must use https.`);
  }
  if (url.username || url.password) throw new DestinationRefused(`The ${property} must not carry credentials.`);
  if (url.hash) throw new DestinationRefused(`The ${property} must not carry a fragment.`);
  return url;
}

/** Resolves the URL's host and checks every address it resolves to; the address to connect to. */
export async function resolveDestination(url: URL, policy: OutboundPolicy): Promise<{ address: string; family: 4 | 6 }> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: { address: string; family: number }[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true });
    } catch {
      throw new DestinationRefused(`The host '${host}' could not be resolved.`);
    }
  }
  if (addresses.length === 0) throw new DestinationRefused(`The host '${host}' could not be resolved.`);
  if (!policy.allowPrivateDestinations) {
    const bad = addresses.find((a) => !isPublicAddress(a.address));
    if (bad) {
      throw new DestinationRefused(
        `The host '${host}' resolves to ${bad.address}, which is not a public address; Triage sends notifications only to public addresses unless the server is started with --allow-private-destinations.`,
      );
    }
  }
  const first = addresses[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** Most connections open at once to one destination (more requests wait for one). */
export const MAX_SOCKETS_PER_DESTINATION = 16;
/** An idle kept-alive connection is closed after this; below the 5 s a Node.js server keeps one. */
export const IDLE_SOCKET_MS = 4_000;
/** Most destinations with kept-alive connections. */
export const MAX_DESTINATIONS = 256;

type Agent = http.Agent | https.Agent;
const agents = new Map<string, Agent>();

/** The agent for a checked destination: its connections go to that address only. */
function agentFor(url: URL, dest: { address: string; family: 4 | 6 }): Agent {
  const key = `${url.protocol}//${url.hostname}:${url.port}@${dest.address}`;
  const found = agents.get(key);
  if (found) {
    // Most recently used last.
    agents.delete(key);
    agents.set(key, found);
    return found;
  }
  const pinned: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all) (cb as (e: null, a: { address: string; family: number }[]) => void)(null, [dest]);
    else cb(null, dest.address, dest.family);
  };
  const options = {
    keepAlive: true,
    maxSockets: MAX_SOCKETS_PER_DESTINATION,
    maxFreeSockets: MAX_SOCKETS_PER_DESTINATION,
    timeout: IDLE_SOCKET_MS,
    scheduling: "lifo" as const,
    lookup: pinned,
  };
  const agent = url.protocol === "https:" ? new https.Agent(options) : new http.Agent(options);
  agents.set(key, agent);
  if (agents.size > MAX_DESTINATIONS) {
    const [oldKey, old] = agents.entries().next().value as [string, Agent];
    agents.delete(oldKey);
    // Its idle sockets go now; sockets in use are closed once idle (the agent's timeout).
    for (const list of Object.values(old.freeSockets)) for (const sock of list ?? []) sock.destroy();
  }
  return agent;
}

/** A kept-alive connection the receiver closed just as it was reused: the request never reached it. */
function staleSocket(req: http.ClientRequest, e: NodeJS.ErrnoException): boolean {
  return req.reusedSocket && (e.code === "ECONNRESET" || e.code === "EPIPE" || e.message === "socket hang up");
}

export interface OutboundResponse {
  status: number;
  contentType: string;
  /** The body, up to the bound (as UTF-8). */
  body: string;
  /** Milliseconds from sending to the response's headers. */
  elapsedMs: number;
}

/**
 * POSTs `body` to `url` after checking the destination, and waits at most `timeoutMs` for the whole
 * answer. Throws DestinationRefused for a refused destination, another Error for a network failure or
 * timeout.
 */
export async function post(
  url: URL,
  /** Text is sent as UTF-8. */
  body: string | Buffer,
  opts: {
    contentType: string;
    timeoutMs: number;
    maxResponseBytes: number;
    policy: OutboundPolicy;
    userAgent?: string;
    /** More request headers (a signature, a delivery id). */
    headers?: Record<string, string>;
  },
): Promise<OutboundResponse> {
  const dest = await resolveDestination(url, opts.policy);
  // Encoded once: its length is the Content-Length, and the bytes are what is written (a POST of
  // notifications is up to a mebibyte, and measuring the string then writing it scanned it twice).
  const payload = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  // The connection goes to the address checked above, whatever the name resolves to by now.
  const agent = agentFor(url, dest);
  const client = url.protocol === "https:" ? https : http;
  const started = Date.now();
  const send = (retried: boolean) =>
    new Promise<OutboundResponse>((resolve, reject) => {
      const req = client.request(
        url,
        {
          method: "POST",
          agent,
          headers: {
            ...opts.headers,
            "content-type": opts.contentType,
            "content-length": payload.length,
            "user-agent": opts.userAgent ?? "Triage-Notifications/1.0",
          },
        },
        (res) => {
          const elapsedMs = Date.now() - started;
          const parts: Buffer[] = [];
          let size = 0;
          const finish = () => {
            clearTimeout(timer);
            resolve({
              status: res.statusCode ?? 0,
              contentType: String(res.headers["content-type"] ?? ""),
              body: Buffer.concat(parts).toString("utf8"),
              elapsedMs,
            });
          };
          res.on("data", (chunk: Buffer) => {
            if (size >= opts.maxResponseBytes) return;
            const room = opts.maxResponseBytes - size;
            parts.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
            size += Math.min(chunk.length, room);
            // Enough read: the rest is not waited for.
            if (size >= opts.maxResponseBytes) {
              finish();
              res.destroy();
            }
          });
          res.on("end", finish);
          res.on("error", (e) => {
            clearTimeout(timer);
            reject(e);
          });
        },
      );
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)), Math.max(1, opts.timeoutMs - (Date.now() - started)));
      req.on("error", (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        // Once, on a new connection: nothing was answered, and a repeat carries the same content.
        if (!retried && staleSocket(req, e)) resolve(send(true));
        else reject(e);
      });
      req.end(payload);
    });
  return send(false);
}
