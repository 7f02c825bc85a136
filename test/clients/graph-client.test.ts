/**
 * @microsoft/microsoft-graph-client 3, unmodified, against Triage over HTTPS. The configuration a user
 * changes from a Graph setup: `baseUrl` (Triage's origin) and `customHosts` (its host name, so the
 * client sends the token there), plus the credential's authorityHost.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { ClientSecretCredential } from "@azure/identity";
import { BatchRequestContent, BatchResponseContent, Client, GraphError, PageIterator, type PageCollection } from "@microsoft/microsoft-graph-client";
import { TokenCredentialAuthenticationProvider } from "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js";
import { alert, deviceId } from "../support/alerts.js";
import { GRAPH_SCOPE, startHttpsTriage, type HttpsTriage } from "../support/https-triage.js";

const INCIDENTS = 57;

let triage: HttpsTriage;
let client: Client;
let token: string;
/** Incident ids by the title of their one alert. */
const incidentOf = new Map<string, string>();
const alertIdOf = new Map<string, string>();

beforeAll(async () => {
  triage = await startHttpsTriage();
  const { clientId, secret } = await triage.registerApp();
  const credential = new ClientSecretCredential(triage.tenantId, clientId, secret!, { authorityHost: triage.url, disableInstanceDiscovery: true });
  client = Client.initWithMiddleware({
    baseUrl: triage.url,
    customHosts: new Set([triage.hostname]),
    authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: [GRAPH_SCOPE] }),
  });

  // More incidents than one page holds: alerts with nothing in common, each opening its own incident.
  token = (await credential.getToken(GRAPH_SCOPE)).token;
  const alerts = Array.from({ length: INCIDENTS }, (_, i) =>
    alert({
      title: `Alert ${String(i).padStart(2, "0")}`,
      severity: i % 3 === 0 ? "high" : "low",
      device: deviceId(),
      at: new Date(Date.UTC(2026, 9, 1, 0, i)).toISOString(),
    }),
  );
  const results = await triage.ingest(alerts, token);
  results.forEach((r, i) => {
    incidentOf.set(`Alert ${String(i).padStart(2, "0")}`, r.incidentId);
    alertIdOf.set(`Alert ${String(i).padStart(2, "0")}`, r.id);
  });
  expect(new Set(results.map((r) => r.incidentId)).size).toBe(INCIDENTS);
});

afterAll(async () => {
  await triage?.close();
});

const HIGH = Math.ceil(INCIDENTS / 3);

