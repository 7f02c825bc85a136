/**
 * The Microsoft clients' retry handlers against injected faults (docs/testing-faults.md): the Graph
 * JavaScript client's RetryHandler and kiota's (through @microsoft/msgraph-sdk), unmodified, with
 * their default options. They retry a 429 or 503 after its Retry-After, sending Retry-Attempt, and
 * succeed once the faults stop; past their retries they surface the error, as they do against Graph.
 * What each client went through is read back from the recorded faults.
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { ClientSecretCredential } from "@azure/identity";
import { Client, GraphError } from "@microsoft/microsoft-graph-client";
import { TokenCredentialAuthenticationProvider } from "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js";
import { createGraphServiceClient, GraphRequestAdapter, type GraphServiceClient } from "@microsoft/msgraph-sdk";
import { GraphAzureIdentityAuthenticationProvider } from "@microsoft/msgraph-sdk-core";
import type { ODataError } from "@microsoft/msgraph-sdk/models/oDataErrors/index.js";
import "../support/kiota-security.js";
import { alert, deviceId } from "../support/alerts.js";
import { GRAPH_SCOPE, startHttpsTriage, type HttpsTriage } from "../support/https-triage.js";
import { listFaultEvents, setFaultConfig } from "../../src/store/faults.js";
import { parseFaultConfig } from "../../src/schema/faults.js";
import { graphRouteTemplates } from "../../src/permissions/catalog.js";
import type { FaultEvent } from "../../src/schema/faults.js";

let triage: HttpsTriage;
let token: string;
let incidentId: string;
const apps: Record<"graphClient" | "kiota", { clientId: string; credential: ClientSecretCredential }> = {} as never;
let client: Client;
let kiota: GraphServiceClient;

beforeAll(async () => {
  triage = await startHttpsTriage({ settingsTtlMs: 1 });
  for (const name of ["graphClient", "kiota"] as const) {
    const { clientId, secret } = await triage.registerApp({ name });
    apps[name] = {
      clientId,
      credential: new ClientSecretCredential(triage.tenantId, clientId, secret!, { authorityHost: triage.url, disableInstanceDiscovery: true }),
    };
  }
  client = Client.initWithMiddleware({
    baseUrl: triage.url,
    customHosts: new Set([triage.hostname]),
    authProvider: new TokenCredentialAuthenticationProvider(apps.graphClient.credential, { scopes: [GRAPH_SCOPE] }),
  });
  const adapter = new GraphRequestAdapter(
    new GraphAzureIdentityAuthenticationProvider(apps.kiota.credential, [GRAPH_SCOPE], undefined, new Set([triage.hostname])),
  );
  adapter.baseUrl = `${triage.url}/v1.0`;
  kiota = createGraphServiceClient(adapter);
  token = (await apps.graphClient.credential.getToken(GRAPH_SCOPE)).token;
  const [first] = await triage.ingest([alert({ device: deviceId() })], token);
  incidentId = first!.incidentId;
});

afterAll(async () => {
  await triage?.close();
});

/** Sets an app's rules, as `triage faults set --app` does; returns the seq to read its faults after. */
async function faults(app: keyof typeof apps, rules: unknown[]): Promise<number> {
  await setFaultConfig(triage.store.db, triage.tenantId, apps[app].clientId, parseFaultConfig({ seed: "clients", rules }, graphRouteTemplates()), "test");
  const seen = await listFaultEvents(triage.store.db, triage.tenantId, { limit: 100_000 });
  return seen.length ? seen[seen.length - 1]!.seq : 0;
}

async function injectedSince(after: number, app: keyof typeof apps): Promise<FaultEvent[]> {
  return listFaultEvents(triage.store.db, triage.tenantId, { after, clientId: apps[app].clientId, limit: 1000 });
}

async function timed<T>(p: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await p;
  return { value, ms: Date.now() - started };
}

