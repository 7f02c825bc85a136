/**
 * Live updates: one stream of the tenant's changes (GET /triage/changes, server-sent events) per tab,
 * shared by the pages that show it, read with fetch so that the token goes in the Authorization header
 * as on every other call (never in the URL). It reconnects with backoff and resumes with Last-Event-ID;
 * when the server cannot resume (a `reset`), the pages load everything again.
 */
import { useEffect, useRef, useSyncExternalStore } from "react";
import { accessToken, refresh } from "./auth";
import { api, qs, type Page } from "./api";
import type { LiveChange, LiveReady, LiveReset } from "../../src/schema/triage-api.js";
import type { Incident } from "./model";
import { buildFilter, type QueueQuery } from "./queue-filter";

export type { LiveChange };

/** `live`: streaming; `connecting`: (re)connecting; `offline`: not streaming, retrying; `unavailable`: the account may not stream. */
export type LiveStatus = "connecting" | "live" | "offline" | "unavailable";

interface Handler {
  changes(changes: LiveChange[]): void;
  reset(): void;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;
/** Changes arriving within this are handed to the pages together. */
const GATHER_MS = 250;
/** A stream no page uses any more is closed after this. */
const STOP_AFTER_MS = 5_000;

function backoff(attempt: number): number {
  const ms = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
  return ms / 2 + Math.random() * (ms / 2);
}

class LiveStream {
  status: LiveStatus = "offline";
  private readonly handlers = new Set<Handler>();
  private readonly watchers = new Set<() => void>();
  private running = false;
  /** Which run loop is current: one that was stopped ends even if another has started since. */
  private generation = 0;
  private ctrl: AbortController | null = null;
  private wait: { timer: number; resolve: () => void } | null = null;
  private lastId: string | null = null;
  private gathered: LiveChange[] = [];
  private gatherTimer = 0;
  private stopTimer = 0;

  subscribe(h: Handler): () => void {
    this.handlers.add(h);
    window.clearTimeout(this.stopTimer);
    if (!this.running) {
      this.running = true;
      void this.run(++this.generation);
    }
    return () => {
      this.handlers.delete(h);
      // Kept a moment, so that going from the queue to an incident keeps the one stream.
      if (this.handlers.size === 0) this.stopTimer = window.setTimeout(() => this.handlers.size === 0 && this.stop(), STOP_AFTER_MS);
    };
  }

  watch = (fn: () => void): (() => void) => {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  };

  private set(status: LiveStatus): void {
    if (this.status === status) return;
    this.status = status;
    for (const fn of this.watchers) fn();
  }

  private stop(): void {
    this.running = false;
    this.ctrl?.abort();
    if (this.wait) {
      clearTimeout(this.wait.timer);
      this.wait.resolve();
    }
    // The pages load afresh when they open again: no resume needed.
    this.lastId = null;
    this.set("offline");
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wait = { timer: window.setTimeout(resolve, ms), resolve };
    }).then(() => {
      this.wait = null;
    });
  }

  private async run(generation: number): Promise<void> {
    let attempt = 0;
    const current = () => this.running && this.generation === generation;
    while (current()) {
      this.set(attempt === 0 ? "connecting" : "offline");
      let delay: number;
      try {
        const outcome = await this.connect();
        if (!current()) return;
        if (outcome === "forbidden") {
          this.running = false;
          this.set("unavailable");
          return;
        }
        if (outcome === "ready") attempt = 0;
        delay = outcome === "ready" ? 0 : typeof outcome === "number" ? outcome : backoff(attempt++);
      } catch {
        delay = backoff(attempt++);
      }
      if (!current()) return;
      if (delay > 0) {
        this.set("offline");
        await this.sleep(delay);
      }
    }
  }

  /** One stream, to its end: `ready` if it got going, a delay in ms the server asked for, or `forbidden`. */
  private async connect(): Promise<"ready" | "failed" | "forbidden" | number> {
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    let res: Response | null = null;
    for (let tries = 0; tries < 2; tries++) {
      const token = await accessToken();
      if (!token) return "forbidden";
      const headers: Record<string, string> = { accept: "text/event-stream", authorization: `Bearer ${token}` };
      if (this.lastId !== null) headers["last-event-id"] = this.lastId;
      res = await fetch("/triage/changes", { headers, signal: ctrl.signal, cache: "no-store" });
      // The token expired early or was revoked: one refresh, then give up.
      if (res.status !== 401 || !(await refresh())) break;
    }
    if (!res || res.status === 401 || res.status === 403) return "forbidden";
    if (res.status === 429 || res.status === 503) {
      const after = Number(res.headers.get("retry-after"));
      return Number.isFinite(after) && after > 0 ? after * 1000 : "failed";
    }
    if (!res.ok || !res.body) return "failed";
    let ready = false;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    let ev = { name: "message", id: null as string | null, data: "" };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).replace(/\r$/, "");
          buf = buf.slice(nl + 1);
          if (line === "") {
            if (ev.data) ready = this.dispatch(ev.name, ev.id, ev.data) || ready;
            ev = { name: "message", id: null, data: "" };
          } else if (!line.startsWith(":")) {
            const i = line.indexOf(":");
            const field = i < 0 ? line : line.slice(0, i);
            const val = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
            if (field === "event") ev.name = val;
            else if (field === "id") ev.id = val;
            else if (field === "data") ev.data += ev.data ? `\n${val}` : val;
          }
        }
      }
    } catch {
      // Dropped or aborted: reconnect (or stop) below.
    } finally {
      ctrl.abort();
    }
    return ready ? "ready" : "failed";
  }

  /** Handles one event; whether the stream is (now) live. */
  private dispatch(name: string, id: string | null, data: string): boolean {
    if (id !== null) this.lastId = id;
    if (name === "ready") {
      void (JSON.parse(data) as LiveReady);
      this.set("live");
      return true;
    }
    if (name === "change") {
      this.gathered.push(JSON.parse(data) as LiveChange);
      if (!this.gatherTimer) {
        this.gatherTimer = window.setTimeout(() => {
          this.gatherTimer = 0;
          const batch = this.gathered;
          this.gathered = [];
          for (const h of [...this.handlers]) h.changes(batch);
        }, GATHER_MS);
      }
    } else if (name === "reset") {
      // Too far behind to catch up change by change: the pages load everything; the stream goes on from here.
      this.lastId = String((JSON.parse(data) as LiveReset).position);
      this.gathered = [];
      for (const h of [...this.handlers]) h.reset();
      return true;
    }
    return false;
  }
}

