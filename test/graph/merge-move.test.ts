import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, ALL_PERMISSIONS, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { appToken, delegatedToken, GRAPH_DEFAULT, token } from "../support/identity.js";
import { runCli } from "../support/process.js";

const MANAGE = "SecurityData.Manage.All";
let t: TestTriage;
let manage: Record<string, string>;

beforeAll(async () => {
  t = await startTriage();
  manage = await t.auth(t.tenantId, [...ALL_PERMISSIONS, MANAGE]);
});
afterAll(async () => {
  await t.close();
});

/** A fresh incident of `n` alerts on its own device; answers its id and its alerts' ids. */
async function incident(n = 1, spec: { severity?: string; at?: string; title?: string } = {}): Promise<{ id: string; alerts: string[] }> {
  const device = deviceId();
  const alerts = Array.from({ length: n }, (_, i) =>
    alert({ device, severity: spec.severity ?? "low", title: spec.title, at: spec.at ?? `2026-11-0${1 + i}T10:00:00Z` }),
  );
  const r = await t.ingest(alerts);
  expect(r.status).toBe(200);
  const ids = new Set(r.body.value.map((v: any) => v.incidentId));
  expect(ids.size).toBe(1);
  return { id: [...ids][0] as string, alerts: alerts.map((a) => a.id as string) };
}

function merge(body: unknown, headers = manage, version = "v1.0", name = "mergeIncidents") {
  return t.request("POST", `/${version}/security/incidents/${name}`, { body, headers });
}
function move(body: unknown, headers = manage, version = "v1.0", name = "moveAlerts") {
  return t.request("POST", `/${version}/security/alerts_v2/${name}`, { body, headers });
}
async function patch(id: string, body: unknown) {
  const r = await t.request("PATCH", `/v1.0/security/incidents/${id}`, { body });
  expect(r.status).toBe(200);
}
const getIncident = async (id: string) => (await t.get(`/v1.0/security/incidents/${id}`)).body;
const getAlert = async (id: string) => (await t.get(`/v1.0/security/alerts_v2/${id}`)).body;

