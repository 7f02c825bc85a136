import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../src/odata/cursor.js";
import { planQuery } from "../../src/odata/query-options.js";
import { alertResource } from "../../src/schema/alert.js";
import { incidentResource } from "../../src/schema/incident.js";
import { GraphError } from "../../src/errors/graph-error.js";

const orderOf = (resource: typeof alertResource, orderby?: string) =>
  planQuery({ resource, params: new URLSearchParams(orderby ? [["$orderby", orderby]] : []), beta: false, alertResource }).orderBy;

function forged(o: string, a: unknown[], b: unknown): string {
  return Buffer.from(JSON.stringify({ o, a, b })).toString("base64url");
}

describe("decodeCursor", () => {
  it("reads back what encodeCursor wrote, nulls of nullable columns included", () => {
    const order = orderOf(incidentResource, "assignedTo asc,createdDateTime desc");
    const after = order.map((k) => (k.column === "assigned_to" ? null : k.column === "id" ? 7 : "2026-01-01T00:00:00.000Z"));
    expect(after).toContain(null);
    expect(decodeCursor(encodeCursor({ after, bound: 9 }, order), order)).toEqual({ after, bound: 9 });
  });

  it("refuses values that do not fit their sort column", () => {
    const order = orderOf(incidentResource);
    const sig = order.map((k) => `${k.column}:${k.direction}`).join(",");
    const bad: [unknown[], unknown][] = [
      [["x", 1], 5],
      [["2026-01-01T00:00:00.000Z", "1"], 5],
      [["2026-01-01T00:00:00.000Z", 2 ** 31], 5],
      [["2026-01-01T00:00:00.000Z", 1], -1],
      [["2026-01-01T00:00:00.000Z", 1], 2 ** 31],
      [[null, 1], 5],
      [["2026-02-30T00:00:00.000Z", 1], 5],
    ];
    for (const [a, b] of bad) {
      const e = (() => {
        try {
          decodeCursor(forged(sig, a, b), order);
          return null;
        } catch (err) {
          return err;
        }
      })();
      expect(e, JSON.stringify([a, b])).toBeInstanceOf(GraphError);
      expect((e as GraphError).status).toBe(400);
    }
    expect(decodeCursor(forged(sig, ["2026-01-01T00:00:00.000Z", 1], 5), order)).toEqual({ after: ["2026-01-01T00:00:00.000Z", 1], bound: 5 });
  });
});
