import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface HttpAnswer<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, or the text when it is not JSON (undefined when empty). */
  body: T;
  text: string;
}

/** Largest answer read, so that a runaway response cannot fill a test runner's memory. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * One request to Triage, trusting only its CA (`ca`, PEM) over HTTPS: Node's `fetch` cannot be given a
 * CA per request, and the test process may have started before the CA existed (NODE_EXTRA_CA_CERTS is
 * read at start only).
 */
export function send<T>(
  url: string,
  o: { method: string; ca?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number },
): Promise<HttpAnswer<T>> {
  return new Promise((resolve, reject) => {
    const headers = { ...o.headers, ...(o.body === undefined ? {} : { "content-length": String(Buffer.byteLength(o.body)) }) };
    const done = (res: import("node:http").IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER_BYTES) res.destroy(new Error(`answer from ${url} is larger than ${MAX_ANSWER_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = text === "" ? undefined : text;
        if (text && /json/.test(String(res.headers["content-type"] ?? ""))) body = JSON.parse(text);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: body as T, text });
      });
    };
    const req = url.startsWith("https:")
      ? httpsRequest(url, { method: o.method, headers, ca: o.ca }, done)
      : httpRequest(url, { method: o.method, headers }, done);
    req.setTimeout(o.timeoutMs ?? 60_000, () => req.destroy(new Error(`${o.method} ${url} timed out`)));
    req.on("error", reject);
    req.end(o.body);
  });
}
