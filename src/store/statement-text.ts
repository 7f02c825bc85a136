import { LRUCache } from "lru-cache";

/**
 * Statements that run in every write and are written as SQL text, kept once built, rather than built
 * with Kysely's builders and compiled on each call: for a PATCH's small statements, building and
 * compiling cost about as much CPU as SQLite running them (insert-rows.ts does the same for inserts).
 * The text may depend only on the key, never on a value: values are always bound parameters.
 */
const texts = new LRUCache<string, string>({ max: 500, maxSize: 1_000_000, sizeCalculation: (text) => text.length });

export function statementText(key: string, build: () => string): string {
  let text = texts.get(key);
  if (text === undefined) texts.set(key, (text = build()));
  return text;
}

/** `count` parameter placeholders, comma-separated, numbered from `from` on PostgreSQL. */
export function placeholders(postgres: boolean, count: number, from = 1): string {
  return Array.from({ length: count }, (_, i) => (postgres ? `$${from + i}` : "?")).join(", ");
}