describe("@microsoft/microsoft-graph-client RetryHandler", () => {
  it("retries two 429s after their Retry-After and lists the incidents", async () => {
    const after = await faults("graphClient", [{ fault: 429, retryAfter: 1, limit: 2, route: "/security/incidents" }]);
    const { value: page, ms } = await timed(client.api("/security/incidents").top(5).get());
    expect(page.value.map((i: { id: string }) => i.id)).toContain(incidentId);
    expect(ms).toBeGreaterThanOrEqual(1900);
    const injected = await injectedSince(after, "graphClient");
    expect(injected.map((e) => [e.fault, e.retryAttempt])).toEqual([
      ["429", null],
      ["429", 1],
    ]);
  });

  it("retries a PATCH answered 503 with Retry-After, and the change is made once", async () => {
    const after = await faults("graphClient", [{ fault: 503, retryAfter: 1, limit: 2, methods: ["PATCH"], route: "/security/incidents/{id}" }]);
    const updated = await client.api(`/security/incidents/${incidentId}`).patch({ assignedTo: "graph-client@contoso.example" });
    expect(updated.assignedTo).toBe("graph-client@contoso.example");
    expect((await injectedSince(after, "graphClient")).map((e) => [e.fault, e.method, e.retryAttempt])).toEqual([
      ["503", "PATCH", null],
      ["503", "PATCH", 1],
    ]);
    const audit = await triage.graph("GET", `/triage/incidents/${incidentId}/audit`, token);
    expect(audit.body.value.filter((e: { property: string }) => e.property === "assignedTo")).toHaveLength(1);
  });

  it("gives up after its three retries and surfaces Graph's 429", async () => {
    const after = await faults("graphClient", [{ fault: 429, retryAfter: 0, route: "/security/incidents" }]);
    const err = await client
      .api("/security/incidents")
      .get()
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(GraphError);
    expect((err as GraphError).statusCode).toBe(429);
    expect((err as GraphError).code).toBe("TooManyRequests");
    expect((await injectedSince(after, "graphClient")).map((e) => e.retryAttempt)).toEqual([null, 1, 2, 3]);
  });
});

describe("kiota's RetryHandler (@microsoft/msgraph-sdk)", () => {
  it("retries two 503s after their Retry-After and lists the incidents", async () => {
    const after = await faults("kiota", [{ fault: 503, retryAfter: 1, limit: 2, route: "/security/incidents" }]);
    const { value: page, ms } = await timed(kiota.security.incidents.get({ queryParameters: { top: 5 } }));
    expect(page?.value?.map((i) => i.id)).toContain(incidentId);
    expect(ms).toBeGreaterThanOrEqual(1900);
    expect((await injectedSince(after, "kiota")).map((e) => [e.fault, e.retryAttempt])).toEqual([
      ["503", null],
      ["503", 1],
    ]);
  });

  it("retries a PATCH answered 429, and the change is made once", async () => {
    const after = await faults("kiota", [{ fault: 429, retryAfter: 1, limit: 1, methods: ["PATCH"], route: "/security/incidents/{id}" }]);
    const updated = await kiota.security.incidents.byIncidentId(incidentId).patch({ assignedTo: "kiota@contoso.example" });
    expect(updated?.assignedTo).toBe("kiota@contoso.example");
    expect((await injectedSince(after, "kiota")).map((e) => [e.fault, e.method, e.retryAttempt])).toEqual([["429", "PATCH", null]]);
    const audit = await triage.graph("GET", `/triage/incidents/${incidentId}/audit`, token);
    expect(
      audit.body.value.filter((e: { property: string; after: unknown }) => e.property === "assignedTo" && e.after === "kiota@contoso.example"),
    ).toHaveLength(1);
  });

  it("gives up after its three retries and throws the ODataError of the 503", async () => {
    const after = await faults("kiota", [{ fault: 503, retryAfter: 0, route: "/security/incidents" }]);
    const err = (await kiota.security.incidents.get().then(
      () => null,
      (e: unknown) => e,
    )) as ODataError | null;
    expect(err?.responseStatusCode).toBe(503);
    expect(err?.errorEscaped?.code).toBe("ServiceUnavailable");
    expect((await injectedSince(after, "kiota")).map((e) => e.retryAttempt)).toEqual([null, 1, 2, 3]);
  });
});
