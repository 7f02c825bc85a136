import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { checkInstant, FILTER_RANGE, normalizeDateTime } from "../../src/schema/date-time.js";
import { Value } from "@sinclair/typebox/value";
import { DateTime } from "../../src/schema/meta.js";

describe("checkInstant", () => {
  it("accepts zoned ISO 8601 instants and gives them in UTC with milliseconds", () => {
    const cases: [string, string][] = [
      ["2026-03-01T10:00:00Z", "2026-03-01T10:00:00.000Z"],
      ["2026-03-01t10:00z", "2026-03-01T10:00:00.000Z"],
      ["2026-03-01T10:00:00.1234567+02:00", "2026-03-01T08:00:00.123Z"],
      ["2024-02-29T23:30:00-01:00", "2024-03-01T00:30:00.000Z"],
      ["1900-01-01T00:00:00Z", "1900-01-01T00:00:00.000Z"],
      ["9999-12-31T18:59:59.999-05:00", "9999-12-31T23:59:59.999Z"],
    ];
    for (const [raw, utc] of cases) expect(checkInstant(raw), raw).toMatchObject({ ok: true, value: utc });
  });

  it("refuses what is not an instant with a zone, or not in the calendar, or out of range", () => {
    const cases: [string, RegExp][] = [
      ["2026-02-30T00:00:00Z", /no day 30/],
      ["2025-02-29T00:00:00Z", /no day 29/],
      ["2026-13-01T00:00:00Z", /no month 13/],
      ["2026-03-01T24:00:00Z", /time of day/],
      ["2026-03-01T10:60:00Z", /time of day/],
      ["2026-03-01T10:00:60Z", /time of day/],
      ["2026-03-01T10:00:00+24:00", /offset/],
      ["2026-03-01T10:00:00", /time zone/],
      ["2026-03-01 10:00:00", /time zone/],
      ["2026-03-01", /time zone/],
      ["2026-03-01T10:00:00+0200", /ISO 8601/],
      ["March 1, 2026", /ISO 8601/],
      ["0000-01-01T00:00:00Z", /range/],
      ["1899-12-31T23:59:59.999Z", /range/],
      ["9999-12-31T23:59:59-05:00", /range/],
      ["+010000-01-01T00:00:00Z", /ISO 8601/],
      ["2026-03-01T10:00:00Z\u0000", /ISO 8601/],
    ];
    for (const [raw, why] of cases) {
      const r = checkInstant(raw);
      expect(r.ok, raw).toBe(false);
      if (!r.ok) expect(r.reason, raw).toMatch(why);
    }
    expect(checkInstant(20260301).ok).toBe(false);
  });

  it("takes a wider range for $filter literals", () => {
    expect(checkInstant("0001-01-01T00:00:00Z", FILTER_RANGE).ok).toBe(true);
    expect(checkInstant("0000-12-31T23:59:59Z", FILTER_RANGE).ok).toBe(false);
  });

  it("agrees with Date on every valid instant in range", () => {
    const instant = fc.date({ min: new Date("1900-01-02T00:00:00Z"), max: new Date("9999-12-30T00:00:00Z"), noInvalidDate: true });
    fc.assert(
      fc.property(instant, fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }), (date, offset) => {
        const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 23);
        const abs = Math.abs(offset);
        const zone = `${offset < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
        expect(checkInstant(local + zone)).toMatchObject({ ok: true, value: date.toISOString() });
      }),
      { numRuns: 500 },
    );
  });

  it("is the date-time format TypeBox checks schemas with", () => {
    expect(Value.Check(DateTime(), "2026-03-01T10:00:00Z")).toBe(true);
    expect(Value.Check(DateTime(), "2026-02-30T10:00:00Z")).toBe(false);
    expect(Value.Check(DateTime(), "2026-03-01T10:00:00")).toBe(false);
  });
});

describe("the stored form", () => {
  it("is what checkInstant and normalizeDateTime give for any instant in the range, whatever form it came in", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("9998-12-31T23:59:59Z"), noInvalidDate: true }),
        fc.constantFrom("Z", "+02:00", "-05:30"),
        (d, zone) => {
          const stored = d.toISOString();
          const check = checkInstant(stored);
          expect(check).toEqual({ ok: true, value: stored, ms: d.getTime() });
          expect(normalizeDateTime(stored)).toBe(stored);
          // The same instant written with an offset comes back in the stored form.
          const offsetMs = zone === "Z" ? 0 : (zone.startsWith("-") ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4))) * 60_000;
          const local = new Date(d.getTime() + offsetMs).toISOString().slice(0, 23) + zone;
          const again = checkInstant(local);
          if (again.ok) expect(again.value).toBe(stored);
          expect(normalizeDateTime(local)).toBe(stored);
        },
      ),
    );
  });

  it("is written from UTC input's own fields as a Date would write it: any fraction, no seconds, lowercase t and z", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date("1900-01-02T00:00:00Z"), max: new Date("9998-12-31T23:59:59Z"), noInvalidDate: true }),
        fc.constantFrom("", "seconds", "1", "12", "123", "1234567", "123456789"),
        fc.boolean(),
        (d, form, lower) => {
          const iso = d.toISOString();
          const base = form === "" ? iso.slice(0, 16) : iso.slice(0, 19);
          const text = form === "" || form === "seconds" ? base : `${base}.${form}`;
          const raw = lower ? `${text.slice(0, 10)}t${text.slice(11)}z` : `${text}Z`;
          // What a Date gives for the same instant, the fraction truncated to milliseconds.
          const millis = form === "" || form === "seconds" ? "000" : form.slice(0, 3).padEnd(3, "0");
          const expected = new Date(`${text.slice(0, form === "" ? 16 : 19)}${form === "" ? ":00" : ""}.${millis}Z`);
          expect(checkInstant(raw)).toEqual({ ok: true, value: expected.toISOString(), ms: expected.getTime() });
        },
      ),
      { numRuns: 500 },
    );
  });

  it("is not taken on trust: a day the calendar lacks is still refused or rolled over as before", () => {
    expect(checkInstant("2026-02-30T00:00:00.000Z").ok).toBe(false);
    expect(normalizeDateTime("2026-02-30T00:00:00.000Z")).toBe("2026-03-02T00:00:00.000Z");
    expect(normalizeDateTime("2024-02-29T23:59:59.999Z")).toBe("2024-02-29T23:59:59.999Z");
    expect(() => normalizeDateTime("2026-13-01T00:00:00.000Z")).toThrow();
  });
});
