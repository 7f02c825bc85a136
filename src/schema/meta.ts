import { Type, type TSchema, type SchemaOptions, type TObject } from "@sinclair/typebox";
import type { GraphEnum } from "./enums.js";
import "./formats.js";
import { MAX_TAG_LENGTH, MAX_TAGS } from "./limits.js";

/**
 * Triage's annotations on a resource property. They live on the TypeBox schema itself, so one
 * definition drives validation, storage mapping, the $filter/$orderby/$select allow-lists and docs.
 */
export interface TriageMeta {
  /** Promoted SQL column (typed, indexed); properties without one live only in the entity document. */
  column?: string;
  /** How the promoted column stores the value. */
  columnType?: "text" | "integer" | "datetime" | "enum";
  /** Allowed in $filter (scalars: comparisons; string collections: any/all). */
  filterable?: boolean;
  /** Allowed in $orderby (needs a column). */
  sortable?: boolean;
  /**
   * Graph documents `$filter` on it: the strict profile (profile.ts) accepts only these. A property
   * that is `filterable` without it is a Triage extension.
   */
  graphFilterable?: boolean;
  /** Graph has been seen to accept `$orderby` on it: the strict profile's `$orderby` allow-list. */
  graphSortable?: boolean;
  /** Accepted in PATCH. */
  updatable?: boolean;
  /** Served under /beta only. */
  betaOnly?: boolean;
  /** The Graph enum of an enum-typed property (or of the elements of an enum collection). */
  graphEnum?: GraphEnum;
  /** Graph's EDM type name, for documentation. */
  edm?: string;
  nullable?: boolean;
  /**
   * The CSDL `Nullable` facet `$metadata` declares, where it differs from `nullable` (whether Triage
   * ever sends null): Graph declares some properties nullable that Triage always fills, and a
   * collection's facet speaks of its elements.
   */
  edmNullable?: boolean;
  /** On an object schema: an open complex type in `$metadata` (it may carry properties it does not declare). */
  openType?: boolean;
  /** On an object schema: its complex type's name in the security namespace, for `$metadata`. */
  complexType?: string;
}

export type Annotated = TSchema & TriageMeta & { description?: string };

export function Nullable<T extends TSchema>(schema: T, options: SchemaOptions & TriageMeta = {}) {
  return Type.Union([schema, Type.Null()], { ...options, nullable: true });
}

export function DateTime(options: SchemaOptions & TriageMeta = {}) {
  return Type.String({ format: "date-time", edm: "Edm.DateTimeOffset", ...options });
}

export function EnumString(e: GraphEnum, options: SchemaOptions & TriageMeta = {}) {
  return Type.String({ graphEnum: e, edm: `microsoft.graph.security.${e.name}`, ...options });
}

/** Tags and other string collections: bounded in count and element length wherever they are accepted. */
export function StringCollection(options: SchemaOptions & TriageMeta = {}) {
  return Type.Array(Type.String({ maxLength: MAX_TAG_LENGTH }), { edm: "Collection(Edm.String)", maxItems: MAX_TAGS, ...options });
}

/** An open complex type (Graph's `dictionary`): any JSON object. */
export function Dictionary(options: SchemaOptions & TriageMeta = {}) {
  return Type.Record(Type.String(), Type.Unknown(), { edm: "microsoft.graph.security.dictionary", ...options });
}

/** A resource as the HTTP surface and the store see it. */
export interface Resource {
  /** OData type name without namespace, e.g. "incident". */
  typeName: string;
  /** Entity set path under /security, e.g. "incidents". */
  entitySet: string;
  schema: TObject;
  /** $top when the client sends none, and the most it may ask for. */
  defaultPageSize: number;
  maxPageSize: number;
  /** The table holding the entities. */
  table: "incidents" | "alerts";
  /**
   * A `$top` above maxPageSize: "reject" answers the OData validator's 400 (as Graph does for
   * incidents), "clamp" serves maxPageSize (as Graph does for alerts_v2).
   */
  topAboveMax: "reject" | "clamp";
  /** Navigation properties, for `$metadata`: each names the entity type it leads to. */
  navigation: readonly { name: string; typeName: string; collection: boolean }[];
}

export interface PropertyInfo {
  name: string;
  schema: Annotated;
  /** The schema of the value without its `null` branch. */
  valueSchema: Annotated;
  meta: TriageMeta;
}

const infoCache = new WeakMap<TObject, Map<string, PropertyInfo>>();

/** Every property of a resource with its annotations, in declaration (= serialization) order. */
export function properties(schema: TObject): Map<string, PropertyInfo> {
  let map = infoCache.get(schema);
  if (map) return map;
  map = new Map();
  for (const [name, raw] of Object.entries(schema.properties)) {
    const s = raw as Annotated;
    const valueSchema = (s.anyOf ? ((s.anyOf as Annotated[]).find((b) => b.type !== "null") ?? s) : s) as Annotated;
    const meta: TriageMeta = { ...valueSchema, ...s };
    map.set(name, { name, schema: s, valueSchema, meta });
  }
  infoCache.set(schema, map);
  return map;
}

export function isCollection(p: PropertyInfo): boolean {
  return p.valueSchema.type === "array";
}
