/**
 * The `$orderby` parser: a comma-separated list of `path [asc|desc]`, ascending by default. Paths may
 * have several `/`-separated segments, and a segment may be a dotted type cast. `asc` and `desc` are
 * matched case-insensitively. Functions (e.g. tolower(displayName)) are not supported. Shares the
 * `$filter` lexer, so errors have the same form and positions.
 */
import type { OrderByItem, PathExpr } from "../query/filter-ast.js";
import type { ODataSyntaxError } from "./syntax-error.js";
import { Lexer, foundClause, type Token } from "./lexer.js";

/** Parses an `$orderby` value (already URL-decoded). Throws ODataSyntaxError, and only that, on bad input. */
export function parseOrderBy(text: string): OrderByItem[] {
  const lexer = new Lexer(text);
  if (text.trim() === "") throw lexer.error(0, "the $orderby expression is empty");

  const items: OrderByItem[] = [];
  let what = "a property path";
  for (;;) {
    const path = parsePath(lexer, what);
    let direction: OrderByItem["direction"] = "asc";
    let hasDirection = false;
    const word = lexer.peek();
    if (word.kind === "name" && ["asc", "desc"].includes(word.text.toLowerCase())) {
      lexer.next();
      direction = word.text.toLowerCase() as OrderByItem["direction"];
      hasDirection = true;
    }
    items.push({ path, direction });

    const sep = lexer.peek();
    if (sep.kind === "eof") return items;
    if (sep.kind === ",") {
      lexer.next();
      what = "a property path after ','";
      continue;
    }
    const options = hasDirection ? "',' or the end of the expression" : "'asc', 'desc', ',' or the end of the expression";
    throw expected(lexer, options, sep);
  }
}

function expected(lexer: Lexer, what: string, token: Token): ODataSyntaxError {
  return lexer.error(token.position, `expected ${what}${foundClause(token)}`);
}

function parsePath(lexer: Lexer, what: string): PathExpr {
  const first = lexer.peek();
  if (first.kind !== "name") throw expected(lexer, what, first);
  const path: PathExpr = { kind: "path", segments: [], position: first.position };
  let segment: Token = first;
  for (;;) {
    lexer.next();
    if (lexer.peek().kind === "(") {
      throw lexer.error(segment.position, `functions such as '${segment.text}(' are not supported in $orderby; sort by a property path`);
    }
    path.segments.push(segment.text);
    if (lexer.peek().kind !== "/") return path;
    const slash = lexer.next();
    segment = lexer.peek();
    if (segment.kind !== "name") throw expected(lexer, `a property name after '${slash.text}'`, segment);
  }
}
