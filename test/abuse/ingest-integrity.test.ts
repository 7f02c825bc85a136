import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { addSecret, createApp, grantAdminConsent } from "../../src/identity/directory.js";

/**
 * An alert source re-posting alerts it already sent: it updates what it detected, never what an
 * analyst decided, and every change it makes is in the audit trail under its own name.
 */
const SENSOR = "sensor-feed";
const ANALYST = "soc-console";

let t: TestTriage;
let sensor: Record<string, string>;
let analyst: Record<string, string>;

/** An app of its own name with only the given permissions, and its token's headers. */
async function appHeaders(name: string, permissions: string[]): Promise<Record<string, string>> {
  const app = await createApp(t.store.db, { tenantId: t.tenantId, displayName: name, appPermissions: permissions });
  await grantAdminConsent(t.store.db, app.clientId);
  const { secret } = await addSecret(t.store.db, app.clientId);
  const res = await fetch(`${t.url}/${t.tenantId}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: app.clientId,
      client_secret: secret,
      scope: "https://graph.microsoft.com/.default",
    }),
  });
  const body = (await res.json()) as { access_token: string };
  return { authorization: `Bearer ${body.access_token}` };
}

beforeAll(async () => {
  t = await startTriage();
  sensor = await appHeaders(SENSOR, ["SecurityAlert.Create.All"]);
  analyst = await appHeaders(ANALYST, ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"]);
});
afterAll(async () => {
  await t.close();
});

async function post(alerts: unknown[]) {
  const r = await t.request("POST", "/ingest/alerts", { body: { value: alerts }, headers: sensor });
  expect(r.status, r.text).toBe(200);
  return r;
}

async function patch(path: string, body: object) {
  const r = await t.request("PATCH", path, { body, headers: analyst });
  expect(r.status, r.text).toBe(200);
  return r.body;
}

const getAlert = async (id: string) => (await t.get(`/v1.0/security/alerts_v2/${id}`)).body;
const getIncident = async (id: string) => (await t.get(`/v1.0/security/incidents/${id}`)).body;
const auditOf = async (kind: "alerts" | "incidents", id: string) => (await t.get(`/triage/${kind}/${id}/audit?top=500`)).body.value as any[];

describe("an alert sent again", () => {
  it("cannot change the triage an analyst set, while what the source detected does change, audited in the source's name", async () => {
    const a = alert({ device: deviceId(), severity: "low", title: "Suspicious PowerShell", at: "2026-11-02T08:00:00Z" });
    const first = await post([a]);
    const incidentId = first.body.value[0].incidentId as string;
    const id = a.id as string;

    // The ingesting app may not PATCH; an analyst does.
    expect((await t.request("PATCH", `/v1.0/security/alerts_v2/${id}`, { body: { status: "new" }, headers: sensor })).status).toBe(403);
    const triage = { status: "inProgress", classification: "truePositive", determination: "malware", assignedTo: "megan@contoso.com" };
    await patch(`/v1.0/security/alerts_v2/${id}`, triage);

    const again = await post([
      {
        ...a,
        status: "new",
        classification: "falsePositive",
        determination: "notMalicious",
        assignedTo: "bot@contoso.com",
        severity: "high",
        title: "Encoded PowerShell",
      },
    ]);
    expect(again.body.value[0]).toMatchObject({ outcome: "updated", incidentId });
    const requestId = again.headers.get("request-id");

    const stored = await getAlert(id);
    expect(stored).toMatchObject({ ...triage, severity: "high", title: "Encoded PowerShell" });
    const incident = await getIncident(incidentId);
    expect(incident).toMatchObject({ severity: "high", displayName: "Encoded PowerShell" });

    const alertAudit = (await auditOf("alerts", id)).filter((e) => e.actor === SENSOR);
    expect(alertAudit.map((e) => e.property).sort()).toEqual(["severity", "title"]);
    expect(alertAudit.find((e) => e.property === "severity")).toMatchObject({ before: "low", after: "high", requestId });
    expect(alertAudit.find((e) => e.property === "title")).toMatchObject({ before: "Suspicious PowerShell", after: "Encoded PowerShell", requestId });
    const incidentAudit = (await auditOf("incidents", incidentId)).filter((e) => e.actor === SENSOR);
    expect(incidentAudit.find((e) => e.property === "severity")).toMatchObject({ before: "low", after: "high", requestId });
    expect(incidentAudit.find((e) => e.property === "displayName")).toMatchObject({ before: "Suspicious PowerShell", after: "Encoded PowerShell", requestId });
  });

  it("keeps a source's own triage values until an analyst changes them, then keeps the analyst's", async () => {
    const a: Record<string, unknown> = {
      ...alert({ device: deviceId(), at: "2026-11-02T09:00:00Z" }),
      status: "inProgress",
      classification: "truePositive",
      determination: "malware",
    };
    await post([a]);
    const id = a.id as string;
    expect(await getAlert(id)).toMatchObject({ status: "inProgress", classification: "truePositive", determination: "malware" });

    await post([{ ...a, classification: "informationalExpectedActivity", determination: "securityTesting" }]);
    expect(await getAlert(id)).toMatchObject({ classification: "informationalExpectedActivity", determination: "securityTesting" });

    await patch(`/v1.0/security/alerts_v2/${id}`, { classification: "falsePositive", determination: "notMalicious" });
    await post([{ ...a, status: "new", classification: "truePositive", determination: "malware" }]);
    // Status was never set by an analyst: it still follows the source.
    expect(await getAlert(id)).toMatchObject({ status: "new", classification: "falsePositive", determination: "notMalicious" });
    const bySensor = (await auditOf("alerts", id)).filter((e) => e.actor === SENSOR).map((e) => e.property);
    expect(bySensor).toContain("status");
    expect(bySensor.filter((p) => p === "classification")).toHaveLength(1);
  });
});

describe("a resolved alert", () => {
  const within = (v: string | null, from: number) => {
    expect(v).toEqual(expect.any(String));
    const at = Date.parse(v!);
    expect(at).toBeGreaterThanOrEqual(from - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);
  };

  it("has a resolvedDateTime when it arrives resolved: its source's, else when it arrived", async () => {
    const from = Date.now();
    const a: Record<string, unknown> = { ...alert({ device: deviceId() }), status: "resolved" };
    const b: Record<string, unknown> = { ...alert({ device: deviceId() }), status: "resolved", resolvedDateTime: "2026-11-01T12:00:00Z" };
    await post([a, b]);
    within((await getAlert(a.id as string)).resolvedDateTime, from);
    expect((await getAlert(b.id as string)).resolvedDateTime).toBe("2026-11-01T12:00:00.000Z");
  });

  it("has a resolvedDateTime when it is resolved by being sent again, and none once reopened", async () => {
    const a = alert({ device: deviceId() });
    await post([a]);
    expect((await getAlert(a.id as string)).resolvedDateTime).toBeNull();
    const from = Date.now();
    await post([{ ...a, status: "resolved" }]);
    within((await getAlert(a.id as string)).resolvedDateTime, from);
    await post([{ ...a, status: "inProgress" }]);
    expect((await getAlert(a.id as string)).resolvedDateTime).toBeNull();
  });

  it("has a resolvedDateTime when an analyst resolves it, kept when the source sends it again", async () => {
    const a = alert({ device: deviceId() });
    await post([a]);
    const from = Date.now();
    const patched = await patch(`/v1.0/security/alerts_v2/${a.id as string}`, { status: "resolved" });
    within(patched.resolvedDateTime, from);
    await post([{ ...a, status: "new", title: "Seen again" }]);
    expect(await getAlert(a.id as string)).toMatchObject({ status: "resolved", resolvedDateTime: patched.resolvedDateTime, title: "Seen again" });
  });
});

describe("an incident", () => {
  async function oneAlertIncident(severity: string, detectorId: string) {
    const a = alert({ device: deviceId(), severity, title: "Credential dumping", at: "2026-11-03T08:00:00Z", extra: { detectorId } });
    const r = await post([a]);
    return { a, incidentId: r.body.value[0].incidentId as string };
  }

  it("derives severity and priority the same whether its alert's severity was raised by the source or its own by an analyst", async () => {
    const bySource = await oneAlertIncident("low", "detector-source-path");
    const byAnalyst = await oneAlertIncident("low", "detector-analyst-path");
    await post([{ ...bySource.a, severity: "high" }]);
    await patch(`/v1.0/security/incidents/${byAnalyst.incidentId}`, { severity: "high" });

    const x = await getIncident(bySource.incidentId);
    const y = await getIncident(byAnalyst.incidentId);
    expect(x.severity).toBe("high");
    expect(y.severity).toBe("high");
    expect(y.priorityScore).toBe(x.priorityScore);
    const factors = async (id: string) => (await t.get(`/triage/incidents/${id}/correlation`)).body.priority.factors;
    expect(await factors(byAnalyst.incidentId)).toEqual(await factors(bySource.incidentId));
    const priorityAudit = (await auditOf("incidents", byAnalyst.incidentId)).find((e) => e.property === "priorityScore");
    expect(priorityAudit).toMatchObject({ actor: ANALYST, after: y.priorityScore });

    // The analyst's severity stays when the source later lowers its alert's; the name still follows it.
    await post([{ ...byAnalyst.a, severity: "medium", title: "Credential dumping (LSASS)" }]);
    expect(await getIncident(byAnalyst.incidentId)).toMatchObject({
      severity: "high",
      priorityScore: y.priorityScore,
      displayName: "Credential dumping (LSASS)",
    });
  });

  it("is updated when an analyst changes one of its alerts, as when the source does", async () => {
    const { a, incidentId } = await oneAlertIncident("medium", "detector-touch");
    const before = (await getIncident(incidentId)).lastUpdateDateTime as string;
    const patched = await patch(`/v1.0/security/alerts_v2/${a.id as string}`, { assignedTo: "megan@contoso.com" });
    const after = await getIncident(incidentId);
    expect(after.lastUpdateDateTime > before).toBe(true);
    expect(after.lastUpdateDateTime).toBe(patched.lastUpdateDateTime);
  });
});
