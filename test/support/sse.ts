/** A real server-sent-events client over fetch, for GET /triage/changes: it keeps every event it reads. */

export interface SseEvent {
  event: string;
  id: string | null;
  data: any;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** The error body when the stream was refused. */
  body: any;
  events: SseEvent[];
  /** Comment lines read (heartbeats). */
  comments: number;
  /** Resolves when the server ends the stream (or it is closed). */
  ended: Promise<void>;
  /** Waits (bounded) until `pred` holds over the events read so far. */
  waitFor(pred: (events: SseEvent[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string>): Promise<SseStream> {
  const ctrl = new AbortController();
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: ctrl.signal });
  const s: SseStream = {
    status: res.status,
    headers: res.headers,
    body: null,
    events: [],
    comments: 0,
    ended: Promise.resolve(),
    async waitFor(pred, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      while (!pred(s.events)) {
        if (Date.now() > until) throw new Error(`timed out waiting; events so far: ${JSON.stringify(s.events)}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () => ctrl.abort(),
  };
  if (!res.ok || !res.body) {
    s.body = await res.json().catch(() => null);
    return s;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  s.ended = (async () => {
    let buf = "";
    let current: { event: string; id: string | null; data: string[] } = { event: "message", id: null, data: [] };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += value;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line === "") {
            if (current.data.length) s.events.push({ event: current.event, id: current.id, data: JSON.parse(current.data.join("\n")) });
            current = { event: "message", id: null, data: [] };
          } else if (line.startsWith(":")) s.comments++;
          else {
            const i = line.indexOf(":");
            const field = i < 0 ? line : line.slice(0, i);
            const val = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
            if (field === "event") current.event = val;
            else if (field === "id") current.id = val;
            else if (field === "data") current.data.push(val);
          }
        }
      }
    } catch {
      // aborted
    }
  })();
  return s;
}