describe("POST /security/incidents/mergeIncidents", () => {
  it("merges into the incident with the most alerts, moving alerts, tags and entities, and recomputing the target", async () => {
    const big = await incident(2, { severity: "low" });
    const small = await incident(1, { severity: "high" });
    await patch(small.id, { customTags: ["campaign-x"] });
    const before = await getIncident(big.id);
    const r = await merge({ incidentIds: [small.id, big.id], incidentComment: "Same campaign", mergeReasons: "sameCampaign, sameActor" });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ "@odata.context": `${t.url}/v1.0/$metadata#microsoft.graph.security.mergeResponse`, targetIncidentId: big.id });

    const source = await getIncident(small.id);
    expect(source).toMatchObject({ status: "redirected", redirectIncidentId: big.id, priorityScore: null });
    expect(source.systemTags).toContain("Redirected");
    const target = await getIncident(big.id);
    expect(target.customTags).toEqual(["campaign-x"]);
    expect(target.severity).toBe("high");
    expect(target.priorityScore).not.toBe(before.priorityScore);
    expect(target.lastUpdateDateTime > before.lastUpdateDateTime).toBe(true);
    expect(target.comments.map((c: any) => c.comment)).toEqual(["Same campaign"]);

    const moved = await getAlert(small.alerts[0]!);
    expect(moved.incidentId).toBe(big.id);
    expect(moved.incidentWebUrl).toContain(`/incident2/${big.id}/`);
    const list = await t.get(`/v1.0/security/incidents/${big.id}/alerts`);
    expect(list.body.value.map((a: any) => a.id).sort()).toEqual([...big.alerts, ...small.alerts].sort());
    expect((await t.get(`/v1.0/security/incidents/${small.id}/alerts`)).body.value).toEqual([]);

    // The entities moved: the target has seen the source's device.
    const why = await t.get(`/triage/incidents/${big.id}/correlation`);
    expect(why.body.entities.length).toBe(2);
    const merged = why.body.events.find((e: any) => e.kind === "merged");
    expect(merged).toMatchObject({ otherIncidentId: small.id, reasons: ["sameCampaign", "sameActor"] });
    expect((await t.get(`/triage/incidents/${small.id}/correlation`)).body.events.some((e: any) => e.kind === "redirected")).toBe(true);

    // Audited: the source, the target and every moved alert.
    const srcAudit = (await t.get(`/triage/incidents/${small.id}/audit`)).body.value.map((e: any) => e.property);
    expect(srcAudit).toEqual(expect.arrayContaining(["status", "redirectIncidentId", "systemTags", "alertCount"]));
    const dstAudit = (await t.get(`/triage/incidents/${big.id}/audit`)).body.value.map((e: any) => e.property);
    expect(dstAudit).toEqual(expect.arrayContaining(["customTags", "comments", "alertCount", "severity", "priorityScore"]));
    const alertAudit = (await t.get(`/triage/alerts/${small.alerts[0]}/audit`)).body.value;
    expect(alertAudit.at(-1)).toMatchObject({ property: "incidentId", before: small.id, after: big.id });
  });

  it("breaks a tie in alerts by the oldest incident, whatever the order of the ids", async () => {
    const older = await incident(1, { at: "2026-10-01T10:00:00Z" });
    const newer = await incident(1, { at: "2026-10-02T10:00:00Z" });
    const r = await merge({ incidentIds: [newer.id, older.id] }, manage, "beta");
    expect(r.status).toBe(200);
    expect(r.body.targetIncidentId).toBe(older.id);
    expect(r.body["@odata.context"]).toBe(`${t.url}/beta/$metadata#microsoft.graph.security.mergeResponse`);
  });

  it("answers under the namespace-qualified name, in v1.0 and beta", async () => {
    for (const version of ["v1.0", "beta"]) {
      const a = await incident(2);
      const b = await incident(1);
      const r = await merge({ incidentIds: [a.id, b.id] }, manage, version, "microsoft.graph.security.mergeIncidents");
      expect(r.status).toBe(200);
      expect(r.body.targetIncidentId).toBe(a.id);
    }
  });

  it("matches the action's name case-insensitively, as Graph matches path segments", async () => {
    const a = await incident(2);
    const b = await incident(1);
    const r = await merge({ incidentIds: [a.id, b.id] }, manage, "v1.0", "MergeIncidents");
    expect(r.status).toBe(200);
    expect(r.body.targetIncidentId).toBe(a.id);
    // An action is POSTed: any other method answers 405 naming POST, not a read of an incident called "mergeIncidents".
    const get = await t.request("GET", "/v1.0/security/incidents/mergeIncidents");
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });

  it("takes up to five incidents", async () => {
    const five = await Promise.all([incident(2), incident(1), incident(1), incident(1), incident(1)]);
    const r = await merge({ incidentIds: five.map((i) => i.id) });
    expect(r.status).toBe(200);
    expect(r.body.targetIncidentId).toBe(five[0]!.id);
    for (const i of five.slice(1)) expect((await getIncident(i.id)).redirectIncidentId).toBe(five[0]!.id);
    expect((await t.get(`/v1.0/security/incidents/${five[0]!.id}/alerts`)).body.value).toHaveLength(6);
  });

  it.each([
    ["a closed incident", { status: "resolved" }, {}, /is resolved/],
    ["different owners", { assignedTo: "ann@contoso.com" }, { assignedTo: "bob@contoso.com" }, /assigned to different people/],
    ["different classifications", { classification: "truePositive" }, { classification: "falsePositive" }, /classified differently/],
    ["different determinations", { determination: "malware" }, { determination: "phishing" }, /determined differently/],
  ])("refuses %s with a 400 naming the incident, and changes nothing", async (_what, one, other, why) => {
    const a = await incident(2);
    const b = await incident(1);
    await patch(a.id, one);
    if (Object.keys(other).length) await patch(b.id, other);
    const before = [await getIncident(a.id), await getIncident(b.id), await getAlert(b.alerts[0]!)];
    const r = await merge({ incidentIds: [a.id, b.id], incidentComment: "should not appear" });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("BadRequest");
    expect(r.body.error.message).toMatch(why);
    expect(r.body.error.message).toMatch(new RegExp(`'(${a.id}|${b.id})'`));
    expect([await getIncident(a.id), await getIncident(b.id), await getAlert(b.alerts[0]!)]).toEqual(before);
  });

  it("merges when only one side is assigned or classified, and the target takes it", async () => {
    const a = await incident(2);
    const b = await incident(1);
    await patch(b.id, { assignedTo: "ann@contoso.com", classification: "truePositive" });
    const r = await merge({ incidentIds: [a.id, b.id] });
    expect(r.status).toBe(200);
    expect(await getIncident(a.id)).toMatchObject({ assignedTo: "ann@contoso.com", classification: "truePositive" });
  });

  it("refuses a later source that conflicts with the first one merged, and rolls back the earlier one", async () => {
    const a = await incident(3);
    const b = await incident(2);
    const c = await incident(1);
    await patch(b.id, { assignedTo: "ann@contoso.com" });
    await patch(c.id, { assignedTo: "bob@contoso.com" });
    const r = await merge({ incidentIds: [a.id, b.id, c.id] });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(new RegExp(`Incident '${c.id}' cannot be merged into incident '${a.id}'`));
    expect((await getIncident(b.id)).status).toBe("active");
    expect((await getAlert(b.alerts[0]!)).incidentId).toBe(b.id);
    expect((await t.get(`/triage/incidents/${b.id}/audit`)).body.value.map((e: any) => e.property)).not.toContain("status");
  });

  it("is one transaction: a refusal found after the alerts moved leaves every incident and alert as it was", async () => {
    const a = await incident(2);
    const b = await incident(1);
    // The target's comments are nearly full, so the merge's comment is refused only once the sources have merged.
    for (let i = 0; i < 33; i++) {
      const c = await t.request("POST", `/v1.0/security/incidents/${a.id}/comments`, { body: { comment: "x".repeat(30_000) } });
      expect(c.status).toBe(200);
    }
    const before = [await getIncident(a.id), await getIncident(b.id), await getAlert(b.alerts[0]!)];
    const auditBefore = (await t.get(`/triage/alerts/${b.alerts[0]}/audit`)).body.value.length;
    const r = await merge({ incidentIds: [a.id, b.id], incidentComment: "y".repeat(20_000) });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/comments would hold/);
    expect([await getIncident(a.id), await getIncident(b.id), await getAlert(b.alerts[0]!)]).toEqual(before);
    expect((await t.get(`/triage/alerts/${b.alerts[0]}/audit`)).body.value.length).toBe(auditBefore);
    expect((await t.get(`/triage/incidents/${b.id}/correlation`)).body.events.map((e: any) => e.kind)).not.toContain("redirected");
  });

  it("answers 400 for bad bodies, counts outside 2 to 5 and duplicates", async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, () => incident(1)));
    const cases: unknown[] = [
      {},
      [],
      { incidentIds: "1" },
      { incidentIds: [ids[0]!.id] },
      { incidentIds: ids.map((i) => i.id) },
      { incidentIds: [ids[0]!.id, ids[0]!.id] },
      { incidentIds: [ids[0]!.id, ids[1]!.id], mergeReasons: "sameCampaign, noSuchReason" },
      { incidentIds: [ids[0]!.id, ids[1]!.id], mergeReasons: ["sameCampaign"] },
      { incidentIds: [ids[0]!.id, ids[1]!.id], incidentComment: 5 },
      { incidentIds: [ids[0]!.id, ids[1]!.id], targetIncidentId: ids[0]!.id },
    ];
    for (const body of cases) {
      const r = await merge(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe("BadRequest");
    }
    expect((await getIncident(ids[0]!.id)).status).toBe("active");
  });

  it("answers 404 for an unknown id or another tenant's incident", async () => {
    const a = await incident(1);
    const r = await merge({ incidentIds: [a.id, "999999"] });
    expect(r.status).toBe(404);
    expect(r.body.error.message).toContain("999999");
    // Incident ids are numbered per tenant: the other tenant has ids 1 and 2; ours run much higher.
    const other = await t.newTenant();
    const theirs = await t.ingest([alert({ device: deviceId() }), alert({ device: deviceId() })], other);
    const theirIds = theirs.body.value.map((v: any) => v.incidentId);
    expect(theirIds).toEqual(["1", "2"]);
    const ours = await incident(1);
    expect(Number(ours.id)).toBeGreaterThan(2);
    const otherHeaders = await t.auth(other, [...ALL_PERMISSIONS, MANAGE]);
    const cross = await merge({ incidentIds: [theirIds[0], ours.id] }, otherHeaders);
    expect(cross.status).toBe(404);
    expect(cross.body.error.message).toContain(`'${ours.id}'`);
    expect((await getIncident(ours.id)).status).toBe("active");
    expect((await t.get(`/v1.0/security/incidents/${theirIds[0]}`, otherHeaders)).body.status).toBe("active");
    expect((await getIncident(a.id)).status).toBe("active");
  });
});

