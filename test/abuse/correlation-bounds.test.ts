import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";

/**
 * Correlation stops growing an incident at its limits: an alert that would take an incident past
 * them starts (or joins) another, a merge that would is refused, and both say why.
 */
const MAX_ALERTS = 5;
const MAX_ENTITIES = 6;

let t: TestTriage;
beforeAll(async () => {
  t = await startTriage({ maxAlertsPerIncident: MAX_ALERTS, maxEntitiesPerIncident: MAX_ENTITIES });
});
afterAll(async () => {
  await t.close();
});

async function ingest(alerts: unknown[]) {
  const r = await t.ingest(alerts);
  expect(r.status, r.text).toBe(200);
  return r.body.value as any[];
}

const correlationOf = async (id: string) => (await t.get(`/triage/incidents/${id}/correlation`)).body;
const alertCount = async (id: string) => (await t.get(`/v1.0/security/incidents/${id}/alerts?$count=true&$top=1`)).body["@odata.count"] as number;

describe("the alert limit", () => {
  it("starts a new incident for the alert that would exceed it, and says why in the answer and the incident's correlation", async () => {
    const d = deviceId();
    const at = (m: number) => new Date(Date.UTC(2026, 10, 5, 8, m)).toISOString();
    const results = await ingest(Array.from({ length: MAX_ALERTS + 2 }, (_, i) => alert({ device: d, at: at(i) })));
    const full = results[0].incidentId as string;
    expect(results.slice(0, MAX_ALERTS).every((r) => r.incidentId === full)).toBe(true);
    const overflow = results[MAX_ALERTS];
    expect(overflow.incidentId).not.toBe(full);
    expect(overflow.correlation).toMatchObject({ incident: "new", notJoined: [{ incidentId: full, why: expect.stringContaining("maxAlertsPerIncident") }] });
    expect(overflow.correlation.notJoined[0].why).toContain(`would hold ${MAX_ALERTS + 1} alerts`);
    // The next alert joins the incident that has room.
    expect(results[MAX_ALERTS + 1]).toMatchObject({ incidentId: overflow.incidentId, correlation: { incident: "joined" } });
    expect(await alertCount(full)).toBe(MAX_ALERTS);

    const refusals = (await correlationOf(full)).events.filter((e: any) => e.kind === "joinRefused");
    expect(refusals.map((e: any) => e.alertId)).toEqual([results[MAX_ALERTS].id, results[MAX_ALERTS + 1].id]);
    expect(refusals[0].detail).toContain("maxAlertsPerIncident");

    // A later batch does not grow the full incident either.
    const later = await ingest([alert({ device: d, at: at(30) })]);
    expect(later[0].incidentId).toBe(overflow.incidentId);
    expect(await alertCount(full)).toBe(MAX_ALERTS);
  });

  it("refuses a merge that would exceed it", async () => {
    const [p, q] = [deviceId(), deviceId()];
    const at = (m: number) => new Date(Date.UTC(2026, 10, 6, 8, m)).toISOString();
    const first = await ingest([0, 1, 2].flatMap((i) => [alert({ device: p, at: at(i) }), alert({ device: q, at: at(i) })]));
    const [pi, qi] = [first[0].incidentId as string, first[1].incidentId as string];
    expect(pi).not.toBe(qi);
    const tie = await ingest([
      { ...alert({ at: at(10) }), evidence: [...(alert({ device: p }).evidence as any[]), ...(alert({ device: q }).evidence as any[])] },
    ]);
    const joined = tie[0].incidentId as string;
    const other = joined === pi ? qi : pi;
    expect(tie[0].merged).toEqual([]);
    expect(tie[0].mergeRefused).toEqual([
      {
        incidentId: other,
        why: `merging incident ${other} into incident ${joined} would hold 7 alerts, more than the 5 one incident may hold (maxAlertsPerIncident)`,
      },
    ]);
    const refused = (await correlationOf(other)).events.find((e: any) => e.kind === "mergeRefused");
    expect(refused).toMatchObject({ otherIncidentId: joined, detail: expect.stringContaining("maxAlertsPerIncident") });
    expect((await t.get(`/v1.0/security/incidents/${other}`)).body.status).toBe("active");
  });
});

describe("the entity limit", () => {
  it("does not let an alert's new entities take an incident past it", async () => {
    const d = deviceId();
    const at = (m: number) => new Date(Date.UTC(2026, 10, 7, 8, m)).toISOString();
    const user = (i: number) => `user${i}.${d.slice(0, 6)}@contoso.com`;
    // 2, then 4, then 6 entities; the fourth alert would bring the seventh.
    const results = await ingest([
      alert({ device: d, user: user(1), at: at(0) }),
      alert({ device: d, user: user(2), ip: "10.1.0.2", at: at(1) }),
      alert({ device: d, user: user(3), ip: "10.1.0.3", at: at(2) }),
      alert({ device: d, user: user(4), at: at(3) }),
    ]);
    const first = results[0].incidentId as string;
    expect(results.slice(0, 3).every((r) => r.incidentId === first)).toBe(true);
    expect(results[3].incidentId).not.toBe(first);
    expect(results[3].correlation.notJoined).toEqual([
      { incidentId: first, why: `incident ${first} would see 7 entities, more than the 6 one incident may see (maxEntitiesPerIncident)` },
    ]);
    expect((await correlationOf(first)).entities).toHaveLength(MAX_ENTITIES);
  });
});

describe("alerts drawn from pools of hosts and users", () => {
  it("never pile into one incident beyond the limits", async () => {
    const hosts = Array.from({ length: 8 }, () => deviceId());
    const users = Array.from({ length: 8 }, (_, i) => `pool${i}.${hosts[0]!.slice(0, 6)}@contoso.com`);
    let seed = 7;
    const pick = <T>(xs: T[]) => xs[(seed = (seed * 1103515245 + 12345) % 2147483648) % xs.length]!;
    const alerts = Array.from({ length: 80 }, (_, i) =>
      alert({ device: pick(hosts), user: pick(users), at: new Date(Date.UTC(2026, 10, 8, 8, i)).toISOString() }),
    );
    const results: any[] = [];
    for (let i = 0; i < alerts.length; i += 20) results.push(...(await ingest(alerts.slice(i, i + 20))));
    const incidents = [...new Set(results.map((r) => r.incidentId as string))];
    expect(incidents.length).toBeGreaterThanOrEqual(Math.ceil(alerts.length / MAX_ALERTS));
    for (const id of incidents) {
      const inc = (await t.get(`/v1.0/security/incidents/${id}`)).body;
      if (inc.status === "redirected") continue;
      expect(await alertCount(id)).toBeLessThanOrEqual(MAX_ALERTS);
      expect((await correlationOf(id)).entities.length).toBeLessThanOrEqual(MAX_ENTITIES);
    }
    expect(results.some((r) => r.correlation.notJoined?.length || r.mergeRefused.length)).toBe(true);
  });
});
