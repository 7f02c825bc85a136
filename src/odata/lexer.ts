/**
 * The tokenizer shared by the `$filter` and `$orderby` parsers. It scans lazily, one token ahead of
 * what the parser has asked for, so the first error in the text is the one reported. Literals
 * (strings, numbers, date-times, GUIDs, qualified enum values) are decoded here; `true`, `false` and
 * `null` stay names because only the parser knows whether a name is a value or a property.
 *
 * Positions are 0-based offsets into the text (UTF-16 code units, as JavaScript counts them).
 */
import type { Literal } from "../query/filter-ast.js";
import { ODataSyntaxError } from "./syntax-error.js";
import { daysInMonth, FILTER_RANGE } from "../schema/date-time.js";

export type Punctuation = "(" | ")" | "," | "/" | ":";

export type Token =
  /** An identifier or a dotted qualified name (e.g. a type cast `microsoft.graph.security.userEvidence`). */
  | { kind: "name"; text: string; position: number }
  | { kind: "literal"; literal: Literal; text: string; position: number }
  | { kind: Punctuation; text: Punctuation; position: number }
  | { kind: "eof"; text: ""; position: number };

/** Texts longer than this are excerpted around the error position in messages. */
const MAX_QUOTED_LENGTH = 120;
const EXCERPT_RADIUS = 40;

/**
 * The client-facing error: `Syntax error at position 14 in 'status eq 'active' and': expected an
 * expression after 'and'.` `detail` starts in lower case and has no final period.
 */
export function syntaxError(text: string, position: number, detail: string): ODataSyntaxError {
  let where: string;
  if (text.length <= MAX_QUOTED_LENGTH) {
    where = `in '${text}'`;
  } else {
    const from = Math.max(0, position - EXCERPT_RADIUS);
    const to = Math.min(text.length, position + EXCERPT_RADIUS);
    where = `near '${from > 0 ? "…" : ""}${text.slice(from, to)}${to < text.length ? "…" : ""}'`;
  }
  return new ODataSyntaxError(`Syntax error at position ${position} ${where}: ${detail}.`, position);
}

/** How a token is named in an error message: `'and'`, `the string 'x'`, `the end of the expression`. */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case "eof":
      return "the end of the expression";
    case "literal":
      switch (token.literal.kind) {
        case "string":
          return `the string ${token.text}`;
        case "number":
          return `the number ${token.text}`;
        case "datetime":
          return `the date-time ${token.text}`;
        case "guid":
          return `the GUID ${token.text}`;
        case "enum":
          return `the enum value ${token.text}`;
        default:
          return `'${token.text}'`;
      }
    default:
      return `'${token.text}'`;
  }
}

/** `, but found 'x'` — or nothing at the end of the text, where the position already says it all. */
export function foundClause(token: Token): string {
  return token.kind === "eof" ? "" : `, but found ${describeToken(token)}`;
}

// Identifier characters as in the OData ABNF (odataIdentifier), Unicode included.
const IDENT = String.raw`[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Nd}\p{Mn}\p{Mc}\p{Pc}\p{Cf}]*`;
const NAME_RE = new RegExp(`${IDENT}(?:\\.${IDENT})*`, "uy");
const NAME_START_RE = /[\p{L}\p{Nl}_]/uy;
const WHITESPACE_RE = /\s+/y;
/** The extent of an unquoted literal: everything a number, date-time or GUID can contain, plus anything glued to it. */
const LITERAL_WORD_RE = /[\p{L}\p{N}_.:+-]+/uy;
/** A hex run followed by '-': the start of a GUID such as `deadbeef-…`, never a name (names cannot contain '-'). */
const HEX_DASH_RE = /[0-9a-f]+-/iy;

const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMBER_RE = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:\d{2})?)?$/;
/** After a zone-less date-time: a space and hh:mm, i.e. an unencoded '+' that URL decoding turned into a space. */
const LOST_PLUS_RE = /[ ]\d{2}:\d{2}/y;

const SYMBOL_HINTS: Record<string, string> = {
  "==": "OData writes equality as 'eq'",
  "=": "OData writes equality as 'eq'",
  "!=": "OData writes inequality as 'ne'",
  "<>": "OData writes inequality as 'ne'",
  ">=": "OData writes 'greater than or equal' as 'ge'",
  "<=": "OData writes 'less than or equal' as 'le'",
  ">": "OData writes 'greater than' as 'gt'",
  "<": "OData writes 'less than' as 'lt'",
  "&&": "OData writes 'and'",
  "||": "OData writes 'or'",
  "!": "OData writes negation as 'not'",
  '"': "OData strings are written in single quotes, e.g. 'active'",
  "[": "lists are written in parentheses, e.g. status in ('active','resolved')",
};

