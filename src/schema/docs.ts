import type { TSchema } from "@sinclair/typebox";
import { properties, type Annotated, type Resource } from "./meta.js";
import { incidentResource } from "./incident.js";
import { alertResource } from "./alert.js";
import { AlertComment } from "./comment.js";
import { evidenceSubtypes } from "./evidence.js";
import { schemaGraphEnum, unwrapNullable } from "./evidence.js";

/**
 * The resource reference (docs/resources.md), generated from the same schemas that validate, store,
 * filter and render, so the documentation cannot drift from the behaviour.
 */
export function typeOf(s: Annotated): string {
  if (s.edm) return s.edm;
  if (s.anyOf) {
    const branch = (s.anyOf as Annotated[]).find((b) => b.type !== "null");
    if (branch) return typeOf(branch);
  }
  if (s.type === "array") return `Collection(${typeOf(s.items as Annotated)})`;
  if (s.format === "date-time") return "Edm.DateTimeOffset";
  const e = schemaGraphEnum(s as TSchema);
  if (e) return `microsoft.graph.security.${e.name}`;
  switch (s.type) {
    case "string":
      return "Edm.String";
    case "integer":
      return s.format === "int32" ? "Edm.Int32" : "Edm.Int64";
    case "number":
      return "Edm.Double";
    case "boolean":
      return "Edm.Boolean";
    case "object":
      return "complex";
    default:
      return "any";
  }
}

function flags(p: ReturnType<typeof properties> extends Map<string, infer V> ? V : never): string {
  const out: string[] = [];
  if (p.meta.updatable) out.push("PATCH");
  // Extensions of the lenient profile are marked: the strict profile refuses them as Graph does.
  if (p.meta.filterable) out.push(p.meta.graphFilterable ? "$filter" : "$filter (lenient)");
  if (p.meta.sortable) out.push(p.meta.graphSortable ? "$orderby" : "$orderby (lenient)");
  if (p.meta.betaOnly) out.push("beta only");
  return out.join(", ");
}

function resourceTable(title: string, resource: Resource): string {
  const rows = [...properties(resource.schema).values()].map(
    (p) =>
      `| \`${p.name}\` | ${typeOf(p.schema)} | ${p.schema.nullable ? "yes" : "no"} | ${flags(p)} | ${(p.schema.description ?? "").replace(/\|/g, "\\|")} |`,
  );
  return [
    `## ${title}`,
    "",
    `Collection \`/security/${resource.entitySet}\`: ${resource.defaultPageSize} per page by default, at most ${resource.maxPageSize}.`,
    "",
    "| Property | Type | Nullable | Query and update | Description |",
    "|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

function enumNote(s: TSchema): string {
  const e = schemaGraphEnum(unwrapNullable(s)) ?? schemaGraphEnum(((unwrapNullable(s) as Annotated).items as TSchema) ?? s);
  return e ? ` (${e.name})` : "";
}

export function resourceReference(): string {
  const comment = [...Object.entries(AlertComment.properties)].map(
    ([name, s]) => `| \`${name}\` | ${typeOf(s as Annotated)} | ${(s as Annotated).description ?? ""} |`,
  );
  const evidence = [...evidenceSubtypes.entries()].map(([name, schema]) => {
    const own = Object.entries(schema.properties)
      .filter(
        ([k]) => !["@odata.type", "createdDateTime", "detailedRoles", "remediationStatus", "remediationStatusDetails", "roles", "tags", "verdict"].includes(k),
      )
      .map(([k, s]) => `\`${k}\`${enumNote(s as TSchema)}`);
    return `| \`#microsoft.graph.security.${name}\` | ${own.join(", ") || "(base properties only)"} |`;
  });
  return [
    "# Resource reference",
    "",
    "Generated from Triage's schemas by `npm run docs`; do not edit by hand.",
    '"Query and update" says which properties PATCH accepts, which `$filter` accepts (collections through',
    '`any`/`all`), and which `$orderby` accepts; "(lenient)" marks a Triage extension that the strict',
    "profile refuses as Graph does ([Profiles](graph-api.md#profiles-lenient-and-strict)). Every property can be named in `$select`.",
    "",
    resourceTable("incident (microsoft.graph.security.incident)", incidentResource),
    resourceTable("alert (microsoft.graph.security.alert)", alertResource),
    "## alertComment (microsoft.graph.security.alertComment)",
    "",
    "| Property | Type | Description |",
    "|---|---|---|",
    ...comment,
    "",
    "## Evidence subtypes",
    "",
    "Every element of an alert's `evidence` has `@odata.type` and the base properties `createdDateTime`,",
    "`detailedRoles`, `remediationStatus` (evidenceRemediationStatus), `remediationStatusDetails`, `roles`",
    "(evidenceRole), `tags` and `verdict` (evidenceVerdict). The subtypes add:",
    "",
    "| @odata.type | Own properties |",
    "|---|---|",
    ...evidence,
    "",
    "Elements of any other `@odata.type` are stored and served exactly as ingested.",
    "",
  ].join("\n");
}
