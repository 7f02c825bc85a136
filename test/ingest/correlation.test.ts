import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";

let t: TestTriage;
beforeAll(async () => {
  t = await startTriage();
});
afterAll(async () => {
  await t.close();
});

async function incident(id: string) {
  return (await t.get(`/v1.0/security/incidents/${id}`, { prefer: "include-unknown-enum-members" })).body;
}

describe("correlation", () => {
  it("opens a new incident for an alert that shares nothing", async () => {
    const r = await t.ingest([alert({ device: deviceId() }), alert({ device: deviceId() })]);
    expect(r.body.value[0].correlation.incident).toBe("new");
    expect(r.body.value[1].correlation.incident).toBe("new");
    expect(r.body.value[0].incidentId).not.toBe(r.body.value[1].incidentId);
  });

  it("joins an open incident that saw the same entity within the window, and says why", async () => {
    const d = deviceId();
    const r = await t.ingest([
      alert({ device: d, at: "2026-10-10T08:00:00Z" }),
      alert({ device: d, user: "megan@contoso.com", at: "2026-10-10T12:00:00Z" }),
      alert({ user: "megan@contoso.com", at: "2026-10-10T13:00:00Z" }),
    ]);
    const [a, b, c] = r.body.value;
    expect(b.incidentId).toBe(a.incidentId);
    expect(c.incidentId).toBe(a.incidentId);
    expect(b.correlation).toEqual({ incident: "joined", reasons: ["sameAsset", "temporalProximity"], sharedEntities: [`device:${d}`] });
    expect(c.correlation.reasons).toEqual(["sameTargetedAsset", "temporalProximity"]);
    const inc = await incident(a.incidentId);
    expect(inc.displayName).toMatch(/^Multi-stage incident/);
    const why = await t.get(`/triage/incidents/${a.incidentId}/correlation`);
    expect(why.body.events.map((e: any) => e.kind)).toEqual(["created", "alertJoined", "alertJoined"]);
    expect(why.body.entities.map((e: any) => e.key)).toEqual([`account:megan@contoso.com`, `device:${d}`]);
    expect(why.body.priority.score).toBe(inc.priorityScore);
    expect(why.body.priority.factors.map((f: any) => f.factor)).toEqual(["severity", "alerts", "assets", "detectionSource", "rarity"]);
    expect(why.body.priority.factors.reduce((s: number, f: any) => s + f.points, 0)).toBe(inc.priorityScore);
  });

  it("opens a new incident when the shared entity was last seen outside the window", async () => {
    const d = deviceId();
    const r = await t.ingest([alert({ device: d, at: "2026-09-01T08:00:00Z" }), alert({ device: d, at: "2026-09-03T08:00:00Z" })]);
    expect(r.body.value[1].incidentId).not.toBe(r.body.value[0].incidentId);
  });

  it("does not add alerts to a resolved incident", async () => {
    const d = deviceId();
    const first = await t.ingest([alert({ device: d, at: "2026-10-11T08:00:00Z" })]);
    const id = first.body.value[0].incidentId;
    await t.request("PATCH", `/v1.0/security/incidents/${id}`, { body: { status: "resolved" } });
    const second = await t.ingest([alert({ device: d, at: "2026-10-11T09:00:00Z" })]);
    expect(second.body.value[0].incidentId).not.toBe(id);
  });

  it("keeps severity at the highest of the incident's alerts", async () => {
    const d = deviceId();
    const r = await t.ingest([alert({ device: d, severity: "low", at: "2026-10-12T08:00:00Z" })]);
    const id = r.body.value[0].incidentId;
    expect((await incident(id)).severity).toBe("low");
    await t.ingest([alert({ device: d, severity: "high", at: "2026-10-12T09:00:00Z" })]);
    expect((await incident(id)).severity).toBe("high");
    await t.ingest([alert({ device: d, severity: "medium", at: "2026-10-12T10:00:00Z" })]);
    expect((await incident(id)).severity).toBe("high");
  });
});

