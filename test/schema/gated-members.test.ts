import { describe, expect, it } from "vitest";
import { generateAlerts } from "../../src/seed/generate.js";
import { normalizeAlert } from "../../src/domain/normalize-alert.js";
import { alertResource } from "../../src/schema/alert.js";
import { incidentResource } from "../../src/schema/incident.js";
import { holdsGatedMember, renderEntity } from "../../src/schema/render.js";

/**
 * Whether an entity holds a gated enum member decides how its ready JSON is stored (store/columns.ts):
 * it must answer exactly what rendering the entity for a client that did not opt in would change.
 */
function hidingChanges(resource: typeof alertResource, doc: Record<string, unknown>): boolean {
  const open = JSON.stringify(renderEntity(resource, doc, { beta: false, includeUnknown: true, select: null }));
  const hidden = JSON.stringify(renderEntity(resource, doc, { beta: false, includeUnknown: false, select: null }));
  return open !== hidden;
}

const TENANT = "c7a1d2e4-5b6f-4a8c-9d0e-1f2a3b4c5d6e";
const NOW = "2026-12-01T00:00:00.000Z";

describe("holding a gated member", () => {
  it("agrees with rendering on every alert of a generated tenant", () => {
    let alerts: Record<string, unknown>[] = [];
    for (const batch of generateAlerts({ seed: "gated", tenantId: TENANT, incidents: 400, end: new Date(NOW) })) {
      alerts = alerts.concat(batch as unknown as Record<string, unknown>[]);
      if (alerts.length >= 1500) break;
    }
    let gated = 0;
    for (const [i, generated] of alerts.entries()) {
      // Generated alerts hold no gated member: some are given one, at the top or in an evidence element.
      const a = { ...generated };
      if (i % 5 === 1) a.serviceSource = "microsoftSentinel";
      const evidence = a.evidence as Record<string, unknown>[] | undefined;
      if (i % 7 === 2 && evidence?.length) a.evidence = [{ ...evidence[0], remediationStatus: "active" }, ...evidence.slice(1)];
      const doc = normalizeAlert(a, `value[${i}]`, TENANT, NOW);
      const expected = hidingChanges(alertResource, doc);
      expect(holdsGatedMember(alertResource, doc)).toBe(expected);
      if (expected) gated++;
    }
    // Both answers occur: the comparison above is not vacuous.
    expect(gated).toBeGreaterThan(0);
    expect(gated).toBeLessThan(alerts.length);
  });

  it("finds a member nested in evidence, ignores its name in free text, and sees incidents' own enums", () => {
    const base = { title: "microsoftSentinel", severity: "high", serviceSource: "microsoftDefenderForEndpoint" };
    const plain = normalizeAlert(base, "value[0]", TENANT, NOW);
    expect(holdsGatedMember(alertResource, plain)).toBe(false);
    expect(hidingChanges(alertResource, plain)).toBe(false);
    const nested = normalizeAlert(
      { ...base, evidence: [{ "@odata.type": "#microsoft.graph.security.userEvidence", remediationStatus: "active", userAccount: { accountName: "adele" } }] },
      "value[0]",
      TENANT,
      NOW,
    );
    expect(holdsGatedMember(alertResource, nested)).toBe(true);
    expect(hidingChanges(alertResource, nested)).toBe(true);
    const incident = { status: "awaitingAction", displayName: "x", severity: "high" };
    expect(holdsGatedMember(incidentResource, incident)).toBe(hidingChanges(incidentResource, incident));
    expect(holdsGatedMember(incidentResource, incident)).toBe(true);
    expect(holdsGatedMember(incidentResource, { ...incident, status: "active" })).toBe(false);
  });
});
