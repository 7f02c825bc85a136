import { MAX_DOCUMENT_BYTES, MAX_DOCUMENT_DEPTH } from "./limits.js";

/**
 * Checks on JSON values whose shape Triage does not otherwise check (free-form documents, whole request
 * bodies). The walks are iterative: a value nested 100,000 deep must get an answer, not overflow the stack
 * the way JSON.stringify and every recursive walker would.
 */

export type JsonProblem = { kind: "depth" | "nul"; path: string };

/**
 * U+0000, or a UTF-16 surrogate without its pair (a JSON "\ud800" escape): PostgreSQL refuses both
 * in text and jsonb — a stored one made every JSON query of the tenant fail — where SQLite keeps them.
 * String.prototype.isWellFormed (native, Node 20+) is used where present: TypeScript's ES2023 library
 * does not declare it, and it is faster than the regular expression kept for runtimes without it.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const nativeWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

export function unstorable(s: string): boolean {
  if (s.includes("\u0000")) return true;
  return nativeWellFormed ? !nativeWellFormed.call(s) : LONE_SURROGATE.test(s);
}

/**
 * Whether a JSON text may hold a string or key that `unstorable` refuses. Parsed JSON can hold U+0000
 * or an unpaired surrogate only through a \u escape (JSON.parse refuses raw control characters, and
 * text decoded from UTF-8 holds no lone surrogate), so a text without `\u0000` or `\uD800`–`\uDFFF`
 * escapes needs no walk of its parsed value; one with them is walked, which finds where.
 */
const UNSTORABLE_ESCAPE = /\\u(?:0000|[dD][89abcdefABCDEF])/;
export function mayHoldUnstorable(text: string): boolean {
  return UNSTORABLE_ESCAPE.test(text);
}

interface Frame {
  value: object;
  depth: number;
  parent: Frame | null;
  key: string | number | null;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `base` followed by one step: `.name`, `[3]` or `["odd key"]`. */
export function jsonPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  if (IDENTIFIER.test(key)) return base === "" ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(key)}]`;
}

function pathOf(frame: Frame, base: string, last?: string | number): string {
  const keys: (string | number)[] = last === undefined ? [] : [last];
  for (let f: Frame | null = frame; f && f.key !== null; f = f.parent) keys.push(f.key);
  let path = base;
  for (let i = keys.length - 1; i >= 0; i--) path = jsonPath(path, keys[i]!);
  return path;
}

/**
 * The first problem in `value`: an object or array deeper than `maxDepth` (the value itself is level
 * 1), or a string or key holding U+0000, which PostgreSQL cannot store in text or jsonb while SQLite
 * can — refusing it everywhere keeps both stores answering alike. `base` names the value in paths.
 */
export function findJsonProblem(value: unknown, base: string, maxDepth: number): JsonProblem | null {
  return inspect(value, base, maxDepth).problem;
}

/**
 * Bytes a JSON text can take per character of a string or key: a character is at most 3 bytes of
 * UTF-8, or 6 when JSON escapes it (\u001f); 24 covers any number, `true`, `false` and `null`.
 */
const BYTES_PER_CHAR = 6;
const BYTES_PER_SCALAR = 24;

/** The first problem, and an upper bound on the bytes of the value as JSON (to skip measuring small ones). */
function inspect(value: unknown, base: string, maxDepth: number): { problem: JsonProblem | null; bytesAtMost: number } {
  if (typeof value === "string") {
    return { problem: unstorable(value) ? { kind: "nul", path: base } : null, bytesAtMost: BYTES_PER_CHAR * value.length + 2 };
  }
  if (typeof value !== "object" || value === null) return { problem: null, bytesAtMost: BYTES_PER_SCALAR };
  let bytes = 0;
  const stack: Frame[] = [{ value, depth: 1, parent: null, key: null }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.depth > maxDepth) return { problem: { kind: "depth", path: pathOf(frame, base) }, bytesAtMost: Infinity };
    bytes += 2;
    // Indexed loops rather than entry pairs: this walks every evidence element of every alert ingested.
    const v = frame.value;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const child: unknown = v[i];
        bytes += 1;
        if (typeof child === "string") {
          bytes += BYTES_PER_CHAR * child.length + 2;
          if (unstorable(child)) return { problem: { kind: "nul", path: pathOf(frame, base, i) }, bytesAtMost: Infinity };
        } else if (typeof child === "object" && child !== null) {
          stack.push({ value: child, depth: frame.depth + 1, parent: frame, key: i });
        } else {
          bytes += BYTES_PER_SCALAR;
        }
      }
      continue;
    }
    const o = v as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      const child = o[key];
      // A separator, and a key with its quotes and colon.
      bytes += BYTES_PER_CHAR * key.length + 4;
      if (unstorable(key)) return { problem: { kind: "nul", path: pathOf(frame, base, key) }, bytesAtMost: Infinity };
      if (typeof child === "string") {
        bytes += BYTES_PER_CHAR * child.length + 2;
        if (unstorable(child)) return { problem: { kind: "nul", path: pathOf(frame, base, key) }, bytesAtMost: Infinity };
      } else if (typeof child === "object" && child !== null) {
        stack.push({ value: child, depth: frame.depth + 1, parent: frame, key });
      } else {
        bytes += BYTES_PER_SCALAR;
      }
    }
  }
  return { problem: null, bytesAtMost: bytes };
}

/** A problem as the sentence a client reads; `what` names the whole value ("value[0].customDetails"). */
export function describeJsonProblem(p: JsonProblem, what: string, maxDepth: number): string {
  if (p.kind === "nul") return nulMessage(p.path || what);
  return `${what} is nested more than ${maxDepth} levels deep (at ${p.path || what}).`;
}

export function nulMessage(path: string): string {
  return `${path} contains a NUL character (U+0000) or an unpaired UTF-16 surrogate, which no string may hold.`;
}

/**
 * A free-form document (customDetails, additionalData, an evidence element): at most
 * MAX_DOCUMENT_DEPTH levels, MAX_DOCUMENT_BYTES as JSON, no NUL. Returns the client's error message,
 * or null when the document is acceptable.
 */
export function checkDocument(
  value: unknown,
  path: string,
  maxDepth = MAX_DOCUMENT_DEPTH,
  maxBytes = MAX_DOCUMENT_BYTES,
  what = "a free-form document",
): string | null {
  const { problem, bytesAtMost } = inspect(value, path, maxDepth);
  if (problem) return describeJsonProblem(problem, path, maxDepth);
  if (bytesAtMost <= maxBytes) return null;
  // Measured only when the bound says it might be too large; safe now that the depth is bounded.
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? "");
  if (bytes > maxBytes) return `${path} is ${bytes} bytes as JSON; ${what} may hold at most ${maxBytes}.`;
  return null;
}
