/**
 * The kiota-based @microsoft/msgraph-sdk, unmodified, against Triage over HTTPS. The configuration a
 * user changes from a Graph setup: the adapter's baseUrl, the host name in the authentication
 * provider's allowedHosts (kiota sends no token elsewhere), and the credential's authorityHost.
 *
 * `client.security` comes from test/support/kiota-security.ts, which registers the generated request
 * metadata the unpublished @microsoft/msgraph-sdk-security package would (graph-clients.md, N1).
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { ClientSecretCredential } from "@azure/identity";
import { HttpMethod, RequestInformation } from "@microsoft/kiota-abstractions";
import { createGraphServiceClient, GraphRequestAdapter, type GraphServiceClient } from "@microsoft/msgraph-sdk";
import { GraphAzureIdentityAuthenticationProvider, PageIterator } from "@microsoft/msgraph-sdk-core";
import { createODataErrorFromDiscriminatorValue, type ODataError } from "@microsoft/msgraph-sdk/models/oDataErrors/index.js";
import {
  createIncidentCollectionResponseFromDiscriminatorValue,
  createIncidentFromDiscriminatorValue,
  type Incident,
} from "@microsoft/msgraph-sdk/models/security/index.js";
import "../support/kiota-security.js";
import { alert, deviceId } from "../support/alerts.js";
import { GRAPH_SCOPE, startHttpsTriage, type HttpsTriage } from "../support/https-triage.js";

let triage: HttpsTriage;
let auth: GraphAzureIdentityAuthenticationProvider;
let adapter: GraphRequestAdapter;
let graph: GraphServiceClient;
let token: string;
const ingested: { id: string; incidentId: string }[] = [];

beforeAll(async () => {
  triage = await startHttpsTriage();
  const { clientId, secret } = await triage.registerApp();
  const credential = new ClientSecretCredential(triage.tenantId, clientId, secret!, { authorityHost: triage.url, disableInstanceDiscovery: true });
  auth = new GraphAzureIdentityAuthenticationProvider(credential, [GRAPH_SCOPE], undefined, new Set([triage.hostname]));
  adapter = new GraphRequestAdapter(auth);
  adapter.baseUrl = `${triage.url}/v1.0`;
  graph = createGraphServiceClient(adapter);

  token = (await credential.getToken(GRAPH_SCOPE)).token;
  const alerts = Array.from({ length: 12 }, (_, i) =>
    alert({ title: `Kiota alert ${i}`, severity: i < 4 ? "high" : "medium", device: deviceId(), at: new Date(Date.UTC(2026, 9, 2, i)).toISOString() }),
  );
  ingested.push(...(await triage.ingest(alerts, token)));
});

afterAll(async () => {
  await triage?.close();
});

/** kiota throws its ODataError (a plain object, not an Error) for 4xx/5xx. */
async function odataError(request: Promise<unknown>): Promise<ODataError> {
  return request.then(
    () => {
      throw new Error("expected an ODataError");
    },
    (e: unknown) => e as ODataError,
  );
}

