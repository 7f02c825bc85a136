/**
 * @azure/msal-node, unmodified, against Triage's token service over HTTPS. The only configuration a
 * user changes from an Entra setup is the authority (https://HOST:PORT/{tenant}) and knownAuthorities
 * (so msal skips instance discovery on login.microsoftonline.com).
 */
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { X509Certificate } from "node:crypto";
import { ConfidentialClientApplication, PublicClientApplication, ServerError, type DeviceCodeRequest } from "@azure/msal-node";
import { decodeJwt } from "jose";
import { addCertificate } from "../../src/identity/directory.js";
import { alert } from "../support/alerts.js";
import { GRAPH_SCOPE, clientCertificate, startHttpsTriage, type HttpsTriage } from "../support/https-triage.js";

type DeviceCodeResponse = Parameters<DeviceCodeRequest["deviceCodeCallback"]>[0];

const DELEGATED = ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"];
const USER = "analyst@contoso.example";
const PASSWORD = "correct horse battery staple";

let triage: HttpsTriage;
let incidentId: string;

beforeAll(async () => {
  // Device-code clients poll at the interval the server gives; one second keeps the test short.
  triage = await startHttpsTriage({ identity: { deviceCodeIntervalSeconds: 1 } });
  await triage.addUser(USER, PASSWORD, ["Security Operator"]);
  const seeder = await triage.registerApp();
  const cca = confidential(seeder.clientId, { clientSecret: seeder.secret! });
  const token = (await cca.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] }))!.accessToken;
  incidentId = (await triage.ingest([alert({ title: "Seen through msal", severity: "high" })], token))[0]!.incidentId;
});

afterAll(async () => {
  await triage?.close();
});

function confidential(clientId: string, credential: { clientSecret: string } | { clientCertificate: { thumbprintSha256: string; privateKey: string } }) {
  return new ConfidentialClientApplication({
    auth: { clientId, authority: triage.authority, knownAuthorities: [triage.host], ...credential },
  });
}

function publicClient(clientId: string) {
  return new PublicClientApplication({ auth: { clientId, authority: triage.authority, knownAuthorities: [triage.host] } });
}

/** The incident as the API returns it with this token. */
async function getIncident(token: string) {
  return triage.graph("GET", `/v1.0/security/incidents/${incidentId}`, token);
}

describe("ConfidentialClientApplication: client credentials", () => {
  it("with a client secret: an app-only Graph token the API accepts", async () => {
    const { clientId, secret } = await triage.registerApp({ permissions: ["SecurityIncident.Read.All"] });
    const cca = confidential(clientId, { clientSecret: secret! });
    const result = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });

    expect(result?.tokenType).toBe("Bearer");
    expect(result!.expiresOn!.getTime()).toBeGreaterThan(Date.now() + 30 * 60_000);
    const claims = decodeJwt(result!.accessToken);
    expect(claims).toMatchObject({ tid: triage.tenantId, azp: clientId, aud: "00000003-0000-0000-c000-000000000000", roles: ["SecurityIncident.Read.All"] });
    expect(claims.iss).toBe(`${triage.authority}/v2.0`);

    const got = await getIncident(result!.accessToken);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: incidentId, displayName: "Seen through msal", severity: "high" });
    // Read-only: msal's token carries exactly what was consented.
    expect((await triage.graph("PATCH", `/v1.0/security/incidents/${incidentId}`, result!.accessToken, { status: "active" })).status).toBe(403);

    // A second call is served from msal's cache (expires_in is honoured).
    const again = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
    expect(again?.fromCache).toBe(true);
    expect(again?.accessToken).toBe(result!.accessToken);
  });

  it("with a certificate (a signed client assertion, x5t#S256): a token the API accepts", async () => {
    const { clientId } = await triage.registerApp({ permissions: ["SecurityIncident.ReadWrite.All"] });
    const cert = await clientCertificate();
    await addCertificate(triage.store.db, clientId, cert.certPem);
    const thumbprintSha256 = new X509Certificate(cert.certPem).fingerprint256.replace(/:/g, "");

    const cca = confidential(clientId, { clientCertificate: { thumbprintSha256, privateKey: cert.keyPem } });
    const result = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] });
    expect(decodeJwt(result!.accessToken)).toMatchObject({ azp: clientId, roles: ["SecurityIncident.ReadWrite.All"] });

    const patched = await triage.graph("PATCH", `/v1.0/security/incidents/${incidentId}`, result!.accessToken, { customTags: ["msal-cert"] });
    expect(patched.status).toBe(200);
    expect(patched.body.customTags).toEqual(["msal-cert"]);
  });

  it("a wrong secret surfaces as ServerError invalid_client (AADSTS7000215)", async () => {
    const { clientId } = await triage.registerApp();
    const cca = confidential(clientId, { clientSecret: "abc8Q~not-the-secret-at-all-000000000000" });
    const err = await cca.acquireTokenByClientCredential({ scopes: [GRAPH_SCOPE] }).then(
      () => {
        throw new Error("expected a failure");
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).errorCode).toBe("invalid_client");
    expect((err as ServerError).errorMessage).toContain("AADSTS7000215");
  });
});

