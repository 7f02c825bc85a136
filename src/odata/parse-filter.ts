/**
 * The `$filter` parser: OData v4 URL-convention syntax, limited to what Microsoft Graph's security API
 * accepts, turned into the small typed tree of `ast.ts`.
 *
 * Why hand-written rather than a library: the OData parsers on npm have been unmaintained since about
 * 2017, produce generic untyped ASTs that would need a second translation pass, and report errors
 * poorly. Triage needs a small typed tree for a narrow grammar, and Graph-style error messages that
 * name the problem and its position — a recursive-descent parser of a few hundred lines gives both.
 *
 * Grammar (keywords, operators and function names are matched case-insensitively; names keep their case):
 *
 *   filter     := or EOF
 *   or         := and ("or" and)*                          left-associative
 *   and        := unary ("and" unary)*                     left-associative
 *   unary      := "not" unary | "(" or ")" | condition
 *   condition  := path "/" ("any" | "all") "(" [var ":" or] ")"
 *               | operand (cmpop operand | "in" "(" literal ("," literal)* ")")?
 *   operand    := literal | path | fn "(" [operand ("," operand)*] ")"
 *   path       := name ("/" name)*                         a name may be dotted (a type cast)
 *
 * `not` takes a whole condition: `not a eq 1 and b eq 2` is `(not (a eq 1)) and (b eq 2)`.
 * Parenthesized operands such as `(a) eq 1` are not supported. A condition with no operator is a
 * predicate call (startswith, endswith, contains) or a bare boolean path; any other operand on its
 * own is an error.
 */
import type { CallExpr, CompareOp, FilterExpr, Literal, Operand, PathExpr } from "../query/filter-ast.js";
import type { ODataSyntaxError } from "./syntax-error.js";
import { Lexer, foundClause, type Token } from "./lexer.js";

/** Nesting levels allowed: each `(`, `not`, any/all and function call is one. */
export const MAX_FILTER_DEPTH = 50;

const COMPARE_OPS: ReadonlySet<string> = new Set<CompareOp>(["eq", "ne", "gt", "ge", "lt", "le"]);

const FUNCTION_ARITY: Readonly<Record<CallExpr["name"], number>> = {
  startswith: 2,
  endswith: 2,
  contains: 2,
  tolower: 1,
  toupper: 1,
};
const PREDICATE_FUNCTIONS: ReadonlySet<string> = new Set(["startswith", "endswith", "contains"]);

/** OData operators Graph's security API does not accept; named in the error rather than "unexpected". */
const UNSUPPORTED_OPERATORS: ReadonlySet<string> = new Set(["has", "add", "sub", "mul", "div", "divby", "mod"]);

/** Words that cannot start an operand. */
const RESERVED: ReadonlySet<string> = new Set(["and", "or", "not", "in", ...COMPARE_OPS, ...UNSUPPORTED_OPERATORS]);

type LambdaExpr = Extract<FilterExpr, { kind: "lambda" }>;

/** Parses a `$filter` value (already URL-decoded). Throws ODataSyntaxError, and only that, on bad input. */
export function parseFilter(text: string): FilterExpr {
  return new FilterParser(text).parse();
}

function isWord(token: Token, word: string): boolean {
  return token.kind === "name" && token.text.toLowerCase() === word;
}

/** `true`, `false` and `null` are names to the lexer; in value position they are literals. */
function keywordLiteral(token: Token): Literal | undefined {
  if (token.kind !== "name") return undefined;
  switch (token.text.toLowerCase()) {
    case "true":
      return { kind: "boolean", value: true };
    case "false":
      return { kind: "boolean", value: false };
    case "null":
      return { kind: "null" };
    default:
      return undefined;
  }
}

class FilterParser {
  private readonly lexer: Lexer;
  private depth = 0;
  /** Range variables of the enclosing lambdas, outermost first. */
  private readonly variables: string[] = [];

  constructor(private readonly text: string) {
    this.lexer = new Lexer(text);
  }

  parse(): FilterExpr {
    if (this.text.trim() === "") throw this.lexer.error(0, "the $filter expression is empty");
    const expr = this.parseOr("an expression");
    const rest = this.lexer.peek();
    if (rest.kind === ")") throw this.lexer.error(rest.position, "found ')' without a matching '('");
    if (rest.kind !== "eof") {
      throw this.expected("'and', 'or' or the end of the expression", rest);
    }
    return expr;
  }

  private error(token: Token, detail: string): ODataSyntaxError {
    return this.lexer.error(token.position, detail);
  }

  /** An error at `token` saying what was expected there. */
  private expected(what: string, token: Token): ODataSyntaxError {
    if (token.kind === "name" && UNSUPPORTED_OPERATORS.has(token.text.toLowerCase())) {
      return this.error(token, `the '${token.text}' operator is not supported`);
    }
    return this.error(token, `expected ${what}${foundClause(token)}`);
  }

