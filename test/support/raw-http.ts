import { connect } from "node:net";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Everything the server sent, for messages. */
  raw: string;
}

/**
 * Sends bytes as they are (malformed requests fetch would refuse to send) to a server on loopback and
 * reads the first response until the server closes or `timeoutMs` passes. `end` half-closes the
 * connection after writing, as a client that stops sending does.
 */
export function rawRequest(url: string, data: string | Buffer, opts: { end?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), opts.timeoutMs ?? 3000);
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString("utf8");
      const split = raw.indexOf("\r\n\r\n");
      if (split < 0) return reject(new Error(`no HTTP response: ${JSON.stringify(raw.slice(0, 200))}`));
      const [statusLine, ...lines] = raw.slice(0, split).split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const i = line.indexOf(":");
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const length = Number(headers["content-length"] ?? Number.NaN);
      const rest = raw.slice(split + 4);
      const body = Number.isNaN(length) ? rest : Buffer.from(rest).subarray(0, length).toString("utf8");
      resolve({ status: Number(statusLine!.split(" ")[1]), headers, body, raw });
    });
    socket.write(data);
    if (opts.end) socket.end();
  });
}
