/**
 * @azure/identity credentials, unmodified, against Triage's token service over HTTPS. The configuration
 * a user changes from an Entra setup: `authorityHost` (Triage's origin) and `disableInstanceDiscovery`
 * (which makes msal trust that host instead of asking login.microsoftonline.com).
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import {
  AuthenticationRequiredError,
  ClientCertificateCredential,
  ClientSecretCredential,
  CredentialUnavailableError,
  DeviceCodeCredential,
  UsernamePasswordCredential,
  type DeviceCodeInfo,
} from "@azure/identity";
import { decodeJwt } from "jose";
import { addCertificate } from "../../src/identity/directory.js";
import { alert } from "../support/alerts.js";
import { GRAPH_SCOPE, clientCertificate, startHttpsTriage, type HttpsTriage } from "../support/https-triage.js";

const USER = "responder@contoso.example";
const PASSWORD = "s3cret passphrase";

let triage: HttpsTriage;
let options: { authorityHost: string; disableInstanceDiscovery: true };
let incidentId: string;

beforeAll(async () => {
  triage = await startHttpsTriage({ identity: { deviceCodeIntervalSeconds: 1 } });
  options = { authorityHost: triage.url, disableInstanceDiscovery: true };
  await triage.addUser(USER, PASSWORD, ["Security Reader"]);
  const seeder = await triage.registerApp();
  const token = await new ClientSecretCredential(triage.tenantId, seeder.clientId, seeder.secret!, options).getToken(GRAPH_SCOPE);
  incidentId = (await triage.ingest([alert({ title: "Seen through azure-identity" })], token.token))[0]!.incidentId;
});

afterAll(async () => {
  await triage?.close();
});

describe("ClientSecretCredential", () => {
  it("getToken(.default) returns an app-only token the API accepts, then serves it from its cache", async () => {
    const { clientId, secret } = await triage.registerApp({ permissions: ["SecurityIncident.Read.All", "SecurityAlert.Read.All"] });
    const credential = new ClientSecretCredential(triage.tenantId, clientId, secret!, options);
    const token = await credential.getToken(GRAPH_SCOPE);

    expect(token.tokenType).toBe("Bearer");
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now() + 30 * 60_000);
    expect(decodeJwt(token.token)).toMatchObject({ tid: triage.tenantId, azp: clientId, idtyp: "app" });
    expect((decodeJwt(token.token).roles as string[]).sort()).toEqual(["SecurityAlert.Read.All", "SecurityIncident.Read.All"]);

    const got = await triage.graph("GET", `/v1.0/security/incidents/${incidentId}`, token.token);
    expect(got.status).toBe(200);
    expect(got.body.displayName).toBe("Seen through azure-identity");
    expect((await credential.getToken(GRAPH_SCOPE)).token).toBe(token.token);
  });

  it("a wrong secret: identity wraps msal's invalid_client (AADSTS7000215) as it does for Entra", async () => {
    const { clientId } = await triage.registerApp();
    const credential = new ClientSecretCredential(triage.tenantId, clientId, "xyz8Q~definitely-not-the-secret-0000000000", options);
    const err = await credential.getToken(GRAPH_SCOPE).then(
      () => {
        throw new Error("expected a failure");
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthenticationRequiredError);
    expect((err as Error).message).toMatch(/^invalid_client: .*AADSTS7000215/);
  });

  it("an unknown tenant fails discovery at once (CredentialUnavailableError), without retries", async () => {
    const { clientId, secret } = await triage.registerApp();
    const credential = new ClientSecretCredential("00000000-0000-0000-0000-000000000000", clientId, secret!, options);
    const started = Date.now();
    const err = await credential.getToken(GRAPH_SCOPE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialUnavailableError);
    expect((err as Error).message).toContain("endpoints_resolution_error");
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("ClientCertificateCredential", () => {
  it("signs a client assertion with the PEM certificate and key; the token works on the API", async () => {
    const { clientId } = await triage.registerApp({ permissions: ["SecurityAlert.ReadWrite.All"] });
    const cert = await clientCertificate();
    await addCertificate(triage.store.db, clientId, cert.certPem);
    const credential = new ClientCertificateCredential(triage.tenantId, clientId, { certificate: `${cert.keyPem}\n${cert.certPem}` }, options);
    const token = await credential.getToken(GRAPH_SCOPE);
    expect(decodeJwt(token.token)).toMatchObject({ azp: clientId, roles: ["SecurityAlert.ReadWrite.All"] });
    const alerts = await triage.graph("GET", "/v1.0/security/alerts_v2", token.token);
    expect(alerts.status).toBe(200);
    expect(alerts.body.value[0].title).toBe("Seen through azure-identity");
  });
});

describe("delegated credentials", () => {
  it("UsernamePasswordCredential: a user's token; the next getToken comes from msal's cache", async () => {
    const { clientId } = await triage.registerApp({ publicClient: true, delegated: ["SecurityIncident.Read.All"] });
    const credential = new UsernamePasswordCredential(triage.tenantId, clientId, USER, PASSWORD, options);
    const first = await credential.getToken(GRAPH_SCOPE);
    expect(decodeJwt(first.token)).toMatchObject({ upn: USER, scp: "SecurityIncident.Read.All" });
    expect((await triage.graph("GET", `/v1.0/security/incidents/${incidentId}`, first.token)).status).toBe(200);
    // A Security Reader cannot change incidents, whatever the app may do.
    expect((await triage.graph("PATCH", `/v1.0/security/incidents/${incidentId}`, first.token, { status: "active" })).status).toBe(403);

    const second = await credential.getToken(GRAPH_SCOPE);
    expect(second.token).toBe(first.token);
  });

  it("DeviceCodeCredential: the prompt names Triage's /devicelogin; after the user signs in there, getToken resolves", async () => {
    const { clientId } = await triage.registerApp({ publicClient: true, delegated: ["SecurityIncident.Read.All"] });
    let prompt: DeviceCodeInfo | undefined;
    let approval: Promise<Response> | undefined;
    const credential = new DeviceCodeCredential({
      tenantId: triage.tenantId,
      clientId,
      ...options,
      userPromptCallback: (info) => {
        prompt = info;
        approval = fetch(info.verificationUri, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ code: info.userCode, username: USER, password: PASSWORD }),
        });
      },
    });
    const token = await credential.getToken(GRAPH_SCOPE);
    expect(prompt?.verificationUri).toBe(`${triage.url}/devicelogin`);
    expect((await approval!).status).toBe(200);
    expect(decodeJwt(token.token)).toMatchObject({ upn: USER, azp: clientId });
    expect((await triage.graph("GET", "/v1.0/security/incidents", token.token)).body.value).toHaveLength(1);
  });
});
