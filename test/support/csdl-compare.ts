/**
 * Compares the declarations of one CSDL XML document (Triage's) with the same declarations in another
 * (Graph's): both are parsed by the OData TC's own converter (odata-csdl, XML → CSDL JSON), type names
 * are resolved through each document's aliases, and every difference is reported as a MetadataDifference
 * of src/schema/metadata-differences.ts.
 */
import { readFileSync } from "node:fs";
import { xml2json } from "odata-csdl";
import type { MetadataDifference } from "../../src/schema/metadata-differences.js";

type Json = Record<string, any>;

export interface ParsedCsdl {
  json: Json;
  lines: string[];
  aliases: Map<string, string>;
}

export function parseCsdl(xml: string): ParsedCsdl {
  const messages: unknown[] = [];
  const json = xml2json(xml, { lineNumbers: true, messages }) as Json;
  const aliases = new Map<string, string>();
  for (const [ns, schema] of Object.entries(json)) {
    if (!ns.startsWith("$") && typeof schema === "object" && schema.$Alias) aliases.set(schema.$Alias as string, ns);
  }
  return { json, lines: xml.split("\n"), aliases };
}

/**
 * The real service's security namespace (a fragment of Graph's v1.0 CSDL: the `security` entity type
 * of microsoft.graph and the microsoft.graph.security schema), made a document the converter accepts;
 * every line stays where it was, so line numbers still point into the fixture.
 */
export function parseGraphFixture(path: URL): ParsedCsdl {
  const lines = readFileSync(path, "utf8").split("\n");
  const open = lines.findIndex((l) => l.trim() === "<Fragments>");
  const close = lines.findIndex((l) => l.trim() === "</Fragments>");
  const securityEnd = lines.findIndex((l, i) => i > open && l.trim() === "</EntityType>");
  if (open < 0 || close < 0 || securityEnd < 0) throw new Error("unexpected fixture layout");
  lines[open] =
    '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>' +
    '<Schema Namespace="microsoft.graph" Alias="graph" xmlns="http://docs.oasis-open.org/odata/ns/edm">';
  lines[securityEnd] = `${lines[securityEnd]}</Schema>`;
  lines[close] = "</edmx:DataServices></edmx:Edmx>";
  return parseCsdl(lines.join("\n"));
}

function resolve(doc: ParsedCsdl, type: string | undefined): string {
  const t = type ?? "Edm.String";
  const dot = t.lastIndexOf(".");
  const prefix = t.slice(0, dot);
  const ns = doc.aliases.get(prefix);
  return ns ? `${ns}${t.slice(dot)}` : t;
}

/** A property's or parameter's type as one comparable string: `Collection(qualified)` or `qualified`. */
function typeOf(doc: ParsedCsdl, member: Json): string {
  const t = resolve(doc, member.$Type as string | undefined);
  return member.$Collection ? `Collection(${t})` : t;
}

/**
 * Whether the member is declared nullable. The converter keeps the facet only for single values; for a
 * collection the element's own line says whether it carries Nullable="false" (Graph's way of saying the
 * collection is never null).
 */
function nullableOf(doc: ParsedCsdl, member: Json): boolean {
  if (!member.$Collection) return member.$Nullable === true;
  const line = doc.lines[(member["@parser.line"] as number) - 1] ?? "";
  return !/\bNullable="false"/.test(line);
}

function declarations(doc: ParsedCsdl): Map<string, Json | Json[]> {
  const out = new Map<string, Json | Json[]>();
  for (const [ns, schema] of Object.entries(doc.json)) {
    if (ns.startsWith("$") || typeof schema !== "object") continue;
    for (const [name, decl] of Object.entries(schema as Json)) {
      if (name.startsWith("$") || name.includes("@")) continue;
      out.set(`${ns}.${name}`, decl as Json | Json[]);
    }
  }
  return out;
}

function members(decl: Json): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const [k, v] of Object.entries(decl)) if (!k.startsWith("$") && !k.includes("@")) out.set(k, v as Json);
  return out;
}

