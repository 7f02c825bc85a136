/**
 * The Hunting page's KQL editor: a textarea over a highlighted copy of its text. The highlighting,
 * the diagnostics and the completions are Microsoft's Kusto language service's, asked of the server
 * (POST /triage/hunting/editor) as the text changes: one request at a time, the latest text winning,
 * and the last answer carried over the edit until the next one arrives.
 */
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode, type RefObject } from "react";
import { api, ApiError } from "../api";
import {
  applyCompletion,
  carryOver,
  completionsAt,
  endMarks,
  lineColumn,
  segments,
  type CompletionList,
  type KqlCompletionItem,
  type KqlDiagnosticView,
  type KqlEditorAnalysis,
} from "../kql";
import { MAX_EDITOR_QUERY } from "../../../src/schema/limits.js";

/** Quiet time after a keystroke before the text is sent (a request is in flight at most once anyway). */
const DEBOUNCE_MS = 60;
/** Problems listed under the editor at most. */
const PROBLEMS_SHOWN = 5;

interface Answer {
  text: string;
  result: KqlEditorAnalysis;
}

/**
 * Asks the language service about the text as it changes; answers come back in order, stale ones still
 * useful. Completions are asked for only when `complete` says so (the last list cannot just be narrowed),
 * and the last answer that had them is kept apart.
 */
function useLanguageService(
  text: string,
  caret: RefObject<number>,
  complete: RefObject<boolean>,
): { answer: Answer | null; completions: Answer | null; unavailable: boolean; ask: (caret: number) => void } {
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [completions, setCompletions] = useState<Answer | null>(null);
  const [unavailable, setUnavailable] = useState(false);
  const wanted = useRef<{ text: string; caret: number | undefined } | null>(null);
  const busy = useRef(false);
  const stopped = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const textRef = useRef(text);
  textRef.current = text;

  const pump = async () => {
    if (busy.current || stopped.current || !wanted.current) return;
    const job = wanted.current;
    wanted.current = null;
    busy.current = true;
    try {
      const result = await api<KqlEditorAnalysis>("/triage/hunting/editor", { method: "POST", body: { query: job.text, caret: job.caret } });
      if (!stopped.current) {
        setAnswer({ text: job.text, result });
        if (result.completion) setCompletions({ text: job.text, result });
      }
    } catch (e) {
      // Without hunting (403) the editor stays plain text; the Run answer says why. Other failures wait for the next edit.
      if (e instanceof ApiError && (e.status === 403 || e.status === 401)) {
        stopped.current = true;
        setUnavailable(true);
      }
    } finally {
      busy.current = false;
      if (wanted.current) void pump();
    }
  };
  const ask = (at: number | undefined, delay = DEBOUNCE_MS) => {
    const t = textRef.current;
    clearTimeout(timer.current);
    // A longer query stays plain text (the hint says so): its analysis would hold the server too long.
    if (t.length > MAX_EDITOR_QUERY) return;
    // A request still waiting that wanted completions keeps wanting them.
    const where = at ?? (wanted.current?.caret !== undefined ? (caret.current ?? t.length) : undefined);
    wanted.current = { text: t, caret: where === undefined ? undefined : Math.max(0, Math.min(t.length, where)) };
    timer.current = setTimeout(() => void pump(), delay);
  };
  useEffect(() => {
    ask(complete.current ? (caret.current ?? text.length) : undefined, answer ? DEBOUNCE_MS : 0);
    // Asks on each new text; the caret is read as it is then.
  }, [text]);
  useEffect(
    () => () => {
      stopped.current = true;
      clearTimeout(timer.current);
    },
    [],
  );
  return { answer, completions, unavailable, ask: (at) => ask(at, 0) };
}

