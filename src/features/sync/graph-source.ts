/**
 * Reads pages of a Microsoft Graph security collection for `triage sync`, as a careful integrator does:
 * a bearer token from the caller's credential, throttling (429) and unavailability (503) answered by
 * waiting what `Retry-After` says, other transient failures (502, 504, dropped connections, timeouts)
 * retried with jittered exponential backoff, a bound on every wait, every attempt and every answer's
 * size, and a refused token renewed once. Everything else is an error that names the request and the
 * source's own error code and message.
 */

export interface GraphSourceOptions {
  /** The Graph base URL, such as https://graph.microsoft.com (no version). */
  from: string;
  version: "v1.0" | "beta";
  /** A token for Microsoft Graph; `fresh` asks for a new one after a 401. */
  token: (fresh: boolean) => Promise<string>;
  /** Retries of one page before giving up (default 10). */
  maxRetries?: number;
  /** The longest wait for one retry, whatever Retry-After says, in seconds (default 300). */
  maxRetryAfterSeconds?: number;
  /** Time allowed for one request, in milliseconds (default 100,000: Graph's own gateway timeout). */
  timeoutMs?: number;
  /** The largest answer accepted, in bytes (default 64 MiB). */
  maxResponseBytes?: number;
  /** Told of each retry, with its reason and wait. */
  onRetry?: (event: RetryEvent) => void;
  /** Aborts waits and requests (an interrupted sync). */
  signal?: AbortSignal;
  /** For tests of the backoff: waits this instead of the real time. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface RetryEvent {
  url: string;
  attempt: number;
  reason: string;
  waitMs: number;
}

export interface PageQuery {
  filter: string | null;
  orderby: string;
  top: number;
  skip: number;
  expand?: string;
}

export class GraphSourceError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly code: string | null,
  ) {
    super(message);
    this.name = "GraphSourceError";
  }
}

export const SOURCE_DEFAULTS = {
  maxRetries: 10,
  maxRetryAfterSeconds: 300,
  timeoutMs: 100_000,
  maxResponseBytes: 64 * 1024 * 1024,
} as const;

/** Statuses worth another attempt: throttled, unavailable, gateway failures. */
const TRANSIENT = new Set([429, 502, 503, 504]);

/** `Retry-After` as seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === "") return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Full-jitter exponential backoff: up to 1 s, 2 s, 4 s … 60 s. */
function backoffMs(attempt: number): number {
  return Math.round(Math.random() * Math.min(60_000, 1000 * 2 ** Math.min(attempt, 6)));
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The query string of a page, with OData's `$` names; spaces as %20, as Graph's own clients send them. */
export function pageUrl(from: string, version: string, collection: string, q: PageQuery): string {
  const params: string[] = [];
  if (q.filter) params.push(`$filter=${encodeURIComponent(q.filter)}`);
  params.push(`$orderby=${encodeURIComponent(q.orderby)}`);
  params.push(`$top=${q.top}`);
  if (q.skip > 0) params.push(`$skip=${q.skip}`);
  if (q.expand) params.push(`$expand=${encodeURIComponent(q.expand)}`);
  return `${from.replace(/\/+$/, "")}/${version}/security/${collection}?${params.join("&")}`;
}

/** Reads the body up to `max` bytes; a larger answer is refused rather than held. */
async function boundedText(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel();
    throw new GraphSourceError(`the source's answer is ${declared} bytes, over the limit of ${max}`, res.status, null);
  }
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new GraphSourceError(`the source's answer is over the limit of ${max} bytes`, res.status, null);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Graph's error body's code and message, when the answer has one. */
function graphError(text: string): { code: string | null; message: string | null } {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    return {
      code: typeof body.error?.code === "string" ? body.error.code : null,
      message: typeof body.error?.message === "string" ? body.error.message : null,
    };
  } catch {
    return { code: null, message: null };
  }
}

export class GraphSource {
  private readonly opts: Required<Omit<GraphSourceOptions, "onRetry" | "signal" | "sleep">> & GraphSourceOptions;

