/**
 * The OData CSDL document `GET /{version}/$metadata` answers, generated from the same schemas that
 * validate, store, filter and render (and that docs/resources.md is generated from): the entity types
 * incident and alert, their complex types (comments, evidence and everything it nests), every enum with
 * its members' values and IsFlags, the navigation properties, the bound operations of
 * src/schema/operations.ts, and the entity container with the `security` singleton.
 */
import { KindGuard, type TObject, type TSchema } from "@sinclair/typebox";
import { properties, type Annotated, type Resource } from "./meta.js";
import { incidentResource } from "./incident.js";
import { alertResource } from "./alert.js";
import type { GraphEnum } from "./enums.js";
import {
  alertEvidence,
  alertEvidencePropertyNames,
  evidenceComplexTypeNames,
  evidenceSubtypes,
  isNullableSchema,
  nestedEvidenceName,
  schemaGraphEnum,
  unwrapNullable,
} from "./evidence.js";
import { operations, operationTypes, type OperationDeclaration } from "./operations.js";

export type ApiVersion = "v1.0" | "beta";

const GRAPH = "microsoft.graph";
const SECURITY = "microsoft.graph.security";
const CORE = "Org.OData.Core.V1";
const CAPABILITIES = "Org.OData.Capabilities.V1";

/** The resources served under /security, each an entity set of the `security` singleton. */
export const metadataResources: readonly Resource[] = [incidentResource, alertResource];

interface CsdlProperty {
  name: string;
  type: string;
  nullable: boolean;
}

interface CsdlComplexType {
  name: string;
  baseType?: string;
  open?: boolean;
  properties: CsdlProperty[];
}

// Type names are written in full (Graph's own document uses the aliases `self` and `graph`): the OData
// tools name operation segments after what the document writes, and Triage's routes answer the
// namespace-qualified names (`…/microsoft.graph.security.mergeIncidents`).

function escape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Collects the declarations a version's document needs while its properties' types are resolved. */
class Model {
  readonly enums = new Map<string, GraphEnum>();
  readonly complexTypes = new Map<string, CsdlComplexType>();

  constructor(readonly version: ApiVersion) {}

  /** A property's qualified CSDL type, declaring the enums and complex types it reaches. */
  typeOf(schema: TSchema, edm?: string): string {
    const value = unwrapNullable(schema) as Annotated;
    const e = schemaGraphEnum(value);
    if (e) {
      this.enums.set(e.name, e);
      return `${SECURITY}.${e.name}`;
    }
    if (KindGuard.IsArray(value)) {
      const items = value.items as Annotated;
      const named = edm ?? value.edm;
      const inner = named ? /^Collection\((.*)\)$/.exec(named)?.[1] : undefined;
      return `Collection(${this.typeOf(items, inner)})`;
    }
    const declared = edm ?? value.edm;
    if (declared === `${SECURITY}.dictionary`) {
      this.complexTypes.set("dictionary", { name: "dictionary", open: true, properties: [] });
      return declared;
    }
    const nested = nestedEvidenceName(value);
    if (declared === `${SECURITY}.alertEvidence` || nested !== undefined) {
      // Evidence nested in evidence (a container's pod) is typed with the subtype itself.
      this.declareEvidence();
      return nested === undefined ? declared! : `${SECURITY}.${nested}`;
    }
    if (KindGuard.IsObject(value)) {
      const name =
        evidenceComplexTypeNames.get(value) ?? value.complexType ?? (declared?.startsWith(`${SECURITY}.`) ? declared.slice(SECURITY.length + 1) : undefined);
      if (!name) throw new Error(`$metadata: an object-valued property without a complex type name`);
      this.declareComplex(name, value);
      return `${SECURITY}.${name}`;
    }
    if (declared) return declared;
    if (KindGuard.IsString(value)) {
      if (value.format === "date-time") return "Edm.DateTimeOffset";
      if (value.format === "uuid") return "Edm.Guid";
      return "Edm.String";
    }
    if (KindGuard.IsInteger(value)) return value.format === "int32" ? "Edm.Int32" : "Edm.Int64";
    if (KindGuard.IsNumber(value)) return "Edm.Double";
    if (KindGuard.IsBoolean(value)) return "Edm.Boolean";
    throw new Error(`$metadata: no CSDL type for the schema ${JSON.stringify(value)}`);
  }

  /** A complex type from an object schema: its properties' nullability is whether they admit null. */
  declareComplex(name: string, schema: TObject, baseType?: string, skip: readonly string[] = []): void {
    if (this.complexTypes.has(name)) return;
    const type: CsdlComplexType = { name, properties: [], ...(baseType ? { baseType } : {}), ...((schema as Annotated).openType ? { open: true } : {}) };
    this.complexTypes.set(name, type); // before the properties: a type may nest itself
    for (const [prop, raw] of Object.entries(schema.properties)) {
      if (prop.startsWith("@") || skip.includes(prop)) continue;
      const s = raw as Annotated;
      type.properties.push({ name: prop, type: this.typeOf(s), nullable: s.edmNullable ?? (isNullableSchema(s) || s.nullable === true) });
    }
  }