function Highlighted({ text, analysis, errorAt }: { text: string; analysis: KqlEditorAnalysis | null; errorAt: number | null }) {
  const out: ReactNode[] = [];
  for (const s of segments(text, analysis?.tokens ?? [], analysis?.diagnostics ?? [], errorAt)) {
    const classes = [s.kind ? `kql-${s.kind}` : "", s.diagnostic ? `kql-diagnostic kql-diagnostic-${s.diagnostic.severity}` : "", s.error ? "kql-error" : ""];
    const className = classes.filter(Boolean).join(" ");
    const piece = text.slice(s.start, s.end);
    out.push(
      className ? (
        <span key={s.start} className={className} title={s.diagnostic?.message}>
          {piece}
        </span>
      ) : (
        piece
      ),
    );
  }
  const end = endMarks(text, analysis?.diagnostics ?? [], errorAt);
  if (end)
    out.push(
      <span key="end" className={`kql-end${end.diagnostic ? ` kql-diagnostic kql-diagnostic-${end.diagnostic.severity}` : ""}${end.error ? " kql-error" : ""}`}>
        {" "}
      </span>,
    );
  // A trailing newline needs a character after it to take its height.
  out.push("\n");
  return <>{out}</>;
}

function Problems({ text, diagnostics, onGoTo }: { text: string; diagnostics: KqlDiagnosticView[]; onGoTo: (offset: number) => void }) {
  if (!diagnostics.length) return null;
  const shown = diagnostics.slice(0, PROBLEMS_SHOWN);
  return (
    <div id="kql-problems" className="kql-problems">
      <ul aria-label="Problems in the query">
        {shown.map((d, i) => {
          const { line, column } = lineColumn(text, Math.min(d.start, text.length));
          return (
            <li key={`${d.start}-${i}`} className={`kql-problem kql-problem-${d.severity}`}>
              <button type="button" className="link-button" onClick={() => onGoTo(d.start)}>
                Line {line}, column {column}
              </button>{" "}
              <span className="kql-problem-message">{d.message}</span> <span className="muted">({d.code})</span>
            </li>
          );
        })}
      </ul>
      {diagnostics.length > shown.length && <p className="muted">and {diagnostics.length - shown.length} more</p>}
    </div>
  );
}

