import { Type, type TObject, type TSchema } from "@sinclair/typebox";
import { correlationReason } from "./enums.js";
import { DateTime, EnumString, Nullable, StringCollection } from "./meta.js";

/**
 * Graph's bound actions and functions that Triage serves, declared once for `$metadata`
 * (src/schema/csdl.ts). The routes that carry them live in the HTTP surfaces; this is their contract.
 *
 * To declare another operation, add it to `operations` and the complex type it answers to
 * `operationTypes`; `$metadata` then declares both, and test/graph/metadata.test.ts compares them with
 * Graph's own declarations (a beta-only one with the beta differences its allow-list names).
 */
export interface OperationParameter {
  name: string;
  /** The value's schema; its CSDL type is derived as for properties (`edm`, enums, formats). */
  schema: TSchema;
  /** CSDL `Nullable` (Graph's default: true). */
  nullable?: boolean;
  /** `Org.OData.Core.V1.OptionalParameter`: the caller may leave it out. */
  optional?: boolean;
  /** CSDL `Unicode="false"` on a string parameter, as Graph declares its id and text parameters. */
  unicode?: false;
  /** Declared under /beta only. */
  betaOnly?: boolean;
}

export interface OperationDeclaration {
  kind: "Action" | "Function";
  name: string;
  /** The qualified type the operation is bound to: an entity set's `Collection(…)`, or `microsoft.graph.security` (the singleton). */
  bindingType: string;
  parameters: readonly OperationParameter[];
  /** Qualified return type, or none. */
  returnType?: string;
  /** Declared under /beta only. */
  betaOnly?: boolean;
}

const NS = "microsoft.graph.security";

/** microsoft.graph.security.mergeResponse: what mergeIncidents and moveAlerts answer. */
export const MergeResponse = Type.Object({
  targetIncidentId: Type.String({ description: "The incident left standing: the merge's target, or where the alerts moved." }),
});

/** One row of a hunting answer: its columns are the query's, so the type is open. */
export const HuntingRowResult = Type.Object({}, { complexType: "huntingRowResult", openType: true, additionalProperties: true });
/** A column of a hunting answer: its name and Graph's type name (String, DateTime, Int64, …). */
export const SinglePropertySchema = Type.Object({ name: Nullable(Type.String()), type: Nullable(Type.String()) });
/** microsoft.graph.security.huntingQueryResults: what runHuntingQuery answers (docs/hunting.md). */
export const HuntingQueryResults = Type.Object({
  results: Nullable(Type.Array(HuntingRowResult)),
  schema: Nullable(Type.Array(SinglePropertySchema, { edm: `Collection(${NS}.singlePropertySchema)` })),
});

// What beta's getHuntingSchema answers, as Graph's beta reference describes microsoft.graph.security
// huntingSchemaResult and the types it nests (a property it calls required is Nullable="false").
const HuntingSchemaTableColumn = Type.Object(
  { dataType: Type.String(), description: Nullable(Type.String()), name: Type.String() },
  { complexType: "huntingSchemaTableColumn" },
);
const HuntingSchemaFunctionParameter = Type.Object(
  { cslType: Type.String(), defaultValue: Nullable(Type.String()), name: Type.String() },
  { complexType: "huntingSchemaFunctionParameter" },
);
const functionProperties = {
  huntingFunctionId: Type.Integer({ format: "int64" }),
  inputParameters: Nullable(Type.Array(HuntingSchemaFunctionParameter)),
  name: Type.String(),
  outputColumns: Nullable(Type.Array(HuntingSchemaTableColumn)),
  path: Nullable(Type.String()),
};
const HuntingSchemaBuiltInFunction = Type.Object(
  { documentation: Nullable(Type.String()), ...functionProperties },
  { complexType: "huntingSchemaBuiltInFunction" },
);
const HuntingSchemaSavedFunction = Type.Object(
  {
    createdBy: Nullable(Type.String()),
    description: Nullable(Type.String()),
    lastModifiedBy: Nullable(Type.String()),
    lastModifiedDateTime: Nullable(DateTime()),
    ...functionProperties,
  },
  { complexType: "huntingSchemaSavedFunction" },
);
/** microsoft.graph.security.huntingSchemaResult: what beta's getHuntingSchema answers (docs/hunting.md). */
export const HuntingSchemaResult = Type.Object({
  functions: Nullable(
    Type.Object(
      { builtInFunctions: Nullable(Type.Array(HuntingSchemaBuiltInFunction)), savedFunctions: Nullable(Type.Array(HuntingSchemaSavedFunction)) },
      { complexType: "huntingSchemaFunctions" },
    ),
  ),
  tables: Nullable(
    Type.Array(
      Type.Object(
        { columns: Nullable(Type.Array(HuntingSchemaTableColumn)), description: Nullable(Type.String()), name: Type.String() },
        { complexType: "huntingSchemaTable" },
      ),
    ),
  ),
});

/**
 * Complex types the operations answer, by name in the security namespace; a version's `$metadata`
 * declares those its operations return (and, through their properties, every type they nest).
 */
export const operationTypes: ReadonlyMap<string, TObject> = new Map<string, TObject>([
  ["mergeResponse", MergeResponse],
  ["huntingQueryResults", HuntingQueryResults],
  ["huntingSchemaResult", HuntingSchemaResult],
]);

export const operations: readonly OperationDeclaration[] = [
  {
    kind: "Action",
    name: "mergeIncidents",
    bindingType: `Collection(${NS}.incident)`,
    parameters: [
      { name: "incidentIds", schema: StringCollection(), unicode: false },
      { name: "incidentComment", schema: Type.String(), unicode: false, optional: true },
      { name: "mergeReasons", schema: EnumString(correlationReason), optional: true },
    ],
    returnType: `${NS}.mergeResponse`,
  },
  {
    kind: "Action",
    name: "moveAlerts",
    bindingType: `Collection(${NS}.alert)`,
    parameters: [
      { name: "alertIds", schema: StringCollection(), unicode: false },
      { name: "incidentId", schema: Type.String(), unicode: false, optional: true },
      { name: "alertComment", schema: Type.String(), unicode: false, optional: true },
      { name: "newCorrelationReasons", schema: EnumString(correlationReason), optional: true },
    ],
    returnType: `${NS}.mergeResponse`,
  },
  {
    kind: "Action",
    name: "runHuntingQuery",
    bindingType: NS,
    parameters: [
      { name: "query", schema: Type.String(), unicode: false },
      { name: "timespan", schema: Type.String(), unicode: false, optional: true },
      // beta: a Log Analytics workspace, accepted and ignored (Triage has one store; docs/hunting.md).
      { name: "workspaceId", schema: Type.String({ format: "uuid" }), optional: true, betaOnly: true },
    ],
    returnType: `${NS}.huntingQueryResults`,
  },
  {
    kind: "Function",
    name: "getRunHuntingQuery",
    bindingType: NS,
    parameters: [
      { name: "query", schema: Type.String(), unicode: false },
      { name: "timespan", schema: Type.String(), unicode: false, optional: true },
      { name: "workspaceId", schema: Type.String({ format: "uuid" }), optional: true },
    ],
    returnType: `${NS}.huntingQueryResults`,
    betaOnly: true,
  },
  {
    kind: "Function",
    name: "getHuntingSchema",
    bindingType: NS,
    parameters: [],
    returnType: `${NS}.huntingSchemaResult`,
    betaOnly: true,
  },
];
