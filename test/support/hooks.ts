import http from "node:http";
import { SMTPServer } from "smtp-server";

export interface Hit {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: any;
}

/** A real webhook receiver on loopback that keeps each request's headers and raw body; `statuses` are answered in turn, then 200. */
export interface HookReceiver {
  base: string;
  hits: Hit[];
  statuses: number[];
  on(path: string): Hit[];
  waitFor(pred: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startHookReceiver(): Promise<HookReceiver> {
  const r: HookReceiver = {
    base: "",
    hits: [],
    statuses: [],
    on: (path) => r.hits.filter((h) => h.path === path),
    waitFor: (pred, timeoutMs) => waitUntil(pred, timeoutMs),
    close: () => new Promise<void>((res) => (server.closeAllConnections(), server.close(() => res()))),
  };
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      const status = r.statuses.shift() ?? 200;
      const raw = Buffer.concat(parts).toString("utf8");
      if (status >= 200 && status < 300) r.hits.push({ path: req.url ?? "", headers: req.headers, raw, body: JSON.parse(raw) });
      res.writeHead(status, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
  const addr = server.address();
  r.base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  return r;
}

export interface Mail {
  from: string;
  to: string[];
  data: string;
}

/** A real SMTP server on loopback (the smtp-server package) that keeps every message it accepts. */
export interface MailServer {
  url: string;
  mails: Mail[];
  close(): Promise<void>;
}

export async function startMailServer(): Promise<MailServer> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      const parts: Buffer[] = [];
      stream.on("data", (c: Buffer) => parts.push(c));
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((a) => a.address),
          data: Buffer.concat(parts).toString("utf8"),
        });
        callback();
      });
    },
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
  const addr = server.server.address();
  return {
    url: `smtp://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`,
    mails,
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}

export async function waitUntil(pred: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
