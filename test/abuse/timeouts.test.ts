import { connect, type Socket } from "node:net";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildServer } from "../../src/server.js";
import { openSqliteStore } from "../../src/store/open.js";
import { ensureLocalTls } from "../../src/identity/tls.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { startChildTriage, type ChildTriage } from "../support/child-triage.js";

/**
 * Slow clients cannot hold connections: a request body or headers trickled a byte at a time, a
 * connection that never says anything, and an idle keep-alive connection are all closed by the server
 * within their timeouts (set to a second here, so that the tests stay short).
 */

const TIMEOUTS = { requestMs: 1000, headersMs: 1000, keepAliveMs: 500, idleMs: 5000 };
/** Longest the server may take past a timeout to act on it (its periodic sweep, a loaded machine). */
const SLACK_MS = 1500;

let t: TestTriage;
let port: number;

interface Trickle {
  socket: Socket;
  /** Milliseconds from connecting until the server closed the connection (or the cap ran out: null). */
  closed: Promise<number | null>;
  received(): string;
}

/**
 * A raw connection that sends `head`, then one byte of `drip` every `everyMs`, for at most `capMs`;
 * it never closes the connection itself before the cap.
 */
function trickle(head: string, drip: string, everyMs: number, capMs: number, to = port): Trickle {
  const socket = connect(to, "127.0.0.1");
  let received = "";
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => (received += d));
  socket.on("error", () => undefined);
  const started = performance.now();
  const closed = new Promise<number | null>((resolve) => {
    let i = 0;
    const timer = setInterval(() => {
      if (socket.destroyed || socket.writableEnded) return;
      if (i < drip.length) socket.write(drip[i++]!);
    }, everyMs);
    const cap = setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      resolve(null);
    }, capMs);
    socket.on("close", () => {
      clearInterval(timer);
      clearTimeout(cap);
      resolve(performance.now() - started);
    });
    socket.on("connect", () => socket.write(head));
  });
  return { socket, closed, received: () => received };
}

beforeAll(async () => {
  t = await startTriage({ timeouts: TIMEOUTS });
  port = Number(new URL(t.url).port);
});
afterAll(async () => {
  await t?.close();
});

describe("connection timeouts", () => {
  it("closes a connection whose request body trickles in, with a 408", async () => {
    const body = JSON.stringify({ requests: [{ id: "1", method: "GET", url: "/security/incidents" }] });
    const head = `POST /v1.0/$batch HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const c = trickle(head, body, 200, TIMEOUTS.requestMs + SLACK_MS + 3000);
    const ms = await c.closed;
    expect(ms, "the server never closed the trickling connection").not.toBeNull();
    expect(ms!).toBeLessThan(TIMEOUTS.requestMs + SLACK_MS);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("closes a connection whose headers never end", async () => {
    const c = trickle("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", "X-Slow: " + "a".repeat(100), 200, TIMEOUTS.headersMs + SLACK_MS + 3000);
    const ms = await c.closed;
    expect(ms, "the server never closed the connection").not.toBeNull();
    expect(ms!).toBeLessThan(TIMEOUTS.headersMs + SLACK_MS);
    expect(c.received()).not.toContain("200 OK");
  });

  it("closes a connection that never sends anything", async () => {
    const c = trickle("", "", 200, TIMEOUTS.headersMs + SLACK_MS + 3000);
    const ms = await c.closed;
    expect(ms, "the server never closed the silent connection").not.toBeNull();
    expect(ms!).toBeLessThan(TIMEOUTS.headersMs + SLACK_MS);
  });

  it("closes an idle keep-alive connection after its answer", async () => {
    const c = trickle("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n", "", 200, TIMEOUTS.keepAliveMs + 1000 + SLACK_MS + 3000);
    const ms = await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(ms, "the server kept the idle connection open").not.toBeNull();
    // Node gives an idle keep-alive socket up to a second of grace past the timeout.
    expect(ms!).toBeLessThan(TIMEOUTS.keepAliveMs + 1000 + SLACK_MS);
  });

  it("still answers a slow request that arrives within its time", async () => {
    const body = JSON.stringify({ requests: [{ id: "1", method: "GET", url: "/security/incidents" }] });
    const head = `POST /v1.0/$batch HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    // The body in four pieces over about half the request timeout.
    const pieces = [body.slice(0, 20), body.slice(20, 40), body.slice(40, 60), body.slice(60)];
    const c = trickle(head, "", 1000, 5000);
    for (const p of pieces) {
      await new Promise((r) => setTimeout(r, 120));
      c.socket.write(p);
    }
    await c.closed;
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 /);
  });
});

describe("over HTTPS", () => {
  it("closes a connection that never completes its TLS handshake", async () => {
    const dir = mkdtempSync(join(tmpdir(), "triage-tls-timeout-"));
    const store = await openSqliteStore(join(dir, "triage.db"));
    const tls = await ensureLocalTls(dir, []);
    const app = await buildServer({ store, tls: { key: tls.key, cert: tls.ca }, timeouts: TIMEOUTS });
    try {
      await app.listen({ host: "127.0.0.1", port: 0 });
      const addr = app.server.address();
      const tlsPort = typeof addr === "object" && addr ? addr.port : 0;
      // Half a ClientHello's record header, then nothing.
      const c = trickle("\x16\x03\x01", "", 200, TIMEOUTS.headersMs + SLACK_MS + 3000, tlsPort);
      const ms = await c.closed;
      expect(ms, "the server never closed the stalled handshake").not.toBeNull();
      expect(ms!).toBeLessThan(TIMEOUTS.headersMs + SLACK_MS);
    } finally {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("many trickling clients against `triage serve`", () => {
  let child: ChildTriage;
  beforeAll(async () => {
    child = await startChildTriage(["--request-timeout", "1", "--headers-timeout", "1", "--keep-alive-timeout", "1"]);
  }, 60_000);
  afterAll(async () => {
    await child?.close();
  });

  const openFds = () => readdirSync(`/proc/${child.pid}/fd`).length;

  it("lets go of every connection and its file descriptor", async () => {
    const childPort = Number(new URL(child.url).port);
    const before = openFds();
    const body = "x".repeat(200);
    const clients = Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0
        ? trickle(
            `POST /ingest/alerts HTTP/1.1\r\nHost: 127.0.0.1:${childPort}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
            body,
            250,
            8000,
            childPort,
          )
        : trickle("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", "X-Slow: " + "b".repeat(100), 250, 8000, childPort),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(openFds()).toBeGreaterThanOrEqual(before + 40);
    const closed = await Promise.all(clients.map((c) => c.closed));
    expect(
      closed.filter((ms) => ms === null),
      "connections the server still held after 8 s",
    ).toHaveLength(0);
    expect(Math.max(...(closed as number[]))).toBeLessThan(1000 + SLACK_MS + 1000);
    expect(openFds()).toBeLessThanOrEqual(before + 2);
  }, 30_000);
});
