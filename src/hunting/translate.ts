import { badRequest, GraphError } from "../errors/graph-error.js";
import type { Aggregate, AggFn, DateTimePart, Expr, HuntingColumn, JoinKind, KqlType, Plan, ScalarOp, SortKey } from "../query/hunting-plan.js";
import { huntingTable } from "../schema/hunting-tables.js";
import { checkRegex, RegexRefused } from "../store/hunting-regex.js";
import { analyze, elements, kindOf, kusto, type KNode } from "./kusto.js";

/**
 * KQL → hunting query plan. The query is parsed and type-checked by Microsoft's Kusto language service
 * (kusto.ts); its diagnostics become 400s that quote the service's message and the position. The bound
 * syntax tree is then translated operator by operator: the output columns (names and types) of every
 * operator are the ones the language service computed, so the plan yields what Kusto would. Anything
 * outside the supported vocabulary is a 400 naming the operator or function and its position.
 */

export interface TranslateOptions {
  /** The instant `now()` and `ago()` count from. */
  now: Date;
  /** Longest query text accepted, in characters. */
  maxLength?: number;
}

export const MAX_QUERY_LENGTH = 30_000;

/** Line and column (both from 1) of an offset in the query text. */
export function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const lines = before.split("\n");
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

function at(text: string, offset: number): string {
  const p = position(text, offset);
  return `[line:position=${p.line}:${p.column}]`;
}

class Translator {
  private readonly lets = new Map<string, { plan?: Plan; scalar?: Expr }>();
  /** evaluate bag_unpack without an output schema: its columns are known only once it runs, so it must end the query. */
  private readonly openUnpacks: { plan: Plan; node: KNode }[] = [];
  constructor(
    private readonly text: string,
    private readonly now: Date,
  ) {}

  unsupported(what: string, node: KNode): GraphError {
    return badRequest(
      `Semantic error: ${what} is not supported by Triage's advanced hunting ${at(this.text, node?.TextStart ?? 0)}. docs/hunting.md lists what is.`,
    );
  }

  // ---- types and columns ----

  typeOf(symbol: KNode, node: KNode): KqlType {
    const name = String(symbol?.Name ?? "");
    switch (name) {
      case "string":
      case "long":
      case "int":
      case "real":
      case "bool":
      case "datetime":
      case "timespan":
      case "dynamic":
        return name;
      default:
        throw this.unsupported(`A value of type '${name || "unknown"}'`, node);
    }
  }

  columnsOf(node: KNode): HuntingColumn[] {
    const t = node.ResultType;
    if (!t || !t.Columns) throw this.unsupported("This expression (it is not a table)", node);
    const out: HuntingColumn[] = [];
    for (let i = 0; i < t.Columns.Count; i++) {
      const c = t.Columns.getItem(i);
      out.push({ name: String(c.Name), type: this.typeOf(c.Type, node) });
    }
    return out;
  }

  // ---- statements ----

  query(root: KNode): Plan {
    let result: Plan | undefined;
    for (const statement of elements(root.Statements)) {
      const kind = kindOf(statement);
      if (kind === "LetStatement") {
        const name = String(statement.Name.SimpleName);
        const value = statement.Expression;
        if (value.ResultType?.Columns) this.lets.set(name, { plan: this.tabular(value) });
        else if (kindOf(value) === "FunctionDeclaration") throw this.unsupported("A user-defined function (let with parameters)", value);
        else this.lets.set(name, { scalar: this.scalar(value) });
      } else if (kind === "ExpressionStatement") {
        if (result) throw this.unsupported("More than one query in a request", statement);
        result = this.tabular(statement.Expression);
      } else {
        throw this.unsupported(`The statement '${this.firstToken(statement)}'`, statement);
      }
    }
    if (!result) throw badRequest("The query has no tabular expression to run: it ends with a let statement.");
    for (const u of this.openUnpacks) {
      if (u.plan !== result)
        throw this.unsupported(
          "'evaluate bag_unpack()' followed by other operators without an output schema (declare the columns it yields: evaluate bag_unpack(Bag) : (*, Name:string, …))",
          u.node,
        );
    }
    return result;
  }

  firstToken(node: KNode): string {
    const t = node.GetFirstToken?.();
    return t ? String(t.Text) : kindOf(node);
  }

  // ---- tabular expressions ----

  tabular(node: KNode): Plan {
    const kind = kindOf(node);
    switch (kind) {
      case "ParenthesizedExpression":
        return this.tabular(node.Expression);
      case "NameReference": {
        const name = String(node.SimpleName);
        const bound = this.lets.get(name);
        if (bound?.plan && node.ReferencedSymbol && this.isVariable(node.ReferencedSymbol)) return bound.plan;
        const table = huntingTable(name);
        if (table) return { op: "table", table: table.name, columns: table.columns.map((c) => ({ name: c.name, type: c.type })) };
        throw this.unsupported(`The table '${name}'`, node);
      }
      case "PipeExpression":
        return this.operator(this.tabular(node.Expression), node.Operator);
      case "UnionOperator":
        return this.operator(undefined, node);
      case "DataTableExpression":
        return this.datatable(node);
      default:
        throw this.unsupported(`The expression '${this.firstToken(node)}' as a table`, node);
    }
  }

