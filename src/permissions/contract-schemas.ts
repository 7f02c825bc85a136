/**
 * TypeBox schemas of the permissions API's answers, for the OpenAPI document (web/permission-routes.ts).
 * contracts.ts and finder.ts keep the types; the type checker holds these to them: each schema's
 * static type and its interface must be assignable both ways, or this file does not compile.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import type { FinderResult, PermissionSummary } from "./contracts.js";
import type { FinderAnswer } from "./finder.js";

const nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()]);
const SCHEMES = ["DelegatedWork", "DelegatedPersonal", "Application"] as const;

const Candidate = Type.Object({
  permission: Type.String(),
  privilegeLevel: nullable(Type.Number()),
  markedLeast: Type.Boolean({ description: "The data marks it least privileged for the call." }),
  alsoRequires: Type.Array(Type.String()),
  template: Type.String({ description: "The data's path template that granted it." }),
});

const SchemeAnswer = Type.Object({
  leastPrivileged: nullable(Type.String()),
  basis: nullable(Type.Union([Type.Literal("marker"), Type.Literal("privilege-level")])),
  candidates: Type.Array(Candidate, { description: "Every permission that grants the call under the scheme, least privileged first." }),
});

export const FinderAnswerSchema = Type.Object({
  method: Type.String(),
  path: Type.String({ description: "The path as matched: no host, version, query or trailing slash." }),
  version: nullable(Type.Union([Type.Literal("v1.0"), Type.Literal("beta")])),
  found: Type.Boolean(),
  templates: Type.Array(Type.String()),
  alias: nullable(Type.String({ description: "Set when the call matched only through an alias (/me for /users/{id})." })),
  schemes: Type.Object({ DelegatedWork: SchemeAnswer, DelegatedPersonal: SchemeAnswer, Application: SchemeAnswer }),
  message: Type.String(),
});

const SchemeSummary = Type.Object({
  id: nullable(Type.String()),
  displayName: Type.String(),
  description: Type.String(),
  requiresAdminConsent: Type.Boolean(),
  privilegeLevel: nullable(Type.Number()),
});

export const PermissionSummarySchema = Type.Object({
  name: Type.String(),
  source: Type.Union([Type.Literal("graph-data"), Type.Literal("triage-catalog")]),
  enforced: Type.Boolean({ description: "Triage enforces it on its own endpoints." }),
  authorizationType: Type.String(),
  schemes: Type.Partial(Type.Object(Object.fromEntries(SCHEMES.map((s) => [s, SchemeSummary])) as Record<(typeof SCHEMES)[number], typeof SchemeSummary>)),
  methods: Type.Array(Type.String()),
  paths: Type.Array(Type.String()),
});

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const checks: [
  Same<Static<typeof FinderAnswerSchema>, FinderAnswer>,
  Same<Static<typeof FinderAnswerSchema>, FinderResult>,
  Same<Static<typeof PermissionSummarySchema>, PermissionSummary>,
] = [true, true, true];
void checks;
