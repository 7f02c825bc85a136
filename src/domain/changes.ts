import { isDeepStrictEqual } from "node:util";

export interface PropertyChange {
  property: string;
  before: unknown;
  after: unknown;
}

/** The properties whose value actually changes, in the order given. */
export function diff(current: Record<string, unknown>, changes: Record<string, unknown>): PropertyChange[] {
  const out: PropertyChange[] = [];
  for (const [property, after] of Object.entries(changes)) {
    const before = current[property] ?? null;
    if (!isDeepStrictEqual(before, after)) out.push({ property, before, after });
  }
  return out;
}