  isVariable(symbol: KNode): boolean {
    return Number(symbol.Kind) === Number(kusto().language.Symbols.SymbolKind.Variable);
  }

  operator(input: Plan | undefined, op: KNode): Plan {
    const kind = kindOf(op);
    const columns = this.columnsOf(op);
    if (!input && kind !== "UnionOperator") throw this.unsupported(`The '${this.firstToken(op)}' operator here`, op);
    const from = input!;
    switch (kind) {
      case "FilterOperator":
        return { op: "where", input: from, predicate: this.scalar(op.Condition), columns };
      case "ProjectOperator": {
        const exprs = elements(op.Expressions);
        if (exprs.length !== columns.length) throw this.unsupported("A 'project' that expands to several columns", op);
        return { op: "project", input: from, items: exprs.map((e, i) => ({ name: columns[i]!.name, expr: this.scalar(this.named(e)) })), columns };
      }
      case "ExtendOperator": {
        const exprs = elements(op.Expressions);
        const had = new Set(from.columns.map((c) => c.name));
        const fresh = columns.filter((c) => !had.has(c.name)).map((c) => c.name);
        const defined = new Map<string, Expr>();
        for (const e of exprs) {
          if (kindOf(e) === "CompoundNamedExpression") throw this.unsupported("Naming several columns at once in 'extend'", e);
          const name = kindOf(e) === "SimpleNamedExpression" ? String(e.Name.SimpleName) : fresh.shift();
          if (name === undefined) throw this.unsupported("This 'extend' expression", e);
          defined.set(name, this.scalar(this.named(e)));
        }
        return {
          op: "project",
          input: from,
          items: columns.map((c) => ({ name: c.name, expr: defined.get(c.name) ?? { k: "col", name: c.name, type: c.type } })),
          columns,
        };
      }
      case "ProjectRenameOperator": {
        const renamed = new Map<string, string>();
        for (const e of elements(op.Expressions)) renamed.set(String(e.Name.SimpleName), String(e.Expression.SimpleName));
        return {
          op: "project",
          input: from,
          items: columns.map((c) => ({ name: c.name, expr: { k: "col", name: renamed.get(c.name) ?? c.name, type: c.type } })),
          columns,
        };
      }
      case "ProjectAwayOperator":
      case "ProjectKeepOperator":
      case "ProjectReorderOperator":
        return { op: "project", input: from, items: columns.map((c) => ({ name: c.name, expr: { k: "col", name: c.name, type: c.type } })), columns };
      case "SortOperator":
        return { op: "sort", input: from, keys: elements(op.Expressions).map((e) => this.sortKey(e)), columns };
      case "TakeOperator":
        return { op: "limit", input: from, count: this.count(op.Expression), columns };
      case "TopOperator": {
        const sorted: Plan = { op: "sort", input: from, keys: [this.sortKey(op.ByExpression)], columns };
        return { op: "limit", input: sorted, count: this.count(op.Expression), columns };
      }
      case "CountOperator":
        return { op: "summarize", input: from, by: [], aggregates: [{ name: columns[0]!.name, fn: "count", arg: null, type: "long" }], columns };
      case "DistinctOperator": {
        const exprs = elements(op.Expressions);
        if (exprs.length === 1 && kindOf(exprs[0]) === "StarExpression") return { op: "distinct", input: from, columns };
        if (exprs.length !== columns.length) throw this.unsupported("This 'distinct'", op);
        const projected: Plan = {
          op: "project",
          input: from,
          items: exprs.map((e, i) => ({ name: columns[i]!.name, expr: this.scalar(this.named(e)) })),
          columns,
        };
        return { op: "distinct", input: projected, columns };
      }
      case "SummarizeOperator":
        return this.summarize(from, op, columns);
      case "JoinOperator":
        return this.join(from, op, columns);
      case "UnionOperator": {
        for (const p of elements(op.Parameters)) throw this.unsupported(`The union parameter '${p.Name.SimpleName}'`, p);
        const inputs = [...(input ? [input] : []), ...elements(op.Expressions).map((e) => this.tabular(e))];
        for (const c of columns) {
          if (!inputs.some((i) => i.columns.some((x) => x.name === c.name)))
            throw this.unsupported("A union of columns with the same name and different types", op);
        }
        return { op: "union", inputs, columns };
      }
      case "MvExpandOperator": {
        for (const p of elements(op.Parameters)) throw this.unsupported(`The mv-expand parameter '${p.Name.SimpleName}'`, p);
        if (op.RowLimitClause) throw this.unsupported("'mv-expand … limit'", op.RowLimitClause);
        const exprs = elements(op.Expressions);
        if (exprs.length !== 1) throw this.unsupported("'mv-expand' of several arrays at once", op);
        const e = exprs[0].Expression;
        const target = kindOf(e) === "SimpleNamedExpression" ? String(e.Name.SimpleName) : kindOf(e) === "NameReference" ? String(e.SimpleName) : undefined;
        if (!target) throw this.unsupported("'mv-expand' of an expression without a name (write Name = expression)", e);
        const source = this.scalar(this.named(e));
        if (source.type !== "dynamic" && source.type !== "string") throw this.unsupported("'mv-expand' of a value that is not dynamic", e);
        return { op: "expand", input: from, source, target, columns };
      }
      case "RenderOperator":
        // The chart is the client's business; the rows are the same.
        return from;
      case "EvaluateOperator":
        return this.evaluate(from, op, columns);
      default:
        throw this.unsupported(`The '${this.firstToken(op)}' operator`, op);
    }
  }

