import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { claims, GRAPH_DEFAULT, parseForm, pkce, postForm, ropc, testUser, type TestUser } from "../support/identity.js";
import { alert } from "../support/alerts.js";
import { ensureWebClient, webClientId } from "../../src/web/client.js";
import { createApp } from "../../src/identity/directory.js";
import { ensureLocalTls } from "../../src/identity/tls.js";

/**
 * The token service and the HTTP edge under abuse, over real HTTP: strangers cannot spend an app's
 * throttling budget, a forged Host cannot redirect a sign-in, logout is not an open redirect, the
 * HTML pages cannot be framed, and credentials never reach the access log.
 */

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}

/** One request with exactly the Host given (fetch would not let a test set it). */
function raw(base: string, method: string, path: string, opts: { host?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Raw> {
  const u = new URL(base);
  const send = u.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        hostname: u.hostname,
        port: u.port,
        method,
        path,
        headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers },
        rejectUnauthorized: false,
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown = text;
          if ((res.headers["content-type"] ?? "").startsWith("application/json") && text) body = JSON.parse(text);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** The token with its signature replaced: the same claims (tid, azp, appid), no longer valid. */
function forged(token: string, i: number): string {
  const [h, p, sig] = token.split(".");
  const bytes = Buffer.from(sig!, "base64url");
  bytes[i % bytes.length] = bytes[i % bytes.length]! ^ 0xff;
  return `${h}.${p}.${bytes.toString("base64url")}`;
}

describe("throttling: only verified callers spend an app's budget", () => {
  let t: TestTriage;
  const MAX = 5;
  const ADDRESS_MAX = 10;
  beforeAll(async () => {
    t = await startTriage({ rateLimit: { max: MAX, windowMs: 60_000, addressMax: ADDRESS_MAX } });
  });
  afterAll(async () => t?.close());

  it("25 forged tokens with the victim's tid/azp leave its budget whole; the stranger's address runs out instead", async () => {
    const victim = await t.tokenFor(t.tenantId);
    const { tid, azp } = claims(victim);
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const bad = forged(victim, i);
      expect(claims(bad)).toMatchObject({ tid, azp });
      statuses.push((await t.get("/v1.0/security/incidents?$top=1", { authorization: `Bearer ${bad}` })).status);
    }
    // Refused tokens count against the source address (its budget also paid for the token request).
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    expect(statuses.slice(-5)).toEqual([429, 429, 429, 429, 429]);

    // The victim, from the same address, still has its whole budget: MAX requests, then 429.
    for (let i = 0; i < MAX; i++) {
      const r = await t.get("/v1.0/security/incidents?$top=1");
      expect(r.status, `valid request ${i + 1}: ${r.text}`).toBe(200);
    }
    const over = await t.get("/v1.0/security/incidents?$top=1");
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe("TooManyRequests");
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("the origin is configured, not taken from Host", () => {
  let t: TestTriage;
  let user: TestUser;
  let port: string;
  beforeAll(async () => {
    t = await startTriage();
    await ensureWebClient(t.store.db, t.tenantId);
    user = await testUser(t, t.tenantId, ["Security Operator"]);
    port = new URL(t.url).port;
  });
  afterAll(async () => t?.close());

  function authorizeQuery(redirectUri: string, challenge: string): string {
    return new URLSearchParams({
      client_id: webClientId(t.tenantId),
      response_type: "code",
      redirect_uri: redirectUri,
      scope: `${GRAPH_DEFAULT} openid offline_access`,
      state: "s1",
      code_challenge: challenge,
      code_challenge_method: "S256",
    }).toString();
  }

  function expectMisdirected(r: Raw): void {
    expect(r.status, r.text).toBe(421);
    expect(r.body.error.code).toBe("MisdirectedRequest");
    expect(r.body.error.innerError["request-id"]).toBeTruthy();
    expect(r.headers.location).toBeUndefined();
  }

  it("discovery, authorize (GET and POST) and token refuse Host: evil.example, and nothing redirects there", async () => {
    const { challenge } = pkce();
    const evilCallback = "https://evil.example/signin-callback";
    for (const host of ["evil.example", `evil.example:${port}`, `127.0.0.1:${Number(port) + 1}`]) {
      expectMisdirected(await raw(t.url, "GET", `/${t.tenantId}/v2.0/.well-known/openid-configuration`, { host }));
      expectMisdirected(await raw(t.url, "GET", `/${t.tenantId}/oauth2/v2.0/authorize?${authorizeQuery(evilCallback, challenge)}`, { host }));
      const signIn = new URLSearchParams({
        ...Object.fromEntries(new URLSearchParams(authorizeQuery(evilCallback, challenge))),
        username: user.upn,
        password: user.password,
      });
      expectMisdirected(
        await raw(t.url, "POST", `/${t.tenantId}/oauth2/v2.0/authorize`, {
          host,
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: signIn.toString(),
        }),
      );
      expectMisdirected(
        await raw(t.url, "POST", `/${t.tenantId}/oauth2/v2.0/token`, {
          host,
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ grant_type: "authorization_code", client_id: webClientId(t.tenantId), code: "x", redirect_uri: evilCallback }).toString(),
        }),
      );
      // A Graph call with a valid token, and $batch, are refused on that Host too.
      const auth = { authorization: `Bearer ${await t.tokenFor(t.tenantId)}` };
      expectMisdirected(await raw(t.url, "GET", "/v1.0/security/incidents", { host, headers: auth }));
    }
  });

  it("the server's own names work: 127.0.0.1, localhost and [::1] on its port; issuer and links follow them", async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      const r = await raw(t.url, "GET", `/${t.tenantId}/v2.0/.well-known/openid-configuration`, { host });
      expect(r.status, `${host}: ${r.text}`).toBe(200);
      expect(r.body.issuer).toBe(`http://${host.toLowerCase()}/${t.tenantId}/v2.0`);
    }
    // The whole sign-in through the real origin still works (the code goes to Triage's own callback).
    const { challenge } = pkce();
    const good = `${t.url}/signin-callback`;
    const page = await raw(t.url, "GET", `/${t.tenantId}/oauth2/v2.0/authorize?${authorizeQuery(good, challenge)}`);
    expect(page.status, page.text).toBe(200);
    const form = parseForm(page.text);
    const signedIn = await postForm(new URL(form.action, t.url).toString(), { ...form.fields, username: user.upn, password: user.password });
    expect(signedIn.status, signedIn.text).toBe(302);
    expect(signedIn.headers.get("location")!.startsWith(`${good}?code=`)).toBe(true);
  });

  it("$batch: refused on a forged Host; steps build links on the client's checked Host, whatever Host a step names", async () => {
    expect((await t.ingest([alert()])).status).toBe(200);
    const auth = { authorization: `Bearer ${await t.tokenFor(t.tenantId)}`, "content-type": "application/json" };
    const batch = JSON.stringify({ requests: [{ id: "1", method: "GET", url: "/security/incidents?$top=1" }] });
    expectMisdirected(await raw(t.url, "POST", "/v1.0/$batch", { host: "evil.example", headers: auth, body: batch }));
    const r = await t.request("POST", "/v1.0/$batch", {
      body: { requests: [{ id: "1", method: "GET", url: "/security/incidents?$top=1", headers: { host: "evil.example" } }] },
    });
    expect(r.status, r.text).toBe(200);
    const step = r.body.responses[0];
    expect(step.status, JSON.stringify(step)).toBe(200);
    expect(JSON.stringify(step.body)).not.toContain("evil.example");
    expect(step.body["@odata.context"].startsWith(`${t.url}/v1.0/`)).toBe(true);
  });

  it("an operator's --allowed-host is accepted; a public URL is the origin whatever Host names the server", async () => {
    const named = await startTriage({ allowedHosts: ["triage.example"] });
    try {
      const p = new URL(named.url).port;
      for (const host of [`triage.example:${p}`, "triage.example"]) {
        const r = await raw(named.url, "GET", `/${named.tenantId}/v2.0/.well-known/openid-configuration`, { host });
        expect(r.status, host).toBe(200);
        expect(r.body.issuer).toBe(`http://${host}/${named.tenantId}/v2.0`);
      }
      expectMisdirected(await raw(named.url, "GET", `/${named.tenantId}/v2.0/.well-known/openid-configuration`, { host: "triage.example:1" }));
    } finally {
      await named.close();
    }
    const proxied = await startTriage({ publicUrl: "https://triage.public.example" });
    try {
      for (const host of ["triage.public.example", new URL(proxied.url).host]) {
        const r = await raw(proxied.url, "GET", `/${proxied.tenantId}/v2.0/.well-known/openid-configuration`, { host });
        expect(r.status, host).toBe(200);
        expect(r.body.issuer).toBe(`https://triage.public.example/${proxied.tenantId}/v2.0`);
      }
      expectMisdirected(await raw(proxied.url, "GET", `/${proxied.tenantId}/v2.0/.well-known/openid-configuration`, { host: "evil.example" }));
    } finally {
      await proxied.close();
    }
  });
});

describe("logout is not an open redirect", () => {
  let t: TestTriage;
  beforeAll(async () => {
    t = await startTriage();
    await ensureWebClient(t.store.db, t.tenantId);
  });
  afterAll(async () => t?.close());

  const logout = (tenant: string, q: Record<string, string>) => raw(t.url, "GET", `/${tenant}/oauth2/v2.0/logout?${new URLSearchParams(q).toString()}`);

  function expectSignedOutPage(r: Raw): void {
    expect(r.status, r.text).toBe(200);
    expect(r.headers.location).toBeUndefined();
    expect(r.text).toContain("You have signed out.");
  }

  it("refuses URIs not registered for the client, unknown clients, other tenants' clients and forged hints", async () => {
    const registered = await createApp(t.store.db, { tenantId: t.tenantId, displayName: "registered", redirectUris: ["https://app.example/signed-out"] });
    const other = await t.newTenant();
    const foreign = await createApp(t.store.db, { tenantId: other, displayName: "foreign", redirectUris: ["https://evil.example/"] });
    const evil = "https://evil.example/";
    expectSignedOutPage(await logout(t.tenantId, { post_logout_redirect_uri: evil }));
    expectSignedOutPage(await logout(t.tenantId, { post_logout_redirect_uri: evil, client_id: registered.clientId }));
    expectSignedOutPage(await logout(t.tenantId, { post_logout_redirect_uri: evil, client_id: foreign.clientId }));
    expectSignedOutPage(await logout(t.tenantId, { post_logout_redirect_uri: evil, client_id: webClientId(t.tenantId) }));
    expectSignedOutPage(await logout(t.tenantId, { post_logout_redirect_uri: "https://app.example/signed-out" }));
    expectSignedOutPage(await logout(other, { post_logout_redirect_uri: "https://app.example/signed-out", client_id: registered.clientId }));
    // The registered URI, for its client: redirected, with state.
    const ok = await logout(t.tenantId, { post_logout_redirect_uri: "https://app.example/signed-out", client_id: registered.clientId, state: "st" });
    expect(ok.status).toBe(302);
    expect(ok.headers.location).toBe("https://app.example/signed-out?state=st");
  });

  it("id_token_hint names the client only when this service signed it; the web app returns to its own origin", async () => {
    const user = await testUser(t, t.tenantId, ["Security Reader"]);
    const web = webClientId(t.tenantId);
    const r = await ropc(t, t.tenantId, web, user, `${GRAPH_DEFAULT} openid profile`);
    expect(r.status, r.text).toBe(200);
    const hint = r.body.id_token as string;
    const home = `${t.url}/`;
    const good = await logout(t.tenantId, { post_logout_redirect_uri: home, id_token_hint: hint });
    expect(good.status, good.text).toBe(302);
    expect(good.headers.location).toBe(home);
    expect((await logout(t.tenantId, { post_logout_redirect_uri: home, client_id: web })).headers.location).toBe(home);
    expectSignedOutPage(await logout(t.tenantId, { post_logout_redirect_uri: home, id_token_hint: forged(hint, 3) }));
    expectSignedOutPage(await logout(t.tenantId, { post_logout_redirect_uri: "http://evil.example/", id_token_hint: hint }));
    expectSignedOutPage(
      await logout(t.tenantId, {
        post_logout_redirect_uri: `http://localhost:${new URL(t.url).port}/`,
        id_token_hint: hint,
        client_id: "00000000-0000-0000-0000-000000000001",
      }),
    );
  });
});

describe("headers", () => {
  let t: TestTriage;
  beforeAll(async () => {
    t = await startTriage();
    await ensureWebClient(t.store.db, t.tenantId);
  });
  afterAll(async () => t?.close());

  function expectNoFraming(r: Raw, what: string): void {
    const csp = String(r.headers["content-security-policy"] ?? "");
    expect(csp, what).toContain("frame-ancestors 'none'");
    expect(csp, what).toContain("default-src 'none'");
    expect(csp, what).not.toContain("unsafe-inline");
    expect(r.headers["x-frame-options"], what).toBe("DENY");
    expect(r.headers["x-content-type-options"], what).toBe("nosniff");
  }

  it("sign-in, device-login and signed-out pages: strict CSP, no framing, nosniff; the sign-in form may post only to Triage and the client", async () => {
    const { challenge } = pkce();
    const q = new URLSearchParams({
      client_id: webClientId(t.tenantId),
      response_type: "code",
      redirect_uri: `${t.url}/signin-callback`,
      scope: GRAPH_DEFAULT,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const signIn = await raw(t.url, "GET", `/${t.tenantId}/oauth2/v2.0/authorize?${q.toString()}`);
    expect(signIn.status, signIn.text).toBe(200);
    expectNoFraming(signIn, "sign-in");
    expect(signIn.headers["content-security-policy"]).toContain(`form-action 'self' ${t.url}`);
    // The page's own style is the one the policy allows (by hash): the page keeps its looks.
    const style = /<style>([\s\S]*?)<\/style>/.exec(signIn.text)![1]!;
    expect(signIn.headers["content-security-policy"]).toContain(`style-src 'sha256-${createHash("sha256").update(style).digest("base64")}'`);
    const bad = await raw(t.url, "GET", `/${t.tenantId}/oauth2/v2.0/authorize?client_id=nope`);
    expect(bad.status).toBe(400);
    expectNoFraming(bad, "sign-in error");
    const device = await raw(t.url, "GET", "/devicelogin");
    expect(device.status).toBe(200);
    expectNoFraming(device, "device login");
    const posted = await raw(t.url, "POST", "/devicelogin", {
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "code=XXXX&username=a&password=b",
    });
    expectNoFraming(posted, "device login answer");
    expectNoFraming(await raw(t.url, "GET", `/${t.tenantId}/oauth2/v2.0/logout`), "signed out");

    // response_mode=form_post: the one script allowed is the page's own auto-submit, the form posts only to the client.
    const user = await testUser(t, t.tenantId, ["Security Reader"]);
    q.set("response_mode", "form_post");
    const body = new URLSearchParams({ ...Object.fromEntries(q), username: user.upn, password: user.password }).toString();
    const post = await raw(t.url, "POST", `/${t.tenantId}/oauth2/v2.0/authorize`, { headers: { "content-type": "application/x-www-form-urlencoded" }, body });
    expect(post.status, post.text).toBe(200);
    expectNoFraming(post, "form_post");
    const script = /<script>([\s\S]*?)<\/script>/.exec(post.text)![1]!;
    expect(post.headers["content-security-policy"]).toContain(`script-src 'sha256-${createHash("sha256").update(script).digest("base64")}'`);
    expect(post.headers["content-security-policy"]).toContain(`form-action ${t.url};`);
    expect(post.text).not.toContain("onload=");
  });

  it("the web app's page cannot be framed either; every response is nosniff; no HSTS on plain HTTP", async () => {
    const index = await raw(t.url, "GET", "/");
    expect(index.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(index.headers["x-frame-options"]).toBe("DENY");
    for (const path of ["/", "/healthz", "/v1.0/security/incidents", "/nowhere", `/${t.tenantId}/discovery/v2.0/keys`]) {
      const r = await raw(t.url, "GET", path);
      expect(r.headers["x-content-type-options"], path).toBe("nosniff");
      expect(r.headers["strict-transport-security"], path).toBeUndefined();
    }
    expect((await raw(t.url, "GET", "/healthz", { host: "evil.example" })).headers["x-content-type-options"]).toBe("nosniff");
  });

  it("HTTPS responses carry Strict-Transport-Security (not to an IP address or localhost)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "triage-hsts-"));
    try {
      const tls = await ensureLocalTls(dir, ["triage.test"]);
      const s = await startTriage({ tls: { key: tls.key, cert: tls.ca }, allowedHosts: ["triage.test"] });
      try {
        const base = s.url.replace("http://", "https://");
        const port = new URL(base).port;
        for (const path of ["/healthz", `/${s.tenantId}/v2.0/.well-known/openid-configuration`, "/devicelogin", "/nowhere"]) {
          const r = await raw(base, "GET", path, { host: `triage.test:${port}` });
          expect(r.headers["strict-transport-security"], path).toBe("max-age=31536000");
        }
        expect((await raw(base, "GET", "/healthz", { host: `localhost:${port}` })).headers["strict-transport-security"]).toBeUndefined();
        expect((await raw(base, "GET", "/healthz")).headers["strict-transport-security"]).toBeUndefined();
        // The answer kept for the last origin follows the Host back.
        expect((await raw(base, "GET", "/healthz", { host: `triage.test:${port}` })).headers["strict-transport-security"]).toBe("max-age=31536000");
      } finally {
        await s.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the access log carries no credential", () => {
  it("authorization codes, device codes, secrets and passwords in URLs are redacted in a real server's log", async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
        done();
      },
    });
    const t = await startTriage({ logger: { level: "info", stream } });
    try {
      await ensureWebClient(t.store.db, t.tenantId);
      const user = await testUser(t, t.tenantId, ["Security Reader"]);
      const { challenge } = pkce();
      const q = new URLSearchParams({
        client_id: webClientId(t.tenantId),
        response_type: "code",
        redirect_uri: `${t.url}/signin-callback`,
        scope: GRAPH_DEFAULT,
        state: "st",
        code_challenge: challenge,
        code_challenge_method: "S256",
      });
      const page = await raw(t.url, "GET", `/${t.tenantId}/oauth2/v2.0/authorize?${q.toString()}`);
      const form = parseForm(page.text);
      const signedIn = await postForm(new URL(form.action, t.url).toString(), { ...form.fields, username: user.upn, password: user.password });
      const callback = new URL(signedIn.headers.get("location")!);
      const code = callback.searchParams.get("code")!;
      expect(code.length).toBeGreaterThan(20);
      // The browser comes back with the code; a careless client puts secrets in a query too.
      await raw(t.url, "GET", callback.pathname + callback.search);
      await raw(t.url, "GET", "/devicelogin?code=BCDFGHJKL");
      await raw(t.url, "POST", `/${t.tenantId}/oauth2/v2.0/token?client_secret=s3cr3t-in-query&password=pw-in-query&refresh_token=rt-in-query`, {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `grant_type=password&username=${encodeURIComponent(user.upn)}&password=${encodeURIComponent(user.password)}`,
      });
      const text = lines.join("\n");
      expect(text).toContain("/signin-callback?code=[REDACTED]&state=");
      expect(text).toContain("/devicelogin?code=[REDACTED]");
      expect(text).toContain("client_secret=[REDACTED]&password=[REDACTED]&refresh_token=[REDACTED]");
      for (const secret of [code, "BCDFGHJKL", "s3cr3t-in-query", "pw-in-query", "rt-in-query", user.password]) expect(text).not.toContain(secret);
    } finally {
      await t.close();
    }
  });
});