describe("incidents through the fluent builders", () => {
  it("lists with $filter, $top, $count and $orderby, into the typed model", async () => {
    const page = await graph.security.incidents.get({
      queryParameters: { filter: "severity eq 'high'", top: 3, count: true, orderby: ["createdDateTime asc"] },
    });
    expect(page?.odataCount).toBe(4);
    expect(page?.value).toHaveLength(3);
    expect(page?.value?.map((i) => i.displayName)).toEqual(["Kiota alert 0", "Kiota alert 1", "Kiota alert 2"]);
    const first = page!.value![0]!;
    expect(first.severity).toBe("high");
    expect(first.status).toBe("active");
    expect(first.createdDateTime).toBeInstanceOf(Date);
    expect(page?.odataNextLink).toMatch(new RegExp(`^https://${triage.host.replace(/\./g, "\\.")}/v1\\.0/security/incidents\\?`));
  });

  it("follows the nextLink with withUrl and with msgraph-sdk-core's PageIterator", async () => {
    const first = await graph.security.incidents.get({ queryParameters: { top: 5 } });
    const second = await graph.security.incidents.withUrl(first!.odataNextLink!).get();
    expect(second?.value).toHaveLength(5);
    expect(second?.value?.some((i) => first!.value!.some((j) => j.id === i.id))).toBe(false);

    const seen: string[] = [];
    const iterator = new PageIterator<Incident>(
      adapter,
      { value: first!.value ?? [], odataNextLink: first!.odataNextLink ?? undefined },
      (incident) => {
        seen.push(incident.id!);
        return true;
      },
      createIncidentCollectionResponseFromDiscriminatorValue,
      { XXX: createODataErrorFromDiscriminatorValue },
    );
    await iterator.iterate();
    expect(iterator.getPagingState()).toBe("Complete");
    expect(seen).toHaveLength(12);
    expect(new Set(seen)).toEqual(new Set(ingested.map((r) => r.incidentId)));
  });

  it("gets one, with $select", async () => {
    const id = ingested[5]!.incidentId;
    const incident = await graph.security.incidents.byIncidentId(id).get({ queryParameters: { select: ["id", "displayName", "severity"] } });
    expect(incident).toMatchObject({ id, displayName: "Kiota alert 5", severity: "medium" });
    expect(incident?.status).toBeUndefined();
  });

  it("patches one (kiota serializes the typed model, explicit nulls included); the server stores the change", async () => {
    const id = ingested[6]!.incidentId;
    const updated = await graph.security.incidents.byIncidentId(id).patch({
      status: "resolved",
      classification: "truePositive",
      determination: "malware",
      assignedTo: null,
      customTags: ["kiota"],
    });
    expect(updated).toMatchObject({ id, status: "resolved", classification: "truePositive", determination: "malware", customTags: ["kiota"] });
    expect(updated?.lastUpdateDateTime).toBeInstanceOf(Date);
    const stored = await triage.graph("GET", `/v1.0/security/incidents/${id}`, token);
    expect(stored.body).toMatchObject({ status: "resolved", determination: "malware", assignedTo: null });
  });

  it("a 404 is an ODataError with the status, code and message", async () => {
    const err = await odataError(graph.security.incidents.byIncidentId("987654").get());
    expect(err.responseStatusCode).toBe(404);
    expect(err.errorEscaped?.code).toBe("NotFound");
    expect(err.errorEscaped?.message).toContain("987654");
    expect(err.message).toContain("987654");
    expect(err.errorEscaped?.innerError?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(err.errorEscaped?.innerError?.date).toBeInstanceOf(Date);
  });

  it("a 400 for an invalid PATCH is an ODataError naming the property", async () => {
    const err = await odataError(graph.security.incidents.byIncidentId(ingested[7]!.incidentId).patch({ status: "redirected" }));
    expect(err.responseStatusCode).toBe(400);
    expect(err.errorEscaped?.code).toBe("BadRequest");
    expect(err.errorEscaped?.message).toContain("status");
  });
});

describe("alerts_v2", () => {
  it("lists alerts with a filter, typed, with their evidence", async () => {
    const page = await graph.security.alerts_v2.get({ queryParameters: { filter: "severity eq 'high'", count: true } });
    expect(page?.odataCount).toBe(4);
    const one = page!.value![0]!;
    expect(one.title).toMatch(/^Kiota alert [0-3]$/);
    expect(one.evidence?.[0]?.odataType).toBe("#microsoft.graph.security.deviceEvidence");
  });

  it("posts a comment with the generated comments builder (an array body); the alert has it", async () => {
    const alertId = ingested[8]!.id;
    // The generated builder sends [AlertComment] and expects a JSON array back; Graph (and Triage)
    // answer {"value":[...]}, which kiota reads as no collection: undefined, not an error.
    const answer = await graph.security.alerts_v2
      .byAlertId(alertId)
      .comments.post([{ comment: "Checked by the kiota client.", odataType: "#microsoft.graph.security.alertComment" }]);
    expect(answer).toBeUndefined();
    const stored = await graph.security.alerts_v2.byAlertId(alertId).get();
    expect(stored?.comments?.map((c) => c.comment)).toContain("Checked by the kiota client.");
    expect(stored?.comments?.at(-1)?.createdDateTime).toBeInstanceOf(Date);
  });

  it("patches an alert", async () => {
    const alertId = ingested[9]!.id;
    const updated = await graph.security.alerts_v2.byAlertId(alertId).patch({ status: "inProgress", assignedTo: "kiota@contoso.example" });
    expect(updated).toMatchObject({ id: alertId, status: "inProgress", assignedTo: "kiota@contoso.example" });
  });
});

describe("RequestInformation with the official factories", () => {
  it("a hand-built request, as users write for paths without a builder", async () => {
    const info = new RequestInformation(HttpMethod.GET, "{+baseurl}/security/incidents/{incident%2Did}{?%24expand}");
    info.pathParameters.baseurl = adapter.baseUrl;
    info.pathParameters["incident%2Did"] = ingested[10]!.incidentId;
    info.queryParameters["%24expand"] = ["alerts"];
    info.headers.tryAdd("Accept", "application/json");
    const incident = await adapter.send<Incident>(info, createIncidentFromDiscriminatorValue, { XXX: createODataErrorFromDiscriminatorValue });
    expect(incident?.alerts?.map((a) => a.id)).toEqual([ingested[10]!.id]);
  });

  it("/beta through an adapter on the beta base URL (v1.0 models; beta-only properties land in additionalData)", async () => {
    const betaAdapter = new GraphRequestAdapter(auth);
    betaAdapter.baseUrl = `${triage.url}/beta`;
    const beta = createGraphServiceClient(betaAdapter);
    const id = ingested[11]!.incidentId;
    const incident = await beta.security.incidents.byIncidentId(id).get();
    expect(incident).toMatchObject({ id, displayName: "Kiota alert 11" });
    expect(incident?.additionalData).toHaveProperty("recommendedActions");
    const v1 = await graph.security.incidents.byIncidentId(id).get();
    expect(v1?.additionalData ?? {}).not.toHaveProperty("recommendedActions");
  });
});