describe("PublicClientApplication: delegated tokens for a user", () => {
  it("username/password gives a delegated token and an account; acquireTokenSilent serves it from the cache, then refreshes", async () => {
    const { clientId } = await triage.registerApp({ publicClient: true, delegated: DELEGATED });
    const pca = publicClient(clientId);
    const result = await pca.acquireTokenByUsernamePassword({ scopes: [GRAPH_SCOPE], username: USER, password: PASSWORD });

    expect(result?.account).toMatchObject({ username: USER, tenantId: triage.tenantId });
    // As Entra does, the response's scope names `.default` next to the permissions it stood for; msal
    // files the token under it, which is what lets acquireTokenSilent find it below.
    expect(result?.scopes).toEqual(expect.arrayContaining([GRAPH_SCOPE, ...DELEGATED.map((p) => `https://graph.microsoft.com/${p}`)]));
    expect(result?.idTokenClaims).toMatchObject({ preferred_username: USER, tid: triage.tenantId });
    const claims = decodeJwt(result!.accessToken);
    expect(claims).toMatchObject({ upn: USER, idtyp: "user" });
    expect(String(claims.scp).split(" ").sort()).toEqual([...DELEGATED].sort());

    // The user's token works on the API and changes are attributed to the user.
    const patched = await triage.graph("PATCH", `/v1.0/security/incidents/${incidentId}`, result!.accessToken, { assignedTo: USER, status: "inProgress" });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ assignedTo: USER, status: "inProgress" });
    const audit = await triage.graph("GET", `/triage/incidents/${incidentId}/audit`, result!.accessToken);
    expect(audit.body.value.filter((e: any) => e.property === "status").at(-1)).toMatchObject({ actor: USER, after: "inProgress" });

    const [account] = await pca.getAllAccounts();
    expect(account?.username).toBe(USER);
    const cached = await pca.acquireTokenSilent({ account: account!, scopes: [GRAPH_SCOPE] });
    expect(cached.fromCache).toBe(true);
    expect(cached.accessToken).toBe(result!.accessToken);

    // forceRefresh redeems the refresh token (grant_type=refresh_token) for a new access token.
    const refreshed = await pca.acquireTokenSilent({ account: account!, scopes: [GRAPH_SCOPE], forceRefresh: true });
    expect(refreshed.fromCache).toBe(false);
    expect(refreshed.accessToken).not.toBe(result!.accessToken);
    expect(decodeJwt(refreshed.accessToken)).toMatchObject({ upn: USER, oid: claims.oid });
    expect((await getIncident(refreshed.accessToken)).status).toBe(200);
  });

  it("a wrong password surfaces as ServerError invalid_grant (AADSTS50126)", async () => {
    const { clientId } = await triage.registerApp({ publicClient: true, delegated: DELEGATED });
    const err = await publicClient(clientId)
      .acquireTokenByUsernamePassword({ scopes: [GRAPH_SCOPE], username: USER, password: "wrong" })
      .then(
        () => {
          throw new Error("expected a failure");
        },
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ServerError);
    expect((err as ServerError).errorCode).toBe("invalid_grant");
    expect((err as ServerError).errorMessage).toContain("AADSTS50126");
  });

  it("device code: the user approves the code on /devicelogin and msal's polling gets the token", async () => {
    const { clientId } = await triage.registerApp({ publicClient: true, delegated: ["SecurityIncident.Read.All"] });
    const pca = publicClient(clientId);
    let shown: DeviceCodeResponse | undefined;
    let approval: Promise<Response> | undefined;

    const result = await pca.acquireTokenByDeviceCode({
      scopes: [GRAPH_SCOPE],
      deviceCodeCallback: (response) => {
        shown = response;
        // What the user does in a browser: open the page, enter the code, sign in.
        approval = fetch(response.verificationUri, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ code: response.userCode, username: USER, password: PASSWORD }),
        });
      },
    });

    expect(shown?.verificationUri).toBe(`${triage.url}/devicelogin`);
    expect(shown?.message).toContain(shown!.userCode);
    const page = await approval!;
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("You are signed in");

    expect(result?.account?.username).toBe(USER);
    const claims = decodeJwt(result!.accessToken);
    expect(claims).toMatchObject({ upn: USER, scp: "SecurityIncident.Read.All", azp: clientId });
    expect((await getIncident(result!.accessToken)).body.id).toBe(incidentId);
  });
});
