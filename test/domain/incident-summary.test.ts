import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { deriveFromSummary, deriveIncident, type AlertFacts } from "../../src/domain/incident-derive.js";
import { addAlerts, emptySummary, summarize, summaryFits, SUMMARY_MAX_VALUES } from "../../src/domain/incident-summary.js";
import { highestSeverity } from "../../src/domain/severity.js";
import { incidentName } from "../../src/domain/incident-name.js";
import { priorityScore } from "../../src/domain/priority.js";
import type { AlertSeverity } from "../../src/schema/enums.js";

/**
 * An incident's derivation summary (domain/incident-summary.ts): summed up from all the alerts, or
 * built up batch by batch in any order, it is the same summary, and the derivation from it is the
 * derivation from all the alerts as it was before summaries (the reference below, kept as it was).
 */
function referenceDerive(
  doc: Record<string, unknown>,
  input: { alerts: AlertFacts[]; assets: { devices: number; accounts: number }; detectorCounts: Map<string, number> },
): Record<string, unknown> {
  const alerts = [...input.alerts].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.seq - b.seq));
  const out = { ...doc };
  let factors: string | null = null;
  if (alerts.length > 0) {
    out.severity = highestSeverity(alerts.map((a) => a.severity));
    out.displayName = incidentName({
      alertTitles: alerts.map((a) => a.title),
      categories: alerts.map((a) => a.category),
      devices: input.assets.devices,
      accounts: input.assets.accounts,
    });
    let rarest: number | undefined;
    for (const key of new Set(alerts.map((a) => a.detectorKey))) {
      const n = input.detectorCounts.get(key);
      if (n !== undefined && (rarest === undefined || n < rarest)) rarest = n;
    }
    const p = priorityScore({
      severity: out.severity as AlertSeverity,
      alertCount: alerts.length,
      affectedAssets: input.assets.devices + input.assets.accounts,
      detectionSources: alerts.map((a) => a.detectionSource),
      rarestDetectorCount: rarest ?? 1,
    });
    out.priorityScore = p.score;
    factors = JSON.stringify(p.factors);
  }
  return { severity: out.severity, displayName: out.displayName, priorityScore: out.priorityScore, factors, alertCount: alerts.length };
}

const SOURCES = ["microsoftDefenderForEndpoint", "microsoftDefenderForIdentity", "customTi", "customDetection", "antivirus", "unknown", "smartScreen"];
const SEVERITIES: AlertSeverity[] = ["unknown", "informational", "low", "medium", "high", "unknownFutureValue"];

const facts = fc
  .record({
    minute: fc.integer({ min: 0, max: 30 }),
    seq: fc.integer({ min: 1, max: 1_000_000 }),
    title: fc.constantFrom("A", "B", "", "Ä"),
    category: fc.constantFrom("Execution", "CredentialAccess", "", "Impact", "DefenseEvasion"),
    severity: fc.constantFrom(...SEVERITIES),
    detectionSource: fc.constantFrom(...SOURCES),
    detectorKey: fc.constantFrom("d1", "d2", "d3", "unknown"),
  })
  .map((r): AlertFacts => ({
    id: `a${r.seq}`,
    createdAt: `2026-11-01T10:${String(r.minute).padStart(2, "0")}:00.000Z`,
    seq: r.seq,
    title: r.title,
    category: r.category,
    severity: r.severity,
    detectionSource: r.detectionSource,
    detectorKey: r.detectorKey,
  }));

/** Alerts with distinct sequence numbers (as a tenant's are), cut into batches. */
const batches = fc
  .uniqueArray(facts, { selector: (f) => f.seq, minLength: 1, maxLength: 40 })
  .chain((alerts) => fc.array(fc.integer({ min: 0, max: 5 }), { minLength: alerts.length, maxLength: alerts.length }).map((cut) => ({ alerts, cut })))
  .map(({ alerts, cut }) => {
    const out: AlertFacts[][] = [[]];
    alerts.forEach((a, i) => {
      if (cut[i] === 0 && out[out.length - 1]!.length > 0) out.push([]);
      out[out.length - 1]!.push(a);
    });
    return out;
  });

