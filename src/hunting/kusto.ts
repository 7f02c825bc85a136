import { createRequire } from "node:module";
import { HUNTING_TABLES } from "../schema/hunting-tables.js";

/**
 * Microsoft's Kusto language service (@kusto/language-service-next, the C# Kusto.Language compiled to
 * JavaScript with Bridge.NET). It is loaded once, on the first hunting query (or editor call, or at start
 * with `triage serve --warm-hunting`): the library defines the globals `Bridge` and `Kusto`, takes about
 * a second to load and then holds tens of megabytes, which a server that never hunts does not carry. Its objects are untyped here: the
 * translator reads the few properties it needs (see syntax.ts for the names it relies on).
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
export type KNode = any;

interface KustoApi {
  /** The language service's Kusto.Language namespace. */
  language: any;
  /** The global state: the hunting tables as a database's tables. */
  globals: any;
  /** SyntaxKind number → its name. */
  kindNames: Map<number, string>;
}

let api: KustoApi | undefined;

export function kusto(): KustoApi {
  if (api) return api;
  const require = createRequire(import.meta.url);
  // The minified builds: the same library and names (only whitespace and local names differ), and V8
  // keeps a script's source in memory, so the readable 16 MB build cost about 60 MB more once loaded.
  require("@kusto/language-service-next/bridge.min.js");
  require("@kusto/language-service-next/Kusto.Language.Bridge.min.js");
  const language = (globalThis as any).Kusto.Language;
  const S = language.Symbols;
  const tables = HUNTING_TABLES.map((t) => new S.TableSymbol.$ctor7(t.name, `(${t.columns.map((c) => `${c.name}:${c.type}`).join(", ")})`, t.description));
  const db = new S.DatabaseSymbol.$ctor2("hunting", null, tables);
  const globals = language.GlobalState.Default.WithDatabase(db);
  const kindNames = new Map<number, string>();
  const SK = language.Syntax.SyntaxKind;
  for (const [name, value] of Object.entries(SK)) if (typeof value === "number") kindNames.set(value, name);
  api = { language, globals, kindNames };
  return api;
}

export interface KqlDiagnostic {
  code: string;
  severity: string;
  category: string;
  message: string;
  start: number;
  length: number;
}

export interface Analyzed {
  syntax: KNode;
  diagnostics: KqlDiagnostic[];
}

/** Parses and type-checks a query against the hunting tables. */
export function analyze(text: string): Analyzed {
  const k = kusto();
  const code = k.language.KustoCode.ParseAndAnalyze(text, k.globals);
  const list = code.GetDiagnostics();
  const diagnostics: KqlDiagnostic[] = [];
  for (let i = 0; i < list.Count; i++) {
    const d = list.getItem(i);
    diagnostics.push({
      code: String(d.Code),
      severity: String(d.Severity),
      category: String(d.Category),
      message: String(d.Message),
      start: d.Start,
      length: d.Length,
    });
  }
  return { syntax: code.Syntax, diagnostics };
}

export function kindOf(node: KNode): string {
  return kusto().kindNames.get(node.Kind) ?? String(node.Kind);
}

/** The elements of a SyntaxList of SeparatedElements (or of plain nodes). */
export function elements(list: KNode): KNode[] {
  if (!list) return [];
  const out: KNode[] = [];
  for (let i = 0; i < list.Count; i++) {
    const item = list.getItem(i);
    out.push(item && item.Element !== undefined ? item.Element : item);
  }
  return out;
}