/** Every difference between the declarations `ours` makes and the same declarations in `theirs`. */
export function compareCsdl(ours: ParsedCsdl, theirs: ParsedCsdl): MetadataDifference[] {
  const diffs: MetadataDifference[] = [];
  const mine = declarations(ours);
  const real = declarations(theirs);
  const add = (declaration: string, kind: MetadataDifference["kind"], member: string | undefined, ourValue: unknown, theirValue: unknown) =>
    diffs.push({ declaration, kind, ...(member === undefined ? {} : { member }), ours: String(ourValue), theirs: String(theirValue) });

  for (const [name, decl] of mine) {
    const other = real.get(name);
    if (other === undefined) {
      add(name, "declarationNotInGraph", undefined, Array.isArray(decl) ? decl[0]?.$Kind : decl.$Kind, "absent");
      continue;
    }
    if (Array.isArray(decl)) {
      compareOperations(name, decl, other as Json[]);
      continue;
    }
    const o = other as Json;
    if (decl.$Kind !== o.$Kind) add(name, "kind", undefined, decl.$Kind, o.$Kind);
    if (decl.$Kind === "EntityContainer") continue;
    if (decl.$Kind === "EnumType") {
      if (Boolean(decl.$IsFlags) !== Boolean(o.$IsFlags)) add(name, "isFlags", undefined, Boolean(decl.$IsFlags), Boolean(o.$IsFlags));
      if ((decl.$UnderlyingType ?? "Edm.Int32") !== (o.$UnderlyingType ?? "Edm.Int32"))
        add(name, "underlyingType", undefined, decl.$UnderlyingType ?? "Edm.Int32", o.$UnderlyingType ?? "Edm.Int32");
      const a = members(decl);
      const b = members(o);
      for (const [m, v] of a) {
        if (!b.has(m)) add(name, "extraMember", m, v, "absent");
        else if (b.get(m) !== v) add(name, "memberValue", m, v, b.get(m));
      }
      for (const [m, v] of b) if (!a.has(m)) add(name, "missingMember", m, "absent", v);
      const order = (x: Map<string, Json>, y: Map<string, Json>) => [...x.keys()].filter((k) => y.has(k)).join(",");
      if (order(a, b) !== order(b, a)) add(name, "memberOrder", undefined, order(a, b), order(b, a));
      continue;
    }
    // Entity and complex types.
    if (resolve(ours, decl.$BaseType) !== resolve(theirs, o.$BaseType) && (decl.$BaseType || o.$BaseType))
      add(name, "baseType", undefined, decl.$BaseType ?? "none", o.$BaseType ?? "none");
    if (Boolean(decl.$OpenType) !== Boolean(o.$OpenType)) add(name, "openType", undefined, Boolean(decl.$OpenType), Boolean(o.$OpenType));
    if (Boolean(decl.$Abstract) !== Boolean(o.$Abstract)) add(name, "abstract", undefined, Boolean(decl.$Abstract), Boolean(o.$Abstract));
    const a = members(decl);
    const b = members(o);
    for (const [m, p] of a) {
      const q = b.get(m);
      if (!q) {
        add(name, "extraMember", m, typeOf(ours, p), "absent");
        continue;
      }
      if ((p.$Kind ?? "Property") !== (q.$Kind ?? "Property")) add(name, "memberKind", m, p.$Kind ?? "Property", q.$Kind ?? "Property");
      if (typeOf(ours, p) !== typeOf(theirs, q)) add(name, "type", m, typeOf(ours, p), typeOf(theirs, q));
      if (p.$Kind === "NavigationProperty") {
        if (Boolean(p.$ContainsTarget) !== Boolean(q.$ContainsTarget)) add(name, "containsTarget", m, Boolean(p.$ContainsTarget), Boolean(q.$ContainsTarget));
      } else if (nullableOf(ours, p) !== nullableOf(theirs, q)) {
        add(name, "nullable", m, nullableOf(ours, p), nullableOf(theirs, q));
      }
    }
    for (const [m, q] of b) if (!a.has(m)) add(name, "missingMember", m, "absent", typeOf(theirs, q));
  }
  return diffs;

  function compareOperations(name: string, mineOps: Json[], realOps: Json[]): void {
    for (const op of mineOps) {
      const binding = op.$Parameter?.[0];
      const bindingType = binding ? typeOf(ours, binding) : "unbound";
      const match = realOps.find((r) => (r.$Parameter?.[0] ? typeOf(theirs, r.$Parameter[0]) : "unbound") === bindingType && r.$Kind === op.$Kind);
      const label = `${name}(${bindingType})`;
      if (!match) {
        add(label, "declarationNotInGraph", undefined, op.$Kind, "absent");
        continue;
      }
      const ps = new Map<string, Json>((op.$Parameter ?? []).slice(1).map((p: Json) => [p.$Name as string, p]));
      const qs = new Map<string, Json>((match.$Parameter ?? []).slice(1).map((p: Json) => [p.$Name as string, p]));
      for (const [m, p] of ps) {
        const q = qs.get(m);
        if (!q) {
          add(label, "extraMember", m, typeOf(ours, p), "absent");
          continue;
        }
        if (typeOf(ours, p) !== typeOf(theirs, q)) add(label, "type", m, typeOf(ours, p), typeOf(theirs, q));
        if (nullableOf(ours, p) !== nullableOf(theirs, q)) add(label, "nullable", m, nullableOf(ours, p), nullableOf(theirs, q));
        const optional = (x: Json) => x["@Core.OptionalParameter"] !== undefined || x["@Org.OData.Core.V1.OptionalParameter"] !== undefined;
        if (optional(p) !== optional(q)) add(label, "optionalParameter", m, optional(p), optional(q));
      }
      for (const [m, q] of qs) if (!ps.has(m)) add(label, "missingMember", m, "absent", typeOf(theirs, q));
      const mr = op.$ReturnType ? typeOf(ours, op.$ReturnType) : "none";
      const rr = match.$ReturnType ? typeOf(theirs, match.$ReturnType) : "none";
      if (mr !== rr) add(label, "returnType", undefined, mr, rr);
    }
  }
}
