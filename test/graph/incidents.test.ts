import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";

let t: TestTriage;
let incidentId: string;
let alertIds: string[];

beforeAll(async () => {
  t = await startTriage();
  const d = deviceId();
  const a1 = alert({ device: d, severity: "medium", title: "Suspicious PowerShell command line", at: "2026-10-01T08:00:00Z" });
  const a2 = alert({ device: d, severity: "high", title: "Credential dumping from LSASS", category: "CredentialAccess", at: "2026-10-01T09:00:00Z" });
  const r = await t.ingest([a1, a2]);
  expect(r.status).toBe(200);
  incidentId = r.body.value[0].incidentId;
  alertIds = [a1.id as string, a2.id as string];
  // A few more single-alert incidents, one per day.
  const more = Array.from({ length: 5 }, (_, i) => alert({ device: deviceId(), severity: "low", at: `2026-10-0${i + 2}T08:00:00Z` }));
  expect((await t.ingest(more)).status).toBe(200);
});
afterAll(async () => {
  await t.close();
});

describe("GET /security/incidents", () => {
  it("lists newest first with Graph's collection shape and context", async () => {
    const r = await t.get("/v1.0/security/incidents");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/json;/);
    expect(r.body["@odata.context"]).toBe(`${t.url}/v1.0/$metadata#security/incidents`);
    const created = r.body.value.map((i: any) => i.createdDateTime);
    expect(created).toEqual([...created].sort().reverse());
    expect(r.body["@odata.nextLink"]).toBeUndefined();
    expect(r.body["@odata.count"]).toBeUndefined();
  });

  it("serves every v1.0 property, with nulls for unset values and no beta-only property", async () => {
    const r = await t.get(`/v1.0/security/incidents/${incidentId}`);
    expect(Object.keys(r.body)).toEqual([
      "@odata.context",
      "id",
      "tenantId",
      "status",
      "incidentWebUrl",
      "redirectIncidentId",
      "displayName",
      "createdDateTime",
      "lastUpdateDateTime",
      "assignedTo",
      "classification",
      "determination",
      "severity",
      "customTags",
      "systemTags",
      "description",
      "summary",
      "lastModifiedBy",
      "resolvingComment",
      "priorityScore",
      "comments",
    ]);
    expect(r.body).toMatchObject({
      id: incidentId,
      tenantId: t.tenantId,
      status: "active",
      severity: "high",
      redirectIncidentId: null,
      assignedTo: null,
      classification: "unknown",
      determination: "unknown",
      customTags: [],
      comments: [],
      incidentWebUrl: `https://security.microsoft.com/incident2/${incidentId}/overview?tid=${t.tenantId}`,
    });
    expect(r.body.createdDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(r.body.priorityScore).toBeGreaterThanOrEqual(0);
    expect(r.body.priorityScore).toBeLessThanOrEqual(100);
  });

  it("serves the beta-only properties under /beta", async () => {
    const r = await t.get(`/beta/security/incidents/${incidentId}`);
    expect(r.body["@odata.context"]).toBe(`${t.url}/beta/$metadata#security/incidents/$entity`);
    expect(r.body).toHaveProperty("recommendedActions");
    expect(r.body).toHaveProperty("recommendedHuntingQueries");
  });

  it("pages with $top, $skip and an absolute nextLink that carries the query options", async () => {
    const first = await t.get("/v1.0/security/incidents?$top=2&$count=true&$filter=" + encodeURIComponent("severity eq 'low'"));
    expect(first.body.value).toHaveLength(2);
    expect(first.body["@odata.count"]).toBe(5);
    const next = first.body["@odata.nextLink"] as string;
    expect(next.startsWith(`${t.url}/v1.0/security/incidents?`)).toBe(true);
    expect(next).not.toMatch(/[{}]/);
    const seen = first.body.value.map((i: any) => i.id);
    let link: string | undefined = next;
    while (link) {
      const page: { status: number; body: any } = await t.get(link.slice(t.url.length));
      expect(page.status).toBe(200);
      expect(page.body["@odata.count"]).toBe(5);
      seen.push(...page.body.value.map((i: any) => i.id));
      link = page.body["@odata.nextLink"];
    }
    expect(new Set(seen).size).toBe(5);
    const skipped = await t.get("/v1.0/security/incidents?$skip=5");
    // Six incidents, newest first: skipping five leaves the oldest.
    expect(skipped.body.value.map((i: any) => i.id)).toEqual([incidentId]);
  });

  it("rejects $top above 50 with the service's own error", async () => {
    const r = await t.get("/v1.0/security/incidents?$top=100");
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("");
    expect(r.body.error.message).toBe(
      "The query specified in the URI is not valid. The limit of '50' for Top query has been exceeded. The value from the incoming request is '100'.",
    );
    expect(r.body.error.innerError["request-id"]).toBe(r.headers.get("request-id"));
  });

  it("applies $select and reflects it in the context", async () => {
    const r = await t.get("/v1.0/security/incidents?$select=id,status,severity");
    expect(r.body["@odata.context"]).toBe(`${t.url}/v1.0/$metadata#security/incidents(id,status,severity)`);
    for (const i of r.body.value) expect(Object.keys(i)).toEqual(["id", "status", "severity"]);
  });

  it("expands alerts, with a nested $select", async () => {
    const r = await t.get(`/v1.0/security/incidents?$filter=${encodeURIComponent(`id eq '${incidentId}'`)}&$expand=alerts($select=id,title)`);
    expect(r.body["@odata.context"]).toBe(`${t.url}/v1.0/$metadata#security/incidents(alerts())`);
    const [inc] = r.body.value;
    expect(inc.alerts.map((a: any) => a.id)).toEqual(alertIds);
    expect(Object.keys(inc.alerts[0])).toEqual(["id", "title"]);
    const one = await t.get(`/v1.0/security/incidents/${incidentId}?$expand=alerts`);
    expect(one.body.alerts).toHaveLength(2);
    expect(one.body.alerts[0].evidence[0]["@odata.type"]).toBe("#microsoft.graph.security.deviceEvidence");
  });

  it("serves one incident with its alerts as the listing expands them, and the incident as it is served alone", async () => {
    const listed = await t.get(`/v1.0/security/incidents?$filter=${encodeURIComponent(`id eq '${incidentId}'`)}&$expand=alerts`);
    const one = await t.get(`/v1.0/security/incidents/${incidentId}?$expand=alerts`);
    expect(one.status).toBe(200);
    expect(one.body.alerts.map((a: any) => a.id)).toEqual(listed.body.value[0].alerts.map((a: any) => a.id));
    expect(one.body.alerts).toEqual(listed.body.value[0].alerts);
    const alone = await t.get(`/v1.0/security/incidents/${incidentId}`);
    const { alerts: _alerts, "@odata.context": _c1, ...withoutAlerts } = one.body;
    const { "@odata.context": _c2, ...plain } = alone.body;
    expect(withoutAlerts).toEqual(plain);
    const selected = await t.get(`/v1.0/security/incidents/${incidentId}?$select=id,status&$expand=alerts($select=id,title)`);
    expect(Object.keys(selected.body).filter((k) => !k.startsWith("@"))).toEqual(["id", "status", "alerts"]);
    expect(Object.keys(selected.body.alerts[0])).toEqual(["id", "title"]);
    const missing = await t.get("/v1.0/security/incidents/999999?$expand=alerts");
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("NotFound");
  });

  it("orders by any sortable property", async () => {
    const r = await t.get("/v1.0/security/incidents?$orderby=severity desc,createdDateTime asc");
    const sev = r.body.value.map((i: any) => i.severity);
    expect(sev[0]).toBe("high");
    expect(sev.slice(1).every((s: string) => s === "low")).toBe(true);
    const bad = await t.get("/v1.0/security/incidents?$orderby=description");
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("description");
  });

  it("answers 404 for an unknown id and for one that is not a number", async () => {
    for (const id of ["999999", "abc"]) {
      const r = await t.get(`/v1.0/security/incidents/${id}`);
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe("NotFound");
    }
  });

  it("counts with the $count segment as text/plain, honouring $filter", async () => {
    const all = await t.get("/v1.0/security/incidents/$count");
    expect(all.status).toBe(200);
    expect(all.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(all.text).toBe("6");
    const low = await t.get("/v1.0/security/incidents/$count?$filter=" + encodeURIComponent("severity eq 'low'"));
    expect(low.text).toBe("5");
  });

  it("lists an incident's alerts", async () => {
    const r = await t.get(`/v1.0/security/incidents/${incidentId}/alerts?$orderby=createdDateTime asc`);
    expect(r.status).toBe(200);
    expect(r.body["@odata.context"]).toBe(`${t.url}/v1.0/$metadata#security/incidents('${incidentId}')/alerts`);
    expect(r.body.value.map((a: any) => a.id)).toEqual(alertIds);
    expect((await t.get("/v1.0/security/incidents/424242/alerts")).status).toBe(404);
  });

  it("matches path segments case-insensitively", async () => {
    const r = await t.get("/v1.0/Security/Incidents?$top=1");
    expect(r.status).toBe(200);
  });
});

describe("PATCH /security/incidents/{id}", () => {
  it("updates, answers 200 with the whole entity, and stamps lastUpdateDateTime and lastModifiedBy", async () => {
    const before = (await t.get(`/v1.0/security/incidents/${incidentId}`)).body;
    const r = await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, {
      body: {
        assignedTo: "analyst@contoso.com",
        status: "InProgress",
        classification: "TruePositive",
        determination: "MultiStagedAttack",
        customTags: ["Demo"],
      },
    });
    expect(r.status).toBe(200);
    expect(r.body["@odata.context"]).toBe(`${t.url}/v1.0/$metadata#security/incidents/$entity`);
    expect(r.body).toMatchObject({
      id: incidentId,
      assignedTo: "analyst@contoso.com",
      status: "inProgress",
      classification: "truePositive",
      determination: "multiStagedAttack",
      customTags: ["Demo"],
      lastModifiedBy: "API-App:test-automation",
    });
    expect(Date.parse(r.body.lastUpdateDateTime)).toBeGreaterThan(Date.parse(before.lastUpdateDateTime));
    expect((await t.get(`/v1.0/security/incidents/${incidentId}`)).body).toMatchObject({ assignedTo: "analyst@contoso.com", status: "inProgress" });
  });

  it("records every change in the audit trail: who, when, which property, before and after", async () => {
    const r = await t.get(`/triage/incidents/${incidentId}/audit`);
    expect(r.status).toBe(200);
    const byProp = Object.fromEntries(r.body.value.map((e: any) => [e.property, e]));
    expect(byProp.assignedTo).toMatchObject({ actor: "test-automation", before: null, after: "analyst@contoso.com", entityId: incidentId });
    expect(byProp.status).toMatchObject({ before: "active", after: "inProgress" });
    expect(byProp.customTags).toMatchObject({ before: [], after: ["Demo"] });
    expect(byProp.status.at).toMatch(/Z$/);
    expect(byProp.status.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("accepts the older determination names as input aliases and answers with the current ones", async () => {
    const r = await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, { body: { determination: "compromisedUser" } });
    expect(r.status).toBe(200);
    expect(r.body.determination).toBe("compromisedAccount");
  });

  it("lets an analyst set the severity, which then no longer follows the alerts", async () => {
    const r = await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, { body: { severity: "low" } });
    expect(r.body.severity).toBe("low");
    const d = (await t.get(`/v1.0/security/incidents/${incidentId}/alerts`)).body.value[0].evidence[0].mdeDeviceId;
    await t.ingest([alert({ device: d, severity: "high", at: "2026-10-01T10:00:00Z" })]);
    expect((await t.get(`/v1.0/security/incidents/${incidentId}`)).body.severity).toBe("low");
  });

  it.each([
    [{ id: "5" }, "read-only"],
    [{ priorityScore: 99 }, "read-only"],
    [{ lastModifiedBy: "me" }, "read-only"],
    [{ nonsense: 1 }, "does not exist"],
    [{ status: "closed" }, "not valid"],
    [{ status: "redirected" }, "cannot be set"],
    [{ severity: 3 }, "string is expected"],
    [{ customTags: "tag" }, "customTags"],
    [{ assignedTo: 42 }, "assignedTo"],
    [{ recommendedActions: "x" }, "does not exist"],
  ])("rejects %j with 400 and changes nothing", async (body, message) => {
    const before = (await t.get(`/v1.0/security/incidents/${incidentId}`)).body;
    const r = await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, { body: { displayName: "should not stick", ...body } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("BadRequest");
    expect(r.body.error.message).toContain(message);
    expect((await t.get(`/v1.0/security/incidents/${incidentId}`)).body).toEqual(before);
  });

  it("rejects a body with no property to update", async () => {
    const r = await t.request("PATCH", `/v1.0/security/incidents/${incidentId}`, { body: {} });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain("no incident property");
  });

  it("rejects malformed JSON, a non-object body and a non-JSON content type", async () => {
    const url = `/v1.0/security/incidents/${incidentId}`;
    const bad = await t.request("PATCH", url, { rawBody: "{not json", headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("not valid JSON");
    expect((await t.request("PATCH", url, { body: ["status"] })).status).toBe(400);
    const xml = await t.request("PATCH", url, { rawBody: "<status/>", headers: { "content-type": "application/xml" } });
    expect(xml.status).toBe(415);
    expect(xml.body.error.code).toBe("UnsupportedMediaType");
  });

  it("answers 404 for an unknown incident", async () => {
    const r = await t.request("PATCH", "/v1.0/security/incidents/777777", { body: { status: "resolved" } });
    expect(r.status).toBe(404);
  });

  it("keeps beta-only properties updatable only where they exist", async () => {
    const r = await t.request("PATCH", `/beta/security/incidents/${incidentId}`, { body: { summary: "Beacon on one host" } });
    expect(r.status).toBe(200);
    expect(r.body.summary).toBe("Beacon on one host");
    expect(r.body).toHaveProperty("recommendedHuntingQueries");
  });
});

describe("POST /security/incidents/{id}/comments", () => {
  it("adds a comment and answers 200 with every comment, the new one last", async () => {
    const first = await t.request("POST", `/v1.0/security/incidents/${incidentId}/comments`, {
      body: { "@odata.type": "microsoft.graph.security.alertComment", comment: "Isolated the device" },
    });
    expect(first.status).toBe(200);
    expect(first.body["@odata.context"]).toBe(`${t.url}/v1.0/$metadata#security/incidents('${incidentId}')/comments`);
    // kiota sends the comment as a one-element array.
    const second = await t.request("POST", `/v1.0/security/incidents/${incidentId}/comments`, { body: [{ comment: "Reset the password" }] });
    expect(second.status).toBe(200);
    expect(second.body.value.map((c: any) => c.comment)).toEqual(["Isolated the device", "Reset the password"]);
    expect(second.body.value[1]).toEqual({
      comment: "Reset the password",
      createdByDisplayName: "test-automation",
      createdDateTime: expect.stringMatching(/Z$/),
    });
    expect((await t.get(`/v1.0/security/incidents/${incidentId}`)).body.comments).toHaveLength(2);
  });

  it.each([[{}], [{ comment: "" }], [{ comment: 5 }], [{ comment: "x", createdByDisplayName: "spoof" }], [[{ comment: "a" }, { comment: "b" }]]])(
    "rejects %j with 400",
    async (body) => {
      const r = await t.request("POST", `/v1.0/security/incidents/${incidentId}/comments`, { body });
      expect(r.status).toBe(400);
    },
  );

  it("answers 404 for an unknown incident", async () => {
    expect((await t.request("POST", "/v1.0/security/incidents/888888/comments", { body: { comment: "x" } })).status).toBe(404);
  });
});
