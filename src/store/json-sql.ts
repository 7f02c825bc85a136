import { sql, type RawBuilder, type SqlBool } from "kysely";

/**
 * The SQL a dialect needs for filters that reach into entity documents (collections, evidence) and
 * for case-sensitive string functions. One implementation per store dialect.
 */
export interface JsonSql {
  /** The scalar at `path` inside the JSON value `source` (NULL when absent). */
  extract(source: RawBuilder<unknown>, path: string[]): RawBuilder<unknown>;
  /** An ISO 8601 date-time text (any offset or precision) as the fixed-width UTC text the columns hold. */
  instant(value: RawBuilder<unknown>): RawBuilder<unknown>;
  /** The current element of the JSON table aliased `alias`. */
  elementValue(alias: string): RawBuilder<unknown>;
  /** Some element of the array at `path` satisfies `predicate` (false when there is no array: null, absent). */
  exists(source: RawBuilder<unknown>, path: string[], alias: string, predicate: RawBuilder<SqlBool>): RawBuilder<SqlBool>;
  /** Every element of the array at `path` satisfies `predicate` (true for an empty array, null or absent). */
  forAll(source: RawBuilder<unknown>, path: string[], alias: string, predicate: RawBuilder<SqlBool>): RawBuilder<SqlBool>;
  arrayNotEmpty(source: RawBuilder<unknown>, path: string[]): RawBuilder<SqlBool>;
  stringMatch(subject: RawBuilder<unknown>, fn: "startswith" | "endswith" | "contains", text: string): RawBuilder<SqlBool>;
}

/** A JSON path such as $."evidence" — every key quoted, so no key can break out of the path. */
function sqlitePath(path: string[]): string {
  return "$" + path.map((p) => `."${p.replace(/"/g, "")}"`).join("");
}

export const sqliteJson: JsonSql = {
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