  /** datatable(Name:type, …)[value, …]: the rows as literals, each of its column's type. */
  datatable(node: KNode): Plan {
    const columns = this.columnsOf(node);
    for (const p of elements(node.Parameters)) throw this.unsupported(`The datatable parameter '${p.Name.SimpleName}'`, p);
    const values = elements(node.Values);
    const rows: Expr[][] = [];
    for (let r = 0; r * columns.length < values.length; r++) {
      rows.push(
        columns.map((c, i) => {
          const node = values[r * columns.length + i];
          const v = this.scalar(node);
          if (v.k !== "lit") throw this.unsupported("A datatable value that is not a constant", node);
          if (c.type === "dynamic" && v.type !== "dynamic") return { k: "lit", value: v.value === null ? "null" : JSON.stringify(v.value), type: "dynamic" };
          return { k: "lit", value: v.value, type: c.type };
        }),
      );
    }
    return { op: "values", rows, columns };
  }

  /** evaluate bag_unpack(Bag [, prefix]) [: (schema)]; no other plugin. */
  evaluate(input: Plan, op: KNode, columns: HuntingColumn[]): Plan {
    for (const p of elements(op.Parameters)) throw this.unsupported(`The evaluate parameter '${p.Name.SimpleName}'`, p);
    const call = op.FunctionCall;
    const name = String(call?.Name?.SimpleName ?? this.firstToken(op));
    if (name !== "bag_unpack") throw this.unsupported(`The plugin 'evaluate ${name}()'`, call ?? op);
    const args = elements(call.ArgumentList.Expressions);
    const bagNode = args[0];
    if (!bagNode || kindOf(bagNode) !== "NameReference") throw this.unsupported("'bag_unpack()' of something other than a column", bagNode ?? call);
    const bag = String(bagNode.SimpleName);
    // The language service admits bag_unpack(column [, prefix]): the prefix is a constant string.
    let prefix = "";
    if (args[1]) {
      const value = this.scalar(args[1]);
      if (value.k !== "lit" || typeof value.value !== "string") throw this.unsupported("A 'bag_unpack()' column prefix that is not a constant string", args[1]);
      prefix = value.value;
    }
    const schema = op.Schema?.Schema;
    if (!schema) {
      const plan: Plan = { op: "unpack", input, bag, prefix, columns };
      this.openUnpacks.push({ plan, node: op });
      return plan;
    }
    // With an output schema the columns are known: the named ones are read from the bag, the rest (*) kept.
    const named = new Set(elements(schema.Columns).map((c) => String(c.Name.SimpleName)));
    const bagExpr: Expr = { k: "col", name: bag, type: "dynamic" };
    const items = columns.map((c) => {
      if (!named.has(c.name)) return { name: c.name, expr: { k: "col", name: c.name, type: c.type } as Expr };
      const key = prefix && c.name.startsWith(prefix) ? c.name.slice(prefix.length) : c.name;
      return { name: c.name, expr: this.typedValue({ k: "path", source: bagExpr, path: [key], type: "dynamic" }, c.type, op) };
    });
    return { op: "project", input, items, columns };
  }

  /** A value out of a dynamic one, as a column of type `type`. */
  typedValue(e: Expr, type: KqlType, node: KNode): Expr {
    switch (type) {
      case "dynamic":
        return e;
      case "string":
      case "long":
      case "int":
      case "bool":
      case "datetime":
        return {
          k: "op",
          op: type === "string" ? "tostring" : type === "datetime" ? "todatetime" : type === "int" ? "tolong" : type === "long" ? "tolong" : "tobool",
          args: [e],
          type,
        };
      case "real":
        return { k: "op", op: "todouble", args: [e], type };
      default:
        throw this.unsupported(`A value of type ${type} out of a dynamic value`, node);
    }
  }

  /** The expression of `name = expr`, or the expression itself. */
  named(e: KNode): KNode {
    return kindOf(e) === "SimpleNamedExpression" ? e.Expression : e;
  }

  count(node: KNode): number {
    const e = this.scalar(node);
    if (e.k !== "lit" || typeof e.value !== "number" || e.value < 0) throw this.unsupported("A row count that is not a constant number", node);
    return Math.floor(e.value);
  }

  sortKey(node: KNode): SortKey {
    let expr = node;
    let desc = true;
    let nulls: string | undefined;
    if (kindOf(node) === "OrderedExpression") {
      expr = node.Expression;
      const ordering = node.Ordering;
      if (ordering?.AscOrDescKeyword && String(ordering.AscOrDescKeyword.Text) !== "") desc = String(ordering.AscOrDescKeyword.Text) === "desc";
      if (ordering?.NullsClause) nulls = String(ordering.NullsClause.ToString?.() ?? "").trim();
    }
    const nullsFirst = nulls ? /first/i.test(nulls) : !desc;
    return { expr: this.scalar(expr), desc, nullsFirst };
  }

