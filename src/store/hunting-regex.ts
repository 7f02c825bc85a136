import type SQLite from "better-sqlite3";
import { RE2JS } from "re2js";

/**
 * Regular expressions of advanced hunting (`matches regex`, `extract()`). KQL's regular expressions are
 * RE2's. On SQLite they run in RE2JS (a JavaScript port of RE2: linear time in the text, whatever the
 * pattern), registered as SQL functions on every connection that runs hunting statements. On
 * PostgreSQL they run in its own engine (Henry Spencer's "advanced regular expressions"), bounded by
 * the statement timeout; its syntax differs from RE2's (`\b` is a backspace there, `\d` and `\w`
 * follow the locale, `.` matches a newline), so a pattern is accepted only from a subset both engines
 * read alike, and written out for PostgreSQL in PostgreSQL's spelling of it.
 */

export const REGEX_MATCH_FUNCTION = "triage_regex_match";
export const REGEX_EXTRACT_FUNCTION = "triage_regex_extract";

/** The longest pattern accepted, in characters. */
export const MAX_REGEX_LENGTH = 1000;
/** PostgreSQL's largest repetition count (RE_DUP_MAX). */
const MAX_REPEAT = 255;

export interface CheckedRegex {
  /** The pattern as PostgreSQL reads it the way RE2 reads the original. */
  postgres: string;
  /** The same, the whole pattern made capturing group 1 (after the leading options, where PostgreSQL wants them). */
  postgresGrouped: string;
  /** Capturing groups in the pattern. */
  groups: number;
}

/** Where RE2 and PostgreSQL read a pattern differently, or what this subset leaves out: the reason, for a 400. */
export class RegexRefused extends Error {}

const CLASS_ESCAPES: Record<string, string> = { d: "0-9", w: "0-9A-Za-z_", s: "\\t\\n\\f\\r " };
const POSIX_CLASSES: Record<string, string> = {
  alpha: "A-Za-z",
  digit: "0-9",
  alnum: "0-9A-Za-z",
  upper: "A-Z",
  lower: "a-z",
  space: "\\t\\n\\v\\f\\r ",
  xdigit: "0-9A-Fa-f",
  word: "0-9A-Za-z_",
};
const CONTROL_ESCAPES = new Set(["t", "n", "r", "f", "v"]);

/** A literal character written so that both engines read it as itself. */
function literal(ch: string): string {
  if (/^[A-Za-z0-9]$/.test(ch) || ch.codePointAt(0)! > 0x7f || ch === " ") return ch;
  if (ch === "\n") return "\\n";
  if (ch === "\t") return "\\t";
  if (ch === "\r") return "\\r";
  if (ch.codePointAt(0)! < 0x20) throw new RegexRefused("a control character other than a tab or a line break");
  return `\\${ch}`;
}

/**
 * Checks a KQL (RE2) pattern and writes it for PostgreSQL. Throws RegexRefused with the reason for a
 * pattern RE2 rejects, or one outside the subset: lookaround and backreferences (RE2 has none),
 * Unicode classes (`\p{…}`), `\Q…\E`, flags other than a leading `(?i)`, `(?s)`, `(?m)`, repetition
 * counts above 255, and for extract() lazy quantifiers (PostgreSQL gives a whole pattern one greediness).
 */