/** Typed literal prefixes a client might send (OData v3 habits, or v4 types Graph's security API does not use). */
const TYPED_LITERAL_HINTS: Record<string, string> = {
  datetime: "datetime'…' is OData v3 syntax; write the date-time unquoted, e.g. 2025-02-07T18:28:27Z",
  datetimeoffset: "datetimeoffset'…' is OData v3 syntax; write the date-time unquoted, e.g. 2025-02-07T18:28:27Z",
  guid: "guid'…' is OData v3 syntax; write the GUID unquoted, e.g. 0f8fad5b-d9cb-469f-a165-70867728950e",
  duration: "duration literals are not supported",
  binary: "binary literals are not supported",
  geography: "geography literals are not supported",
  geometry: "geometry literals are not supported",
};

const PUNCTUATION = new Set<string>(["(", ")", ",", "/", ":"]);

export class Lexer {
  private readonly tokens: Token[] = [];
  /** Where scanning resumes. */
  private offset = 0;
  /** Index in `tokens` of the next token the parser will consume. */
  private index = 0;

  constructor(readonly text: string) {}

  /** The token `ahead` places after the next one (0 = the next one); past the end, the eof token. */
  peek(ahead = 0): Token {
    while (this.tokens.length <= this.index + ahead) {
      const last = this.tokens[this.tokens.length - 1];
      if (last?.kind === "eof") return last;
      this.tokens.push(this.scan());
    }
    return this.tokens[this.index + ahead] as Token;
  }

  next(): Token {
    const token = this.peek();
    if (token.kind !== "eof") this.index++;
    return token;
  }

  error(position: number, detail: string): ODataSyntaxError {
    return syntaxError(this.text, position, detail);
  }

  private match(re: RegExp, at: number): string | undefined {
    re.lastIndex = at;
    return re.exec(this.text)?.[0];
  }

  private scan(): Token {
    const text = this.text;
    this.offset += this.match(WHITESPACE_RE, this.offset)?.length ?? 0;
    const start = this.offset;
    if (start >= text.length) return { kind: "eof", text: "", position: text.length };

    const c = text.charAt(start);
    if (PUNCTUATION.has(c)) {
      this.offset++;
      return { kind: c as Punctuation, text: c as Punctuation, position: start };
    }
    if (c === "'") return this.scanString(start);
    if (isDigit(c) || (c === "-" && isDigit(text.charAt(start + 1)))) return this.scanLiteralWord(start);
    if (this.match(NAME_START_RE, start) !== undefined) {
      if (this.match(HEX_DASH_RE, start) !== undefined) return this.scanLiteralWord(start);
      return this.scanName(start);
    }
    throw this.unexpectedCharacter(start);
  }

  /** A quoted string, `''` standing for one quote. `start` is the opening quote. */
  private readQuoted(start: number): { value: string; end: number } {
    const text = this.text;
    let i = start + 1;
    for (;;) {
      const close = text.indexOf("'", i);
      if (close < 0) {
        const opening = text.slice(start, start + 20);
        throw this.error(start, `the string ${opening}${text.length > start + 20 ? "…" : ""} has no closing quote (')`);
      }
      if (text.charAt(close + 1) === "'") {
        i = close + 2;
        continue;
      }
      return { value: text.slice(start + 1, close).replaceAll("''", "'"), end: close + 1 };
    }
  }

  private scanString(start: number): Token {
    const { value, end } = this.readQuoted(start);
    this.offset = end;
    return { kind: "literal", literal: { kind: "string", value }, text: this.text.slice(start, end), position: start };
  }

  private scanName(start: number): Token {
    const text = this.text;
    const name = this.match(NAME_RE, start) as string; // the caller checked a name starts here
    let end = start + name.length;
    if (text.charAt(end) === ".") {
      throw this.error(start, `'${name}.' is not a valid name: a '.' must be followed by a name`);
    }
    if (text.charAt(end) === "'") {
      if (name.includes(".")) {
        // microsoft.graph.security.incidentStatus'active'
        const quoted = this.readQuoted(end);
        end = quoted.end;
        this.offset = end;
        return {
          kind: "literal",
          literal: { kind: "enum", type: name, value: quoted.value },
          text: text.slice(start, end),
          position: start,
        };
      }
      const hint = TYPED_LITERAL_HINTS[name.toLowerCase()];
      if (hint !== undefined) throw this.error(start, hint);
    }
    this.offset = end;
    return { kind: "name", text: name, position: start };
  }

