import type { FastifyInstance } from "fastify";
import { Type } from "@sinclair/typebox";
import { graphErrors, json, ref, type RouteDoc } from "../schema/openapi.js";
import { analyzeForEditor, MAX_COMPLETIONS, MAX_DIAGNOSTICS, MAX_EDITOR_QUERY } from "../hunting/editor.js";
import { badRequest } from "../errors/graph-error.js";
import { GRAPH_JSON } from "../http/conventions.js";
import { operation } from "../permissions/catalog.js";

const EDITOR_DOC: RouteDoc = {
  tag: "Triage API",
  summary: "Classify, check and complete a KQL query for an editor",
  description:
    "What Microsoft's Kusto language service, with the advanced-hunting tables AlertInfo and AlertEvidence, says of a query: " +
    "the class of each span (for highlighting), its diagnostics, and with `caret` the completions there, filtered by the word being typed. " +
    `The Hunting page of the web app calls it as the query is typed. Needs what a hunting query needs. Queries of at most ${MAX_EDITOR_QUERY} characters; ` +
    `at most ${MAX_DIAGNOSTICS} diagnostics and ${MAX_COMPLETIONS} completions are answered.`,
  body: {
    content: json(
      Type.Object({
        query: Type.String({ maxLength: MAX_EDITOR_QUERY, description: "The KQL text." }),
        caret: Type.Optional(Type.Integer({ minimum: 0, description: "Where completions are wanted: an offset in the query (0 to its length)." })),
      }),
    ),
  },
  responses: {
    200: { description: "The tokens, diagnostics and completions.", content: json(ref("triage.kqlEditorAnalysis")) },
    ...graphErrors(400, 401, 403, 429),
  },
};

/** The Hunting page's editor support: POST /triage/hunting/editor. */
export function registerHuntingEditorRoute(app: FastifyInstance): void {
  app.post("/triage/hunting/editor", { config: { operation: operation("POST /triage/hunting/editor"), openapi: EDITOR_DOC } }, async (req, reply) => {
    const body = req.body;
    if (typeof body !== "object" || body === null || Array.isArray(body))
      throw badRequest("The request body must be a JSON object with 'query' and, optionally, 'caret'.");
    const { query, caret, ...rest } = body as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw badRequest(`'${extra.slice(0, 40)}' is not a property of this request; its properties are 'query' and 'caret'.`);
    if (typeof query !== "string") throw badRequest("'query' is required and must be a string.");
    if (query.length > MAX_EDITOR_QUERY) throw badRequest(`'query' is ${query.length} characters long; the editor analyzes at most ${MAX_EDITOR_QUERY}.`);
    if (caret !== undefined && (typeof caret !== "number" || !Number.isInteger(caret) || caret < 0 || caret > query.length))
      throw badRequest(`'caret' must be an integer from 0 to the query's length (${query.length}).`);
    return reply
      .type(GRAPH_JSON)
      .header("cache-control", "no-store")
      .send(JSON.stringify(analyzeForEditor(query, caret as number | undefined)));
  });
}