  /** alertEvidence and its 48 subtypes, each with the properties it adds to the base. */
  declareEvidence(): void {
    if (this.complexTypes.has("alertEvidence")) return;
    this.declareComplex("alertEvidence", alertEvidence);
    for (const [name, schema] of evidenceSubtypes) this.declareComplex(name, schema, `${SECURITY}.alertEvidence`, alertEvidencePropertyNames);
  }

  /** A resource's properties (the key `id` is inherited from graph.entity). */
  entityProperties(resource: Resource): CsdlProperty[] {
    const out: CsdlProperty[] = [];
    for (const p of properties(resource.schema).values()) {
      if (p.name === "id") continue;
      if (p.meta.betaOnly && this.version !== "beta") continue;
      out.push({ name: p.name, type: this.typeOf(p.schema, p.schema.edm), nullable: p.meta.edmNullable ?? p.meta.nullable ?? false });
    }
    return out;
  }
}

function propertyXml(p: CsdlProperty, indent: string): string {
  return `${indent}<Property Name="${escape(p.name)}" Type="${escape(p.type)}"${p.nullable ? "" : ' Nullable="false"'} />`;
}

function enumXml(e: GraphEnum): string[] {
  const attrs = `${e.underlyingType ? ` UnderlyingType="${e.underlyingType}"` : ""}${e.flags ? ' IsFlags="true"' : ""}`;
  return [
    `      <EnumType Name="${e.name}"${attrs}>`,
    ...e.members.map((m) => `        <Member Name="${m}" Value="${e.values.get(m)}" />`),
    "      </EnumType>",
  ];
}

function complexXml(t: CsdlComplexType): string[] {
  const attrs = `${t.baseType ? ` BaseType="${t.baseType}"` : ""}${t.open ? ' OpenType="true"' : ""}`;
  if (t.properties.length === 0) return [`      <ComplexType Name="${t.name}"${attrs} />`];
  return [`      <ComplexType Name="${t.name}"${attrs}>`, ...t.properties.map((p) => propertyXml(p, "        ")), "      </ComplexType>"];
}

function operationXml(model: Model, op: OperationDeclaration): string[] {
  const lines = [`      <${op.kind} Name="${op.name}" IsBound="true">`, `        <Parameter Name="bindingParameter" Type="${op.bindingType}" />`];
  for (const p of op.parameters) {
    const attrs = `Name="${p.name}" Type="${escape(model.typeOf(p.schema))}"${p.nullable === false ? ' Nullable="false"' : ""}${p.unicode === false ? ' Unicode="false"' : ""}`;
    if (p.optional) {
      lines.push(`        <Parameter ${attrs}>`, `          <Annotation Term="${CORE}.OptionalParameter" />`, "        </Parameter>");
    } else {
      lines.push(`        <Parameter ${attrs} />`);
    }
  }
  if (op.returnType) lines.push(`        <ReturnType Type="${escape(op.returnType)}" />`);
  lines.push(`      </${op.kind}>`);
  return lines;
}

function bool(term: string, property: string, value: boolean, indent: string): string[] {
  return [
    `${indent}<Annotation Term="${CAPABILITIES}.${term}">`,
    `${indent}  <Record><PropertyValue Property="${property}" Bool="${value}" /></Record>`,
    `${indent}</Annotation>`,
  ];
}

function restrictedProperty(path: string, restrictions: [term: string, property: string, value: boolean][]): string[] {
  const i = "                ";
  return [
    `${i}<Record>`,
    `${i}  <PropertyValue Property="NavigationProperty" NavigationPropertyPath="${path}" />`,
    ...restrictions.map(
      ([term, property, value]) =>
        `${i}  <PropertyValue Property="${term}"><Record><PropertyValue Property="${property}" Bool="${value}" /></Record></PropertyValue>`,
    ),
    `${i}</Record>`,
  ];
}

/**
 * What the `security` singleton and its entity sets allow, as Capabilities annotations, so that a tool
 * describing the service from `$metadata` (odata-openapi) lists only what Triage answers: no GET or
 * PATCH of `/security` itself, no POST or DELETE on the entity sets (alerts arrive through ingestion),
 * PATCH of an entity where its schema has updatable properties, and an incident's alerts read-only.
 */
