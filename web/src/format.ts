/**
 * How the app shows times: one format everywhere ("Oct 31, 2026, 22:04": the browser's locale and time
 * zone, a 24-hour clock, minutes), so the same instant reads the same on every page. The ISO value goes
 * in the <time> element's dateTime and title.
 */

export const TIME_FORMAT: Intl.DateTimeFormatOptions = {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
};
/** A day of the dashboard's day buckets: the date part of the time format. */
const DAY_FORMAT: Intl.DateTimeFormatOptions = { year: "numeric", month: "short", day: "numeric" };

export interface TimeFormat {
  /** An instant ("Oct 31, 2026, 22:04"); "—" when there is none, the text itself when it is not a date. */
  time(iso: string | null | undefined): string;
  /** A UTC day, "2026-10-31", as the dashboard buckets them ("Oct 31, 2026"; "Oct 31" on a chart's axis). */
  day(isoDay: string, axis?: boolean): string;
}

/** The format for a locale and time zone; the app uses the browser's (tests pin them). */
export function timeFormat(locale?: string, timeZone?: string): TimeFormat {
  const instant = new Intl.DateTimeFormat(locale, { ...TIME_FORMAT, timeZone });
  // Day buckets are UTC days: shown in UTC, or a zone west of UTC would show each as the day before.
  const day = new Intl.DateTimeFormat(locale, { ...DAY_FORMAT, timeZone: "UTC" });
  const axisDay = new Intl.DateTimeFormat(locale, { ...DAY_FORMAT, year: undefined, timeZone: "UTC" });
  return {
    time(iso) {
      if (!iso) return "—";
      const d = new Date(iso);
      return Number.isNaN(d.getTime()) ? iso : instant.format(d);
    },
    day(isoDay, axis = false) {
      const d = new Date(`${isoDay.slice(0, 10)}T00:00:00Z`);
      return Number.isNaN(d.getTime()) ? isoDay : (axis ? axisDay : day).format(d);
    },
  };
}

const browser = timeFormat();

/** Every time the app shows goes through here (or the <Time> element, which does). */
export function formatTime(iso: string | null | undefined): string {
  return browser.time(iso);
}

export function formatDay(isoDay: string, axis = false): string {
  return browser.day(isoDay, axis);
}

/** "3 d 4 h", "5 h 12 min", "40 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "—";
  const min = Math.round(ms / 60_000);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return "—";
  if (Array.isArray(v)) return v.length ? v.map((x) => formatValue(x)).join(", ") : "(none)";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}
