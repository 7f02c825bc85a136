import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";

let t: TestTriage;
let sentinel: Record<string, unknown>;
let mde: Record<string, unknown>;

beforeAll(async () => {
  t = await startTriage();
  mde = alert({ device: deviceId(), user: "adele@contoso.com", ip: "203.0.113.7", severity: "high", at: "2026-10-05T08:00:00Z" });
  sentinel = alert({ device: deviceId(), serviceSource: "microsoftSentinel", detectionSource: "scheduledAlerts", severity: "low", at: "2026-10-04T08:00:00Z" });
  (sentinel.evidence as any[])[0].remediationStatus = "active";
  expect((await t.ingest([mde, sentinel])).status).toBe(200);
});
afterAll(async () => {
  await t.close();
});

describe("GET /security/alerts_v2", () => {
  it("lists alerts with their polymorphic evidence", async () => {
    const r = await t.get("/v1.0/security/alerts_v2");
    expect(r.status).toBe(200);
    expect(r.body["@odata.context"]).toBe(`${t.url}/v1.0/$metadata#security/alerts_v2`);
    expect(r.body.value.map((a: any) => a.id)).toEqual([mde.id, sentinel.id]);
    const types = r.body.value[0].evidence.map((e: any) => e["@odata.type"]);
    expect(types).toEqual(["#microsoft.graph.security.deviceEvidence", "#microsoft.graph.security.userEvidence", "#microsoft.graph.security.ipEvidence"]);
  });

  it("hides enum members declared after unknownFutureValue unless the client opts in", async () => {
    const plain = await t.get(`/v1.0/security/alerts_v2/${sentinel.id}`);
    expect(plain.body.serviceSource).toBe("unknownFutureValue");
    expect(plain.body.detectionSource).toBe("unknownFutureValue");
    expect(plain.body.evidence[0].remediationStatus).toBe("unknownFutureValue");
    expect(plain.headers.get("preference-applied")).toBeNull();
    const opted = await t.get(`/v1.0/security/alerts_v2/${sentinel.id}`, { prefer: "include-unknown-enum-members" });
    expect(opted.headers.get("preference-applied")).toBe("include-unknown-enum-members");
    expect(opted.body.serviceSource).toBe("microsoftSentinel");
    expect(opted.body.detectionSource).toBe("scheduledAlerts");
    expect(opted.body.evidence[0].remediationStatus).toBe("active");
  });

  it("filters on gated members whether or not the client opted in", async () => {
    const r = await t.get("/v1.0/security/alerts_v2?$filter=" + encodeURIComponent("serviceSource eq 'microsoftSentinel'"));
    expect(r.body.value.map((a: any) => a.id)).toEqual([sentinel.id]);
  });

  it("filters into evidence with lambdas and type casts", async () => {
    const upn = `evidence/any(e: e/microsoft.graph.security.userEvidence/userAccount/userPrincipalName eq 'adele@contoso.com')`;
    expect((await t.get("/v1.0/security/alerts_v2?$filter=" + encodeURIComponent(upn))).body.value.map((a: any) => a.id)).toEqual([mde.id]);
    const ip = `evidence/any(e: e/microsoft.graph.security.ipEvidence/ipAddress eq '203.0.113.7') and severity eq 'high'`;
    expect((await t.get("/v1.0/security/alerts_v2?$filter=" + encodeURIComponent(ip))).body.value).toHaveLength(1);
    const verdict = `evidence/all(e: e/verdict ne 'malicious')`;
    expect((await t.get("/v1.0/security/alerts_v2?$filter=" + encodeURIComponent(verdict))).body.value.map((a: any) => a.id)).toEqual([sentinel.id]);
  });

  it("rejects filtering on investigationState, as Graph does", async () => {
    const r = await t.get("/v1.0/security/alerts_v2?$filter=" + encodeURIComponent("investigationState eq 'running'"));
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain("investigationState");
  });

  it("has no navigation property to expand", async () => {
    const r = await t.get("/v1.0/security/alerts_v2?$expand=evidence");
    expect(r.status).toBe(400);
  });

  it("answers 404 for an unknown alert", async () => {
    expect((await t.get("/v1.0/security/alerts_v2/da000_nope")).status).toBe(404);
  });
});

describe("PATCH /security/alerts_v2/{id}", () => {
  it("updates the updatable properties and answers with the whole alert", async () => {
    const r = await t.request("PATCH", `/v1.0/security/alerts_v2/${mde.id}`, {
      body: {
        assignedTo: "analyst@contoso.com",
        classification: "truePositive",
        determination: "malware",
        status: "resolved",
        customDetails: { ticket: "INC-42" },
      },
    });
    expect(r.status).toBe(200);
    expect(r.body["@odata.context"]).toBe(`${t.url}/v1.0/$metadata#security/alerts_v2/$entity`);
    expect(r.body).toMatchObject({ assignedTo: "analyst@contoso.com", status: "resolved", determination: "malware", customDetails: { ticket: "INC-42" } });
    expect(r.body.resolvedDateTime).toMatch(/Z$/);
    const audit = await t.get(`/triage/alerts/${mde.id}/audit`);
    expect(audit.body.value.map((e: any) => e.property).sort()).toEqual(["assignedTo", "classification", "customDetails", "determination", "status"]);
  });

  it.each([[{ severity: "low" }], [{ title: "x" }], [{ status: "closed" }], [{ evidence: [] }]])("rejects %j and changes nothing", async (body) => {
    const before = (await t.get(`/v1.0/security/alerts_v2/${sentinel.id}`)).body;
    const r = await t.request("PATCH", `/v1.0/security/alerts_v2/${sentinel.id}`, { body });
    expect(r.status).toBe(400);
    expect((await t.get(`/v1.0/security/alerts_v2/${sentinel.id}`)).body).toEqual(before);
  });
});

describe("POST /security/alerts_v2/{id}/comments", () => {
  it("answers 200 with the whole comment collection and the documented context", async () => {
    await t.request("POST", `/v1.0/security/alerts_v2/${sentinel.id}/comments`, {
      body: { "@odata.type": "#microsoft.graph.security.alertComment", comment: "first" },
    });
    const r = await t.request("POST", `/v1.0/security/alerts_v2/${sentinel.id}/comments`, { body: { comment: "second" } });
    expect(r.status).toBe(200);
    expect(r.body["@odata.context"]).toBe(`${t.url}/v1.0/$metadata#security/alerts_v2('${sentinel.id}')/comments`);
    expect(r.body.value.map((c: any) => c.comment)).toEqual(["first", "second"]);
  });
});
