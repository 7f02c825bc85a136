import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importPKCS8, SignJWT } from "jose";
import type { FastifyInstance } from "fastify";
import { buildServer, type IdentityConfig } from "../../src/server.js";
import { addCertificate, createApp, grantAdminConsent } from "../../src/identity/directory.js";
import { scryptRuns } from "../../src/identity/hash.js";
import { KeyRing } from "../../src/identity/keys.js";
import { KeyEncryption } from "../../src/identity/key-encryption.js";
import { purgeExpired } from "../../src/identity/housekeeping.js";
import { ensureLocalTls } from "../../src/identity/tls.js";
import { startTriage, type TestTriage } from "../support/triage.js";
import { startServerProcess } from "../support/process.js";
import { DEMO_TENANT } from "../../src/seed/demo-tenant.js";
import { TEST_STORE } from "../support/stores.js";
import { confidentialClient, expectEntraError, GRAPH_DEFAULT, postForm, publicClient, ropc, testUser, token, type HttpResult } from "../support/identity.js";

/**
 * Credentials under attack: guessing (lockout per account and per source, held in the store), timing
 * oracles (the same scrypt work whoever is named), floods of guesses (a bounded hashing pool),
 * replayed client assertions across nodes, purging of expired credential state, and the signing key
 * at rest (sealed, in owner-only files).
 */

const READ = ["SecurityIncident.Read.All", "SecurityAlert.Read.All"];

/** Another node: a second server on the same store, with its own memory. */
async function secondNode(t: TestTriage, identity: IdentityConfig = {}, publicUrl?: string): Promise<{ app: FastifyInstance; url: string }> {
  const app = await buildServer({ store: t.store, keyEncryption: t.keyEncryption, identity, publicUrl });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const addr = app.server.address();
  return { app, url: `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}` };
}

function secretForm(clientId: string, secret: string): Record<string, string> {
  return { grant_type: "client_credentials", client_id: clientId, client_secret: secret, scope: GRAPH_DEFAULT };
}

