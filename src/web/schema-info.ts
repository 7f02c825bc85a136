import type { TObject, TSchema } from "@sinclair/typebox";
import { properties, type Annotated, type Resource } from "../schema/meta.js";
import { incidentResource } from "../schema/incident.js";
import { alertResource } from "../schema/alert.js";
import { AlertComment } from "../schema/comment.js";
import { evidenceSubtypes, schemaGraphEnum, unwrapNullable } from "../schema/evidence.js";
import { typeOf } from "../schema/docs.js";
import type { PropertyDoc, ResourceDoc, SchemaInfo } from "./contracts.js";

function enumMembers(s: TSchema): string[] | null {
  const value = unwrapNullable(s) as Annotated;
  const e = schemaGraphEnum(value) ?? (value.type === "array" ? schemaGraphEnum(value.items as TSchema) : undefined);
  return e ? [...e.members] : null;
}

function propertyDocs(schema: TObject): PropertyDoc[] {
  return [...properties(schema).values()].map((p) => ({
    name: p.name,
    type: typeOf(p.schema),
    nullable: p.schema.nullable === true,
    description: p.schema.description ?? "",
    updatable: p.meta.updatable === true,
    filterable: p.meta.filterable === true,
    sortable: p.meta.sortable === true,
    betaOnly: p.meta.betaOnly === true,
    enumMembers: enumMembers(p.schema),
  }));
}

function resourceDoc(r: Resource, relationships: ResourceDoc["relationships"]): ResourceDoc {
  return {
    name: r.typeName,
    qualifiedName: `microsoft.graph.security.${r.typeName}`,
    entitySet: r.entitySet,
    defaultPageSize: r.defaultPageSize,
    maxPageSize: r.maxPageSize,
    properties: propertyDocs(r.schema),
    relationships,
  };
}

const EVIDENCE_BASE = ["@odata.type", "createdDateTime", "detailedRoles", "remediationStatus", "remediationStatusDetails", "roles", "tags", "verdict"];

let cached: SchemaInfo | undefined;

/**
 * The resources as the web app's permissions explorer shows them: the same schema information as
 * docs/resources.md (generated from the same schemas), as JSON.
 */
export function schemaInfo(): SchemaInfo {
  cached ??= {
    resources: [
      resourceDoc(incidentResource, [
        { name: "alerts", target: "alert", how: "GET /security/incidents/{id}/alerts, or $expand=alerts" },
        { name: "comments", target: "alertComment", how: "POST /security/incidents/{id}/comments" },
        { name: "redirectIncidentId", target: "incident", how: "the incident this one was merged into" },
      ]),
      resourceDoc(alertResource, [
        { name: "incidentId", target: "incident", how: "GET /security/incidents/{incidentId}" },
        { name: "evidence", target: "alertEvidence", how: "polymorphic collection (see the evidence subtypes)" },
        { name: "comments", target: "alertComment", how: "POST /security/alerts_v2/{id}/comments" },
      ]),
      {
        name: "alertComment",
        qualifiedName: "microsoft.graph.security.alertComment",
        entitySet: null,
        defaultPageSize: null,
        maxPageSize: null,
        properties: propertyDocs(AlertComment),
        relationships: [],
      },
    ],
    evidence: [...evidenceSubtypes.entries()].map(([name, schema]) => ({
      type: `#microsoft.graph.security.${name}`,
      properties: Object.entries(schema.properties)
        .filter(([k]) => !EVIDENCE_BASE.includes(k))
        .map(([k, s]) => ({ name: k, type: typeOf(s as Annotated) })),
    })),
    evidenceBase: EVIDENCE_BASE,
  };
  return cached;
}
