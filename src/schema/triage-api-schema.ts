/**
 * The JSON of Triage's own read API (triage-api.ts) as TypeBox schemas, for the OpenAPI document.
 * triage-api.ts stays type-only (the web app compiles it); the type checker holds the two together:
 * each schema's static type and the interface must be assignable both ways, or this file does not compile.
 */
import { Type, type Static } from "@sinclair/typebox";
import type { AuditEntry, AuditPage, Correlation, KqlEditorAnalysis } from "./triage-api.js";

const AuditEntrySchema = Type.Object({
  seq: Type.Integer({ description: "The audit row's sequence number, increasing." }),
  entityType: Type.String({ description: "incident or alert." }),
  entityId: Type.String(),
  at: Type.String({ format: "date-time" }),
  actor: Type.String({ description: "The user or app that made the change." }),
  requestId: Type.Union([Type.String(), Type.Null()], { description: "The request that made it (null for changes made outside a request)." }),
  property: Type.String({ description: "The property that changed." }),
  before: Type.Unknown(),
  after: Type.Unknown(),
});

export const AuditPageSchema = Type.Object({
  value: Type.Array(AuditEntrySchema),
  nextLink: Type.Optional(Type.String({ description: "Present when more entries follow: the same path with ?after= the last seq." })),
});

export const CorrelationSchema = Type.Object({
  incidentId: Type.String(),
  priority: Type.Object({
    score: Type.Union([Type.Integer(), Type.Null()]),
    factors: Type.Array(
      Type.Object({
        factor: Type.Union([Type.Literal("severity"), Type.Literal("alerts"), Type.Literal("assets"), Type.Literal("detectionSource"), Type.Literal("rarity")]),
        points: Type.Number(),
        reason: Type.String(),
      }),
    ),
  }),
  entities: Type.Array(Type.Object({ key: Type.String(), lastSeenDateTime: Type.String({ format: "date-time" }) })),
  events: Type.Array(
    Type.Object({
      seq: Type.Integer(),
      at: Type.String({ format: "date-time" }),
      kind: Type.String(),
      alertId: Type.Union([Type.String(), Type.Null()]),
      otherIncidentId: Type.Union([Type.String(), Type.Null()]),
      reasons: Type.Array(Type.String()),
      detail: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

const span = { start: Type.Integer({ minimum: 0, description: "Offset in the query (UTF-16 code units)." }), length: Type.Integer({ minimum: 0 }) };

export const KqlEditorAnalysisSchema = Type.Object({
  tokens: Type.Array(
    Type.Object({
      ...span,
      kind: Type.Union(
        (
          [
            "comment",
            "punctuation",
            "directive",
            "literal",
            "string",
            "type",
            "column",
            "table",
            "database",
            "function",
            "parameter",
            "variable",
            "identifier",
            "operator",
            "queryOperator",
            "keyword",
            "plain",
          ] as const
        ).map((k) => Type.Literal(k)),
      ),
    }),
    { description: "The classified spans of the query, in order (unclassified white space is left out)." },
  ),
  diagnostics: Type.Array(
    Type.Object({
      ...span,
      severity: Type.Union([Type.Literal("error"), Type.Literal("warning"), Type.Literal("suggestion"), Type.Literal("information")]),
      code: Type.String({ description: "The language service's code, such as KS142." }),
      message: Type.String(),
    }),
  ),
  completion: Type.Optional(
    Type.Object(
      {
        ...span,
        items: Type.Array(
          Type.Object({
            label: Type.String(),
            kind: Type.Union(
              (["keyword", "operator", "table", "column", "function", "aggregate", "variable", "parameter", "chart", "syntax", "other"] as const).map((k) =>
                Type.Literal(k),
              ),
            ),
            before: Type.String({ description: "Replaces the range start..start+length; the caret goes after it." }),
            after: Type.String({ description: "Inserted after the caret." }),
          }),
        ),
        incomplete: Type.Boolean({ description: "More items matched than were answered: ask again as the word grows." }),
      },
      { description: "Present when the request gave a caret: what may be typed there." },
    ),
  ),
});

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const checks: [
  Same<Static<typeof AuditEntrySchema>, AuditEntry>,
  Same<Static<typeof AuditPageSchema>, AuditPage>,
  Same<Static<typeof CorrelationSchema>, Correlation>,
  Same<Static<typeof KqlEditorAnalysisSchema>, KqlEditorAnalysis>,
] = [true, true, true, true];
void checks;
