/**
 * The live hub: one reader of the change feed per node, fanning each tenant's new entries out to that
 * node's open streams (GET /triage/changes, the web app's live queue and incident page). It is woken
 * as the delivery engine is — after a commit in this process and, on PostgreSQL, by the feed's NOTIFY
 * from any node — and then reads each watched tenant's feed once, past the position it has read, for
 * all of that tenant's streams together: no stream ever queries the store on its own, except once
 * when it resumes from a Last-Event-ID. A slow look every `sweepMs` catches a wake-up that was lost
 * (a LISTEN connection that dropped, a write by another process on the same SQLite file).
 *
 * Bounded: at most `maxConnections` streams per node and `maxConnectionsPerUser` per user (or app),
 * a resume replays at most `maxReplay` entries (further behind, or from a position the feed no longer
 * holds, the stream is told to load everything again). Delivery to a stream only hands it the entries;
 * the stream decides what it may show and drops itself when its client does not keep up.
 */
import { FEED_CHANNEL, lastFeedSeq, onFeedCommit, readFeed, type FeedEntry } from "../../store/feed.js";
import type { Store } from "../../store/open.js";

export interface LiveSettings {
  /** Most open streams on one node (503 beyond). */
  maxConnections: number;
  /** Most open streams of one user, or of one app calling as itself, on one node (429 beyond). */
  maxConnectionsPerUser: number;
  /** A comment line is sent this often on an idle stream, so proxies and the idle timeout leave it open. */
  heartbeatMs: number;
  /** Most events a stream may have waiting for its client; beyond, the stream is closed (its client resumes). */
  maxBufferedEvents: number;
  /** A stream is closed after this long (its client reconnects with Last-Event-ID), and before its token expires. */
  maxStreamMs: number;
  /** Most feed entries a Last-Event-ID resume replays; further behind, the client is told to reload. */
  maxReplay: number;
  /** How often the hub looks at its tenants' feeds when nothing woke it. */
  sweepMs: number;
}

export const DEFAULT_LIVE_SETTINGS: Readonly<LiveSettings> = {
  maxConnections: 1_000,
  maxConnectionsPerUser: 6,
  heartbeatMs: 15_000,
  maxBufferedEvents: 1_000,
  maxStreamMs: 30 * 60_000,
  maxReplay: 1_000,
  sweepMs: 10_000,
};

/** One open stream, as the hub sees it. */
export interface LiveListener {
  readonly tenantId: string;
  /** Who holds it, for the per-user limit (tenant and object id). */
  readonly userKey: string;
  /** New feed entries, in order, each past every one delivered before. */
  deliver(entries: readonly FeedEntry[]): void;
  /** A heartbeat is due. */
  heartbeat(): void;
  /** The node is stopping: end the stream. */
  close(): void;
}

/** Why a stream could not be opened. */
export class LiveLimitError extends Error {
  constructor(readonly scope: "node" | "user") {
    super(scope === "node" ? "live stream limit of the node reached" : "live stream limit of the user reached");
  }
}

/** Where a joining stream starts. */
export type JoinResult =
  | { ok: true; position: number; replay: FeedEntry[] }
  | {
      ok: false;
      /** `ahead`: the position is past the end of the feed (another store, or one reset); `gone`: too far behind, or no longer in the feed. */
      reason: "ahead" | "gone";
      position: number;
    };

interface Group {
  /** The last feed number read for this tenant. */
  cursor: number;
  listeners: Map<LiveListener, { position: number }>;
  /** Reading is in progress; `again` asks it to read once more when done. */
  reading: Promise<void> | null;
  again: boolean;
}

/** Entries read per query when fanning out. */
const READ_BATCH = 500;