  constructor(options: GraphSourceOptions) {
    this.opts = { ...SOURCE_DEFAULTS, ...options };
  }

  /** One page of `collection` (`incidents` or `alerts_v2`): its `value`. */
  async page(collection: string, q: PageQuery): Promise<Record<string, unknown>[]> {
    const url = pageUrl(this.opts.from, this.opts.version, collection, q);
    const body = (await this.get(url)) as { value?: unknown };
    if (!Array.isArray(body.value)) throw new GraphSourceError(`GET ${url}: the answer has no "value" array`, 200, null);
    return body.value as Record<string, unknown>[];
  }

  /**
   * One incident with its alerts, by id; without the alerts when the source fails on `$expand` (they
   * then come through alerts_v2).
   */
  async incident(id: string): Promise<Record<string, unknown>> {
    const base = `${this.opts.from.replace(/\/+$/, "")}/${this.opts.version}/security/incidents/${encodeURIComponent(id)}`;
    let body: unknown;
    try {
      body = await this.get(`${base}?$expand=alerts`);
    } catch (e) {
      if (!(e instanceof GraphSourceError && e.status === 500)) throw e;
      body = await this.get(base);
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new GraphSourceError(`GET ${base}: the answer is not an incident`, 200, null);
    return body as Record<string, unknown>;
  }

  private async get(url: string): Promise<unknown> {
    const { maxRetries, maxRetryAfterSeconds, timeoutMs, maxResponseBytes, signal } = this.opts;
    const sleep = this.opts.sleep ?? defaultSleep;
    let renewed = false;
    for (let attempt = 0; ; attempt++) {
      const token = await this.opts.token(false);
      let res: Response;
      try {
        const timeout = AbortSignal.timeout(timeoutMs);
        res = await fetch(url, {
          headers: { authorization: `Bearer ${token}`, accept: "application/json" },
          redirect: "error",
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
      } catch (e) {
        if (signal?.aborted) throw e;
        if (attempt >= maxRetries) throw new GraphSourceError(`GET ${url}: ${describe(e)} (gave up after ${attempt + 1} attempts)`, null, null);
        const waitMs = backoffMs(attempt);
        this.opts.onRetry?.({ url, attempt: attempt + 1, reason: describe(e), waitMs });
        await sleep(waitMs, signal);
        continue;
      }
      if (res.status === 200) {
        const text = await boundedText(res, maxResponseBytes);
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new GraphSourceError(`GET ${url}: the answer is not JSON`, 200, null);
        }
      }
      const text = await boundedText(res, maxResponseBytes).catch(() => "");
      const err = graphError(text);
      if (res.status === 401 && !renewed) {
        // A token the source no longer accepts (expired early, keys rolled): one fresh one, then give up.
        renewed = true;
        await this.opts.token(true);
        attempt--;
        continue;
      }
      if (TRANSIENT.has(res.status) && attempt < maxRetries) {
        const asked = retryAfterMs(res.headers.get("retry-after"));
        const waitMs = Math.min(asked ?? backoffMs(attempt), maxRetryAfterSeconds * 1000);
        this.opts.onRetry?.({ url, attempt: attempt + 1, reason: `${res.status}${err.code ? ` ${err.code}` : ""}`, waitMs });
        await sleep(waitMs, signal);
        continue;
      }
      const detail = err.code ? `${err.code}: ${err.message ?? ""}` : text.slice(0, 200);
      throw new GraphSourceError(
        `GET ${url}: ${res.status}${detail ? ` ${detail}` : ""}${TRANSIENT.has(res.status) ? ` (gave up after ${attempt + 1} attempts)` : ""}`,
        res.status,
        err.code,
      );
    }
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = e.cause instanceof Error ? `: ${e.cause.message}` : "";
    return `${e.name === "TimeoutError" ? "timed out" : e.message}${cause}`;
  }
  return String(e);
}