  summarize(input: Plan, op: KNode, columns: HuntingColumn[]): Plan {
    const byExprs = elements(op.ByClause?.Expressions);
    const aggExprs = elements(op.Aggregates);
    const argFn = aggExprs.length === 1 ? this.argFunction(this.named(aggExprs[0])) : undefined;
    if (argFn) return this.argExtreme(input, byExprs, this.named(aggExprs[0]), argFn, columns);
    for (const e of aggExprs) {
      const f = this.argFunction(this.named(e));
      if (f) throw this.unsupported(`'${f}()' together with other aggregates`, e);
    }
    if (byExprs.length + aggExprs.length !== columns.length) throw this.unsupported("An aggregate that yields several columns (arg_max, arg_min)", op);
    const by = byExprs.map((e, i) => ({ name: columns[i]!.name, expr: this.scalar(this.named(e)) }));
    const aggregates: Aggregate[] = aggExprs.map((e, i) => {
      const c = columns[byExprs.length + i]!;
      return { ...this.aggregate(this.named(e)), name: c.name, type: c.type };
    });
    return { op: "summarize", input, by, aggregates, columns };
  }

  argFunction(node: KNode): "arg_max" | "arg_min" | undefined {
    if (kindOf(node) !== "FunctionCallExpression") return undefined;
    const name = String(node.Name.SimpleName);
    return name === "arg_max" || name === "arg_min" ? name : undefined;
  }

  /**
   * summarize arg_max(expr, cols…) by keys: per group, the row where expr is largest (smallest for
   * arg_min), with the group's keys, expr, and the columns named (all others for *).
   */
  argExtreme(input: Plan, byExprs: KNode[], call: KNode, fn: "arg_max" | "arg_min", columns: HuntingColumn[]): Plan {
    const args = elements(call.ArgumentList.Expressions);
    if (args.length < 1) throw this.unsupported(`'${fn}()' without arguments`, call);
    const by = byExprs.map((e) => this.scalar(this.named(e)));
    const extreme = this.scalar(this.named(args[0]));
    const first: Plan = {
      op: "first",
      input,
      partition: by,
      order: [{ expr: extreme, desc: fn === "arg_max", nullsFirst: false }],
      columns: input.columns,
    };
    const items: { name: string; expr: Expr }[] = [];
    by.forEach((e, i) => items.push({ name: columns[i]!.name, expr: e }));
    items.push({ name: columns[by.length]!.name, expr: extreme });
    const rest = args.slice(1);
    const taken = new Set(items.map((i) => i.name));
    if (rest.length === 1 && kindOf(rest[0]) === "StarExpression") {
      for (const c of columns.slice(items.length)) {
        const source = input.columns.find((x) => x.name === c.name);
        if (!source) throw this.unsupported(`'${fn}(…, *)' where a column is renamed`, call);
        items.push({ name: c.name, expr: { k: "col", name: c.name, type: c.type } });
      }
    } else {
      rest.forEach((e, i) => items.push({ name: columns[by.length + 1 + i]?.name ?? "", expr: this.scalar(this.named(e)) }));
    }
    if (items.length !== columns.length || items.some((i) => i.name === "") || taken.size !== by.length + 1) throw this.unsupported(`This '${fn}()'`, call);
    return { op: "project", input: first, items, columns };
  }

  aggregate(node: KNode): { fn: AggFn; arg: Expr | null; where?: Expr } {
    if (kindOf(node) !== "FunctionCallExpression") throw this.unsupported("An aggregate expression that is not a single aggregation function", node);
    const name = String(node.Name.SimpleName);
    const args = elements(node.ArgumentList.Expressions);
    const one = () => {
      if (args.length < 1) throw this.unsupported(`'${name}()' without an argument`, node);
      return this.scalar(args[0]);
    };
    switch (name) {
      case "count":
        if (args.length) throw this.unsupported("'count()' with an argument", node);
        return { fn: "count", arg: null };
      case "countif":
        return { fn: "countif", arg: one() };
      case "dcount":
        return { fn: "dcount", arg: one() };
      case "min":
      case "max":
      case "sum":
      case "avg":
        return { fn: name, arg: one() };
      case "make_set":
      case "makeset":
        return { fn: "make_set", arg: one() };
      case "make_list":
      case "makelist":
        return { fn: "make_list", arg: one() };
      case "make_set_if":
      case "make_list_if":
      case "dcountif":
      case "sumif":
      case "avgif":
      case "minif":
      case "maxif": {
        if (args.length !== 2) throw this.unsupported(`'${name}()' with other than two arguments`, node);
        const fn = (
          { make_set_if: "make_set", make_list_if: "make_list", dcountif: "dcount", sumif: "sum", avgif: "avg", minif: "min", maxif: "max" } as const
        )[name];
        return { fn, arg: this.scalar(args[0]), where: this.scalar(args[1]) };
      }
      case "take_any":
      case "any":
        if (args.length !== 1) throw this.unsupported(`'${name}()' with several arguments`, node);
        return { fn: "take_any", arg: one() };
      default:
        throw this.unsupported(`The aggregation function '${name}()'`, node);
    }
  }

