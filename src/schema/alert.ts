import { Type } from "@sinclair/typebox";
import { alertClassification, alertDetermination, alertSeverity, alertStatus, detectionSource, investigationState, serviceSource } from "./enums.js";
import { AlertComment } from "./comment.js";
import { MAX_ASSIGNED_TO_LENGTH, MAX_ID_LENGTH, MAX_TEXT_LENGTH, MAX_TITLE_LENGTH } from "./limits.js";
import { DateTime, Dictionary, EnumString, Nullable, StringCollection, type Resource } from "./meta.js";

/**
 * microsoft.graph.security.alert (the alerts_v2 collection), in Graph's property order.
 * `graphFilterable` marks the eight properties the list-alerts page documents for `$filter`, plus
 * `evidence`, whose lambda filters the alerts v1-to-v2 migration guide documents; `graphSortable` the
 * two Graph has been seen to sort by. The strict profile accepts only those; the other filterable
 * properties (id, incidentId, title, detectionSource, categories, mitreTechniques) are Triage
 * extensions of the lenient profile, listed in docs/graph-api.md (Query options).
 */
export const AlertSchema = Type.Object({
  id: Type.String({
    maxLength: MAX_ID_LENGTH,
    description: "Unique identifier of the alert.",
    column: "id",
    columnType: "text",
    filterable: true,
    sortable: true,
  }),
  providerAlertId: Nullable(Type.String(), { description: "The alert's id in the product that raised it." }),
  incidentId: Nullable(Type.String(), {
    description: "The incident this alert belongs to.",
    column: "incident_id",
    columnType: "integer",
    filterable: true,
    sortable: true,
  }),
  status: EnumString(alertStatus, {
    description: "The status of the alert.",
    column: "status",
    columnType: "enum",
    filterable: true,
    graphFilterable: true,
    sortable: true,
    updatable: true,
  }),
  severity: EnumString(alertSeverity, {
    description: "The severity of the alert.",
    column: "severity",
    columnType: "enum",
    filterable: true,
    graphFilterable: true,
    sortable: true,
  }),
  classification: Nullable(EnumString(alertClassification), {
    description: "The specification for the alert.",
    column: "classification",
    columnType: "enum",
    filterable: true,
    graphFilterable: true,
    sortable: true,
    updatable: true,
  }),
  determination: Nullable(EnumString(alertDetermination), {
    description: "The determination of the alert.",
    column: "determination",
    columnType: "enum",
    filterable: true,
    graphFilterable: true,
    sortable: true,
    updatable: true,
  }),
  serviceSource: EnumString(serviceSource, {
    description: "The service or product that created the alert.",
    column: "service_source",
    columnType: "enum",
    filterable: true,
    graphFilterable: true,
    sortable: true,
  }),
  detectionSource: Nullable(EnumString(detectionSource), {
    description: "The detection technology or sensor that found the activity.",
    column: "detection_source",
    columnType: "enum",
    filterable: true,
    sortable: true,
  }),
  productName: Nullable(Type.String(), { description: "The product that published the alert." }),
  detectorId: Nullable(Type.String(), { description: "The detector or rule that fired." }),
  tenantId: Nullable(Type.String(), { description: "The Microsoft Entra tenant in which the alert was created." }),
  title: Nullable(Type.String({ maxLength: MAX_TITLE_LENGTH }), {
    description: "Brief title of the alert.",
    column: "title",
    columnType: "text",
    filterable: true,
    sortable: true,
  }),
  description: Nullable(Type.String({ maxLength: MAX_TEXT_LENGTH }), { description: "String value describing each alert." }),
  recommendedActions: Nullable(Type.String({ maxLength: MAX_TEXT_LENGTH }), { description: "Recommended response and remediation actions." }),
  // A column of its own for advanced hunting (AlertInfo's Category), never filtered or sorted through OData.
  category: Nullable(Type.String(), { description: "The attack kill-chain category (deprecated; see categories).", column: "category", columnType: "text" }),
  categories: Nullable(StringCollection(), { description: "The attack kill-chain categories.", filterable: true }),
  assignedTo: Nullable(Type.String({ maxLength: MAX_ASSIGNED_TO_LENGTH }), {
    description: "Owner of the alert, or null if unassigned.",
    column: "assigned_to",
    columnType: "text",
    filterable: true,
    graphFilterable: true,
    sortable: true,
    updatable: true,
  }),
  alertWebUrl: Nullable(Type.String(), { description: "URL of the alert page in the portal." }),
  incidentWebUrl: Nullable(Type.String(), { description: "URL of the incident page in the portal." }),
  actorDisplayName: Nullable(Type.String(), { description: "The adversary or activity group associated with this alert." }),
  threatDisplayName: Nullable(Type.String(), { description: "The threat associated with this alert." }),
  threatFamilyName: Nullable(Type.String(), { description: "The threat family associated with this alert." }),
  mitreTechniques: Nullable(StringCollection(), { description: "MITRE ATT&CK techniques, e.g. T1059.001.", filterable: true }),
  createdDateTime: DateTime({
    description: "When the alert was created.",
    edmNullable: true,
    column: "created_at",
    columnType: "datetime",
    filterable: true,
    graphFilterable: true,
    sortable: true,
    graphSortable: true,
  }),
  lastUpdateDateTime: DateTime({
    description: "When the alert was last updated.",
    edmNullable: true,
    column: "updated_at",
    columnType: "datetime",
    filterable: true,
    graphFilterable: true,
    sortable: true,
    graphSortable: true,
  }),
  resolvedDateTime: Nullable(DateTime(), { description: "When the alert was resolved." }),
  firstActivityDateTime: Nullable(DateTime(), {
    description: "The earliest activity associated with the alert.",
    column: "first_activity_at",
    columnType: "datetime",
    filterable: true,
    sortable: true,
  }),
  lastActivityDateTime: Nullable(DateTime(), {
    description: "The latest activity associated with the alert.",
    column: "last_activity_at",
    columnType: "datetime",
    filterable: true,
    sortable: true,
  }),
  comments: Type.Array(AlertComment, {
    edm: "Collection(microsoft.graph.security.alertComment)",
    edmNullable: true,
    description: "Comments by analysts (add them with POST …/comments).",
  }),
  evidence: Type.Array(Type.Record(Type.String(), Type.Unknown()), {
    description: "Evidence related to the alert: a polymorphic collection of alertEvidence subtypes, each with its @odata.type.",
    edm: "Collection(microsoft.graph.security.alertEvidence)",
    edmNullable: true,
    filterable: true,
    graphFilterable: true,
  }),
  systemTags: Nullable(StringCollection(), { description: "System tags associated with the alert." }),
  investigationState: Nullable(EnumString(investigationState), { description: "State of the automated investigation." }),
  alertPolicyId: Nullable(Type.String(), { description: "The policy that produced the alert, if any." }),
  additionalData: Dictionary({ description: "Extra properties of the alert, including custom alert details.", edmNullable: true }),
  customDetails: Dictionary({ description: "User-defined custom fields with string values.", updatable: true, edmNullable: true }),
});

export const alertResource: Resource = {
  typeName: "alert",
  entitySet: "alerts_v2",
  schema: AlertSchema,
  defaultPageSize: 100,
  maxPageSize: 1000,
  table: "alerts",
  topAboveMax: "clamp",
  navigation: [],
};
