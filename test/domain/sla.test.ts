import { describe, expect, it } from "vitest";
import { afterChange, checkSlaPolicyInput, nextDue, parseDuration, slaView, targetsMs, withDues } from "../../src/domain/sla.js";
import { GraphError } from "../../src/errors/graph-error.js";

const H = 3600_000;
const targets = targetsMs({ targets: { high: { firstAction: "PT1H", resolve: "PT4H" }, low: { resolve: "P1D" } } });
const T0 = Date.parse("2026-11-01T10:00:00Z");
const inc = (severity: string, status = "active") => ({ id: 7, severity, status, createdMs: T0 });
const by = (atMs: number, byPerson = false) => ({ atMs, byPerson, actor: byPerson ? "amy@contoso.com" : "ingest" });

describe("SLA rules", () => {
  it("reads ISO 8601 durations of days, hours, minutes and seconds", () => {
    expect(parseDuration("PT15M")).toBe(15 * 60_000);
    expect(parseDuration("P1DT12H")).toBe(36 * H);
    expect(parseDuration("PT1S")).toBe(1000);
    for (const bad of ["P", "PT", "P1Y", "PT1.5H", "15M", "P1W"]) expect(parseDuration(bad), bad).toBeNull();
  });

  it("refuses bad policies, naming the property", () => {
    const refused = (body: unknown) => {
      try {
        checkSlaPolicyInput(body);
        return "";
      } catch (e) {
        expect(e).toBeInstanceOf(GraphError);
        return (e as Error).message;
      }
    };
    expect(refused({ targets: { high: { firstAction: "soon" } } })).toMatch(/'targets\.high\.firstAction'.*ISO 8601/);
    expect(refused({ targets: { high: { resolve: "P366D" } } })).toMatch(/365 days/);
    expect(refused({ targets: { critical: {} } })).not.toBe("");
    expect(refused({ targets: { high: { firstAction: "PT1H" } } })).toBe("");
  });

  it("due times per severity from the start; none without a target; a disabled policy has none", () => {
    const s = afterChange(null, inc("high"), by(T0), targets);
    expect([s.firstActionDueMs, s.resolveDueMs, s.nextDueMs]).toEqual([T0 + H, T0 + 4 * H, T0 + H]);
    const low = afterChange(null, inc("low"), by(T0), targets);
    expect([low.firstActionDueMs, low.resolveDueMs]).toEqual([null, T0 + 24 * H]);
    const odd = afterChange(null, inc("unknownFutureValue"), by(T0), targets);
    expect(odd.severity).toBe("unknown");
    expect(withDues(s, targetsMs({ enabled: false, targets: { high: { firstAction: "PT1H" } } })).nextDueMs).toBeNull();
  });

  it("a person's change meets the first action; other changes do not; a severity change moves the due times", () => {
    let s = afterChange(null, inc("high"), by(T0), targets);
    s = afterChange(s, inc("high"), by(T0 + 60_000), targets);
    expect(s.firstActionMs).toBeNull();
    s = afterChange(s, inc("high"), by(T0 + 120_000, true), targets);
    expect([s.firstActionMs, s.firstActionBy, s.nextDueMs]).toEqual([T0 + 120_000, "amy@contoso.com", T0 + 4 * H]);
    s = afterChange(s, inc("high"), by(T0 + 180_000, true), targets);
    expect(s.firstActionMs).toBe(T0 + 120_000);
    s = afterChange(s, inc("low"), by(T0 + 240_000), targets);
    expect(s.resolveDueMs).toBe(T0 + 24 * H);
  });

  it("resolving and merging stop both clocks; reopening runs them again with the same due times", () => {
    let s = afterChange(null, inc("high"), by(T0), targets);
    s = afterChange(s, inc("high", "resolved"), by(T0 + 10_000), targets);
    expect([s.closedMs, nextDue(s)]).toEqual([T0 + 10_000, null]);
    expect(slaView(s, T0 + 5 * H)).toMatchObject({ overdue: false, resolve: { metDateTime: new Date(T0 + 10_000).toISOString() } });
    s = afterChange(s, inc("high", "active"), by(T0 + 20_000), targets);
    expect([s.closedMs, nextDue(s)]).toEqual([null, T0 + H]);
    expect(slaView(s, T0 + 2 * H)).toMatchObject({ overdue: true, firstAction: { overdue: true }, resolve: { overdue: false } });
    s = afterChange(s, inc("high", "redirected"), by(T0 + 30_000), targets);
    expect(nextDue(s)).toBeNull();
    expect(slaView(s, T0 + 9 * H).overdue).toBe(false);
  });
});
