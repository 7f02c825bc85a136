/**
 * How the store splits long lists across statements: both stores bound the parameters one statement
 * may carry, and ingestion and the derivation reads send thousands of ids at a time.
 */

/** Rows per multi-row statement: well under both stores' bound-parameter limits. */
export const ROWS_PER_INSERT = 400;
/** Values per IN list. */
export const IN_LIST = 2000;

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
