import http from "node:http";

export interface Delivery {
  at: number;
  url: string;
  body: { value: Record<string, any>[] };
}

/**
 * A real notification receiver on loopback: it answers Graph's validation handshake (or not, as told)
 * and records every notification POST, answering with the status it is told to.
 */
export interface Receiver {
  url: string;
  deliveries: Delivery[];
  /** Notification POSTs answered with a non-2xx status (told to fail). */
  refused: Delivery[];
  /** How the handshake is answered: echo the token (default), a wrong body, an error status, or never. */
  handshake: "echo" | "wrong" | "error" | "hang" | "html";
  /** Status for the next notification POSTs, consumed one by one; 202 when empty. */
  statuses: number[];
  /** Milliseconds to wait before answering the next notification POSTs, consumed one by one; `delay` when empty. */
  delays: number[];
  /** Milliseconds to wait before answering a notification POST when `delays` is empty (0 by default). */
  delay: number;
  handshakes: number;
  /** The most notification POSTs, and bytes of their bodies, this receiver held unanswered at once. */
  peak: { requests: number; bytes: number };
  /** Every notification received, flattened. */
  notifications(): Record<string, any>[];
  waitFor(pred: (r: Receiver) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(path = "/hook"): Promise<Receiver> {
  const hanging = new Set<http.ServerResponse>();
  const open = { requests: 0, bytes: 0 };
  const r: Receiver = {
    url: "",
    deliveries: [],
    refused: [],
    handshake: "echo",
    statuses: [],
    delays: [],
    delay: 0,
    handshakes: 0,
    peak: { requests: 0, bytes: 0 },
    notifications: () => r.deliveries.flatMap((d) => d.body.value),
    async waitFor(pred, timeoutMs = 15_000) {
      const end = Date.now() + timeoutMs;
      while (!pred(r)) {
        if (Date.now() > end) throw new Error(`receiver: condition not met within ${timeoutMs} ms (${r.deliveries.length} deliveries)`);
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    close: () =>
      new Promise<void>((res) => {
        for (const h of hanging) h.destroy();
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const u = new URL(req.url ?? "/", "http://x");
      const token = u.searchParams.get("validationToken");
      if (token !== null) {
        r.handshakes++;
        if (r.handshake === "hang") return void hanging.add(res);
        if (r.handshake === "error") return void res.writeHead(500).end();
        if (r.handshake === "html") return void res.writeHead(200, { "content-type": "text/html" }).end(token);
        const body = r.handshake === "wrong" ? encodeURIComponent(token) : token;
        return void res.writeHead(200, { "content-type": "text/plain" }).end(body);
      }
      const text = Buffer.concat(chunks).toString("utf8");
      const bytes = Buffer.byteLength(text);
      open.requests++;
      open.bytes += bytes;
      r.peak = { requests: Math.max(r.peak.requests, open.requests), bytes: Math.max(r.peak.bytes, open.bytes) };
      const status = r.statuses.shift() ?? 202;
      const wait = r.delays.shift() ?? r.delay;
      const d = { at: Date.now(), url: req.url ?? "", body: JSON.parse(text) };
      const answer = () => {
        open.requests--;
        open.bytes -= bytes;
        if (status >= 200 && status < 300) r.deliveries.push(d);
        else r.refused.push(d);
        res.writeHead(status).end();
      };
      if (wait > 0) {
        hanging.add(res);
        setTimeout(() => {
          hanging.delete(res);
          if (!res.destroyed) answer();
        }, wait);
      } else answer();
    });
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
  const addr = server.address();
  r.url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}${path}`;
  return r;
}