describe("reading incidents", () => {
  it("filter, top, count, expand and select as the fluent request builder sends them", async () => {
    const page = await client
      .api("/security/incidents")
      .filter("severity eq 'high'")
      .top(5)
      .count(true)
      .expand("alerts")
      .select(["id", "displayName", "severity"])
      .get();

    expect(page["@odata.count"]).toBe(HIGH);
    expect(page.value).toHaveLength(5);
    for (const incident of page.value) {
      expect(
        Object.keys(incident)
          .filter((k) => !k.startsWith("@"))
          .sort(),
      ).toEqual(["alerts", "displayName", "id", "severity"]);
      expect(incident.severity).toBe("high");
      expect(incident.alerts).toHaveLength(1);
      expect(incident.alerts[0].title).toBe(incident.displayName);
    }
    expect(page["@odata.nextLink"]).toMatch(new RegExp(`^${triage.url}/v1\\.0/security/incidents\\?`));

    // The next pages keep every query option (graph-client reuses the link verbatim).
    const rest: any[] = [];
    await new PageIterator(client, page, (incident) => {
      rest.push(incident);
      return true;
    }).iterate();
    expect(rest).toHaveLength(HIGH);
    expect(new Set(rest.map((i) => i.id)).size).toBe(HIGH);
    for (const incident of rest) expect(incident).toMatchObject({ severity: "high", alerts: [expect.objectContaining({ title: incident.displayName })] });
  });

  it("PageIterator follows @odata.nextLink to the end: every incident once", async () => {
    const seen: string[] = [];
    const first: PageCollection = await client.api("/security/incidents").top(20).get();
    expect(first.value).toHaveLength(20);
    expect(first["@odata.nextLink"]).toMatch(/[?&]\$skiptoken=[A-Za-z0-9_-]+$/);
    const iterator = new PageIterator(client, first, (incident: { id: string }) => {
      seen.push(incident.id);
      return true;
    });
    await iterator.iterate();

    expect(iterator.isComplete()).toBe(true);
    expect(seen).toHaveLength(INCIDENTS);
    expect(new Set(seen)).toEqual(new Set(incidentOf.values()));
  });

  it("without $top: pages of 50, iterated to the end; a filtered listing that fits one page has no nextLink", async () => {
    const seen: string[] = [];
    const all: PageCollection = await client.api("/security/incidents").get();
    expect(all.value).toHaveLength(50);
    await new PageIterator(client, all, (incident: { id: string }) => {
      seen.push(incident.id);
      return true;
    }).iterate();
    expect(seen).toHaveLength(INCIDENTS);
    expect(new Set(seen).size).toBe(INCIDENTS);

    const low: PageCollection = await client.api("/security/incidents").filter("severity eq 'low'").get();
    expect(low.value).toHaveLength(INCIDENTS - HIGH);
    expect(low["@odata.nextLink"]).toBeUndefined();
  });

  it("gets one incident", async () => {
    const id = incidentOf.get("Alert 07")!;
    const incident = await client.api(`/security/incidents/${id}`).get();
    expect(incident).toMatchObject({ id, displayName: "Alert 07", status: "active", severity: "low" });
    expect(incident["@odata.context"]).toContain("/v1.0/$metadata#security/incidents");
  });
});

describe("changing incidents and alerts", () => {
  it("patch returns the updated incident, and the change is stored", async () => {
    const id = incidentOf.get("Alert 10")!;
    const updated = await client
      .api(`/security/incidents/${id}`)
      .patch({ status: "inProgress", assignedTo: "tier1@contoso.example", customTags: ["graph-client"] });
    expect(updated).toMatchObject({ id, status: "inProgress", assignedTo: "tier1@contoso.example", customTags: ["graph-client"] });
    const stored = await triage.graph("GET", `/v1.0/security/incidents/${id}`, token);
    expect(stored.body).toMatchObject({ status: "inProgress", assignedTo: "tier1@contoso.example" });
  });

  it("post a comment to an incident and to an alert", async () => {
    const id = incidentOf.get("Alert 11")!;
    const comment = { "@odata.type": "microsoft.graph.security.alertComment", comment: "Isolated the host." };
    const onIncident = await client.api(`/security/incidents/${id}/comments`).post(comment);
    expect(onIncident.value.at(-1)).toMatchObject({ comment: "Isolated the host." });

    const alertId = alertIdOf.get("Alert 11")!;
    const onAlert = await client.api(`/security/alerts_v2/${alertId}/comments`).post({ ...comment, comment: "False positive?" });
    expect(onAlert.value.map((c: { comment: string }) => c.comment)).toContain("False positive?");

    const incident = await triage.graph("GET", `/v1.0/security/incidents/${id}`, token);
    expect(incident.body.comments.map((c: { comment: string }) => c.comment)).toContain("Isolated the host.");
    const stored = await triage.graph("GET", `/v1.0/security/alerts_v2/${alertId}`, token);
    expect(stored.body.comments.map((c: { comment: string }) => c.comment)).toContain("False positive?");
  });
});

