/**
 * The Hunting page's KQL editor, without the DOM: the spans it draws from the language service's
 * answer (POST /triage/hunting/editor), that answer carried over an edit until the next one arrives,
 * completions filtered as a word is typed and applied, and the positions of Kusto's error messages.
 */
import type { KqlCompletionItem, KqlDiagnosticView, KqlEditorAnalysis, KqlToken } from "../../src/schema/triage-api.js";

export type { KqlCompletionItem, KqlDiagnosticView, KqlEditorAnalysis, KqlToken };

/** One drawn piece of the query: its class from the language service, and a diagnostic or run error over it. */
export interface Segment {
  start: number;
  end: number;
  kind: KqlToken["kind"] | null;
  diagnostic: KqlDiagnosticView | null;
  error: boolean;
}

/**
 * Cuts the text at every token, diagnostic and error boundary into segments that cover it exactly.
 * A diagnostic of no length marks the character it stands on (or, at the end, nothing: see `endMarks`);
 * the run error marks the token it falls in.
 */
export function segments(text: string, tokens: KqlToken[], diagnostics: KqlDiagnosticView[], errorAt: number | null): Segment[] {
  const n = text.length;
  const clip = (v: number) => Math.max(0, Math.min(n, v));
  const marks = diagnostics.map((d) => ({ d, start: clip(d.start), end: clip(d.start + Math.max(1, d.length)) })).filter((m) => m.end > m.start);
  let error: { start: number; end: number } | null = null;
  if (errorAt !== null && errorAt < n) {
    const t = tokens.find((tk) => errorAt >= tk.start && errorAt < tk.start + tk.length);
    error = t ? { start: clip(t.start), end: clip(t.start + t.length) } : { start: errorAt, end: errorAt + 1 };
  }
  const cuts = new Set<number>([0, n]);
  for (const t of tokens) cuts.add(clip(t.start)).add(clip(t.start + t.length));
  for (const m of marks) cuts.add(m.start).add(m.end);
  if (error) cuts.add(error.start).add(error.end);
  const points = [...cuts].sort((a, b) => a - b);
  const out: Segment[] = [];
  let ti = 0;
  const sorted = [...tokens].sort((a, b) => a.start - b.start);
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i]!;
    const end = points[i + 1]!;
    while (ti < sorted.length && sorted[ti]!.start + sorted[ti]!.length <= start) ti++;
    const t = sorted[ti];
    const kind = t && t.start <= start && start < t.start + t.length ? t.kind : null;
    const diagnostic = marks.find((m) => m.start <= start && start < m.end)?.d ?? null;
    out.push({ start, end, kind, diagnostic, error: !!error && error.start <= start && start < error.end });
  }
  return out;
}

/** Diagnostics (and the run error) that stand after the last character: drawn as a mark at the end. */
export function endMarks(
  text: string,
  diagnostics: KqlDiagnosticView[],
  errorAt: number | null,
): { diagnostic: KqlDiagnosticView | null; error: boolean } | null {
  const d = diagnostics.find((x) => x.start >= text.length) ?? null;
  const error = errorAt !== null && errorAt >= text.length;
  return d || error ? { diagnostic: d, error } : null;
}

/**
 * The answer for `before` carried over to `after` until the language service answers for it: the
 * tokens and diagnostics wholly in the unchanged start keep their place, those wholly in the unchanged
 * end move with it, and those in the edited part are dropped. The completion stays as it was.
 */
export function carryOver(before: string, after: string, analysis: KqlEditorAnalysis): KqlEditorAnalysis {
  if (before === after) return analysis;
  const max = Math.min(before.length, after.length);
  let p = 0;
  while (p < max && before.charCodeAt(p) === after.charCodeAt(p)) p++;
  let s = 0;
  while (s < max - p && before.charCodeAt(before.length - 1 - s) === after.charCodeAt(after.length - 1 - s)) s++;
  const delta = after.length - before.length;
  const tail = before.length - s;
  function move<T extends { start: number; length: number }>(x: T): T | null {
    if (x.start + x.length <= p && x.length > 0) return x;
    if (x.start >= tail) return { ...x, start: x.start + delta };
    return null;
  }
  return {
    tokens: analysis.tokens.map(move).filter((x): x is KqlToken => x !== null),
    diagnostics: analysis.diagnostics.map(move).filter((x): x is KqlDiagnosticView => x !== null),
    ...(analysis.completion ? { completion: analysis.completion } : {}),
  };
}

export interface CompletionList {
  /** Where the accepted text starts; it replaces up to the caret (and the rest of the word there). */
  start: number;
  end: number;
  /** What has been typed of the word, from `start` to the caret. */
  typed: string;
  items: KqlCompletionItem[];
}

/**
 * The completions to show at the caret, from an answer that may be older than the text: it applies
 * while the text before its range is unchanged and only word characters were typed since, and its
 * items are narrowed to those that start with what was typed. An item that is exactly what was
 * typed, alone, is no offer at all.
 */
export function completionsAt(analysisText: string, analysis: KqlEditorAnalysis, text: string, caret: number, max = 50): CompletionList | null {
  const c = analysis.completion;
  if (!c || caret < c.start || text.slice(0, c.start) !== analysisText.slice(0, c.start)) return null;
  const typed = text.slice(c.start, caret);
  if (!/^[A-Za-z0-9_-]*$/.test(typed)) return null;
  const lower = typed.toLowerCase();
  const items = c.items.filter((i) => (i.before || i.label).toLowerCase().startsWith(lower)).slice(0, max);
  if (!items.length || (items.length === 1 && items[0]!.before.trim() === typed)) return null;
  // The rest of the word under the caret is replaced too.
  const rest = /^[A-Za-z0-9_-]*/.exec(text.slice(caret))![0];
  return { start: c.start, end: caret + rest.length, typed, items };
}

/** The text and caret after accepting an item: its text replaces the range, the caret goes between its two parts. */
export function applyCompletion(text: string, list: CompletionList, item: KqlCompletionItem): { text: string; caret: number } {
  const next = text.slice(0, list.start) + item.before + item.after + text.slice(list.end);
  return { text: next, caret: list.start + item.before.length };
}

/** The 1-based line and column of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** The `[line:position=L:P]` a Kusto error names, as an offset into the query (both 1-based in the message). */
export function errorPosition(message: string, text: string): { line: number; column: number; offset: number } | null {
  const m = /\[line:position=(\d+):(\d+)\]/.exec(message);
  if (!m) return null;
  const line = Number(m[1]);
  const column = Number(m[2]);
  const lines = text.split("\n");
  if (line < 1 || line > lines.length) return null;
  let offset = 0;
  for (let i = 0; i < line - 1; i++) offset += lines[i]!.length + 1;
  return { line, column, offset: Math.min(text.length, offset + Math.max(0, column - 1)) };
}

/** The chart a query asks for with `render`, if any. */
export function renderKind(text: string): "timechart" | "columnchart" | "barchart" | null {
  const m = /\|\s*render\s+(timechart|columnchart|barchart)\b[^|]*$/.exec(text.replace(/\/\/[^\n]*/g, "").trimEnd());
  return m ? (m[1] as "timechart" | "columnchart" | "barchart") : null;
}
