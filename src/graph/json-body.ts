import type { FastifyInstance } from "fastify";
import { badRequest } from "./errors.js";
import { describeJsonProblem, findJsonProblem } from "../schema/json-limits.js";
import { MAX_BODY_DEPTH } from "../schema/limits.js";

/**
 * JSON request bodies: parsed by Fastify's own parser (secure-json-parse, with its prototype-poisoning
 * checks), then refused with a 400 when nested deeper than MAX_BODY_DEPTH or holding U+0000 anywhere.
 * V8 parses any depth, but what handles the value afterwards (JSON.stringify, the stores' JSON
 * functions) fails far below that with a 500; and PostgreSQL refuses NUL in text and jsonb where
 * SQLite stores it, so one input would behave differently on the two stores.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    parse(req, body as string, (err: Error | null, value?: unknown) => {
      if (err) return done(err, undefined);
      const problem = findJsonProblem(value, "", MAX_BODY_DEPTH);
      if (problem) return done(badRequest(describeJsonProblem(problem, "The request body", MAX_BODY_DEPTH)), undefined);
      done(null, value);
    });
  });
}
