import type { FastifyInstance } from "fastify";
import { badRequest } from "../errors/graph-error.js";
import { describeJsonProblem, findJsonProblem, mayHoldUnstorable } from "../schema/json-limits.js";

/**
 * How deep a JSON request body may nest (objects and arrays). JSON.parse itself accepts any depth, but
 * what comes after it does not: JSON.stringify overflows the stack a few thousand levels down and
 * SQLite's JSON functions refuse documents nested 1,000 deep. Real documents (an alert with its
 * evidence) nest under a dozen levels; 100 is the OData reader's default nesting quota.
 */
export const MAX_JSON_DEPTH = 100;

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/**
 * The deepest nesting in a JSON text, stopping as soon as it passes `limit`. Strings are skipped with
 * indexOf so that a large body costs one native scan per string, not a loop over its characters.
 * Malformed text is not judged here: JSON.parse reports it.
 */
export function nestingDepth(text: string, limit = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      let end = text.indexOf('"', i + 1);
      for (;;) {
        if (end < 0) return deepest;
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++;
        if (slashes % 2 === 0) break;
        end = text.indexOf('"', end + 1);
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--;
    }
  }
  return deepest;
}

/**
 * Replaces Fastify's JSON body parser with the same parser (prototype-poisoning checks and all) behind
 * a nesting limit, so a body nested too deep is a Graph 400 at the door instead of a 500 wherever the
 * first recursive step (serialising, validating, storing) gives up. A parsed body holding U+0000 or an
 * unpaired surrogate in any string or key is refused too, naming where (`value[1].title`): PostgreSQL
 * cannot store either where SQLite can, so one input would otherwise behave differently on the two.
 */
export function installJsonBodyParser(app: FastifyInstance, maxDepth: number): void {
  const parse = app.getDefaultJsonParser(app.initialConfig.onProtoPoisoning ?? "error", app.initialConfig.onConstructorPoisoning ?? "error");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    const text = body as string;
    if (nestingDepth(text, maxDepth) > maxDepth) {
      done(badRequest(`The request body nests objects and arrays more than ${maxDepth} levels deep.`), undefined);
      return;
    }
    parse(req, text, (err: Error | null, value?: unknown) => {
      if (err) return done(err, undefined);
      // The depth was measured on the text above; only a text with a NUL or surrogate escape needs the walk.
      const problem = mayHoldUnstorable(text) ? findJsonProblem(value, "", maxDepth) : null;
      if (problem) return done(badRequest(describeJsonProblem(problem, "The request body", maxDepth)), undefined);
      done(null, value);
    });
  });
}
