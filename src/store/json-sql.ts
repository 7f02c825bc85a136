import { sql, type RawBuilder, type SqlBool } from "kysely";
import { DEADLINE_FUNCTION } from "./read-workers.js";

/**
 * The SQL a dialect needs for filters that reach into entity documents (collections, evidence) and
 * for case-sensitive string functions. One implementation per store dialect.
 */
export interface JsonSql {
  /** The scalar at `path` inside the JSON value `source` (NULL when absent), as a value of `kind`. */
  extract(source: RawBuilder<unknown>, path: string[], kind?: JsonKind): RawBuilder<unknown>;
  /** An ISO 8601 date-time text (any offset or precision) as the fixed-width UTC text the columns hold. */
  instant(value: RawBuilder<unknown>): RawBuilder<unknown>;
  /** The current element of the JSON table aliased `alias`. */
  elementValue(alias: string): RawBuilder<unknown>;
  /**
   * Some element of the array at `path` satisfies `predicate` (false when there is no array: null,
   * absent). `elements` says whether the elements are strings or JSON objects.
   */
  exists(source: RawBuilder<unknown>, path: string[], alias: string, predicate: RawBuilder<SqlBool>, elements: Elements): RawBuilder<SqlBool>;
  /** Every element of the array at `path` satisfies `predicate` (true for an empty array, null or absent). */
  forAll(source: RawBuilder<unknown>, path: string[], alias: string, predicate: RawBuilder<SqlBool>, elements: Elements): RawBuilder<SqlBool>;
  arrayNotEmpty(source: RawBuilder<unknown>, path: string[]): RawBuilder<SqlBool>;
  stringMatch(subject: RawBuilder<unknown>, fn: "startswith" | "endswith" | "contains", text: string): RawBuilder<SqlBool>;
  /** A numeric parameter, typed as a number whatever it is compared with. */
  number(v: number): RawBuilder<unknown>;
  /**
   * A condition, true for every row, that lets the store stop the statement at its time limit: on
   * SQLite a function that throws past the deadline (store/read-workers.ts), called for each row
   * examined. PostgreSQL needs none: statement_timeout stops any statement.
   */
  rowGuard: RawBuilder<SqlBool>;
}

export type JsonKind = "string" | "integer" | "number" | "boolean" | "datetime";
export type Elements = "text" | "json";

/** A JSON path such as $."evidence" — every key quoted, so no key can break out of the path. */
function sqlitePath(path: string[]): string {
  return "$" + path.map((p) => `."${p.replace(/"/g, "")}"`).join("");
}

export const sqliteJson: JsonSql = {
  number: (v) => sql`${v}`,
  rowGuard: sql<SqlBool>`${sql.raw(DEADLINE_FUNCTION)}()`,
  extract: (source, path) => sql`json_extract(${source}, ${sqlitePath(path)})`,
  instant: (value) => sql`strftime('%Y-%m-%dT%H:%M:%fZ', ${value})`,
  elementValue: (alias) => sql.raw(`${alias}.value`),
  // json_each over a JSON null (customTags: null) yields one row holding null: iterate arrays only.
  exists: (source, path, alias, predicate) =>
    sql<SqlBool>`exists (select 1 from json_each(${source}, ${sqlitePath(path)}) as ${sql.raw(alias)} where json_type(${source}, ${sqlitePath(path)}) = 'array' and ${predicate})`,
  forAll: (source, path, alias, predicate) =>
    sql<SqlBool>`not exists (select 1 from json_each(${source}, ${sqlitePath(path)}) as ${sql.raw(alias)} where json_type(${source}, ${sqlitePath(path)}) = 'array' and not coalesce(${predicate}, false))`,
  arrayNotEmpty: (source, path) => sql<SqlBool>`(coalesce(json_array_length(${source}, ${sqlitePath(path)}), 0) > 0)`,
  stringMatch: (subject, fn, text) => {
    if (text === "") return sql<SqlBool>`(${subject} is not null)`;
    switch (fn) {
      case "startswith":
        return sql<SqlBool>`(substr(${subject}, 1, ${[...text].length}) = ${text})`;
      case "endswith":
        return sql<SqlBool>`(length(${subject}) >= ${[...text].length} and substr(${subject}, -${[...text].length}) = ${text})`;
      case "contains":
        return sql<SqlBool>`(instr(${subject}, ${text}) > 0)`;
    }
  },
};

/** A PostgreSQL text[] path such as {"evidence","userAccount"}; keys are schema names, quoted anyway. */
function pgPath(path: string[]): string {
  return `{${path.map((p) => `"${p.replace(/["\\{}]/g, "")}"`).join(",")}}`;
}

/** The array at `path`, or an empty one where there is none (null, absent, not an array). */
function pgArray(source: RawBuilder<unknown>, path: string[]): RawBuilder<unknown> {
  const at = sql`((${source})::jsonb #> ${pgPath(path)}::text[])`;
  return sql`(case when jsonb_typeof(${at}) = 'array' then ${at} else '[]'::jsonb end)`;
}

/** Entity documents are stored as text and read as jsonb; extracted scalars are cast to their kind. */
export const postgresJson: JsonSql = {
  number: (v) => sql`${v}::numeric`,
  rowGuard: sql<SqlBool>`true`,
  extract: (source, path, kind) => {
    const text = sql`((${source})::jsonb #>> ${pgPath(path)}::text[])`;
    if (kind === "integer" || kind === "number") return sql`(${text})::numeric`;
    if (kind === "boolean") return sql`((${text})::boolean)::int`;
    return text;
  },
  instant: (value) => sql`to_char((${value})::timestamptz at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
  elementValue: (alias) => sql.raw(`${alias}.value`),
  exists: (source, path, alias, predicate, elements) =>
    sql<SqlBool>`exists (select 1 from ${sql.raw(elements === "text" ? "jsonb_array_elements_text" : "jsonb_array_elements")}(${pgArray(source, path)}) as ${sql.raw(alias)}(value) where ${predicate})`,
  forAll: (source, path, alias, predicate, elements) =>
    sql<SqlBool>`not exists (select 1 from ${sql.raw(elements === "text" ? "jsonb_array_elements_text" : "jsonb_array_elements")}(${pgArray(source, path)}) as ${sql.raw(alias)}(value) where not coalesce(${predicate}, false))`,
  arrayNotEmpty: (source, path) => sql<SqlBool>`(jsonb_array_length(${pgArray(source, path)}) > 0)`,
  stringMatch: (subject, fn, text) => {
    if (text === "") return sql<SqlBool>`(${subject} is not null)`;
    switch (fn) {
      case "startswith":
        return sql<SqlBool>`(left(${subject}, ${[...text].length}) = ${text})`;
      case "endswith":
        return sql<SqlBool>`(right(${subject}, ${[...text].length}) = ${text})`;
      case "contains":
        return sql<SqlBool>`(strpos(${subject}, ${text}) > 0)`;
    }
  },
};