function wrongSecret(): string {
  return `${randomBytes(30).toString("base64url").slice(0, 40)}`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

describe("lockout (defaults)", () => {
  let t: TestTriage;
  beforeAll(async () => {
    t = await startTriage();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("ten wrong client secrets lock the app's secret sign-in: the right secret is then refused with AADSTS50053 and Retry-After, on every node", async () => {
    const { app, secret } = await confidentialClient(t, t.tenantId, { application: READ });
    for (let i = 0; i < 10; i++) expectEntraError(await token(t, t.tenantId, secretForm(app.clientId, wrongSecret())), "invalid_client", 7000215, 401);
    const locked = await token(t, t.tenantId, secretForm(app.clientId, secret));
    expectEntraError(locked, "invalid_client", 50053, 401);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(50);
    expect(Number(locked.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    // The lock is in the store: a node that saw none of the guesses refuses too.
    const other = await secondNode(t);
    try {
      const r = await postForm(`${other.url}/${t.tenantId}/oauth2/v2.0/token`, secretForm(app.clientId, secret));
      expectEntraError(r, "invalid_client", 50053, 401);
    } finally {
      await other.app.close();
    }
    // Another app of the tenant is not affected.
    const { app: app2, secret: secret2 } = await confidentialClient(t, t.tenantId, { application: READ });
    expect((await token(t, t.tenantId, secretForm(app2.clientId, secret2))).status).toBe(200);
  });

  it("ten wrong passwords lock the user: the right password is then refused with AADSTS50053", async () => {
    const client = (await publicClient(t, t.tenantId, { delegated: READ })).clientId;
    const user = await testUser(t, t.tenantId);
    for (let i = 0; i < 10; i++)
      expectEntraError(await ropc(t, t.tenantId, client, { upn: user.upn, password: `wrong-${i}` }, GRAPH_DEFAULT), "invalid_grant", 50126, 400);
    const r = await ropc(t, t.tenantId, client, user, GRAPH_DEFAULT);
    expectEntraError(r, "invalid_grant", 50053, 400);
    expect(r.headers.get("retry-after")).toMatch(/^\d+$/);
  });
});

describe("lockout (short settings): it ends, grows, treats unknown users alike, and counts per source", () => {
  let t: TestTriage;
  let client: string;
  beforeAll(async () => {
    t = await startTriage({ identity: { lockout: { threshold: 3, lockoutSeconds: 1, sourceThreshold: 1000 } } });
    client = (await publicClient(t, t.tenantId, { delegated: READ })).clientId;
  });
  afterAll(async () => {
    await t?.close();
  });

  const guess = (upn: string, password = "wrong") => ropc(t, t.tenantId, client, { upn, password }, GRAPH_DEFAULT);

  it("a lock lasts lockoutSeconds, the next in the same run twice as long; the right password works once it ends", async () => {
    const user = await testUser(t, t.tenantId);
    for (let i = 0; i < 3; i++) expectEntraError(await guess(user.upn), "invalid_grant", 50126);
    const first = await ropc(t, t.tenantId, client, user, GRAPH_DEFAULT);
    expectEntraError(first, "invalid_grant", 50053);
    expect(first.headers.get("retry-after")).toBe("1");
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 0; i < 3; i++) expectEntraError(await guess(user.upn), "invalid_grant", 50126);
    const second = await guess(user.upn);
    expectEntraError(second, "invalid_grant", 50053);
    expect(second.headers.get("retry-after")).toBe("2");
    await new Promise((r) => setTimeout(r, 2100));
    expect((await ropc(t, t.tenantId, client, user, GRAPH_DEFAULT)).status).toBe(200);
  });

  it("an unknown user is answered exactly as a known one: the same errors, locked after the same number of guesses", async () => {
    const known = await testUser(t, t.tenantId);
    const unknown = `nobody-${randomUUID().slice(0, 8)}@contoso.test`;
    for (const upn of [known.upn, unknown]) {
      const seen: number[] = [];
      for (let i = 0; i < 4; i++) seen.push(((await guess(upn)).body.error_codes as number[])[0]!);
      expect(seen, upn).toEqual([50126, 50126, 50126, 50053]);
    }
  });

  it("the sign-in pages share the lock: a locked user cannot approve a device code on /devicelogin, even with the right password", async () => {
    const user = await testUser(t, t.tenantId);
    for (let i = 0; i < 3; i++) expectEntraError(await guess(user.upn), "invalid_grant", 50126);
    const dc = await postForm(`${t.url}/${t.tenantId}/oauth2/v2.0/devicecode`, { client_id: client, scope: GRAPH_DEFAULT });
    expect(dc.status, dc.text).toBe(200);
    const page = await postForm(`${t.url}/devicelogin`, { code: dc.body.user_code as string, username: user.upn, password: user.password });
    expect(page.status).toBe(400);
    expect(page.text).toMatch(/temporarily locked/);
    const poll = await token(t, t.tenantId, {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      client_id: client,
      device_code: dc.body.device_code as string,
    });
    expectEntraError(poll, "authorization_pending", undefined, 400);
  });

  it("failures from one source address across many accounts lock the address (password spraying)", async () => {
    const spray = await startTriage({ identity: { lockout: { threshold: 10, sourceThreshold: 5 } } });
    try {
      const c = (await publicClient(spray, spray.tenantId, { delegated: READ })).clientId;
      const user = await testUser(spray, spray.tenantId);
      for (let i = 0; i < 5; i++) {
        expectEntraError(
          await ropc(spray, spray.tenantId, c, { upn: `spray-${i}@contoso.test`, password: "Winter2026!" }, GRAPH_DEFAULT),
          "invalid_grant",
          50126,
        );
      }
      // A sixth account, even with its right password, is refused from this address.
      expectEntraError(await ropc(spray, spray.tenantId, c, user, GRAPH_DEFAULT), "invalid_grant", 50053);
    } finally {
      await spray.close();
    }
  });
});

describe("no timing oracle", () => {
  let t: TestTriage;
  beforeAll(async () => {
    t = await startTriage();
  });
  afterAll(async () => {
    await t?.close();
  });

  /** scrypt computations a request started (the server runs in this process). */
  async function scryptsOf(request: () => Promise<HttpResult>): Promise<number> {
    const before = scryptRuns();
    await request();
    return scryptRuns() - before;
  }

  it("an unknown user costs the same one scrypt as a known one; a wrong secret hint the same as a right one", async () => {
    const client = (await publicClient(t, t.tenantId, { delegated: READ })).clientId;
    const user = await testUser(t, t.tenantId);
    const { app, secret } = await confidentialClient(t, t.tenantId, { application: READ });
    await ropc(t, t.tenantId, client, { upn: "warm-up@contoso.test", password: "x" }, GRAPH_DEFAULT);

    expect(await scryptsOf(() => ropc(t, t.tenantId, client, { upn: `nobody-${randomUUID()}@contoso.test`, password: "x" }, GRAPH_DEFAULT))).toBe(1);
    expect(await scryptsOf(() => ropc(t, t.tenantId, client, { upn: user.upn, password: "wrong" }, GRAPH_DEFAULT))).toBe(1);
    expect(await scryptsOf(() => ropc(t, t.tenantId, client, user, GRAPH_DEFAULT))).toBe(1);

    const wrongHint = `${secret[0] === "q" ? "r" : "q"}${secret.slice(1)}`;
    const rightHint = `${secret.slice(0, 3)}${wrongSecret().slice(3)}`;
    expect(await scryptsOf(() => token(t, t.tenantId, secretForm(app.clientId, wrongHint)))).toBe(1);
    expect(await scryptsOf(() => token(t, t.tenantId, secretForm(app.clientId, rightHint)))).toBe(1);
    expect(await scryptsOf(() => token(t, t.tenantId, secretForm(app.clientId, secret)))).toBe(1);
  });

  it("the medians agree: an unknown user takes at least 40% as long as a known one (it took 3% before)", async () => {
    const client = (await publicClient(t, t.tenantId, { delegated: READ })).clientId;
    const user = await testUser(t, t.tenantId);
    const known: number[] = [];
    const unknown: number[] = [];
    const time = async (upn: string) => {
      const start = performance.now();
      await ropc(t, t.tenantId, client, { upn, password: "wrong" }, GRAPH_DEFAULT);
      return performance.now() - start;
    };
    // Interleaved, so load from elsewhere on the machine falls on both; fewer than the lockout threshold each.
    for (let i = 0; i < 7; i++) {
      known.push(await time(user.upn));
      unknown.push(await time(`nobody-${i}-${randomUUID().slice(0, 6)}@contoso.test`));
    }
    expect(median(unknown)).toBeGreaterThan(0.4 * median(known));
  });
});

describe("a flood of guesses", () => {
  let t: TestTriage;
  beforeAll(async () => {
    t = await startTriage({ identity: { hashConcurrency: 1, hashQueue: 2 } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("is bounded: past the hashing queue a guess is answered 429 temporarily_unavailable (AADSTS90055) with Retry-After, never a 5xx; /healthz stays quick", async () => {
    const client = (await publicClient(t, t.tenantId, { delegated: READ })).clientId;
    const flood = Array.from({ length: 30 }, (_, i) => ropc(t, t.tenantId, client, { upn: `flood-${i}@contoso.test`, password: "guess" }, GRAPH_DEFAULT));
    const started = performance.now();
    const health = await t.get("/healthz", { authorization: "" });
    const healthMs = performance.now() - started;
    const results = await Promise.all(flood);
    expect(health.status).toBe(200);
    expect(healthMs).toBeLessThan(2000);
    const busy = results.filter((r) => r.status === 429);
    expect(busy.length).toBeGreaterThan(0);
    for (const r of busy) {
      expectEntraError(r, "temporarily_unavailable", 90055, 429);
      expect(r.headers.get("retry-after")).toBe("1");
    }
    for (const r of results.filter((x) => x.status !== 429)) expectEntraError(r, "invalid_grant", 50126, 400);
    // One slot and two waiting: most of a burst is refused without hashing (how many were admitted
    // depends on how fast the burst arrived, each admitted check freeing a place ~50 ms later).
    expect(busy.length).toBeGreaterThanOrEqual(10);
  });
});

describe("client assertions on several nodes", () => {
  const PUBLIC = "http://triage.nodes.test";
  let t: TestTriage;
  let dir: string;
  beforeAll(async () => {
    t = await startTriage({ publicUrl: PUBLIC });
    dir = mkdtempSync(join(tmpdir(), "triage-cert-"));
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("an assertion accepted by one node is refused by another on the same store (its jti is kept in the store)", async () => {
    const tls = await ensureLocalTls(dir, []);
    const app = await createApp(t.store.db, { tenantId: t.tenantId, displayName: "cert app", appPermissions: READ });
    await grantAdminConsent(t.store.db, app.clientId);
    const { thumbprint } = await addCertificate(t.store.db, app.clientId, tls.cert);
    const key = await importPKCS8(tls.key, "RS256");
    const assertion = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", x5t: thumbprint })
      .setIssuer(app.clientId)
      .setSubject(app.clientId)
      .setAudience(`${PUBLIC}/${t.tenantId}/oauth2/v2.0/token`)
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(key);
    const form = {
      grant_type: "client_credentials",
      client_id: app.clientId,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion,
      scope: GRAPH_DEFAULT,
    };
    const other = await secondNode(t, {}, PUBLIC);
    try {
      const first = await postForm(`${t.url}/${t.tenantId}/oauth2/v2.0/token`, form);
      expect(first.status, first.text).toBe(200);
      expectEntraError(await postForm(`${other.url}/${t.tenantId}/oauth2/v2.0/token`, form), "invalid_client", undefined, 401);
    } finally {
      await other.app.close();
    }
  });
});

describe("purging expired credential state", () => {
  let t: TestTriage;
  beforeAll(async () => {
    t = await startTriage({ identity: { purgeIntervalMs: 200 } });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** `expiredCount` rows of each kind expiring at `past`, and one live row of each expiring at `future`. */
  async function seed(prefix: string, expiredCount: number, past = Date.now() - 60_000, future = Date.now() + 36_000_000) {
    const db = t.store.db;
    const grant = (id: string, kind: string, at: number) => ({
      id,
      kind,
      tenant_id: t.tenantId,
      client_id: "c",
      user_id: null,
      user_code: null,
      data: "{}",
      status: "issued",
      expires_at: new Date(at).toISOString(),
      family_id: null,
    });
    const kinds = ["authorization_code", "refresh_token", "device_code"];
    for (let i = 0; i < expiredCount; i++) {
      await db
        .insertInto("grants")
        .values(grant(`${prefix}-old-${i}`, kinds[i % 3]!, past))
        .execute();
      await db
        .insertInto("seen_assertions")
        .values({ id: `${prefix}-old-${i}`, expires_at: past })
        .execute();
      await db
        .insertInto("signin_failures")
        .values({ key: `${prefix}-old-${i}`, failures: 1, lockouts: 0, locked_until: 0, expires_at: past })
        .execute();
    }
    await db
      .insertInto("grants")
      .values(grant(`${prefix}-live`, "refresh_token", future))
      .execute();
    await db
      .insertInto("seen_assertions")
      .values({ id: `${prefix}-live`, expires_at: future })
      .execute();
    await db
      .insertInto("signin_failures")
      .values({ key: `${prefix}-live`, failures: 1, lockouts: 0, locked_until: 0, expires_at: future })
      .execute();
  }

  async function remaining(prefix: string) {
    const db = t.store.db;
    return {
      grants: (await db.selectFrom("grants").select("id").where("id", "like", `${prefix}-%`).execute()).map((r) => r.id),
      assertions: (await db.selectFrom("seen_assertions").select("id").where("id", "like", `${prefix}-%`).execute()).map((r) => r.id),
      failures: (await db.selectFrom("signin_failures").select("key").where("key", "like", `${prefix}-%`).execute()).map((r) => r.key),
    };
  }

  it("every node purges expired codes, refresh and device codes, seen assertion ids and lockout records on a schedule; live ones stay", async () => {
    await seed("sched", 6);
    const deadline = Date.now() + 5000;
    let left = await remaining("sched");
    // A purge deletes grants, then assertion ids, then lockout records: wait until all three are done.
    while ((left.grants.length > 1 || left.assertions.length > 1 || left.failures.length > 1) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      left = await remaining("sched");
    }
    expect(left).toEqual({ grants: ["sched-live"], assertions: ["sched-live"], failures: ["sched-live"] });
  });

  // These rows expire in half an hour and are purged "an hour from now", out of the scheduled purge's reach.
  const soon = () => Date.now() + 1_800_000;
  const later = () => Date.now() + 7_200_000;
  const inAnHour = () => Date.now() + 3_600_000;

  it("in bounded batches: one run goes on batch after batch until all are gone", async () => {
    await seed("batch", 7, soon(), later());
    const run = await purgeExpired(t.store.db, inAnHour(), 2);
    expect(run).toEqual({ grants: 7, seenAssertions: 7, signinFailures: 7 });
    expect(await remaining("batch")).toEqual({ grants: ["batch-live"], assertions: ["batch-live"], failures: ["batch-live"] });
  });

  it("safely when several nodes purge at once: every row is deleted once, nothing fails", async () => {
    await seed("race", 9, soon(), later());
    const runs = await Promise.all([purgeExpired(t.store.db, inAnHour(), 2), purgeExpired(t.store.db, inAnHour(), 2), purgeExpired(t.store.db, inAnHour(), 3)]);
    // A run that found its batch taken by another stops early; the next run finishes.
    runs.push(await purgeExpired(t.store.db, inAnHour(), 2));
    for (const k of ["grants", "seenAssertions", "signinFailures"] as const)
      expect(
        runs.reduce((n, r) => n + r[k], 0),
        k,
      ).toBe(9);
    expect(await remaining("race")).toEqual({ grants: ["race-live"], assertions: ["race-live"], failures: ["race-live"] });
  });
});

describe("the signing key at rest", () => {
  let t: TestTriage;
  beforeAll(async () => {
    t = await startTriage();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("is sealed with AES-256-GCM under a key outside the store; a key stored in clear by an earlier version is sealed at startup and keeps its kid", async () => {
    const clear = new KeyRing(t.store.db, 3599, 0);
    const kid = await clear.rotate();
    const before = await t.store.db.selectFrom("signing_keys").select("private_pem").where("kid", "=", kid).executeTakeFirstOrThrow();
    expect(before.private_pem).toContain("PRIVATE KEY");

    const node = await secondNode(t);
    try {
      const rows = await t.store.db.selectFrom("signing_keys").select(["kid", "private_pem"]).execute();
      for (const r of rows) {
        expect(r.private_pem.startsWith("enc:v1:"), r.kid).toBe(true);
        expect(r.private_pem).not.toContain("PRIVATE KEY");
      }
      // The sealed key still signs, under the same kid.
      const { app, secret } = await confidentialClient(t, t.tenantId, { application: READ });
      const r = await postForm(`${node.url}/${t.tenantId}/oauth2/v2.0/token`, secretForm(app.clientId, secret));
      expect(r.status, r.text).toBe(200);
      const header = JSON.parse(Buffer.from((r.body.access_token as string).split(".")[0]!, "base64url").toString()) as { kid: string };
      expect(header.kid).toBe(kid);
    } finally {
      await node.app.close();
    }
  });

  it("a node with another key-encryption key, or none, refuses to start and says why", async () => {
    expect((await t.get(`/${t.tenantId}/discovery/v2.0/keys`, { authorization: "" })).status).toBe(200);
    await expect(buildServer({ store: t.store, keyEncryption: new KeyEncryption(randomBytes(32)) })).rejects.toThrow(
      /another key-encryption key.*TRIAGE_KEY_ENCRYPTION_KEY/,
    );
    await expect(buildServer({ store: t.store })).rejects.toThrow(/encrypted.*TRIAGE_KEY_ENCRYPTION_KEY/);
  });
});

describe.skipIf(TEST_STORE !== "sqlite")("the data folder of `triage serve`", () => {
  it("is owner-only: the folder 0700, triage.db and its -wal and -shm 0600, the key-encryption key 0600 beside (not in) the store, which holds no clear private key", async () => {
    const data = mkdtempSync(join(tmpdir(), "triage-modes-"));
    const dir = join(data, "data");
    try {
      const tenant = DEMO_TENANT;
      const server = await startServerProcess(["--data", dir, "--http", "--demo", "--demo-incidents", "1"], 60_000, { TRIAGE_KEY_ENCRYPTION_KEY: "" });
      try {
        const keys = await fetch(`${server.url}/${tenant}/discovery/v2.0/keys`);
        expect(keys.status).toBe(200);
        expect(server.output()).toContain(join(dir, "keys", "master.key"));
        const mode = (p: string) => statSync(join(dir, p)).mode & 0o777;
        expect(mode(".")).toBe(0o700);
        for (const f of ["triage.db", "triage.db-wal", "triage.db-shm", "keys/master.key", "demo-credentials.json"]) {
          expect(existsSync(join(dir, f)), f).toBe(true);
          expect(mode(f), f).toBe(0o600);
        }
        expect(mode("keys")).toBe(0o700);
        for (const f of ["triage.db", "triage.db-wal"]) expect(readFileSync(join(dir, f)).includes("PRIVATE KEY"), f).toBe(false);
      } finally {
        server.child.kill("SIGTERM");
        await server.exited;
      }
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});
