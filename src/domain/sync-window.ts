/**
 * Time-boundary paging over a Graph collection ordered by `lastUpdateDateTime` ascending, as
 * integrators page the security API: `$skip` stays at 0, and after each page the filter moves to
 * `lastUpdateDateTime ge <the page's last value>`. `$skip` walks are refused by the real service past
 * 500 and lose records that change while the walk runs; a moving time boundary does neither.
 *
 * `ge` (not `gt`) keeps records that share the boundary's instant with the last record of a page: the
 * ids already taken at that instant are remembered and dropped when the next page repeats them. Only
 * when a whole page holds nothing but such repeats (more records share one instant than a page holds)
 * does the window step over them with `$skip`, bounded by the service's own `$skip` limit.
 */

/** Where one collection's sync stands: the boundary reached, and the ids already taken at it. */
export interface SyncWindow {
  /** The largest `lastUpdateDateTime` taken so far, exactly as the source wrote it; null before the first page. */
  since: string | null;
  /** Ids of records taken whose `lastUpdateDateTime` equals `since`. */
  takenAtSince: string[];
}

export interface SyncedRecord {
  id: string;
  lastUpdateDateTime: string;
}

/** The real service refuses `$skip` above 500 on the security collections. */
export const MAX_BOUNDARY_SKIP = 500;

export const EMPTY_WINDOW: SyncWindow = { since: null, takenAtSince: [] };

/**
 * The query of the next page: the filter on the boundary, and a `$skip` only inside a crowded instant
 * (where the order among records of one instant is the source's tie-break, which Graph does not
 * document: a source that reorders ties between requests can make such a step miss a record).
 */
export function nextPageQuery(window: SyncWindow, top: number, crowded = false): { filter: string | null; skip: number; top: number } {
  if (window.since === null) return { filter: null, skip: 0, top };
  const skip = crowded ? window.takenAtSince.length : 0;
  if (skip > MAX_BOUNDARY_SKIP)
    throw new Error(
      `more than ${MAX_BOUNDARY_SKIP} records share the instant ${window.since}: the source's $skip limit cannot step over them (use a larger page with --page-size)`,
    );
  return { filter: `lastUpdateDateTime ge ${window.since}`, skip, top };
}

/** Milliseconds since the epoch of a Graph date-time, or NaN; sub-millisecond digits only order equal instants. */
function instant(value: string): number {
  return Date.parse(value);
}

/** Orders two Graph date-times as instants, then by their text (7-digit fractions beyond milliseconds). */
export function compareDateTimes(a: string, b: string): number {
  const d = instant(a) - instant(b);
  if (d !== 0 && !Number.isNaN(d)) return d < 0 ? -1 : 1;
  const fa = fraction(a);
  const fb = fraction(b);
  return fa < fb ? -1 : fa > fb ? 1 : 0;
}

/** The fractional seconds of a date-time, padded to 7 digits, so that "…:00.5Z" and "…:00.5000000Z" are equal. */
function fraction(value: string): string {
  const m = /\.(\d+)/.exec(value);
  return (m?.[1] ?? "").padEnd(7, "0").slice(0, 7);
}

export interface PageOutcome {
  /** Records of the page not taken before, in the page's order. */
  fresh: SyncedRecord[];
  /** The window after taking them. */
  window: SyncWindow;
  /** True when the source has nothing more past this page (it was not full). */
  caughtUp: boolean;
  /**
   * True when a full page held only records taken before: the instant at the boundary holds more
   * records than a page, so the next request must step over them with `$skip`.
   */
  crowded: boolean;
}

/**
 * Takes one page answered for `nextPageQuery(window, top)` (plus `skip` when crowded). The page must
 * be in ascending `lastUpdateDateTime` order; a record older than the boundary means the source did not
 * honour the filter or the order, which would lose records, so it is refused.
 */
export function takePage(window: SyncWindow, page: readonly SyncedRecord[], top: number): PageOutcome {
  const taken = new Set(window.takenAtSince);
  const fresh: SyncedRecord[] = [];
  let since = window.since;
  let atSince = new Set(taken);
  let previous: string | null = null;
  for (const record of page) {
    if (typeof record.lastUpdateDateTime !== "string" || Number.isNaN(instant(record.lastUpdateDateTime)))
      throw new Error(`record ${record.id} has no valid lastUpdateDateTime`);
    if (window.since !== null && compareDateTimes(record.lastUpdateDateTime, window.since) < 0)
      throw new Error(
        `the source answered record ${record.id} (lastUpdateDateTime ${record.lastUpdateDateTime}) before the boundary ${window.since}: it does not honour $filter`,
      );
    if (previous !== null && compareDateTimes(record.lastUpdateDateTime, previous) < 0)
      throw new Error(
        `the source answered records out of lastUpdateDateTime order (${previous}, then ${record.lastUpdateDateTime}): it does not honour $orderby`,
      );
    previous = record.lastUpdateDateTime;
    const atBoundary = window.since !== null && compareDateTimes(record.lastUpdateDateTime, window.since) === 0;
    if (atBoundary && taken.has(record.id)) continue;
    fresh.push(record);
    if (since === null || compareDateTimes(record.lastUpdateDateTime, since) > 0) {
      since = record.lastUpdateDateTime;
      atSince = new Set();
    }
    if (compareDateTimes(record.lastUpdateDateTime, since) === 0) atSince.add(record.id);
  }
  const full = page.length >= top;
  return {
    fresh,
    window: { since, takenAtSince: [...atSince] },
    caughtUp: !full,
    crowded: full && fresh.length === 0,
  };
}
