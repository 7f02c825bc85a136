/**
 * Where Triage's `$metadata` knowingly differs from Graph's, and why: the one list that
 * test/graph/metadata.test.ts allows (any other difference fails it) and that docs/graph-api.md
 * ("Known differences from Graph") shows, rendered by `metadataDifferencesMarkdown`.
 */

/** One difference the comparison finds between a declaration of Triage's and the same one of Graph's. */
export interface MetadataDifference {
  /** The qualified name (an operation Graph declares too: `name(binding type)`). */
  declaration: string;
  kind:
    | "declarationNotInGraph"
    | "kind"
    | "isFlags"
    | "underlyingType"
    | "extraMember"
    | "missingMember"
    | "memberValue"
    | "memberOrder"
    | "memberKind"
    | "baseType"
    | "openType"
    | "abstract"
    | "type"
    | "nullable"
    | "containsTarget"
    | "optionalParameter"
    | "returnType";
  /** The property, navigation property, enum member or parameter concerned. */
  member?: string;
  ours: string;
  theirs: string;
}

export interface AllowedDifference {
  /** Qualified names of the declarations it concerns. */
  declarations: readonly string[];
  kind: MetadataDifference["kind"];
  /** The members concerned; absent: every member of these declarations with this kind of difference. */
  members?: readonly string[];
  /** The documents it concerns: beta's only (a beta-only declaration), or both when absent. */
  versions?: readonly ("v1.0" | "beta")[];
  /** One line for the docs: what differs and why. */
  reason: string;
}

const SECURITY = "microsoft.graph.security";

export const allowedMetadataDifferences: readonly AllowedDifference[] = [
  {
    declarations: ["microsoft.graph.security"],
    kind: "missingMember",
    reason:
      "the `security` singleton declares only what Triage serves (`incidents`, `alerts_v2` and their operations); Graph's other security resources (legacy `alerts`, secure scores, eDiscovery cases, threat intelligence, …) are absent.",
  },
  {
    declarations: ["microsoft.graph.entity", "microsoft.graph.GraphService"],
    kind: "declarationNotInGraph",
    reason:
      "Graph declares them too (the base type of every entity, and its entity container), but outside the security namespace that the comparison reads from Graph's metadata.",
  },
  {
    declarations: [`${SECURITY}.incident`],
    kind: "extraMember",
    members: ["recommendedActions", "recommendedHuntingQueries"],
    versions: ["beta"],
    reason: "as in Graph, whose beta metadata declares them and whose v1.0 metadata, which the comparison reads, does not.",
  },
  {
    declarations: [`${SECURITY}.runHuntingQuery(${SECURITY})`],
    kind: "extraMember",
    members: ["workspaceId"],
    versions: ["beta"],
    reason: "as in Graph's beta metadata: a Log Analytics workspace, accepted and ignored (Triage has one store).",
  },
  {
    declarations: [
      `${SECURITY}.getRunHuntingQuery`,
      `${SECURITY}.getHuntingSchema`,
      `${SECURITY}.recommendedHuntingQuery`,
      `${SECURITY}.huntingSchemaResult`,
      `${SECURITY}.huntingSchemaTable`,
      `${SECURITY}.huntingSchemaTableColumn`,
      `${SECURITY}.huntingSchemaFunctions`,
      `${SECURITY}.huntingSchemaBuiltInFunction`,
      `${SECURITY}.huntingSchemaSavedFunction`,
      `${SECURITY}.huntingSchemaFunctionParameter`,
    ],
    kind: "declarationNotInGraph",
    versions: ["beta"],
    reason:
      "the functions `getRunHuntingQuery` and `getHuntingSchema` and the types they and beta's incident use: as in Graph, whose beta metadata declares them and whose v1.0 metadata, which the comparison reads, does not.",
  },
];

/** The allowed difference that covers `d` in the document of `version`, if any. */
export function isAllowed(
  d: MetadataDifference,
  version: "v1.0" | "beta",
  list: readonly AllowedDifference[] = allowedMetadataDifferences,
): AllowedDifference | undefined {
  return list.find(
    (a) =>
      a.kind === d.kind &&
      (a.versions ?? ["v1.0", "beta"]).includes(version) &&
      a.declarations.includes(d.declaration) &&
      (a.members === undefined || (d.member !== undefined && a.members.includes(d.member))),
  );
}

function short(name: string): string {
  return name.replace(/^microsoft\.graph\.security\./, "").replace(/^microsoft\.graph\./, "graph.");
}

/**
 * The Markdown list docs/graph-api.md carries between its metadata-differences markers (nested in its
 * "Known differences from Graph" list); `TRIAGE_UPDATE_DOCS=1 npx vitest run test/graph/metadata.test.ts`
 * writes it there.
 */
export function metadataDifferencesMarkdown(list: readonly AllowedDifference[] = allowedMetadataDifferences): string {
  return list
    .map((a) => {
      const names = a.declarations.map((n) => `\`${short(n)}\``).join(", ");
      const members = a.members ? ` (${a.members.map((m) => `\`${m}\``).join(", ")})` : "";
      const versions = a.versions ? ` (${a.versions.join(", ")} only)` : "";
      return `  - ${names}${members}${versions}: ${a.reason}`;
    })
    .join("\n");
}