export function KqlEditor({
  value,
  onChange,
  onRun,
  errorAt,
  textarea,
  onGoTo,
}: {
  value: string;
  onChange: (v: string) => void;
  onRun: () => void;
  errorAt: number | null;
  textarea: RefObject<HTMLTextAreaElement | null>;
  onGoTo: (offset: number) => void;
}) {
  const pre = useRef<HTMLPreElement>(null);
  const caret = useRef<number>(value.length);
  const [caretAt, setCaretAt] = useState(value.length);
  const [menu, setMenu] = useState<{ open: boolean; chosen: number | null }>({ open: false, chosen: null });
  const pendingCaret = useRef<number | null>(null);
  const complete = useRef(true);
  const { answer, completions, unavailable, ask } = useLanguageService(value, caret, complete);

  const tooLong = value.length > MAX_EDITOR_QUERY;
  const analysis = answer && !tooLong ? carryOver(answer.text, value, answer.result) : null;
  const current = answer?.text === value;
  const listAt = (text: string, at: number) => (completions ? completionsAt(completions.text, completions.result, text, at) : null);
  const list: CompletionList | null = menu.open ? listAt(value, caretAt) : null;
  const active = list ? (menu.chosen === null ? (list.typed ? 0 : -1) : Math.min(menu.chosen, list.items.length - 1)) : -1;

  const moveCaret = (at: number) => {
    caret.current = at;
    setCaretAt(at);
  };
  const close = () => setMenu({ open: false, chosen: null });
  const accept = (item: KqlCompletionItem) => {
    if (!list) return;
    const next = applyCompletion(value, list, item);
    pendingCaret.current = next.caret;
    moveCaret(next.caret);
    complete.current = false;
    close();
    onChange(next.text);
  };
  // The caret goes where an accepted completion puts it as the new text is committed, before the next key.
  useLayoutEffect(() => {
    const ta = textarea.current;
    if (pendingCaret.current === null || !ta) return;
    ta.setSelectionRange(pendingCaret.current, pendingCaret.current);
    pendingCaret.current = null;
  }, [value, textarea]);

  const keyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
      e.preventDefault();
      close();
      onRun();
      return;
    }
    if ((e.ctrlKey || e.metaKey) && e.key === " ") {
      e.preventDefault();
      const at = e.currentTarget.selectionStart;
      moveCaret(at);
      setMenu({ open: true, chosen: null });
      ask(at);
      return;
    }
    if (["ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"].includes(e.key)) {
      close();
      return;
    }
    if (!list) return;
    const n = list.items.length;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const from = active < 0 ? (e.key === "ArrowDown" ? -1 : 0) : active;
      setMenu({ open: true, chosen: (from + (e.key === "ArrowDown" ? 1 : n - 1)) % n });
    } else if (e.key === "Tab") {
      e.preventDefault();
      accept(list.items[Math.max(0, active)]!);
    } else if (e.key === "Enter") {
      const item = active >= 0 ? list.items[active]! : null;
      // Enter on what is already typed (or with nothing chosen) is a new line.
      if (!item || item.before.trim() === list.typed) {
        close();
        return;
      }
      e.preventDefault();
      accept(item);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close();
    }
  };
  const sync = () => {
    if (pre.current && textarea.current) {
      pre.current.scrollTop = textarea.current.scrollTop;
      pre.current.scrollLeft = textarea.current.scrollLeft;
    }
  };
  const open = !!list;
  return (
    <>
      <div className="kql-editor" data-analyzed={current ? "current" : answer ? "stale" : "none"}>
        <pre ref={pre} className="kql-highlight" aria-hidden="true">
          <Highlighted text={value} analysis={analysis} errorAt={errorAt} />
        </pre>
        <textarea
          ref={textarea}
          id="kql"
          className="kql-input"
          value={value}
          spellCheck={false}
          autoCapitalize="off"
          autoComplete="off"
          role="combobox"
          aria-expanded={open}
          aria-autocomplete="list"
          aria-describedby={analysis?.diagnostics.length ? "kql-help kql-problems" : "kql-help"}
          aria-invalid={analysis?.diagnostics.some((d) => d.severity === "error") ? true : undefined}
          aria-controls={open ? "kql-completions" : undefined}
          aria-activedescendant={open && active >= 0 ? `kql-completion-${active}` : undefined}
          onChange={(e) => {
            const at = e.target.selectionStart;
            moveCaret(at);
            const native = e.nativeEvent as InputEvent;
            // Typing a word, a space, a pipe, an opening parenthesis or a comma opens the list; pasting, deleting or closing does not.
            const typed = (native.inputType === "insertText" && /^[\w\s|(,]$/.test(native.data ?? "")) || native.inputType === "insertLineBreak";
            const opens = typed || (menu.open && native.inputType === "deleteContentBackward");
            setMenu({ open: opens, chosen: null });
            // New completions are needed unless the last complete list narrows to this word.
            const narrowed = opens ? listAt(e.target.value, at) : null;
            complete.current = opens && !(narrowed && completions?.result.completion?.incomplete === false);
            onChange(e.target.value);
          }}
          onKeyDown={keyDown}
          onMouseDown={close}
          onScroll={sync}
          onBlur={() => setTimeout(close, 150)}
        />
        {list && (
          <ul id="kql-completions" className="kql-completions" role="listbox" aria-label="Completions">
            {list.items.map((item, i) => (
              <li
                key={`${item.kind}:${item.label}`}
                id={`kql-completion-${i}`}
                role="option"
                aria-selected={i === active}
                onMouseDown={(e) => {
                  e.preventDefault();
                  accept(item);
                }}
              >
                <span className={`kql-kind kql-kind-${item.kind}`}>{item.kind}</span> {item.label}
              </li>
            ))}
          </ul>
        )}
      </div>
      {tooLong && (
        <p className="hint">
          The query is longer than {MAX_EDITOR_QUERY.toLocaleString()} characters: it is not highlighted or checked as you type (it still runs).
        </p>
      )}
      {!unavailable && analysis && <Problems text={value} diagnostics={analysis.diagnostics} onGoTo={onGoTo} />}
    </>
  );
}