export class LiveHub {
  private readonly groups = new Map<string, Group>();
  private readonly users = new Map<string, number>();
  private open = 0;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private sweep: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    readonly settings: LiveSettings,
    private readonly log: { warn(obj: object, msg: string): void },
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = onFeedCommit(this.store.db, (tenantId) => this.wake(tenantId));
    // An empty payload (the LISTEN connection was opened again) may have missed some: look at all.
    if (this.store.listen) this.stopListening = await this.store.listen(FEED_CHANNEL, (tenantId) => (tenantId ? this.wake(tenantId) : this.wakeAll()));
    this.heartbeat = setInterval(() => {
      for (const g of this.groups.values()) for (const l of g.listeners.keys()) l.heartbeat();
    }, this.settings.heartbeatMs);
    this.heartbeat.unref();
    this.sweep = setInterval(() => this.wakeAll(), this.settings.sweepMs);
    this.sweep.unref();
  }

  /** Ends every stream and stops reading. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.heartbeat);
    clearInterval(this.sweep);
    await this.stopListening?.();
    for (const g of [...this.groups.values()]) for (const l of [...g.listeners.keys()]) l.close();
    await Promise.allSettled([...this.groups.values()].map((g) => g.reading));
  }

  /** Open streams on this node, and of one user. */
  counts(userKey?: string): { node: number; user: number } {
    return { node: this.open, user: userKey === undefined ? 0 : (this.users.get(userKey) ?? 0) };
  }

  /**
   * Takes a place for a new stream, or throws LiveLimitError; the place is held until `leave`.
   * Synchronous, so concurrent openings cannot overshoot the limits.
   */
  reserve(userKey: string): void {
    if (this.stopped || this.open >= this.settings.maxConnections) throw new LiveLimitError("node");
    const mine = this.users.get(userKey) ?? 0;
    if (mine >= this.settings.maxConnectionsPerUser) throw new LiveLimitError("user");
    this.open++;
    this.users.set(userKey, mine + 1);
  }

  /** Takes a stream out of its tenant's group (if it is in it); nothing more is delivered to it. */
  leave(listener: LiveListener): void {
    const g = this.groups.get(listener.tenantId);
    if (g?.listeners.delete(listener) && g.listeners.size === 0 && !g.reading) this.groups.delete(listener.tenantId);
  }

  /** Gives back a place taken by `reserve`, once per place. */
  release(userKey: string): void {
    this.open = Math.max(0, this.open - 1);
    const mine = (this.users.get(userKey) ?? 1) - 1;
    if (mine <= 0) this.users.delete(userKey);
    else this.users.set(userKey, mine);
  }

  /**
   * Adds a stream (after `reserve`) to its tenant's group: from the feed's current end, or from
   * `lastEventId`. What it missed up to the hub's read position is returned as `replay`, and the
   * group delivers what lies beyond from the moment it joins: the caller sends the replay first and
   * holds back deliveries until then. A stream refused (`ok: false`) has not joined.
   */
  async join(listener: LiveListener, lastEventId: number | null): Promise<JoinResult> {
    const tenantId = listener.tenantId;
    let g = await this.group(tenantId);
    if (lastEventId !== null) {
      // Measured against the feed's end, not against how far this node has read it.
      const last = Math.max(g.cursor, await lastFeedSeq(this.store.db, tenantId));
      if (lastEventId > last) return { ok: false, reason: "ahead", position: last };
      if (last - lastEventId > this.settings.maxReplay) return { ok: false, reason: "gone", position: last };
      g = await this.group(tenantId);
    }
    const upTo = g.cursor;
    const position = Math.max(upTo, lastEventId ?? upTo);
    g.listeners.set(listener, { position });
    this.wake(tenantId);
    if (lastEventId === null || lastEventId >= upTo) return { ok: true, position, replay: [] };
    // Feed numbers are consecutive: anything short of every number up to upTo was pruned away.
    const complete = (replay: FeedEntry[]) => replay.length === upTo - lastEventId && replay[0]?.seq === lastEventId + 1;
    const replay = upTo - lastEventId > this.settings.maxReplay ? [] : await readFeed(this.store.db, tenantId, lastEventId, upTo - lastEventId);
    if (!complete(replay)) {
      g.listeners.delete(listener);
      return { ok: false, reason: "gone", position: upTo };
    }
    return { ok: true, position: upTo, replay };
  }

  /** The tenant's group, made (at the feed's end) if none is open. */
  private async group(tenantId: string): Promise<Group> {
    const g = this.groups.get(tenantId);
    if (g) return g;
    const cursor = await lastFeedSeq(this.store.db, tenantId);
    // Another join may have made it meanwhile.
    let made = this.groups.get(tenantId);
    if (!made) this.groups.set(tenantId, (made = { cursor, listeners: new Map(), reading: null, again: false }));
    return made;
  }

  private wakeAll(): void {
    for (const tenantId of this.groups.keys()) this.wake(tenantId);
  }

  /** Reads the tenant's new entries once for all its streams (again after the current read, if one runs). */
  private wake(tenantId: string): void {
    const g = this.groups.get(tenantId);
    if (!g || this.stopped) return;
    if (g.reading) {
      g.again = true;
      return;
    }
    g.reading = this.read(tenantId, g)
      .catch((err: unknown) => this.log.warn({ err }, "live changes: reading the change feed failed; read again at the next change or sweep"))
      .finally(() => {
        g.reading = null;
        if (g.listeners.size === 0) {
          if (this.groups.get(tenantId) === g) this.groups.delete(tenantId);
        } else if (g.again) this.wake(tenantId);
      });
  }

  private async read(tenantId: string, g: Group): Promise<void> {
    do {
      g.again = false;
      for (;;) {
        if (g.listeners.size === 0 || this.stopped) return;
        const entries = await readFeed(this.store.db, tenantId, g.cursor, READ_BATCH);
        if (entries.length === 0) break;
        g.cursor = entries[entries.length - 1]!.seq;
        for (const [listener, state] of g.listeners) {
          const fresh = state.position >= entries[0]!.seq ? entries.filter((e) => e.seq > state.position) : entries;
          state.position = g.cursor;
          if (fresh.length) listener.deliver(fresh);
        }
        if (entries.length < READ_BATCH) break;
      }
    } while (g.again);
  }
}
