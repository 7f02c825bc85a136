import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { appToken, confidentialClient, expectEntraError, getPage, GRAPH_DEFAULT, token } from "../support/identity.js";

/**
 * What the Azure CLI reads from Triage besides the token endpoint (docs/azure-cli.md), over real HTTP:
 * the discovery document under its `/adfs/tenants/{tenant}` authority, and the empty subscription list
 * at the resource manager endpoint `/arm/`. The CLI itself runs in test/readme-automation.test.ts.
 */

let t: TestTriage;
beforeAll(async () => {
  t = await startTriage();
}, 60_000);
afterAll(async () => {
  await t?.close();
});

describe("the Azure CLI's authority: /adfs/tenants/{tenant}", () => {
  it("serves the tenant's discovery document, whose token endpoint issues the tenant's tokens (any casing of the tenant)", async () => {
    const r = await getPage(`${t.url}/adfs/tenants/${t.tenantId.toUpperCase()}/.well-known/openid-configuration`);
    expect(r.status, r.text).toBe(200);
    const plain = await getPage(`${t.url}/${t.tenantId}/v2.0/.well-known/openid-configuration`);
    expect(r.body).toEqual(plain.body);
    expect(r.body.token_endpoint).toBe(`${t.url}/${t.tenantId}/oauth2/v2.0/token`);
    expect(r.body.issuer).toBe(`${t.url}/${t.tenantId}/v2.0`);
  });

  it("refuses an unknown tenant and anything that is not a tenant id, as the other discovery routes do", async () => {
    for (const tenant of [randomUUID(), "common", "adfs", "contoso.onmicrosoft.com"]) {
      const r = await getPage(`${t.url}/adfs/tenants/${tenant}/.well-known/openid-configuration`);
      expectEntraError(r, "invalid_request", 90002, 400);
    }
  });

  it("serves `organizations` (what `az logout` reads), whose endpoints issue nothing", async () => {
    const r = await getPage(`${t.url}/adfs/tenants/organizations/.well-known/openid-configuration`);
    expect(r.status, r.text).toBe(200);
    expect(r.body.token_endpoint).toBe(`${t.url}/organizations/oauth2/v2.0/token`);
    expect(r.body.issuer).toBe(`${t.url}/{tenantid}/v2.0`);
    const { app, secret } = await confidentialClient(t, t.tenantId, { application: ["SecurityIncident.Read.All"] });
    const refused = await token(t, "organizations", { grant_type: "client_credentials", client_id: app.clientId, client_secret: secret, scope: GRAPH_DEFAULT });
    expectEntraError(refused, "invalid_request", 90002, 400);
    expect((await getPage(`${t.url}/organizations/discovery/v2.0/keys`)).status).toBe(400);
  });
});

describe("the resource manager endpoint: GET /arm/subscriptions", () => {
  const path = "/arm/subscriptions?api-version=2019-11-01";

  it("answers an empty list to a token of the tenant, as `az login --allow-no-subscriptions` reads it", async () => {
    const tok = await appToken(t, t.tenantId, ["ThreatHunting.Read.All"]);
    const r = await t.get(path, { authorization: `Bearer ${tok}` });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ value: [] });
  });

  it("is 401 without a valid token and 403 for a token whose permissions grant nothing of Triage", async () => {
    const none = await t.get(path, { authorization: "" });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer /);
    expect((await t.get(path, { authorization: "Bearer not-a-jwt" })).status).toBe(401);
    const legacy = await t.get(path, { authorization: `Bearer ${await appToken(t, t.tenantId, ["SecurityEvents.Read.All"])}` });
    expect(legacy.status, legacy.text).toBe(403);
    expect(legacy.body.error.code).toBe("Forbidden");
  });

  it("needs exactly one api-version, a date (optionally -preview)", async () => {
    const auth = await t.auth(t.tenantId);
    expect((await t.get("/arm/subscriptions?api-version=2022-12-01-preview", auth)).status).toBe(200);
    const missing = await t.get("/arm/subscriptions", auth);
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe("MissingApiVersionParameter");
    for (const q of ["api-version=latest", "api-version=2019-11-01&api-version=2020-01-01", "api-version="]) {
      const r = await t.get(`/arm/subscriptions?${q}`, auth);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code, q).toBe("InvalidApiVersionParameter");
    }
  });
});