  /** A number, date-time or GUID: the whole run of literal characters must be exactly one of them. */
  private scanLiteralWord(start: number): Token {
    const raw = this.match(LITERAL_WORD_RE, start) ?? this.text.charAt(start);
    const end = start + raw.length;
    const token = (literal: Literal): Token => {
      this.offset = end;
      return { kind: "literal", literal, text: raw, position: start };
    };

    if (GUID_RE.test(raw)) return token({ kind: "guid", value: raw.toLowerCase() });

    const dt = DATETIME_RE.exec(raw);
    if (dt) return token(this.dateTime(raw, dt, start, end));

    if (NUMBER_RE.test(raw)) {
      const value = Number(raw);
      if (!Number.isFinite(value)) throw this.error(start, `the number ${raw} is too large`);
      return token({ kind: "number", value: value === 0 ? 0 : value, raw }); // no -0
    }

    if (/^-?\d{4}-\d/.test(raw) || /^\d+[Tt:]/.test(raw)) {
      throw this.error(start, `'${raw}' is not a valid date-time; write it as 2025-02-07T18:28:27Z or 2025-02-07`);
    }
    if (/^[0-9a-f]{8}-/i.test(raw) || /^[a-f]/i.test(raw)) {
      throw this.error(start, `'${raw}' is not a valid GUID; write it as 0f8fad5b-d9cb-469f-a165-70867728950e`);
    }
    if (/^-?\d/.test(raw)) throw this.error(start, `'${raw}' is not a valid number`);
    throw this.error(start, `'${raw}' is not a valid literal`);
  }

  private dateTime(raw: string, m: RegExpExecArray, start: number, end: number): Literal {
    const [, y, mo, d, h, mi, s, frac, zone] = m;
    const year = Number(y);
    const month = Number(mo);
    const day = Number(d);
    const bad = (why: string) => this.error(start, `'${raw}' is not a valid date-time: ${why}`);

    if (month < 1 || month > 12) throw bad(`there is no month ${mo}`);
    if (day < 1 || day > daysInMonth(year, month)) throw bad(`there is no day ${d} in month ${mo}`);

    let hour = 0;
    let minute = 0;
    let second = 0;
    let millis = 0;
    let offsetMinutes = 0;
    if (h !== undefined) {
      hour = Number(h);
      minute = Number(mi);
      second = s === undefined ? 0 : Number(s);
      if (hour > 23) throw bad(`the hour ${h} is out of range`);
      if (minute > 59) throw bad(`the minute ${mi} is out of range`);
      if (second > 59) throw bad(`the second ${s} is out of range`);
      if (frac !== undefined) {
        if (frac.length > 7) throw bad(`fractional seconds can have at most 7 digits`);
        millis = Number(frac.slice(0, 3).padEnd(3, "0")); // truncated to milliseconds
      }
      if (zone === undefined) {
        const lostPlus = this.match(LOST_PLUS_RE, end) !== undefined;
        throw bad(
          lostPlus
            ? `it has no time zone. If you meant an offset such as +01:00, encode the '+' as %2B: in a URL '+' means a space`
            : `it needs a time zone, 'Z' or an offset such as +01:00`,
        );
      }
      if (zone !== "Z" && zone !== "z") {
        const oh = Number(zone.slice(1, 3));
        const om = Number(zone.slice(4, 6));
        if (oh > 23 || om > 59) throw bad(`the offset ${zone} is out of range`);
        offsetMinutes = (zone.startsWith("-") ? -1 : 1) * (oh * 60 + om);
      }
    }

    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day); // unlike Date.UTC, does not map years 0–99 to 19xx
    date.setUTCHours(hour, minute - offsetMinutes, second, millis);
    if (date.getTime() < Date.parse(FILTER_RANGE.min) || date.getTime() > Date.parse(FILTER_RANGE.max)) {
      throw bad(`it is outside the range of Edm.DateTimeOffset, ${FILTER_RANGE.min} to ${FILTER_RANGE.max} in UTC`);
    }
    return { kind: "datetime", value: date.toISOString(), raw };
  }

  private unexpectedCharacter(at: number): ODataSyntaxError {
    const text = this.text;
    for (const symbol of Object.keys(SYMBOL_HINTS).sort((a, b) => b.length - a.length)) {
      if (text.startsWith(symbol, at)) {
        return this.error(at, `unexpected '${symbol}': ${SYMBOL_HINTS[symbol]}`);
      }
    }
    const code = text.codePointAt(at) ?? 0;
    const shown =
      code < 0x20 || code === 0x7f || (code >= 0xd800 && code <= 0xdfff)
        ? `U+${code.toString(16).toUpperCase().padStart(4, "0")}`
        : `'${String.fromCodePoint(code)}'`;
    return this.error(at, `unexpected character ${shown}`);
  }
}

function isDigit(c: string): boolean {
  return c >= "0" && c <= "9";
}
