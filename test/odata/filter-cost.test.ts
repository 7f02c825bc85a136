import { describe, expect, it } from "vitest";
import { parseFilter } from "../../src/odata/parse-filter.js";
import { checkFilterCost, DEFAULT_FILTER_LIMITS, filterCost } from "../../src/odata/filter-cost.js";
import { GraphError } from "../../src/errors/graph-error.js";

function refusal(filter: string, limits = DEFAULT_FILTER_LIMITS): GraphError | null {
  try {
    checkFilterCost(parseFilter(filter), limits);
    return null;
  } catch (e) {
    if (e instanceof GraphError) return e;
    throw e;
  }
}

describe("$filter cost", () => {
  it("counts every condition, operand and lambda, nested ones included", () => {
    expect(filterCost(parseFilter("status eq 'active'"))).toEqual({ nodes: 3, lambdas: 0 });
    expect(filterCost(parseFilter("status eq 'active' and not severity eq 'high'"))).toEqual({ nodes: 8, lambdas: 0 });
    expect(filterCost(parseFilter("startswith(title, 'x')"))).toEqual({ nodes: 4, lambdas: 0 });
    // An IN list is one value however long it is (its length is bounded by the filter's).
    expect(filterCost(parseFilter("id in ('a','b','c','d')"))).toEqual({ nodes: 3, lambdas: 0 });
    expect(filterCost(parseFilter("evidence/any(e: e/roles/any(r: r eq 'attacker'))"))).toEqual({ nodes: 7, lambdas: 2 });
    expect(filterCost(parseFilter("customTags/any()"))).toEqual({ nodes: 2, lambdas: 1 });
  });

  it("accepts what is within the limits and refuses what is beyond, with the validator's 400", () => {
    const lambdas = (n: number) => Array.from({ length: n }, (_, i) => `customTags/any(t: t eq '${i}')`).join(" or ");
    expect(refusal(lambdas(DEFAULT_FILTER_LIMITS.maxLambdas))).toBeNull();
    const tooMany = refusal(lambdas(DEFAULT_FILTER_LIMITS.maxLambdas + 1));
    expect(tooMany?.status).toBe(400);
    expect(tooMany?.code).toBe("");
    expect(tooMany?.message).toMatch(/^The query specified in the URI is not valid\. The \$filter expression is too expensive/);

    const terms = (n: number) => Array.from({ length: n }, (_, i) => `title eq '${i}'`).join(" or ");
    // n terms: 3 nodes each and n - 1 ors.
    expect(refusal(terms(25))).toBeNull();
    expect(refusal(terms(26))?.message).toContain("node count limit of '100'");
    expect(refusal(terms(26), { ...DEFAULT_FILTER_LIMITS, maxNodes: 200 })).toBeNull();
  });
});