  join(left: Plan, op: KNode, columns: HuntingColumn[]): Plan {
    let kind = "innerunique";
    for (const p of elements(op.Parameters)) {
      const pname = String(p.Name.SimpleName);
      if (pname !== "kind") throw this.unsupported(`The join parameter '${pname}'`, p);
      kind = String(p.Expression.GetFirstToken?.()?.Text ?? p.Expression.ToString?.()).trim();
    }
    const supported: JoinKind[] = ["innerunique", "inner", "leftouter", "leftanti", "leftsemi"];
    if (!supported.includes(kind as JoinKind)) throw this.unsupported(`'join kind=${kind}'`, op);
    const right = this.tabular(op.Expression);
    const clause = op.ConditionClause;
    if (kindOf(clause) !== "JoinOnClause") throw this.unsupported("A join condition other than 'on'", clause);
    const on = elements(clause.Expressions).map((e) => this.joinKey(e));
    const sources =
      kind === "leftanti" || kind === "leftsemi"
        ? left.columns.map((c) => ({ side: "left" as const, name: c.name }))
        : [...left.columns.map((c) => ({ side: "left" as const, name: c.name })), ...right.columns.map((c) => ({ side: "right" as const, name: c.name }))];
    if (sources.length !== columns.length) throw this.unsupported("This join", op);
    return { op: "join", kind: kind as JoinKind, left, right, on, sources, columns };
  }

  joinKey(e: KNode): { left: string; right: string } {
    const kind = kindOf(e);
    if (kind === "NameReference") return { left: String(e.SimpleName), right: String(e.SimpleName) };
    if (kind === "EqualExpression") {
      const side = (x: KNode) => {
        if (kindOf(x) !== "PathExpression") throw this.unsupported("A join key other than $left.Column == $right.Column", x);
        return { side: String(x.Expression.SimpleName), name: String(x.Selector.SimpleName) };
      };
      const a = side(e.Left);
      const b = side(e.Right);
      if (a.side === "$left" && b.side === "$right") return { left: a.name, right: b.name };
      if (a.side === "$right" && b.side === "$left") return { left: b.name, right: a.name };
    }
    throw this.unsupported("This join key", e);
  }

  // ---- scalar expressions ----

  scalar(node: KNode): Expr {
    const kind = kindOf(node);
    const type = (): KqlType => this.typeOf(node.ResultType, node);
    switch (kind) {
      case "ParenthesizedExpression":
        return this.scalar(node.Expression);
      case "NameReference": {
        const name = String(node.SimpleName);
        const symbol = node.ReferencedSymbol;
        if (symbol && this.isVariable(symbol)) {
          const bound = this.lets.get(name);
          if (bound?.scalar) return bound.scalar;
          throw this.unsupported(`The name '${name}' here`, node);
        }
        return { k: "col", name, type: type() };
      }
      case "StringLiteralExpression":
      case "CompoundStringLiteralExpression":
        return { k: "lit", value: String(node.LiteralValue ?? ""), type: "string" };
      case "LongLiteralExpression":
      case "IntLiteralExpression":
      case "RealLiteralExpression":
        return { k: "lit", value: Number(String(node.LiteralValue)), type: type() };
      case "BooleanLiteralExpression": {
        // The service answers a boxed System.Boolean (an object, so always truthy): read its text.
        const v = node.LiteralValue;
        return { k: "lit", value: v === null || v === undefined ? null : String(v).toLowerCase() === "true", type: "bool" };
      }
      case "NullLiteralExpression":
        return { k: "lit", value: null, type: type() };
      case "DateTimeLiteralExpression": {
        const v = node.LiteralValue;
        const d = v instanceof Date ? v : v?.v;
        if (v === null || v === undefined) return { k: "lit", value: null, type: "datetime" };
        if (!(d instanceof Date) || Number.isNaN(d.getTime())) throw this.unsupported("This datetime literal", node);
        return { k: "lit", value: d.toISOString(), type: "datetime" };
      }
      case "DynamicExpression":
        return { k: "lit", value: String(node.LiteralValue ?? "null"), type: "dynamic" };
      case "TimespanLiteralExpression":
        return { k: "lit", value: Number(String(node.LiteralValue.ticks)) / 10_000, type: "timespan" };
      case "FunctionCallExpression":
        return this.call(node);
      case "UnaryMinusExpression": {
        const e = this.scalar(node.Expression);
        if (e.k === "lit" && typeof e.value === "number") return { ...e, value: -e.value };
        return { k: "op", op: "neg", args: [e], type: type() };
      }
      case "AndExpression":
      case "OrExpression":
        return { k: "op", op: kind === "AndExpression" ? "and" : "or", args: [this.scalar(node.Left), this.scalar(node.Right)], type: "bool" };
      case "InExpression":
      case "InCsExpression":
      case "NotInExpression":
      case "NotInCsExpression": {
        const token = String(node.Operator.Text);
        const items = elements(node.Right.Expressions);
        const arg = this.scalar(node.Left);
        const ci = token.endsWith("~");
        const negated = token.startsWith("!");
        if (items.length === 1 && items[0].ResultType?.Columns) {
          // in (tabular expression): the values of its first column.
          const sub = this.tabular(items[0]);
          if (sub.columns.length === 0) throw this.unsupported(`'${token}' with a table without columns`, items[0]);
          const text = (t: KqlType) => t === "string" || t === "datetime" || t === "dynamic";
          if (text(arg.type) !== text(sub.columns[0]!.type))
            throw this.unsupported(`'${token}' comparing a ${arg.type} with a table whose first column is a ${sub.columns[0]!.type}`, items[0]);
          return { k: "in", arg, list: [], sub, ci, negated, type: "bool" };
        }
        const list = this.constantList(node.Right, token);
        return { k: "in", arg, list, ci, negated, type: "bool" };
      }
      case "BetweenExpression":
      case "NotBetweenExpression": {
        const x = this.scalar(node.Left);
        const lo = this.scalar(node.Right.First);
        const hi = this.scalar(node.Right.Second);
        const inside: Expr = {
          k: "op",
          op: "and",
          args: [
            { k: "op", op: "ge", args: [x, lo], type: "bool" },
            { k: "op", op: "le", args: [x, hi], type: "bool" },
          ],
          type: "bool",
        };
        return kind === "BetweenExpression" ? inside : { k: "op", op: "not", args: [inside], type: "bool" };
      }
      case "HasAnyExpression":
      case "HasAllExpression": {
        const x = this.scalar(node.Left);
        const list = this.constantList(node.Right, kind === "HasAnyExpression" ? "has_any" : "has_all");
        if (list.length === 0) return { k: "lit", value: kind === "HasAllExpression", type: "bool" };
        const parts: Expr[] = list.map((v) => ({ k: "op", op: "has", args: [x, v], type: "bool" }));
        return parts.reduce((a, b) => ({ k: "op", op: kind === "HasAnyExpression" ? "or" : "and", args: [a, b], type: "bool" }));
      }
      case "PathExpression": {
        const base = this.scalar(node.Expression);
        return this.pathOf(base, String(node.Selector.SimpleName ?? ""), node);
      }
      case "ElementExpression": {
        const base = this.scalar(node.Expression);
        const selector = this.scalar(node.Selector.Expression ?? node.Selector);
        if (selector.k !== "lit" || (typeof selector.value !== "string" && typeof selector.value !== "number"))
          throw this.unsupported("An index that is not a constant", node.Selector);
        return this.pathOf(base, selector.value, node);
      }
      case "MatchesRegexExpression": {
        const pattern = this.regex(node.Right, "match");
        return { k: "op", op: "matches_regex", args: [this.scalar(node.Left), pattern], type: "bool" };
      }
      default: {
        const binary = BINARY[kind];
        if (binary) return this.binary(node, binary);
        throw this.unsupported(`The expression '${this.firstToken(node)}'`, node);
      }
    }
  }

