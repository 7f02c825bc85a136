/**
 * The JSON of Triage's own read API (triage-api.ts) as TypeBox schemas, for the OpenAPI document.
 * triage-api.ts stays type-only (the web app compiles it); the type checker holds the two together:
 * each schema's static type and the interface must be assignable both ways, or this file does not compile.
 */
import { Type, type Static } from "@sinclair/typebox";
import type { AuditEntry, AuditPage, Correlation } from "./triage-api.js";

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

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const checks: [
  Same<Static<typeof AuditEntrySchema>, AuditEntry>,
  Same<Static<typeof AuditPageSchema>, AuditPage>,
  Same<Static<typeof CorrelationSchema>, Correlation>,
] = [true, true, true];
void checks;
