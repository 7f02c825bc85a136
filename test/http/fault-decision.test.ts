/**
 * The fault decision as a pure function: the order rules are tried in, what adds up and what wins,
 * limits, presets, and the draws it is made of.
 */
import { describe, expect, it } from "vitest";
import { decide, draw, ruleMatches, type RequestFacts } from "../../src/http/fault-decision.js";
import { parseFaultConfig, type FaultConfig } from "../../src/schema/faults.js";
import { graphRouteTemplates } from "../../src/permissions/catalog.js";

const request = { clientId: "c", requestId: "r", at: "2026-11-01T00:00:00.000Z", retryAttempt: null };
const facts = (over: Partial<RequestFacts> = {}): RequestFacts => ({ method: "GET", route: "/security/incidents", top: 50, expandsAlerts: false, ...over });
const config = (rules: unknown[], seed = "unit"): FaultConfig => parseFaultConfig({ seed, rules }, graphRouteTemplates());

describe("decide", () => {
  it("adds the latencies up, and answers with the first status or drop that fires; later answers do not fire", () => {
    const c = config([{ fault: "latency", ms: 10 }, { fault: 503, retryAfter: 4 }, { fault: "latency", ms: 5, jitterMs: 3 }, { fault: "drop" }]);
    const d = decide({ config: c, counters: [], facts: facts(), request });
    expect(d.decision.answer).toEqual({ status: 503, retryAfter: 4 });
    const jitter = Math.floor(draw("unit", 2, 1, "jitter") * 4);
    expect(d.decision.delayMs).toBe(15 + jitter);
    expect(d.counters).toEqual([
      { matched: 1, fired: 1 },
      { matched: 1, fired: 1 },
      { matched: 1, fired: 1 },
      { matched: 1, fired: 0 },
    ]);
    expect(d.events.map((e) => [e.rule, e.fault, e.status, e.delayMs])).toEqual([
      [0, "latency", null, 10],
      [1, "503", 503, null],
      [2, "latency", null, 5 + jitter],
    ]);
  });

  it("a rule that does not match neither counts nor fires; a limited rule stops after its limit", () => {
    const c = config([
      { fault: 500, methods: ["PATCH"] },
      { fault: 429, limit: 1 },
    ]);
    let counters = c.rules.map(() => ({ matched: 0, fired: 0 }));
    const answers = [];
    for (let i = 0; i < 3; i++) {
      const d = decide({ config: c, counters, facts: facts(), request });
      counters = d.counters;
      answers.push(d.decision.answer);
    }
    expect(answers).toEqual([{ status: 429, retryAfter: 1 }, null, null]);
    expect(counters).toEqual([
      { matched: 0, fired: 0 },
      { matched: 3, fired: 1 },
    ]);
  });

  it("share 0 never fires and share 1 always does; in between, the draw of the rule's count decides", () => {
    expect(decide({ config: config([{ fault: 500, share: 0 }]), counters: [], facts: facts(), request }).decision.answer).toBeNull();
    expect(decide({ config: config([{ fault: 500, share: 1 }]), counters: [], facts: facts(), request }).decision.answer).toEqual({ status: 500 });
    const c = config([{ fault: 502, share: 0.3 }], "s");
    for (let n = 0; n < 50; n++) {
      const d = decide({ config: c, counters: [{ matched: n, fired: 0 }], facts: facts(), request });
      expect(d.decision.answer).toEqual(draw("s", 0, n + 1, "share") < 0.3 ? { status: 502 } : null);
    }
  });

  it("graph-throttle answers 429 past its budget with the seconds left in the minute", () => {
    const c = config([{ preset: "graph-throttle", perMinute: 3 }]);
    expect(decide({ config: c, counters: [], facts: facts({ window: { count: 3, ttlMs: 5000 } }), request }).decision.answer).toBeNull();
    expect(decide({ config: c, counters: [], facts: facts({ window: { count: 4, ttlMs: 4100 } }), request }).decision.answer).toEqual({
      status: 429,
      retryAfter: 5,
    });
    expect(ruleMatches(c.rules[0]!, facts({ route: "/subscriptions" }))).toBe(false);
  });

  it("expand-alerts-failure matches incident listings expanding alerts on pages above its threshold", () => {
    const [rule] = config([{ preset: "expand-alerts-failure", maxTop: 20 }]).rules;
    expect(ruleMatches(rule!, facts({ expandsAlerts: true, top: 21 }))).toBe(true);
    expect(ruleMatches(rule!, facts({ expandsAlerts: true, top: 20 }))).toBe(false);
    expect(ruleMatches(rule!, facts({ top: 50 }))).toBe(false);
    expect(ruleMatches(rule!, facts({ expandsAlerts: true, route: "/security/incidents/{id}" }))).toBe(false);
  });

  it("draws are numbers in [0, 1) that depend on the seed, the rule, the count and the purpose", () => {
    const values = new Set<number>();
    for (const seed of ["a", "b"]) for (const rule of [0, 1]) for (const n of [1, 2]) for (const p of ["share", "jitter"]) values.add(draw(seed, rule, n, p));
    expect(values.size).toBe(16);
    for (const v of values) expect(v >= 0 && v < 1).toBe(true);
    expect(draw("a", 0, 1, "share")).toBe(draw("a", 0, 1, "share"));
  });
});