  /** The constants of an in/has_any list, a dynamic array among them standing for its elements. */
  constantList(list: KNode, operator: string): Expr[] {
    const out: Expr[] = [];
    for (const e of elements(list.Expressions)) {
      const item = this.scalar(e);
      if (item.k !== "lit") throw this.unsupported(`'${operator}' with a list that is not constants`, e);
      if (item.type !== "dynamic") {
        out.push(item);
        continue;
      }
      const parsed: unknown = JSON.parse(String(item.value));
      for (const v of Array.isArray(parsed) ? parsed : [parsed]) {
        if (typeof v === "string") out.push({ k: "lit", value: v, type: "string" });
        else if (typeof v === "number") out.push({ k: "lit", value: v, type: Number.isInteger(v) ? "long" : "real" });
        else if (typeof v === "boolean") out.push({ k: "lit", value: v, type: "bool" });
        else throw this.unsupported(`'${operator}' with a dynamic value that is not an array of scalars`, e);
      }
    }
    return out;
  }

  /** A step into a dynamic value: parse_json(x).name, x[0], x["name"]. */
  pathOf(base: Expr, step: string | number, node: KNode): Expr {
    if (base.k === "path") return { ...base, path: [...base.path, step] };
    if (base.type !== "dynamic" && base.type !== "string") throw this.unsupported("A property of a value that is not dynamic", node);
    return { k: "path", source: base, path: [step], type: "dynamic" };
  }

  /** A JSON path compared with a number is read as a number. */
  numeric(e: Expr, other: Expr): Expr {
    return e.k === "path" && (other.type === "long" || other.type === "int" || other.type === "real")
      ? { k: "op", op: "todouble", args: [e], type: "real" }
      : e;
  }

  binary(node: KNode, spec: { op: ScalarOp; negate?: boolean }): Expr {
    const left = this.scalar(node.Left);
    const right = this.scalar(node.Right);
    const a = this.numeric(left, right);
    const b = this.numeric(right, left);
    const type = this.typeOf(node.ResultType, node);
    if (spec.op === "add" || spec.op === "sub") {
      const folded = this.foldTime(spec.op, a, b);
      if (folded) return folded;
      // datetime ± timespan and datetime - datetime on the store's datetime text; timespans are milliseconds.
      const negated = (x: Expr): Expr =>
        x.k === "lit" && typeof x.value === "number" ? { ...x, value: -x.value } : { k: "op", op: "neg", args: [x], type: "timespan" };
      if (a.type === "datetime" && b.type === "timespan")
        return { k: "op", op: "datetime_add", args: [a, spec.op === "add" ? b : negated(b)], type: "datetime" };
      if (a.type === "timespan" && b.type === "datetime" && spec.op === "add") return { k: "op", op: "datetime_add", args: [b, a], type: "datetime" };
      if (a.type === "datetime" && b.type === "datetime" && spec.op === "sub") return { k: "op", op: "datetime_diff", args: [a, b], type: "timespan" };
      if ((a.type === "datetime" || b.type === "datetime") && type !== "datetime" && type !== "timespan")
        throw this.unsupported("This arithmetic on datetime values", node);
    }
    const e: Expr = { k: "op", op: spec.op, args: [a, b], type };
    return spec.negate ? { k: "op", op: "not", args: [e], type: "bool" } : e;
  }