  private enter(token: Token): void {
    if (++this.depth > MAX_FILTER_DEPTH) {
      throw this.error(token, `the $filter expression is nested too deeply (more than ${MAX_FILTER_DEPTH} levels)`);
    }
  }

  private leave(): void {
    this.depth--;
  }

  /** Consumes the ')' that closes `open`, or explains what is there instead. */
  private close(open: Token, what: string, alternatives: string): void {
    const token = this.lexer.peek();
    if (token.kind === ")") {
      this.lexer.next();
      return;
    }
    if (token.kind === "eof") throw this.error(token, `missing ')' to close ${what} at position ${open.position}`);
    throw this.expected(`${alternatives}')' to close ${what} at position ${open.position}`, token);
  }

  // ── boolean structure ──────────────────────────────────────────────────────────────────────────

  /** `what` describes the expression expected, for the error if there is none: "an expression after 'and'". */
  private parseOr(what: string): FilterExpr {
    let left = this.parseAnd(what);
    while (isWord(this.lexer.peek(), "or")) {
      const op = this.lexer.next();
      const right = this.parseAnd(`an expression after '${op.text}'`);
      left = { kind: "or", left, right };
    }
    return left;
  }

  private parseAnd(what: string): FilterExpr {
    let left = this.parseUnary(what);
    while (isWord(this.lexer.peek(), "and")) {
      const op = this.lexer.next();
      const right = this.parseUnary(`an expression after '${op.text}'`);
      left = { kind: "and", left, right };
    }
    return left;
  }

  private parseUnary(what: string): FilterExpr {
    const token = this.lexer.peek();
    if (isWord(token, "not")) {
      this.lexer.next();
      this.enter(token);
      const operand = this.parseUnary(`an expression after '${token.text}'`);
      this.leave();
      return { kind: "not", operand };
    }
    if (token.kind === "(") {
      this.lexer.next();
      this.enter(token);
      const inner = this.parseOr("an expression after '('");
      this.close(token, "the '('", "'and', 'or' or ");
      this.leave();
      return inner;
    }
    return this.parseCondition(what);
  }

  private parseCondition(what: string): FilterExpr {
    const start = this.lexer.peek();
    const left = this.parseTerm(what, true);
    if (left.kind === "lambda") return left;

    const op = this.lexer.peek();
    if (op.kind === "name") {
      const word = op.text.toLowerCase();
      if (COMPARE_OPS.has(word)) {
        this.lexer.next();
        const right = this.parseOperand(`a value after '${op.text}'`);
        return { kind: "compare", op: word as CompareOp, left, right, position: op.position };
      }
      if (word === "in") return this.parseIn(left, op);
      if (UNSUPPORTED_OPERATORS.has(word)) throw this.error(op, `the '${op.text}' operator is not supported`);
    }

    const complete = op.kind === "eof" || op.kind === ")" || isWord(op, "and") || isWord(op, "or");
    if (complete && left.kind === "call" && PREDICATE_FUNCTIONS.has(left.name)) return { kind: "predicate", call: left };
    if (complete && left.kind === "path") return { kind: "boolpath", path: left };
    const source = this.text.slice(start.position, this.lexer.peek().position).trimEnd();
    throw this.error(op, `expected an operator such as 'eq' after '${source}'${foundClause(op)}`);
  }

  private parseIn(left: Operand, op: Token): FilterExpr {
    this.lexer.next();
    const open = this.lexer.peek();
    if (open.kind !== "(") {
      throw this.error(open, `expected '(' and a list of values after '${op.text}', e.g. status in ('active','resolved')${foundClause(open)}`);
    }
    this.lexer.next();
    if (this.lexer.peek().kind === ")") {
      throw this.error(this.lexer.peek(), `the '${op.text}' operator needs at least one value in its list`);
    }
    const values: Literal[] = [];
    for (;;) {
      const token = this.lexer.peek();
      const literal = token.kind === "literal" ? token.literal : keywordLiteral(token);
      if (literal === undefined) throw this.expected(`a literal value in the '${op.text}' list`, token);
      this.lexer.next();
      values.push(literal);
      const sep = this.lexer.peek();
      if (sep.kind === ",") {
        this.lexer.next();
        continue;
      }
      if (sep.kind === ")") {
        this.lexer.next();
        break;
      }
      if (sep.kind === "eof") throw this.error(sep, `missing ')' to close the '${op.text}' list at position ${open.position}`);
      throw this.error(sep, `expected ',' or ')' in the '${op.text}' list${foundClause(sep)}`);
    }
    return { kind: "in", left, values, position: op.position };
  }

  // ── operands ──────────────────────────────────────────────────────────────────────────────────