function singletonRestrictions(): string[] {
  const records = metadataResources.flatMap((r) => [
    ...restrictedProperty(r.entitySet, [
      ["InsertRestrictions", "Insertable", false],
      ["DeleteRestrictions", "Deletable", false],
      ["UpdateRestrictions", "Updatable", [...properties(r.schema).values()].some((p) => p.meta.updatable === true)],
    ]),
    ...r.navigation.flatMap((n) =>
      restrictedProperty(`${r.entitySet}/${n.name}`, [
        ["InsertRestrictions", "Insertable", false],
        ["DeleteRestrictions", "Deletable", false],
        ["UpdateRestrictions", "Updatable", false],
      ]),
    ),
  ]);
  return [
    ...bool("ReadRestrictions", "Readable", false, "          "),
    ...bool("UpdateRestrictions", "Updatable", false, "          "),
    `          <Annotation Term="${CAPABILITIES}.NavigationRestrictions">`,
    "            <Record>",
    '              <PropertyValue Property="RestrictedProperties">',
    "                <Collection>",
    ...records.map((l) => `  ${l}`),
    "                </Collection>",
    "              </PropertyValue>",
    "            </Record>",
    "          </Annotation>",
  ];
}

const cache = new Map<ApiVersion, string>();

/** The whole CSDL XML document of a version (built once). */
export function metadataDocument(version: ApiVersion): string {
  const cached = cache.get(version);
  if (cached) return cached;
  const doc = buildMetadataDocument(version, operations, operationTypes);
  cache.set(version, doc);
  return doc;
}

/** The document with the given operations and the complex types they use (src/schema/operations.ts by default). */
export function buildMetadataDocument(
  version: ApiVersion,
  declaredOperations: readonly OperationDeclaration[],
  declaredTypes: ReadonlyMap<string, TObject>,
): string {
  const model = new Model(version);
  const entities = metadataResources.map((r) => ({ resource: r, properties: model.entityProperties(r) }));
  const ops = declaredOperations
    .filter((op) => !op.betaOnly || version === "beta")
    .map((op) => ({ ...op, parameters: op.parameters.filter((p) => !p.betaOnly || version === "beta") }));
  const returned = new Set(ops.map((op) => op.returnType));
  for (const [name, schema] of declaredTypes) if (returned.has(`${SECURITY}.${name}`)) model.declareComplex(name, schema);
  const opLines = ops.flatMap((op) => operationXml(model, op));

  const entityLines = entities.flatMap(({ resource, properties }) => [
    `      <EntityType Name="${resource.typeName}" BaseType="${GRAPH}.entity">`,
    ...properties.map((p) => propertyXml(p, "        ")),
    ...resource.navigation.map(
      (n) => `        <NavigationProperty Name="${n.name}" Type="${n.collection ? `Collection(${SECURITY}.${n.typeName})` : `${SECURITY}.${n.typeName}`}" />`,
    ),
    "      </EntityType>",
  ]);

  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
    '  <edmx:Reference Uri="https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml">',
    `    <edmx:Include Namespace="${CORE}" Alias="Core" />`,
    "  </edmx:Reference>",
    '  <edmx:Reference Uri="https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Capabilities.V1.xml">',
    `    <edmx:Include Namespace="${CAPABILITIES}" Alias="Capabilities" />`,
    "  </edmx:Reference>",
    "  <edmx:DataServices>",
    `    <Schema Namespace="${GRAPH}" xmlns="http://docs.oasis-open.org/odata/ns/edm">`,
    '      <EntityType Name="entity" Abstract="true">',
    '        <Key><PropertyRef Name="id" /></Key>',
    '        <Property Name="id" Type="Edm.String" Nullable="false" />',
    "      </EntityType>",
    '      <EntityType Name="security">',
    ...metadataResources.map((r) => `        <NavigationProperty Name="${r.entitySet}" Type="Collection(${SECURITY}.${r.typeName})" ContainsTarget="true" />`),
    "      </EntityType>",
    '      <EntityContainer Name="GraphService">',
    // Keys are path segments (`/security/incidents/42`), as in Graph.
    `        <Annotation Term="${CAPABILITIES}.KeyAsSegmentSupported" />`,
    `        <Singleton Name="security" Type="${GRAPH}.security">`,
    ...singletonRestrictions(),
    "        </Singleton>",
    "      </EntityContainer>",
    "    </Schema>",
    `    <Schema Namespace="${SECURITY}" xmlns="http://docs.oasis-open.org/odata/ns/edm">`,
    ...[...model.enums.values()].sort((a, b) => a.name.localeCompare(b.name)).flatMap(enumXml),
    ...entityLines,
    ...[...model.complexTypes.values()].sort((a, b) => a.name.localeCompare(b.name)).flatMap(complexXml),
    ...opLines,
    "    </Schema>",
    "  </edmx:DataServices>",
    "</edmx:Edmx>",
    "",
  ].join("\n");
}