describe("errors", () => {
  async function graphError(request: Promise<unknown>): Promise<GraphError> {
    const err = await request.then(
      () => {
        throw new Error("expected a GraphError");
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GraphError);
    return err as GraphError;
  }

  it("404: statusCode, code, message and request id", async () => {
    const err = await graphError(client.api("/security/incidents/999999").get());
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe("NotFound");
    expect(err.message).toMatch(/999999/);
    expect(err.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(err.date).toBeInstanceOf(Date);
  });

  it("400 for an invalid PATCH and for an invalid $filter", async () => {
    const id = incidentOf.get("Alert 12")!;
    const patch = await graphError(client.api(`/security/incidents/${id}`).patch({ severity: "catastrophic" }));
    expect(patch.statusCode).toBe(400);
    expect(patch.code).toBe("BadRequest");
    expect(patch.message).toContain("severity");
    expect(patch.requestId).toBeTruthy();

    const filter = await graphError(client.api("/security/incidents").filter("investigationState eq 'running'").get());
    expect(filter.statusCode).toBe(400);
    expect(filter.message).toContain("investigationState");
  });
});

describe("JSON batching", () => {
  it("BatchRequestContent: a GET, and a PATCH that depends on it; BatchResponseContent reads each step", async () => {
    const id = incidentOf.get("Alert 20")!;
    const batch = new BatchRequestContent([
      // Step URLs relative to the version root, or naming it (graph-client keeps the path as given).
      { id: "read", request: new Request(`${triage.url}/v1.0/security/incidents/${id}`, { method: "GET" }) },
      {
        id: "resolve",
        request: new Request(`${triage.url}/security/incidents/${id}`, {
          method: "PATCH",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ status: "resolved", classification: "falsePositive", determination: "notMalicious" }),
        }),
        dependsOn: ["read"],
      },
      { id: "missing", request: new Request(`${triage.url}/security/incidents/424242`, { method: "GET" }), dependsOn: ["read"] },
    ]);
    const response = new BatchResponseContent(await client.api("/$batch").post(await batch.getContent()));

    const read = response.getResponseById("read");
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ id, status: "active" });
    const resolve = response.getResponseById("resolve");
    expect(resolve.status).toBe(200);
    expect(await resolve.json()).toMatchObject({ id, status: "resolved", classification: "falsePositive" });
    const missing = response.getResponseById("missing");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.code).toBe("NotFound");

    expect((await triage.graph("GET", `/v1.0/security/incidents/${id}`, token)).body.status).toBe("resolved");
  });
});

describe("beta", () => {
  it(".version('beta') reaches /beta, with its beta-only properties", async () => {
    const id = incidentOf.get("Alert 30")!;
    const incident = await client.api(`/security/incidents/${id}`).version("beta").get();
    expect(incident.id).toBe(id);
    expect(incident["@odata.context"]).toContain("/beta/$metadata");
    expect(incident).toHaveProperty("recommendedActions");
    const v1 = await client.api(`/security/incidents/${id}`).get();
    expect(v1).not.toHaveProperty("recommendedActions");
  });
});

describe("bound actions", () => {
  it("mergeIncidents and moveAlerts by their qualified names, as the SDK addresses them", async () => {
    const { clientId, secret } = await triage.registerApp({ permissions: ["SecurityData.Manage.All"], name: "merge automation" });
    const credential = new ClientSecretCredential(triage.tenantId, clientId, secret!, { authorityHost: triage.url, disableInstanceDiscovery: true });
    const manager = Client.initWithMiddleware({
      baseUrl: triage.url,
      customHosts: new Set([triage.hostname]),
      authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: [GRAPH_SCOPE] }),
    });
    const [a, b] = [incidentOf.get("Alert 50")!, incidentOf.get("Alert 51")!];
    const merged = await manager
      .api("/security/incidents/microsoft.graph.security.mergeIncidents")
      .post({ incidentIds: [b, a], incidentComment: "Same campaign", mergeReasons: "sameCampaign, sameActor" });
    // Both have one alert: the older incident stays.
    expect(merged.targetIncidentId).toBe(a);
    const moved = await manager
      .api("/security/alerts_v2/microsoft.graph.security.moveAlerts")
      .version("beta")
      .post({ alertIds: [alertIdOf.get("Alert 51")!], incidentId: null });
    expect(moved.targetIncidentId).not.toBe(a);
    const alert51 = await client.api(`/security/alerts_v2/${alertIdOf.get("Alert 51")!}`).get();
    expect(alert51.incidentId).toBe(moved.targetIncidentId);
  });
});