export function checkRegex(pattern: string, use: "match" | "extract"): CheckedRegex {
  if (pattern.length > MAX_REGEX_LENGTH) throw new RegexRefused(`a pattern longer than ${MAX_REGEX_LENGTH} characters`);
  try {
    RE2JS.compile(pattern);
  } catch (e) {
    throw new RegexRefused(`an invalid pattern (${e instanceof Error ? e.message.slice(0, 120) : "unknown"})`);
  }
  const chars = [...pattern];
  let i = 0;
  let out = "";
  let groups = 0;
  let dotAll = false;
  let multiline = false;
  let ci = false;
  const flags = /^\(\?([ism]+)\)/.exec(pattern);
  if (flags) {
    ci = flags[1]!.includes("i");
    dotAll = flags[1]!.includes("s");
    multiline = flags[1]!.includes("m");
    i = [...flags[0]].length;
  }
  const peek = (k = 0) => chars[i + k];
  while (i < chars.length) {
    const ch = chars[i]!;
    if (ch === "\\") {
      const next = peek(1);
      if (next === undefined) throw new RegexRefused("a pattern ending in a backslash");
      i += 2;
      if (next === "d" || next === "w" || next === "s") out += `[${CLASS_ESCAPES[next]}]`;
      else if (next === "D" || next === "W" || next === "S") out += `[^${CLASS_ESCAPES[next.toLowerCase()]}]`;
      else if (next === "b") out += "\\y";
      else if (next === "B") out += "\\Y";
      else if (next === "A") out += "\\A";
      else if (next === "z") out += "\\Z";
      else if (CONTROL_ESCAPES.has(next)) out += `\\${next}`;
      else if (next === "x") out += literal(hexEscape());
      else if (/^[!-/:-@[-`{-~]$/.test(next)) out += `\\${next}`;
      else throw new RegexRefused(`the escape '\\${next}'`);
      continue;
    }
    if (ch === "[") {
      out += bracket();
      continue;
    }
    if (ch === "(") {
      i++;
      if (peek() === "?") {
        if (peek(1) === ":") {
          i += 2;
          out += "(?:";
        } else if (peek(1) === "P" && peek(2) === "<") {
          // A named group is a numbered group to extract(); PostgreSQL has no names.
          while (i < chars.length && chars[i] !== ">") i++;
          i++;
          groups++;
          out += "(";
        } else throw new RegexRefused("flags or a group kind other than (?:…) inside the pattern");
      } else {
        groups++;
        out += "(";
      }
      continue;
    }
    if (ch === "*" || ch === "+" || ch === "?" || ch === "{") {
      let q = ch;
      i++;
      if (ch === "{") {
        const m = /^(\d+)(,(\d*))?\}/.exec(chars.slice(i).join(""));
        if (!m) {
          out += "\\{";
          continue;
        }
        if (Number(m[1]) > MAX_REPEAT || (m[3] && Number(m[3]) > MAX_REPEAT)) throw new RegexRefused(`a repetition count above ${MAX_REPEAT}`);
        q = `{${m[0]}`;
        i += m[0].length;
      }
      if (peek() === "?") {
        if (use === "extract") throw new RegexRefused("a lazy quantifier in extract() (the stores would pick different matches)");
        i++;
      }
      out += q;
      continue;
    }
    if (ch === ".") out += dotAll ? "." : "[^\\n]";
    else if (ch === "^" || ch === "$" || ch === "|" || ch === ")") out += ch;
    else out += literal(ch);
    i++;
  }
  const options = `${ci ? "i" : ""}${multiline ? "w" : ""}`;
  const lead = options ? `(?${options})` : "";
  return { postgres: `${lead}${out}`, postgresGrouped: `${lead}(${out})`, groups };

  function hexEscape(): string {
    let digits: string;
    if (peek() === "{") {
      const end = chars.indexOf("}", i);
      digits = chars.slice(i + 1, end).join("");
      i = end + 1;
    } else {
      digits = chars.slice(i, i + 2).join("");
      i += 2;
    }
    return String.fromCodePoint(parseInt(digits, 16));
  }

  /** A character class: ranges and single characters written out, \d \w \s and [:name:] as ASCII ranges. */
  function bracket(): string {
    i++;
    let body = "";
    let negated = false;
    if (peek() === "^") {
      negated = true;
      i++;
    }
    let first = true;
    while (i < chars.length && (chars[i] !== "]" || first)) {
      const c = chars[i]!;
      first = false;
      if (c === "[" && peek(1) === ":") {
        const end = chars.join("").indexOf(":]", i + 2);
        const name = chars.slice(i + 2, end).join("");
        const negatedClass = name.startsWith("^");
        const ranges = POSIX_CLASSES[negatedClass ? name.slice(1) : name];
        if (!ranges || negatedClass) throw new RegexRefused(`the class [:${name}:]`);
        body += ranges;
        i = end + 2;
        continue;
      }
      let item: string;
      if (c === "\\") {
        const next = chars[i + 1]!;
        i += 2;
        if (next === "d" || next === "w" || next === "s") {
          body += CLASS_ESCAPES[next];
          continue;
        }
        if (CONTROL_ESCAPES.has(next)) item = `\\${next}`;
        else if (next === "x") item = literal(hexEscape());
        else if (/^[!-/:-@[-`{-~]$/.test(next)) item = `\\${next}`;
        else throw new RegexRefused(`the escape '\\${next}' in a character class`);
      } else {
        item = c === "-" ? "\\-" : literal(c);
        i++;
      }
      // A range a-z: the dash between two items.
      if (peek() === "-" && peek(1) !== undefined && peek(1) !== "]") {
        i++;
        let hi = chars[i]!;
        if (hi === "\\") {
          const next = chars[i + 1]!;
          if (!/^[!-/:-@[-`{-~]$/.test(next)) throw new RegexRefused(`the escape '\\${next}' ending a range`);
          hi = next;
          i += 2;
        } else i++;
        body += `${item}-${literal(hi)}`;
        continue;
      }
      body += item;
    }
    i++;
    return `[${negated ? "^" : ""}${body}]`;
  }
}

/** Compiled patterns, bounded: a statement calls the function once per row with the same pattern. */
const compiled = new Map<string, RE2JS>();
function compile(pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (!re) {
    re = RE2JS.compile(pattern);
    if (compiled.size >= 64) compiled.delete(compiled.keys().next().value!);
    compiled.set(pattern, re);
  }
  return re;
}

/** Whether `text` holds a match of `pattern` anywhere (KQL's matches regex). */
export function regexMatch(text: unknown, pattern: unknown): number | null {
  if (typeof text !== "string" || typeof pattern !== "string") return null;
  return compile(pattern).matcher(text).find() ? 1 : 0;
}

/** The text of group `group` of the first match (KQL's extract()); null without a match. */
export function regexExtract(pattern: unknown, group: unknown, text: unknown): string | null {
  if (typeof text !== "string" || typeof pattern !== "string") return null;
  const m = compile(pattern).matcher(text);
  if (!m.find()) return null;
  const n = Number(group);
  if (!Number.isInteger(n) || n < 0 || n > m.groupCount()) return null;
  return m.group(n) ?? null;
}

/** Registers the regular-expression functions on a SQLite connection (the read workers do the same, in read-workers.ts). */
export function installRegex(conn: SQLite.Database): void {
  conn.function(REGEX_MATCH_FUNCTION, { deterministic: true, directOnly: true }, regexMatch);
  conn.function(REGEX_EXTRACT_FUNCTION, { deterministic: true, directOnly: true }, regexExtract);
}