describe("POST /security/alerts_v2/moveAlerts", () => {
  it("moves alerts to an existing incident and recomputes both", async () => {
    const from = await incident(2, { severity: "high" });
    const to = await incident(1, { severity: "low" });
    const r = await move({
      alertIds: [from.alerts[1]],
      incidentId: to.id,
      alertComment: "Belongs with the other",
      newCorrelationReasons: "sameAsset,temporalProximity",
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ "@odata.context": `${t.url}/v1.0/$metadata#microsoft.graph.security.mergeResponse`, targetIncidentId: to.id });
    const a = await getAlert(from.alerts[1]!);
    expect(a.incidentId).toBe(to.id);
    expect(a.comments.map((c: any) => c.comment)).toEqual(["Belongs with the other"]);
    expect((await getIncident(to.id)).severity).toBe("high");
    expect((await t.get(`/v1.0/security/incidents/${from.id}/alerts`)).body.value.map((x: any) => x.id)).toEqual([from.alerts[0]]);
    const why = (await t.get(`/triage/incidents/${to.id}/correlation`)).body;
    expect(why.entities.length).toBe(2);
    expect(why.events.find((e: any) => e.kind === "alertMovedIn")).toMatchObject({
      alertId: from.alerts[1],
      otherIncidentId: from.id,
      reasons: ["sameAsset", "temporalProximity"],
    });
    expect((await t.get(`/triage/alerts/${from.alerts[1]}/audit`)).body.value.map((e: any) => e.property)).toEqual(
      expect.arrayContaining(["incidentId", "comments"]),
    );
    expect((await t.get(`/triage/incidents/${to.id}/audit`)).body.value.map((e: any) => e.property)).toContain("alertCount");
    expect((await t.get(`/triage/incidents/${from.id}/audit`)).body.value.map((e: any) => e.property)).toContain("alertCount");
  });

  it("moves alerts to a new incident named from them when incidentId is null or absent, leaving the emptied incident in place", async () => {
    for (const body of [{ incidentId: null }, {}]) {
      const from = await incident(1, { title: "Credential dumping from LSASS", severity: "medium" });
      const r = await move({ alertIds: from.alerts, ...body }, manage, "beta", "microsoft.graph.security.moveAlerts");
      expect(r.status).toBe(200);
      const created = r.body.targetIncidentId;
      expect(created).not.toBe(from.id);
      const inc = await getIncident(created);
      expect(inc).toMatchObject({ status: "active", severity: "medium", displayName: expect.stringContaining("Credential dumping from LSASS") });
      expect((await getAlert(from.alerts[0]!)).incidentId).toBe(created);
      const left = await getIncident(from.id);
      expect(left.status).toBe("active");
      expect((await t.get(`/v1.0/security/incidents/${from.id}/alerts`)).body.value).toEqual([]);
    }
  });

  it("keeps a moved alert where the analyst put it when it is ingested again", async () => {
    const from = await incident(1);
    const to = await incident(1);
    const again = alert({ id: from.alerts[0], device: deviceId(), severity: "high", at: "2026-11-01T10:00:00Z" });
    expect((await move({ alertIds: from.alerts, incidentId: to.id })).status).toBe(200);
    const r = await t.ingest([again]);
    expect(r.status).toBe(200);
    expect(r.body.value[0]).toMatchObject({ incidentId: to.id, outcome: "updated" });
    expect((await getAlert(from.alerts[0]!)).incidentId).toBe(to.id);
    expect((await getIncident(to.id)).severity).toBe("high");
  });

  it("refuses a closed or redirected destination, bad bodies, unknown and other tenants' ids", async () => {
    const from = await incident(1);
    const closed = await incident(1);
    await patch(closed.id, { status: "resolved" });
    let r = await move({ alertIds: from.alerts, incidentId: closed.id });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain(`'${closed.id}'`);
    for (const body of [
      {},
      { alertIds: [] },
      { alertIds: [from.alerts[0], from.alerts[0]] },
      { alertIds: from.alerts, newCorrelationReasons: "bogus" },
      { alertIds: from.alerts, incidentId: 5 },
    ]) {
      r = await move(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    r = await move({ alertIds: [...from.alerts, "no-such-alert"] });
    expect(r.status).toBe(404);
    r = await move({ alertIds: from.alerts, incidentId: "999999" });
    expect(r.status).toBe(404);
    const other = await t.newTenant();
    const otherHeaders = await t.auth(other, [...ALL_PERMISSIONS, MANAGE]);
    r = await move({ alertIds: from.alerts }, otherHeaders);
    expect(r.status).toBe(404);
    expect((await getAlert(from.alerts[0]!)).incidentId).toBe(from.id);
  });
});

describe("SecurityData.Manage.All", () => {
  it("is required of app-only callers on both actions", async () => {
    const a = await incident(2);
    const b = await incident(1);
    const without = { authorization: `Bearer ${await appToken(t, t.tenantId, ALL_PERMISSIONS)}` };
    const r1 = await merge({ incidentIds: [a.id, b.id] }, without);
    expect(r1.status).toBe(403);
    expect(r1.body.error.message).toContain(MANAGE);
    expect((await move({ alertIds: b.alerts, incidentId: a.id }, without)).status).toBe(403);
    expect((await getIncident(b.id)).status).toBe("active");
    const only = { authorization: `Bearer ${await appToken(t, t.tenantId, [MANAGE])}` };
    expect((await move({ alertIds: b.alerts, incidentId: a.id }, only)).status).toBe(200);
  });

  it("needs, delegated, the scope and the Security Operator or Security Administrator role", async () => {
    const reader = { authorization: `Bearer ${await delegatedToken(t, t.tenantId, [MANAGE], ["Security Reader"])}` };
    const noScope = { authorization: `Bearer ${await delegatedToken(t, t.tenantId, ALL_PERMISSIONS, ["Security Administrator"])}` };
    const a = await incident(2);
    const b = await incident(1);
    expect((await merge({ incidentIds: [a.id, b.id] }, reader)).status).toBe(403);
    expect((await merge({ incidentIds: [a.id, b.id] }, noScope)).status).toBe(403);
    for (const role of ["Security Operator", "Security Administrator"]) {
      const ok = { authorization: `Bearer ${await delegatedToken(t, t.tenantId, [MANAGE], [role])}` };
      const x = await incident(2);
      const y = await incident(1);
      const r = await merge({ incidentIds: [x.id, y.id] }, ok);
      expect(r.status).toBe(200);
      expect((await getIncident(y.id)).lastModifiedBy).toMatch(/^API-App:/);
    }
  });

  it("is granted with `triage apps create --permission SecurityData.Manage.All`", async () => {
    const made = await runCli([
      "apps",
      "create",
      ...t.storeArgs,
      "--tenant",
      t.tenantId,
      "--name",
      "merger",
      "--permission",
      MANAGE,
      "--admin-consent",
      "--json",
    ]);
    expect(made.code, made.stderr).toBe(0);
    const { clientId, clientSecret } = JSON.parse(made.stdout) as { clientId: string; clientSecret: string };
    const r = await token(t, t.tenantId, { grant_type: "client_credentials", client_id: clientId, client_secret: clientSecret, scope: GRAPH_DEFAULT });
    expect(r.status).toBe(200);
    const a = await incident(2);
    const b = await incident(1);
    const merged = await merge({ incidentIds: [a.id, b.id] }, { authorization: `Bearer ${r.body.access_token}` });
    expect(merged.status).toBe(200);
    expect(merged.body.targetIncidentId).toBe(a.id);
  });

  it("is listed in GET /permissions with both actions", async () => {
    const r = await t.get("/permissions");
    expect(r.status).toBe(200);
    const p = r.body.permissions.find((x: any) => x.name === MANAGE);
    expect(p).toBeDefined();
    const ops = p.methods["v1.0"].map((m: any) => m.operation);
    expect(ops).toEqual(expect.arrayContaining(["POST /security/incidents/mergeIncidents", "POST /security/alerts_v2/moveAlerts"]));
    const m = p.methods["v1.0"].find((x: any) => x.operation === "POST /security/incidents/mergeIncidents");
    expect(m).toMatchObject({ implemented: true, entraRoles: ["Security Operator", "Security Administrator"], cmdlet: "Merge-MgSecurityIncident" });
    expect(m.leastPrivileged).toEqual({ delegated: true, application: true });
    expect(p.notes.join(" ")).toContain("https://learn.microsoft.com/en-us/graph/api/security-incident-mergeincidents");
    expect(p.schemes.application.id).toBeNull();
  });
});
