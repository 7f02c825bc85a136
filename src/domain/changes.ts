import { isDeepStrictEqual } from "node:util";
import type { PropertyChange } from "../schema/records.js";

// The shape is shared with the store, which writes it to the audit trail (schema/records.ts).
export type { PropertyChange };

/** The properties whose value actually changes, in the order given. */
export function diff(current: Record<string, unknown>, changes: Record<string, unknown>): PropertyChange[] {
  const out: PropertyChange[] = [];
  for (const [property, after] of Object.entries(changes)) {
    const before = current[property] ?? null;
    if (!isDeepStrictEqual(before, after)) out.push({ property, before, after });
  }
  return out;
}
