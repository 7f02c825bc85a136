import { MAX_FILTER_INSTANT, MAX_STORED_INSTANT, MIN_FILTER_INSTANT, MIN_STORED_INSTANT } from "./limits.js";

/**
 * Date-times as Triage accepts them: an ISO 8601 / RFC 3339 instant with a zone (Z or ±hh:mm), a date
 * that exists in the calendar, within a range. JavaScript's Date.parse is not used to decide: it reads
 * zone-less times in the server's local time and rolls 2026-02-30 over into March.
 */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:\d{2})$/;

export type InstantCheck = { ok: true; value: string; ms: number } | { ok: false; reason: string };

export interface InstantRange {
  min: string;
  max: string;
}

export const STORED_RANGE: InstantRange = { min: MIN_STORED_INSTANT, max: MAX_STORED_INSTANT };
export const FILTER_RANGE: InstantRange = { min: MIN_FILTER_INSTANT, max: MAX_FILTER_INSTANT };

export const EXAMPLE_INSTANT = "2026-04-01T08:00:00Z";

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** The instant `raw` names, as fixed-width UTC ISO 8601 with milliseconds, or why it names none. */
export function checkInstant(raw: unknown, range: InstantRange = STORED_RANGE): InstantCheck {
  if (typeof raw !== "string") return { ok: false, reason: `must be a date-time string such as ${EXAMPLE_INSTANT}` };
  const m = INSTANT.exec(raw);
  if (!m) {
    const zoneless = /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(raw);
    return {
      ok: false,
      reason: zoneless
        ? `must be an ISO 8601 date-time with a time zone ('Z' or an offset such as +01:00), such as ${EXAMPLE_INSTANT}`
        : `must be an ISO 8601 date-time, such as ${EXAMPLE_INSTANT}`,
    };
  }
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as [string, string, string, string, string, string, string | undefined, string | undefined, string];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12) return { ok: false, reason: `is not a date: there is no month ${mo}` };
  if (day < 1 || day > daysInMonth(year, month)) return { ok: false, reason: `is not a date: there is no day ${d} in month ${mo} of ${y}` };
  if (hour > 23 || minute > 59 || second > 59) return { ok: false, reason: `is not a time of day: ${h}:${mi}${s === undefined ? "" : `:${s}`}` };
  let offset = 0;
  if (zone !== "Z" && zone !== "z") {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return { ok: false, reason: `has an offset out of range: ${zone}` };
    offset = (zone.startsWith("-") ? -1 : 1) * (oh * 60 + om);
  }
  const ms3 = frac === undefined ? "000" : frac.slice(0, 3).padEnd(3, "0"); // truncated to milliseconds
  const millis = Number(ms3);
  let ms: number;
  if (year >= 100) ms = Date.UTC(year, month - 1, day, hour, minute - offset, second, millis);
  else {
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day); // unlike Date.UTC, does not map years 0–99 to 19xx
    date.setUTCHours(hour, minute - offset, second, millis);
    ms = date.getTime();
  }
  const [min, max] = rangeMs(range);
  if (ms < min || ms > max) {
    return { ok: false, reason: `is outside the accepted range, ${range.min} to ${range.max} in UTC` };
  }
  // In UTC the stored form is the given fields written at fixed width (what toISOString writes for
  // years 0000–9999), so the usual input (Defender's seven fraction digits and Z) is not formatted
  // through a Date; an offset moves the fields, and is formatted.
  const value = zone === "Z" || zone === "z" ? `${y}-${mo}-${d}T${h}:${mi}:${s ?? "00"}.${ms3}Z` : new Date(ms).toISOString();
  return { ok: true, value, ms };
}

const rangeMsCache = new WeakMap<InstantRange, readonly [number, number]>();

/** The range's bounds in milliseconds, parsed once per range rather than per check. */
function rangeMs(range: InstantRange): readonly [number, number] {
  let ms = rangeMsCache.get(range);
  if (!ms) rangeMsCache.set(range, (ms = [Date.parse(range.min), Date.parse(range.max)]));
  return ms;
}

/** The stored form: fixed-width UTC with milliseconds. */
const STORED_FORM = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{3}Z$/;

/** Whether `v` is a real instant in the stored form, which is then its own normalized form. */
function inStoredForm(v: string): boolean {
  const m = STORED_FORM.exec(v);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  return (
    year > 0 &&
    month >= 1 &&
    month <= 12 &&
    Number(m[3]) >= 1 &&
    Number(m[3]) <= daysInMonth(year, month) &&
    Number(m[4]) <= 23 &&
    Number(m[5]) <= 59 &&
    Number(m[6]) <= 59
  );
}

export function isInstant(raw: string): boolean {
  return checkInstant(raw).ok;
}

/** Fixed-width UTC ISO 8601 with milliseconds: how date-times are stored, so that text order is time order. */
export function normalizeDateTime(v: string): string {
  // Stored values are in this form already (checkInstant wrote them): spared a parse and a format.
  if (inStoredForm(v)) return v;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new Error(`not a date-time: ${v}`);
  return d.toISOString();
}