const assets = fc.array(fc.record({ devices: fc.integer({ min: 0, max: 3 }), accounts: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 10 });
const counts = fc.record({ d1: fc.integer({ min: 1, max: 200 }), d2: fc.integer({ min: 1, max: 200 }), d3: fc.integer({ min: 1, max: 200 }) });

describe("an incident's derivation summary", () => {
  it("is the same built batch by batch as summed up from all the alerts at once", () => {
    fc.assert(
      fc.property(batches, assets, (parts, added) => {
        let s = emptySummary();
        parts.forEach((p, i) => {
          s = addAlerts(s, p, added[i % added.length]!);
        });
        const devices = parts.reduce((n, _, i) => n + added[i % added.length]!.devices, 0);
        const accounts = parts.reduce((n, _, i) => n + added[i % added.length]!.accounts, 0);
        expect(s).toEqual(summarize(parts.flat(), { devices, accounts }));
      }),
      { numRuns: 500 },
    );
  });

  it("derives what the derivation from all the alerts derived", () => {
    fc.assert(
      fc.property(batches, assets, counts, (parts, added, c) => {
        const alerts = parts.flat();
        const detectorCounts = new Map(Object.entries(c));
        const a = added[0]!;
        const doc = { status: "active", severity: "low", displayName: "x", priorityScore: 1, lastUpdateDateTime: "2026-11-01T00:00:00.000Z" };
        let s = emptySummary();
        for (const p of parts) s = addAlerts(s, p, { devices: 0, accounts: 0 });
        s = addAlerts(s, [], a);
        const input = { doc, severitySource: "alerts" as const, nameSource: "alerts" as const, detectorCounts, at: "2026-11-02T00:00:00.000Z" };
        const fromSummary = deriveFromSummary({ ...input, summary: s });
        const whole = deriveIncident({ ...input, alerts, assets: a });
        const expected = referenceDerive(doc, { alerts, assets: a, detectorCounts });
        for (const d of [fromSummary, whole]) {
          expect({
            severity: d.doc.severity,
            displayName: d.doc.displayName,
            priorityScore: d.doc.priorityScore,
            factors: d.priorityFactors,
            alertCount: d.alertCount,
          }).toEqual(expected);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("breaks a tie between detection sources by the first alert on the timeline, whatever the order alerts join in", () => {
    const at = (m: number) => `2026-11-01T10:0${m}:00.000Z`;
    const f = (seq: number, minute: number, detectionSource: string): AlertFacts => ({
      id: `t${seq}`,
      createdAt: at(minute),
      seq,
      title: "T",
      category: "",
      severity: "low",
      detectionSource,
      detectorKey: "d",
    });
    // customTi and customDetection both score 9: the one whose first alert comes first wins.
    const late = addAlerts(summarize([f(1, 5, "customTi")], { devices: 0, accounts: 0 }), [f(2, 3, "customDetection")], { devices: 0, accounts: 0 });
    const d = deriveFromSummary({
      doc: { status: "active", lastUpdateDateTime: at(0) },
      severitySource: "alerts",
      nameSource: "alerts",
      summary: late,
      detectorCounts: new Map(),
      at: at(9),
    });
    expect(d.priorityFactors).toContain("detected by customDetection");
  });

  it("is kept only while each kind of value stays within the bound", () => {
    const many = Array.from({ length: SUMMARY_MAX_VALUES + 1 }, (_, i): AlertFacts => ({
      id: `m${i}`,
      createdAt: "2026-11-01T10:00:00.000Z",
      seq: i + 1,
      title: "T",
      category: "",
      severity: "low",
      detectionSource: "antivirus",
      detectorKey: `d${i}`,
    }));
    expect(summaryFits(summarize(many.slice(0, SUMMARY_MAX_VALUES), { devices: 0, accounts: 0 }))).toBe(true);
    expect(summaryFits(summarize(many, { devices: 0, accounts: 0 }))).toBe(false);
  });
});
