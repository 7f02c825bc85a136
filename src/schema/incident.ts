import { Type } from "@sinclair/typebox";
import { alertClassification, alertDetermination, alertSeverity, incidentStatus } from "./enums.js";
import { AlertComment } from "./comment.js";
import { MAX_ASSIGNED_TO_LENGTH, MAX_TEXT_LENGTH, MAX_TITLE_LENGTH } from "./limits.js";
import { DateTime, EnumString, Nullable, StringCollection, type Resource } from "./meta.js";

/**
 * microsoft.graph.security.incident, in Graph's property order. `graphFilterable` marks the seven
 * properties Graph documents for `$filter` (the list-incidents page) and `graphSortable` the two it
 * has been seen to sort by; the strict profile accepts only those. The other filterable properties
 * (displayName, id, priorityScore, customTags, systemTags) are Triage extensions of the lenient
 * profile, listed in docs/graph-api.md (Query options).
 */
export const IncidentSchema = Type.Object({
  id: Type.String({
    description: "Unique identifier of the incident (a decimal string).",
    column: "id",
    columnType: "integer",
    filterable: true,
    sortable: true,
  }),
  tenantId: Nullable(Type.String(), { description: "The Microsoft Entra tenant in which the incident was created." }),
  status: EnumString(incidentStatus, {
    description: "The status of the incident.",
    column: "status",
    columnType: "enum",
    filterable: true,
    graphFilterable: true,
    sortable: true,
    updatable: true,
  }),
  incidentWebUrl: Nullable(Type.String(), { description: "The URL of the incident page in the portal." }),
  redirectIncidentId: Nullable(Type.String(), { description: "Only set when this incident was merged into another one; that incident's id." }),
  displayName: Nullable(Type.String({ maxLength: MAX_TITLE_LENGTH }), {
    description: "The incident name.",
    column: "display_name",
    columnType: "text",
    filterable: true,
    sortable: true,
    updatable: true,
  }),
  createdDateTime: DateTime({
    description: "When the incident was first created.",
    column: "created_at",
    columnType: "datetime",
    filterable: true,
    graphFilterable: true,
    sortable: true,
    graphSortable: true,
  }),
  lastUpdateDateTime: DateTime({
    description: "When the incident was last updated.",
    column: "updated_at",
    columnType: "datetime",
    filterable: true,
    graphFilterable: true,
    sortable: true,
    graphSortable: true,
  }),
  assignedTo: Nullable(Type.String({ maxLength: MAX_ASSIGNED_TO_LENGTH }), {
    description: "Owner of the incident, or null if unassigned. Free text, usually a UPN.",
    column: "assigned_to",
    columnType: "text",
    filterable: true,
    graphFilterable: true,
    sortable: true,
    updatable: true,
  }),
  classification: Nullable(EnumString(alertClassification), {
    description: "The specification for the incident.",
    column: "classification",
    columnType: "enum",
    filterable: true,
    graphFilterable: true,
    sortable: true,
    updatable: true,
  }),
  determination: Nullable(EnumString(alertDetermination), {
    description: "The determination of the incident.",
    column: "determination",
    columnType: "enum",
    filterable: true,
    graphFilterable: true,
    sortable: true,
    updatable: true,
  }),
  severity: EnumString(alertSeverity, {
    description: "The severity of the incident: the highest of its alerts unless an analyst set it.",
    column: "severity",
    columnType: "enum",
    filterable: true,
    graphFilterable: true,
    sortable: true,
    updatable: true,
  }),
  customTags: Nullable(StringCollection(), { description: "Tags that analysts assign to the incident.", filterable: true, updatable: true }),
  systemTags: Nullable(StringCollection(), { description: "System tags associated with the incident.", filterable: true }),
  description: Nullable(Type.String({ maxLength: MAX_TEXT_LENGTH }), { description: "A description of the incident.", updatable: true }),
  summary: Nullable(Type.String({ maxLength: MAX_TEXT_LENGTH }), {
    description: "An overview of the attack: what happened, which assets, what kind of attack.",
    updatable: true,
  }),
  lastModifiedBy: Nullable(Type.String(), { description: "Who last modified the incident." }),
  resolvingComment: Nullable(Type.String({ maxLength: MAX_TEXT_LENGTH }), { description: "Explains the resolution and classification.", updatable: true }),
  priorityScore: Nullable(Type.Integer({ minimum: 0, maximum: 100, edm: "Edm.Int32" }), {
    description:
      "Priority from 0 to 100: above 85 is top priority, 15 to 85 medium, below 15 low. See docs/triage-api.md#priority-score for how Triage computes it.",
    column: "priority_score",
    columnType: "integer",
    filterable: true,
    sortable: true,
  }),
  comments: Type.Array(AlertComment, {
    edm: "Collection(microsoft.graph.security.alertComment)",
    edmNullable: true,
    description: "Comments by analysts (add them with POST …/comments).",
  }),
  recommendedActions: Nullable(Type.String(), { description: "Recommended actions for the incident (beta).", betaOnly: true }),
  recommendedHuntingQueries: Nullable(
    Type.Array(Type.Object({ kqlText: Nullable(Type.String()) }), { edm: "Collection(microsoft.graph.security.recommendedHuntingQuery)" }),
    {
      description:
        "KQL over AlertInfo and AlertEvidence for the incident's devices, accounts, IP addresses and alert titles, built from its alerts when it is served (beta). See docs/hunting.md#recommended-hunting-queries.",
      betaOnly: true,
    },
  ),
});

export const incidentResource: Resource = {
  typeName: "incident",
  entitySet: "incidents",
  schema: IncidentSchema,
  defaultPageSize: 50,
  maxPageSize: 50,
  table: "incidents",
  topAboveMax: "reject",
  navigation: [{ name: "alerts", typeName: "alert", collection: true }],
};
