/**
 * The recent change feed of each tenant, read once for all its subscriptions: with 100 subscriptions
 * on a tenant, each reading the feed on its own read every row 100 times. The cache holds, per tenant,
 * a contiguous stretch of the feed (every entry with a number in (from, through]) and extends it at its
 * end with one read shared by every delivery waiting for it.
 *
 * A stretch once read is final: a tenant's feed numbers are taken in commit order (store/feed.ts: the
 * counter row is the transaction's last write, locked until it commits), so a reader that has seen
 * number n never later sees a smaller one appear. Two things can still change what is stored: pruning
 * (an entry deleted from the store and still served here is sent rather than skipped, as it would have
 * been a moment earlier) and a tenant's reset, which numbers its feed from 1 again. Against the reset,
 * a delivery is served only after a read of the stretch's end that started after its subscription was
 * claimed, and that read must find the last entry held unchanged, or the stretch is dropped; a
 * delivery behind the stretch's end that finds all it asks for in it needs no more than that, one
 * at the end needs that read to have reached the stored feed's end.
 *
 * Bounded: at most MAX_ENTRIES_PER_TENANT entries per tenant (the oldest go first; a subscription
 * behind them reads the store itself) and MAX_ENTRIES in all (the least recently used tenants go).
 */
import type { FeedEntry } from "../../store/feed.js";

export type FeedReader = (tenantId: string, afterSeq: number, limit: number) => Promise<FeedEntry[]>;

export const MAX_ENTRIES_PER_TENANT = 20_000;
export const MAX_ENTRIES = 50_000;
/** Entries one read at the stretch's end asks for. */
const TAIL_READ = 2_000;

interface Stretch {
  from: number;
  through: number;
  /** Sorted by seq; every entry of the tenant's feed numbered in (from, through] when it was read. */
  entries: FeedEntry[];
  /** When the last read that reached the end of the stored feed started (ms). */
  checkedAt: number;
  /**
   * When the last read that found the stretch's last entry as held started (ms): the stretch was the
   * tenant's feed then, whether or not that read reached the feed's end. Never before `checkedAt`.
   */
  validatedAt: number;
  /** The read at the end under way, and when it started. */
  reading: { started: number; done: Promise<void> } | null;
}

function sameEntry(a: FeedEntry, b: FeedEntry): boolean {
  return a.seq === b.seq && a.at === b.at && a.entityType === b.entityType && a.entityId === b.entityId && a.changeType === b.changeType;
}

/** The index of the first entry numbered above `seq`. */
function firstAfter(entries: readonly FeedEntry[], seq: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.seq <= seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class FeedCache {
  /** Least recently used first. */
  private readonly tenants = new Map<string, Stretch>();
  private held = 0;

  constructor(private readonly read: FeedReader) {}

  /**
   * The tenant's feed after `afterSeq`, in order, at most `limit` entries, as stored at some moment
   * after `since` (ms since the epoch: when the subscription asking was claimed).
   */
  async after(tenantId: string, afterSeq: number, limit: number, since: number): Promise<FeedEntry[]> {
    for (let turn = 0; turn < 4; turn++) {
      const s = this.tenants.get(tenantId);
      if (!s || s.entries.length === 0) return this.start(tenantId, afterSeq, limit);
      // Behind the stretch: the store is read for this subscription alone.
      if (afterSeq < s.from) return this.read(tenantId, afterSeq, limit);
      this.touch(tenantId, s);
      if (s.validatedAt >= since && afterSeq <= s.through) {
        // A subscription behind the feed's end is served from the middle of a stretch known to be the
        // feed since its claim, when the stretch holds all it asks for; else only from a stretch read
        // to the end since then.
        const i = firstAfter(s.entries, afterSeq);
        if (s.checkedAt >= since || s.entries.length - i >= limit) return s.entries.slice(i, i + limit);
      }
      if (s.reading) {
        const started = s.reading.started;
        await s.reading.done;
        // A read that started after the claim serves; an older one is waited for, then one more is made.
        if (started >= since) continue;
        if (this.tenants.get(tenantId)?.reading) continue;
      }
      await this.extend(tenantId, s);
    }
    return this.read(tenantId, afterSeq, limit);
  }

  /** Forgets everything (the engine stops). */
  clear(): void {
    this.tenants.clear();
    this.held = 0;
  }

  /** A first read for the tenant: what it returns becomes the tenant's stretch. */
  private async start(tenantId: string, afterSeq: number, limit: number): Promise<FeedEntry[]> {
    const started = Date.now();
    const rows = await this.read(tenantId, afterSeq, limit);
    if (rows.length > 0 && !this.tenants.has(tenantId)) {
      const s: Stretch = {
        from: afterSeq,
        through: rows[rows.length - 1]!.seq,
        entries: rows.slice(),
        checkedAt: rows.length < limit ? started : 0,
        validatedAt: started,
        reading: null,
      };
      this.tenants.set(tenantId, s);
      this.held += s.entries.length;
      this.bound(tenantId, s);
    }
    return rows;
  }

  /** Reads the tenant's feed from the stretch's last entry on: that entry must be as held, then what follows is added. */
  private extend(tenantId: string, s: Stretch): Promise<void> {
    const started = Date.now();
    const reading: { started: number; done: Promise<void> } = { started, done: Promise.resolve() };
    reading.done = (async () => {
      try {
        const last = s.entries[s.entries.length - 1]!;
        const rows = await this.read(tenantId, last.seq - 1, TAIL_READ + 1);
        if (this.tenants.get(tenantId) !== s) return;
        if (rows.length === 0 || !sameEntry(rows[0]!, last)) {
          // Not the feed it was (a reset, or pruned up to here): start again from the store.
          this.drop(tenantId);
          return;
        }
        for (let i = 1; i < rows.length; i++) s.entries.push(rows[i]!);
        this.held += rows.length - 1;
        s.through = rows[rows.length - 1]!.seq;
        s.validatedAt = started;
        // A full read may have left entries behind it: the next one reads on.
        if (rows.length < TAIL_READ + 1) s.checkedAt = started;
        this.bound(tenantId, s);
      } finally {
        if (s.reading === reading) s.reading = null;
      }
    })();
    s.reading = reading;
    return reading.done;
  }

  private touch(tenantId: string, s: Stretch): void {
    this.tenants.delete(tenantId);
    this.tenants.set(tenantId, s);
  }

  private drop(tenantId: string): void {
    const s = this.tenants.get(tenantId);
    if (!s) return;
    this.tenants.delete(tenantId);
    this.held -= s.entries.length;
  }

  /** Keeps the bounds: the tenant's oldest entries go, then the least recently used tenants. */
  private bound(tenantId: string, s: Stretch): void {
    const excess = s.entries.length - MAX_ENTRIES_PER_TENANT;
    if (excess > 0) {
      s.from = s.entries[excess - 1]!.seq;
      s.entries.splice(0, excess);
      this.held -= excess;
    }
    for (const other of this.tenants.keys()) {
      if (this.held <= MAX_ENTRIES) break;
      if (other !== tenantId) this.drop(other);
    }
  }
}