  /** datetime ± timespan and timespan ± timespan between constants, folded to a constant. */
  foldTime(op: "add" | "sub", a: Expr, b: Expr): Expr | undefined {
    if (a.k !== "lit" || b.k !== "lit" || a.value === null || b.value === null) return undefined;
    const sign = op === "add" ? 1 : -1;
    if (a.type === "datetime" && b.type === "timespan") {
      return { k: "lit", value: new Date(Date.parse(String(a.value)) + sign * Number(b.value)).toISOString(), type: "datetime" };
    }
    if (a.type === "timespan" && b.type === "timespan") return { k: "lit", value: Number(a.value) + sign * Number(b.value), type: "timespan" };
    return undefined;
  }

  /** A regular expression: a constant string RE2 and both stores read alike (store/hunting-regex.ts). */
  regex(node: KNode, use: "match" | "extract"): Expr {
    const pattern = this.scalar(node);
    if (pattern.k !== "lit" || typeof pattern.value !== "string") throw this.unsupported("A regular expression that is not a constant string", node);
    try {
      checkRegex(pattern.value, use);
    } catch (e) {
      if (e instanceof RegexRefused) throw this.unsupported(`In a regular expression, ${e.message},`, node);
      throw e;
    }
    return pattern;
  }

  /** format_datetime's format: runs of one letter are fields, the separators KQL allows are written as they are. */
  dateTimeFormat(format: string, node: KNode): DateTimePart[] {
    const fields = new Set(["yyyy", "yy", "MM", "M", "dd", "d", "HH", "H", "hh", "h", "mm", "m", "ss", "s", "tt"]);
    const parts: DateTimePart[] = [];
    for (const m of format.matchAll(/([A-Za-z])\1*|[^A-Za-z]/g)) {
      const run = m[0];
      if (/^f{1,7}$/.test(run)) parts.push({ field: "f", digits: run.length });
      else if (fields.has(run)) parts.push({ field: run as Exclude<DateTimePart, { text: string } | { field: "f" }>["field"] });
      else if (/^[/\-:,._[\] ]$/.test(run)) parts.push({ text: run });
      else throw this.unsupported(`'${run}' in the format of format_datetime()`, node);
    }
    return parts;
  }

  call(node: KNode): Expr {
    const name = String(node.Name.SimpleName);
    const args = elements(node.ArgumentList.Expressions);
    const type = (): KqlType => this.typeOf(node.ResultType, node);
    const op = (o: ScalarOp, xs: KNode[] = args): Expr => ({ k: "op", op: o, args: xs.map((x) => this.scalar(x)), type: type() });
    switch (name) {
      case "now":
      case "ago": {
        const offset = args.length ? this.scalar(args[0]) : { k: "lit" as const, value: 0, type: "timespan" as const };
        if (offset.k !== "lit" || offset.type !== "timespan") throw this.unsupported(`'${name}()' with an argument that is not a constant timespan`, node);
        const ms = Number(offset.value);
        return { k: "lit", value: new Date(this.now.getTime() + (name === "ago" ? -ms : ms)).toISOString(), type: "datetime" };
      }
      case "datetime":
        return this.scalar(args[0]);
      case "todatetime": {
        const x = this.scalar(args[0]);
        if (x.type === "datetime") return x;
        if (x.type !== "string" && x.type !== "dynamic") throw this.unsupported(`'todatetime()' of a value of type ${x.type}`, node);
        return { k: "op", op: "todatetime", args: [x], type: "datetime" };
      }
      case "format_datetime": {
        const format = this.scalar(args[1]);
        if (format.k !== "lit" || typeof format.value !== "string")
          throw this.unsupported("'format_datetime()' with a format that is not a constant string", args[1]);
        return { k: "format_datetime", arg: this.scalar(args[0]), parts: this.dateTimeFormat(format.value, args[1]), type: "string" };
      }
      case "extract": {
        const pattern = this.regex(args[0], "extract");
        const group = this.scalar(args[1]);
        if (group.k !== "lit" || typeof group.value !== "number" || !Number.isInteger(group.value) || group.value < 0)
          throw this.unsupported("'extract()' with a capture group that is not a constant whole number", args[1]);
        const groups = checkRegex(String(pattern.k === "lit" ? pattern.value : ""), "extract").groups;
        if (group.value > groups)
          throw badRequest(`Semantic error: extract() asks for capture group ${group.value} of a pattern with ${groups} ${at(this.text, args[1].TextStart)}.`);
        const text: Expr = { k: "op", op: "extract", args: [pattern, group, this.scalar(args[2])], type: "string" };
        const t = type();
        return t === "string" ? text : this.typedValue(text, t, node);
      }
      case "bin":
      case "floor": {
        const x = this.scalar(args[0]);
        const size = this.scalar(args[1]);
        if (size.k !== "lit" || typeof size.value !== "number" || size.value <= 0)
          throw this.unsupported(`'${name}()' with a bin size that is not a positive constant`, node);
        if (x.type === "datetime") {
          if (size.type !== "timespan" || size.value % 1000 !== 0)
            throw this.unsupported(`'${name}()' on a datetime with a bin size that is not whole seconds`, node);
          return { k: "op", op: "bin_datetime", args: [x, { k: "lit", value: size.value / 1000, type: "long" }], type: "datetime" };
        }
        if (x.type === "long" || x.type === "int" || x.type === "real" || x.type === "timespan")
          return { k: "op", op: "floor_number", args: [x, size], type: type() };
        throw this.unsupported(`'${name}()' on a value of type ${x.type}`, node);
      }
      case "tolower":
      case "toupper":
      case "strlen":
      case "tostring":
      case "tolong":
      case "toint":
      case "todouble":
      case "tobool":
      case "isempty":
      case "isnotempty":
      case "isnull":
      case "isnotnull":
        return op(name);
      case "toreal":
        return op("todouble");
      case "round":
        return op("round");
      case "strcat":
        return op("strcat");
      case "substring":
        return op("substring");
      case "coalesce":
        return op("coalesce");
      case "parse_json":
      case "todynamic": {
        const x = this.scalar(args[0]);
        if (x.type !== "string" && x.type !== "dynamic") throw this.unsupported(`'${name}()' of a value that is not a string`, node);
        return { ...x, type: "dynamic" } as Expr;
      }
      case "array_length":
        return op("array_length");
      case "not":
        return op("not");
      case "iff":
      case "iif": {
        const [c, t, f] = args.map((x) => this.scalar(x));
        return { k: "case", whens: [{ when: c!, then: t! }], otherwise: f!, type: type() };
      }
      case "case": {
        const xs = args.map((x) => this.scalar(x));
        const whens: { when: Expr; then: Expr }[] = [];
        for (let i = 0; i + 1 < xs.length; i += 2) whens.push({ when: xs[i]!, then: xs[i + 1]! });
        return { k: "case", whens, otherwise: xs[xs.length - 1]!, type: type() };
      }
      default:
        throw this.unsupported(`The function '${name}()'`, node);
    }
  }
}

