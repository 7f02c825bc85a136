/**
 * The official clients against an ephemeral Triage (`startTriage` from `triage/testing`, as a child
 * process): @azure/identity's ClientSecretCredential with each app's id and secret, and the Graph
 * JavaScript client doing what each app's permission allows. The server issues its certificate from the
 * run's CA (`caDir`), which this worker trusts from its start (test/clients/global-setup.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientSecretCredential } from "@azure/identity";
import { Client, GraphError } from "@microsoft/microsoft-graph-client";
import { TokenCredentialAuthenticationProvider } from "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js";
import { startTriage, type EphemeralAppName, type TriageTestServer } from "triage/testing";

let triage: TriageTestServer;

function graphClient(app: EphemeralAppName): Client {
  const { clientId, clientSecret } = triage.info.apps[app];
  const credential = new ClientSecretCredential(triage.tenantId, clientId, clientSecret, { authorityHost: triage.url, disableInstanceDiscovery: true });
  return Client.initWithMiddleware({
    baseUrl: triage.url,
    customHosts: new Set([new URL(triage.url).hostname]),
    authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: [triage.info.scope] }),
  });
}

async function status(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (e) {
    if (e instanceof GraphError) return e.statusCode;
    throw e;
  }
}

beforeAll(async () => {
  const caDir = process.env.TRIAGE_TEST_CA_DIR;
  if (!caDir) throw new Error("run through vitest with vitest.config.ts: test/clients/global-setup.ts makes the run's CA");
  triage = await startTriage({ mode: "child-process", caDir });
  // Generated alerts over the four weeks before 2026-11-01, as the demo's.
  await triage.seed({ incidents: 6 });
});
afterAll(() => triage?.stop());

describe("an ephemeral Triage through the Graph JavaScript client", () => {
  it("serves a certificate from the given CA, so the client trusts it with no option of its own", async () => {
    const page = await graphClient("read").api("/security/incidents").version("v1.0").top(2).get();
    expect(page.value).toHaveLength(2);
    expect(page["@odata.nextLink"]).toMatch(new RegExp(`^${triage.url}/v1.0/security/incidents\\?`));
  });

  it("lets each app do what its permission allows and no more", async () => {
    const [first, second] = (await graphClient("read").api("/security/incidents").version("v1.0").filter("status eq 'active'").top(2).get()).value as {
      id: string;
    }[];
    const patch = (app: EphemeralAppName) => graphClient(app).api(`/security/incidents/${first!.id}`).version("v1.0").patch({ status: "inProgress" });
    expect(await status(patch("read"))).toBe(403);
    expect(await status(patch("readWrite"))).toBe(200);

    const merge = (app: EphemeralAppName) =>
      graphClient(app)
        .api("/security/incidents/mergeIncidents")
        .version("v1.0")
        .post({ incidentIds: [first!.id, second!.id] });
    expect(await status(merge("readWrite"))).toBe(403);
    expect(await status(merge("merge"))).toBe(200);

    const hunt = (app: EphemeralAppName) =>
      graphClient(app).api("/security/runHuntingQuery").version("v1.0").post({ Query: "AlertInfo | summarize n = count()", Timespan: "2026-01-01T00:00:00Z" });
    expect(await status(hunt("read"))).toBe(403);
    const hunted = await hunt("hunting");
    expect((hunted as { results: { n: number }[] }).results[0]!.n).toBeGreaterThan(0);
  });
});