  private parseOperand(what: string): Operand {
    return this.parseTerm(what, false) as Operand;
  }

  /** An operand, or — where a condition is expected (`allowLambda`) — an any/all lambda. */
  private parseTerm(what: string, allowLambda: boolean): Operand | LambdaExpr {
    const token = this.lexer.peek();
    if (token.kind === "literal") {
      this.lexer.next();
      return { kind: "literal", literal: token.literal };
    }
    if (token.kind !== "name") throw this.expected(what, token);
    const literal = keywordLiteral(token);
    if (literal !== undefined) {
      this.lexer.next();
      return { kind: "literal", literal };
    }
    if (RESERVED.has(token.text.toLowerCase())) throw this.expected(what, token);
    if (this.lexer.peek(1).kind === "(") return this.parseCall();
    return this.parsePath(allowLambda);
  }

  private parseCall(): CallExpr {
    const nameToken = this.lexer.next();
    const open = this.lexer.next();
    const written = nameToken.text;
    const name = written.toLowerCase();
    if (name === "any" || name === "all") {
      throw this.error(nameToken, `'${written}' must follow a collection property, e.g. customTags/${name}(t: t eq 'x')`);
    }
    if (!Object.hasOwn(FUNCTION_ARITY, name)) {
      throw this.error(
        nameToken,
        `the function '${written}' is not supported; the supported functions are startswith, endswith, contains, tolower and toupper`,
      );
    }
    const fn = name as CallExpr["name"];
    this.enter(nameToken);
    const args: Operand[] = [];
    if (this.lexer.peek().kind === ")") {
      this.lexer.next();
    } else {
      for (;;) {
        args.push(this.parseOperand(`an argument for '${written}'`));
        const sep = this.lexer.peek();
        if (sep.kind === ",") {
          this.lexer.next();
          continue;
        }
        this.close(open, `the call to '${written}'`, "',' or ");
        break;
      }
    }
    this.leave();
    const arity = FUNCTION_ARITY[fn];
    if (args.length !== arity) {
      throw this.error(nameToken, `the function '${written}' takes ${arity} argument${arity === 1 ? "" : "s"}, but was given ${args.length}`);
    }
    return { kind: "call", name: fn, args, position: nameToken.position };
  }

  private parsePath(allowLambda: boolean): PathExpr | LambdaExpr {
    const first = this.lexer.next();
    const path: PathExpr = { kind: "path", segments: [first.text], position: first.position };
    while (this.lexer.peek().kind === "/") {
      const slash = this.lexer.next();
      const segment = this.lexer.peek();
      if (segment.kind !== "name") throw this.expected(`a property name after '${slash.text}'`, segment);
      this.lexer.next();
      if (this.lexer.peek().kind === "(") {
        const word = segment.text.toLowerCase();
        if (word === "any" || word === "all") {
          if (!allowLambda) {
            throw this.error(segment, `'${segment.text}' is a condition and cannot be used as a value here`);
          }
          return this.parseLambda(path, segment, word);
        }
        throw this.error(segment, `'${segment.text}(' is not supported after '/': only any and all can be applied to a property`);
      }
      path.segments.push(segment.text);
    }
    return path;
  }

  private parseLambda(collection: PathExpr, opToken: Token, op: "any" | "all"): LambdaExpr {
    const open = this.lexer.next();
    this.enter(opToken);
    const lambda: LambdaExpr = { kind: "lambda", op, collection, variable: null, predicate: null, position: opToken.position };
    const example = `${collection.segments.join("/")}/${op}(x: x eq 'value')`;

    if (this.lexer.peek().kind === ")") {
      if (op === "all") {
        throw this.error(this.lexer.peek(), `'${opToken.text}' needs a condition, e.g. ${example}`);
      }
      this.lexer.next();
      this.leave();
      return lambda;
    }

    const variable = this.lexer.peek();
    if (variable.kind !== "name" || variable.text.includes(".") || RESERVED.has(variable.text.toLowerCase())) {
      throw this.expected(`a range variable after '${opToken.text}(', e.g. ${example}`, variable);
    }
    if (this.variables.includes(variable.text)) {
      throw this.error(variable, `the range variable '${variable.text}' is already used by an enclosing any/all`);
    }
    this.lexer.next();
    const colon = this.lexer.peek();
    if (colon.kind !== ":") {
      throw this.error(colon, `expected ':' after the range variable '${variable.text}', e.g. ${example}${foundClause(colon)}`);
    }
    this.lexer.next();

    this.variables.push(variable.text);
    const predicate = this.parseOr("an expression after ':'");
    this.variables.pop();
    this.close(open, `'${opToken.text}('`, "'and', 'or' or ");
    this.leave();
    return { ...lambda, variable: variable.text, predicate };
  }
}