describe("merging", () => {
  async function twoIncidents(at: string) {
    const d1 = deviceId();
    const d2 = deviceId();
    const r = await t.ingest([alert({ device: d1, at }), alert({ device: d1, at }), alert({ device: d2, at })]);
    return { big: r.body.value[0].incidentId as string, small: r.body.value[2].incidentId as string, d1, d2 };
  }

  it("merges the smaller incident into the larger when an alert ties them", async () => {
    const { big, small, d1, d2 } = await twoIncidents("2026-10-15T08:00:00Z");
    await t.request("PATCH", `/v1.0/security/incidents/${small}`, { body: { customTags: ["vip"] } });
    const r = await t.ingest([alert({ device: d1, extra: {}, at: "2026-10-15T09:00:00Z" }), alert({ device: d2, at: "2026-10-15T09:30:00Z" })]);
    expect(r.body.value[0].incidentId).toBe(big);
    const tie = await t.ingest([
      {
        ...alert({ device: d1, at: "2026-10-15T10:00:00Z" }),
        evidence: [...(alert({ device: d1 }).evidence as any[]), ...(alert({ device: d2 }).evidence as any[])],
      },
    ]);
    expect(tie.body.value[0].incidentId).toBe(big);
    expect(tie.body.value[0].merged).toEqual([{ incidentId: small, into: big, reasons: ["sameAsset", "temporalProximity"] }]);

    const redirected = await incident(small);
    expect(redirected.status).toBe("redirected");
    expect(redirected.redirectIncidentId).toBe(big);
    const target = await incident(big);
    expect(target.customTags).toEqual(["vip"]);
    const alerts = await t.get(`/v1.0/security/incidents/${big}/alerts`);
    expect(alerts.body.value).toHaveLength(6);
    expect(alerts.body.value.every((a: any) => a.incidentId === big)).toBe(true);
    expect((await t.get(`/v1.0/security/incidents/${small}/alerts`)).body.value).toHaveLength(0);

    const edit = await t.request("PATCH", `/v1.0/security/incidents/${small}`, { body: { status: "resolved" } });
    expect(edit.status).toBe(400);
    expect(edit.body.error.message).toContain(`merged into incident ${big}`);

    const why = await t.get(`/triage/incidents/${big}/correlation`);
    expect(why.body.events.find((e: any) => e.kind === "merged")).toMatchObject({ otherIncidentId: small, reasons: ["sameAsset", "temporalProximity"] });
    const audit = await t.get(`/triage/incidents/${small}/audit`);
    expect(audit.body.value.find((e: any) => e.property === "status")).toMatchObject({ actor: "Triage correlation", after: "redirected" });
  });

  async function tieAfter(patchBig: object, patchSmall: object) {
    const { big, small, d1, d2 } = await twoIncidents("2026-10-16T08:00:00Z");
    if (Object.keys(patchBig).length) expect((await t.request("PATCH", `/v1.0/security/incidents/${big}`, { body: patchBig })).status).toBe(200);
    if (Object.keys(patchSmall).length) expect((await t.request("PATCH", `/v1.0/security/incidents/${small}`, { body: patchSmall })).status).toBe(200);
    const tie = await t.ingest([
      { ...alert({ at: "2026-10-16T09:00:00Z" }), evidence: [...(alert({ device: d1 }).evidence as any[]), ...(alert({ device: d2 }).evidence as any[])] },
    ]);
    return { big, small, result: tie.body.value[0] };
  }

  it("does not merge incidents assigned to different people", async () => {
    const { small, result } = await tieAfter({ assignedTo: "a@contoso.com" }, { assignedTo: "b@contoso.com" });
    expect(result.merged).toEqual([]);
    expect(result.mergeRefused).toEqual([{ incidentId: small, why: "assigned to different people (a@contoso.com, b@contoso.com)" }]);
    expect((await incident(small)).status).toBe("active");
  });

  it("does not merge incidents classified differently", async () => {
    const { small, result } = await tieAfter({ classification: "truePositive" }, { classification: "falsePositive" });
    expect(result.merged).toEqual([]);
    expect(result.mergeRefused[0].why).toMatch(/classified differently/);
    expect((await incident(small)).status).toBe("active");
  });

  it("does not merge into or from a closed incident", async () => {
    const { big, small, result } = await tieAfter({}, { status: "resolved" });
    expect(result.merged).toEqual([]);
    expect(result.incidentId).toBe(big);
    expect((await incident(small)).status).toBe("resolved");
  });

  it("merges when one of the two is assigned and the other is not, and the owner carries over", async () => {
    const { big, small, result } = await tieAfter({}, { assignedTo: "c@contoso.com" });
    expect(result.merged).toEqual([{ incidentId: small, into: big, reasons: ["sameAsset", "temporalProximity"] }]);
    expect((await incident(big)).assignedTo).toBe("c@contoso.com");
  });
});