const BINARY: Record<string, { op: ScalarOp; negate?: boolean }> = {
  EqualExpression: { op: "eq" },
  NotEqualExpression: { op: "ne" },
  EqualTildeExpression: { op: "eq_ci" },
  BangTildeExpression: { op: "ne_ci" },
  LessThanExpression: { op: "lt" },
  LessThanOrEqualExpression: { op: "le" },
  GreaterThanExpression: { op: "gt" },
  GreaterThanOrEqualExpression: { op: "ge" },
  HasExpression: { op: "has" },
  NotHasExpression: { op: "has", negate: true },
  HasCsExpression: { op: "has_cs" },
  NotHasCsExpression: { op: "has_cs", negate: true },
  HasPrefixExpression: { op: "hasprefix" },
  NotHasPrefixExpression: { op: "hasprefix", negate: true },
  HasSuffixExpression: { op: "hassuffix" },
  NotHasSuffixExpression: { op: "hassuffix", negate: true },
  ContainsExpression: { op: "contains" },
  NotContainsExpression: { op: "contains", negate: true },
  ContainsCsExpression: { op: "contains_cs" },
  NotContainsCsExpression: { op: "contains_cs", negate: true },
  StartsWithExpression: { op: "startswith" },
  NotStartsWithExpression: { op: "startswith", negate: true },
  StartsWithCsExpression: { op: "startswith_cs" },
  NotStartsWithCsExpression: { op: "startswith_cs", negate: true },
  EndsWithExpression: { op: "endswith" },
  NotEndsWithExpression: { op: "endswith", negate: true },
  EndsWithCsExpression: { op: "endswith_cs" },
  NotEndsWithCsExpression: { op: "endswith_cs", negate: true },
  AddExpression: { op: "add" },
  SubtractExpression: { op: "sub" },
  MultiplyExpression: { op: "mul" },
  DivideExpression: { op: "div" },
  ModuloExpression: { op: "mod" },
};

/**
 * Parses, type-checks and translates a KQL query into a hunting plan. Throws a 400 GraphError for a
 * syntax or semantic error (the language service's message and position) and for anything outside
 * the supported vocabulary.
 */
export function translateKql(text: string, options: TranslateOptions): Plan {
  const max = options.maxLength ?? MAX_QUERY_LENGTH;
  if (text.trim() === "") throw badRequest("The query is empty.");
  if (text.length > max) throw badRequest(`The query has ${text.length} characters; a hunting query may have at most ${max}.`);
  const syntaxOnly = kusto().language.KustoCode.Parse(text, kusto().globals);
  const syntaxErrors = syntaxOnly.GetDiagnostics();
  const { syntax, diagnostics } = analyze(text);
  const firstError = diagnostics.find((d) => d.severity === "Error");
  if (firstError) {
    const kind = syntaxErrors.Count > 0 ? "Syntax error" : "Semantic error";
    throw badRequest(`${kind}: ${firstError.message} ${at(text, firstError.start)}`);
  }
  try {
    return new Translator(text, options.now).query(syntax);
  } catch (e) {
    if (e instanceof GraphError) throw e;
    // The bound tree had a shape the translator does not know: the query's, not the service's, problem.
    throw badRequest(
      `Semantic error: this query uses a construct that Triage's advanced hunting cannot translate (${e instanceof Error ? e.message.slice(0, 120) : "unknown"}) ${at(text, 0)}.`,
    );
  }
}
