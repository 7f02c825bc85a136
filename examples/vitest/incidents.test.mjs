import { afterAll, beforeAll, beforeEach, expect, test } from "vitest";
import { startTriage } from "triage/testing";

// One Triage for this file: a fresh store, a free port, a tenant with apps read, readWrite, merge and hunting.
let triage;
beforeAll(async () => {
  triage = await startTriage();
});
afterAll(() => triage?.stop());
// Each test starts from an empty tenant (the apps and their tokens stay).
beforeEach(() => triage.reset());

const alert = (id, device) => ({
  id,
  title: `Ransomware behavior on ${device}`,
  severity: "high",
  serviceSource: "microsoftDefenderForEndpoint",
  detectionSource: "microsoftDefenderForEndpoint",
  firstActivityDateTime: "2026-10-31T09:00:00Z",
  lastActivityDateTime: "2026-10-31T09:05:00Z",
  evidence: [{ "@odata.type": "#microsoft.graph.security.deviceEvidence", deviceDnsName: device, mdeDeviceId: "4f0c1d2e3a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9" }],
});

test("alerts on one device land in one incident, and resolving it is audited", async () => {
  const placed = await triage.ingest([alert("v-1", "ws-042.contoso.com"), alert("v-2", "ws-042.contoso.com")]);
  expect(new Set(placed.map((p) => p.incidentId)).size).toBe(1);
  const id = placed[0].incidentId;

  const resolved = await triage.request("PATCH", `/v1.0/security/incidents/${id}`, {
    body: { status: "resolved", classification: "truePositive", determination: "malware" },
  });
  expect(resolved.status).toBe(200);

  const trail = await triage.audit("incident", id);
  expect(trail.find((e) => e.property === "status")).toMatchObject({ before: "active", after: "resolved" });
});

test("the read app lists incidents but may not change them", async () => {
  await triage.seed({ incidents: 5 });
  const listed = await triage.request("GET", "/v1.0/security/incidents?$top=3", { app: "read" });
  expect(listed.status).toBe(200);
  expect(listed.body.value).toHaveLength(3);
  const refused = await triage.request("PATCH", `/v1.0/security/incidents/${listed.body.value[0].id}`, { app: "read", body: { status: "resolved" } });
  expect(refused.status).toBe(403);
});