describe("idempotent ingestion", () => {
  it("updates an alert sent again instead of duplicating it, keeping its comments and incident", async () => {
    const d = deviceId();
    const a = alert({ device: d, severity: "low", at: "2026-10-20T08:00:00Z" });
    const first = await t.ingest([a]);
    const id = first.body.value[0].incidentId;
    await t.request("POST", `/v1.0/security/alerts_v2/${a.id}/comments`, { body: { comment: "looking" } });
    const again = await t.ingest([{ ...a, severity: "high", title: "Updated title" }]);
    expect(again.body.value[0]).toMatchObject({ outcome: "updated", incidentId: id });
    const stored = (await t.get(`/v1.0/security/alerts_v2/${a.id}`)).body;
    expect(stored).toMatchObject({ severity: "high", title: "Updated title", incidentId: id });
    expect(stored.comments.map((c: any) => c.comment)).toEqual(["looking"]);
    const count = await t.get(`/v1.0/security/alerts_v2/$count?$filter=${encodeURIComponent(`id eq '${a.id}'`)}`);
    expect(count.text).toBe("1");
    expect((await incident(id)).severity).toBe("high");
  });

  it("rejects a batch with one bad alert as a whole, naming it", async () => {
    const before = (await t.get("/v1.0/security/alerts_v2/$count")).text;
    const r = await t.ingest([alert({ device: deviceId() }), alert({ severity: "catastrophic" })]);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain("value[1].severity");
    expect((await t.get("/v1.0/security/alerts_v2/$count")).text).toBe(before);
  });

  it.each([
    [{ evidence: [{ verdict: "malicious" }] }, "@odata.type"],
    [{ createdDateTime: "yesterday" }, "createdDateTime"],
    [{ tenantId: "11111111-2222-3333-4444-555555555555" }, "tenantId"],
    [{ bogus: true }, "bogus"],
  ])("rejects %j", async (extra, fragment) => {
    const r = await t.ingest([{ ...alert({ device: deviceId() }), ...extra }]);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain(fragment);
  });

  it("keeps evidence of unknown subtypes as given", async () => {
    const a = alert({ device: deviceId() });
    const odd = { "@odata.type": "#microsoft.graph.security.quantumEntanglementEvidence", qubits: 7, verdict: "unknown", roles: [] };
    (a.evidence as any[]).push(odd);
    expect((await t.ingest([a])).status).toBe(200);
    const stored = (await t.get(`/v1.0/security/alerts_v2/${a.id}`)).body;
    expect(stored.evidence[1]).toEqual(odd);
  });
});

describe("tenant isolation", () => {
  it("never shows or correlates across tenants", async () => {
    const other = await t.newTenant();
    const d = deviceId();
    const mine = await t.ingest([alert({ device: d, at: "2026-10-25T08:00:00Z" })]);
    const theirs = await t.ingest([alert({ device: d, at: "2026-10-25T08:30:00Z" })], other);
    expect(theirs.status).toBe(200);
    expect(theirs.body.value[0].correlation.incident).toBe("new");
    const list = await t.get("/v1.0/security/incidents?$top=50", await t.auth(other));
    expect(list.body.value.map((i: any) => i.tenantId)).toEqual([other]);
    const id = mine.body.value[0].incidentId;
    // Incident ids are numbered per tenant: the other tenant has only incident 1.
    expect(id).not.toBe(theirs.body.value[0].incidentId);
    expect((await t.get(`/v1.0/security/incidents/${id}`, await t.auth(other))).status).toBe(404);
    const patch = await t.request("PATCH", `/v1.0/security/alerts_v2/${(await t.get(`/v1.0/security/incidents/${id}/alerts`)).body.value[0].id}`, {
      body: { status: "resolved" },
      headers: await t.auth(other),
    });
    expect(patch.status).toBe(404);
  });
});
