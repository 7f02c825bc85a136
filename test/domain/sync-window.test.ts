import { describe, expect, it } from "vitest";
import { EMPTY_WINDOW, MAX_BOUNDARY_SKIP, compareDateTimes, nextPageQuery, takePage, type SyncedRecord } from "../../src/domain/sync-window.js";

const r = (id: string, lastUpdateDateTime: string): SyncedRecord => ({ id, lastUpdateDateTime });

describe("time-boundary paging", () => {
  it("starts without a filter and moves the boundary to the page's last instant", () => {
    expect(nextPageQuery(EMPTY_WINDOW, 3)).toEqual({ filter: null, skip: 0, top: 3 });
    const out = takePage(EMPTY_WINDOW, [r("1", "2026-11-01T10:00:00Z"), r("2", "2026-11-01T10:00:01Z"), r("3", "2026-11-01T10:00:01Z")], 3);
    expect(out.fresh.map((x) => x.id)).toEqual(["1", "2", "3"]);
    expect(out.window).toEqual({ since: "2026-11-01T10:00:01Z", takenAtSince: ["2", "3"] });
    expect(out.caughtUp).toBe(false);
    expect(nextPageQuery(out.window, 3)).toEqual({ filter: "lastUpdateDateTime ge 2026-11-01T10:00:01Z", skip: 0, top: 3 });
  });

  it("drops the records at the boundary it already took, and keeps new ones of the same instant", () => {
    const window = { since: "2026-11-01T10:00:01Z", takenAtSince: ["2", "3"] };
    const out = takePage(
      window,
      [r("2", "2026-11-01T10:00:01Z"), r("3", "2026-11-01T10:00:01Z"), r("4", "2026-11-01T10:00:01Z"), r("5", "2026-11-01T10:00:02Z")],
      10,
    );
    expect(out.fresh.map((x) => x.id)).toEqual(["4", "5"]);
    expect(out.window).toEqual({ since: "2026-11-01T10:00:02Z", takenAtSince: ["5"] });
    expect(out.caughtUp).toBe(true);
  });

  it("takes a record again when it changed after it was taken (a later instant)", () => {
    const window = { since: "2026-11-01T10:00:01Z", takenAtSince: ["2"] };
    const out = takePage(window, [r("2", "2026-11-01T10:05:00Z")], 10);
    expect(out.fresh.map((x) => x.id)).toEqual(["2"]);
  });

  it("treats 7-digit fractions as the same instant as shorter ones", () => {
    expect(compareDateTimes("2026-11-01T10:00:00.5Z", "2026-11-01T10:00:00.5000000Z")).toBe(0);
    expect(compareDateTimes("2026-11-01T10:00:00.1234567Z", "2026-11-01T10:00:00.1234568Z")).toBe(-1);
    const out = takePage({ since: "2026-11-01T10:00:00.5000000Z", takenAtSince: ["9"] }, [r("9", "2026-11-01T10:00:00.5Z")], 5);
    expect(out.fresh).toEqual([]);
  });

  it("steps over a crowded instant with $skip, within the service's limit", () => {
    const window = { since: "2026-11-01T10:00:00Z", takenAtSince: ["1", "2"] };
    const out = takePage(window, [r("1", "2026-11-01T10:00:00Z"), r("2", "2026-11-01T10:00:00Z")], 2);
    expect(out.crowded).toBe(true);
    expect(nextPageQuery(out.window, 2, true)).toEqual({ filter: "lastUpdateDateTime ge 2026-11-01T10:00:00Z", skip: 2, top: 2 });
    const many = { since: "2026-11-01T10:00:00Z", takenAtSince: Array.from({ length: MAX_BOUNDARY_SKIP + 1 }, (_, i) => String(i)) };
    expect(() => nextPageQuery(many, 2, true)).toThrow(/more than 500 records share the instant/);
  });

  it("refuses a page that does not honour the filter or the order, rather than lose records", () => {
    expect(() => takePage({ since: "2026-11-01T10:00:00Z", takenAtSince: [] }, [r("1", "2026-11-01T09:00:00Z")], 5)).toThrow(/before the boundary/);
    expect(() => takePage(EMPTY_WINDOW, [r("1", "2026-11-01T10:00:00Z"), r("2", "2026-11-01T09:00:00Z")], 5)).toThrow(/out of lastUpdateDateTime order/);
    expect(() => takePage(EMPTY_WINDOW, [r("1", "yesterday")], 5)).toThrow(/no valid lastUpdateDateTime/);
  });
});