const stream = new LiveStream();

/**
 * Calls `onChanges` with the tenant's changes as they commit (gathered over a quarter of a second),
 * and `onReset` when the page should load everything again. Returns the stream's status.
 */
export function useLiveChanges(onChanges: (changes: LiveChange[]) => void, onReset: () => void, enabled = true): LiveStatus {
  const latest = useRef({ onChanges, onReset });
  latest.current = { onChanges, onReset };
  useEffect(() => {
    if (!enabled) return;
    return stream.subscribe({ changes: (c) => latest.current.onChanges(c), reset: () => latest.current.onReset() });
  }, [enabled]);
  return useSyncExternalStore(stream.watch, () => stream.status);
}

/** Calls `reload` (gathered) when the incident, or one of the alerts it shows, changes. */
export function useLiveIncident(id: string, alertIds: { has(id: string): boolean }, reload: () => void): LiveStatus {
  const alerts = useRef(alertIds);
  alerts.current = alertIds;
  return useLiveChanges((changes) => {
    if (changes.some((c) => (c.entityType === "incident" ? c.id === id : alerts.current.has(c.id)))) reload();
  }, reload);
}

/** Most changed incidents the queue fetches one by one; beyond, it loads the page again. */
const MAX_QUEUE_FETCH = 50;

function combine(filter: string, extra: string): string {
  return filter ? `(${filter}) and (${extra})` : extra;
}

function idList(ids: readonly string[]): string {
  return `id in (${ids.map((i) => `'${i.replace(/'/g, "''")}'`).join(",")})`;
}

export interface LiveQueueOptions {
  query: QueueQuery;
  me: string;
  select: string;
  expand: string;
  /** The ids the queue shows now. */
  shown(): ReadonlySet<string>;
  /**
   * Changed incidents: `matching` the view (new ones to add, shown ones to update), and `others` it
   * shows that no longer match (to update in place until the next load).
   */
  apply(matching: Incident[], others: Incident[]): void;
  /** Too much changed, or the stream could not resume: load the list again. */
  reload(): void;
}

/**
 * The queue's live rows: each changed incident is fetched again through the list endpoint with the
 * view's own $filter (so what "matches" is what the server says), a batch of them at a time.
 */
export function useLiveQueue(opts: LiveQueueOptions): LiveStatus {
  const latest = useRef(opts);
  latest.current = opts;
  const pending = useRef(new Set<string>());
  const busy = useRef(false);

  async function flush(): Promise<void> {
    if (busy.current) return;
    busy.current = true;
    try {
      while (pending.current.size) {
        const o = latest.current;
        const ids = [...pending.current];
        pending.current.clear();
        if (ids.length > MAX_QUEUE_FETCH) {
          o.reload();
          continue;
        }
        let sourceIds: string[] | null = null;
        if (o.query.source) {
          const alerts = await api<Page<{ incidentId: string | null }>>(
            `/v1.0/security/alerts_v2${qs({ $filter: `detectionSource eq '${o.query.source}' and incidentId in (${ids.map((i) => `'${i}'`).join(",")})`, $select: "id,incidentId", $top: 1000 })}`,
          );
          sourceIds = [...new Set(alerts.value.map((a) => a.incidentId).filter((x): x is string => !!x))];
        }
        const filter = buildFilter(o.query, o.me, sourceIds);
        const select = { $select: o.select, $expand: o.expand, $top: ids.length };
        const matching = (await api<Page<Incident>>(`/v1.0/security/incidents${qs({ $filter: combine(filter, idList(ids)), ...select })}`)).value;
        const matched = new Set(matching.map((i) => i.id));
        const shown = o.shown();
        const stale = ids.filter((i) => !matched.has(i) && shown.has(i));
        const others = stale.length ? (await api<Page<Incident>>(`/v1.0/security/incidents${qs({ $filter: idList(stale), ...select })}`)).value : [];
        latest.current.apply(matching, others);
      }
    } catch {
      // A failed fetch: the next change or load shows the current state.
    } finally {
      busy.current = false;
    }
  }

  return useLiveChanges(
    (changes) => {
      for (const c of changes) if (c.entityType === "incident") pending.current.add(c.id);
      if (pending.current.size) void flush();
    },
    () => latest.current.reload(),
  );
}
