import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importPKCS8, SignJWT } from "jose";
import pg from "pg";
import { runCli, startServerProcess } from "../support/process.js";
import { PUBLIC_URL, startCluster, type Cluster } from "../support/cluster.js";
import { ensureLocalTls } from "../../src/identity/tls.js";

/**
 * Credential state is the cluster's, not a node's: a client assertion used at one node is refused at
 * the next, a lockout earned at one node holds at the others, and every node opens the sealed signing
 * keys with the one key-encryption key they are all given.
 */
let c: Cluster;
let dir: string;
beforeAll(async () => {
  c = await startCluster(2);
  dir = mkdtempSync(join(tmpdir(), "triage-cluster-cred-"));
});
afterAll(async () => {
  await c?.close();
  rmSync(dir, { recursive: true, force: true });
});

const TOKEN_URL = () => `${PUBLIC_URL}/${c.tenantId}/oauth2/v2.0/token`;

async function postToken(node: number, form: Record<string, string>) {
  const res = await fetch(`${c.nodes[node]!.url}/${c.tenantId}/oauth2/v2.0/token`, { method: "POST", body: new URLSearchParams(form) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

async function newApp(name: string): Promise<{ clientId: string; clientSecret: string }> {
  const r = await runCli([
    "apps",
    "create",
    "--db",
    c.db,
    "--tenant",
    c.tenantId,
    "--name",
    name,
    "--permission",
    "SecurityIncident.Read.All",
    "--admin-consent",
    "--json",
  ]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { clientId: string; clientSecret: string };
}

describe("several nodes, one truth", () => {
  it("a client assertion accepted by node 0 is refused when replayed to node 1", async () => {
    const tls = await ensureLocalTls(dir, []);
    const pem = join(dir, "client.pem");
    writeFileSync(pem, tls.cert);
    const { clientId } = await newApp("assertion-app");
    const reg = await runCli(["apps", "certificate", "--db", c.db, "--client-id", clientId, "--file", pem, "--json"]);
    expect(reg.code, reg.stderr).toBe(0);
    const { thumbprint } = JSON.parse(reg.stdout) as { thumbprint: string };
    const assertion = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", x5t: thumbprint })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(TOKEN_URL())
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(await importPKCS8(tls.key, "RS256"));
    const form = {
      grant_type: "client_credentials",
      client_id: clientId,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion,
      scope: "https://graph.microsoft.com/.default",
    };
    const first = await postToken(0, form);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const replay = await postToken(1, form);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe("invalid_client");
    expect(replay.body.error_description).toMatch(/already used/);
  });

  it("ten wrong secrets at node 0 lock the app at node 1 too (AADSTS50053)", async () => {
    const { clientId, clientSecret } = await newApp("lockout-app");
    for (let i = 0; i < 10; i++) {
      const r = await postToken(0, {
        grant_type: "client_credentials",
        client_id: clientId,
        client_secret: `${clientSecret.slice(0, 3)}${randomBytes(20).toString("hex")}`,
        scope: "https://graph.microsoft.com/.default",
      });
      expect(r.status).toBe(401);
      expect(r.body.error_codes).toEqual([7000215]);
    }
    const r = await postToken(1, {
      grant_type: "client_credentials",
      client_id: clientId,
      client_secret: clientSecret,
      scope: "https://graph.microsoft.com/.default",
    });
    expect(r.status).toBe(401);
    expect(r.body.error_codes).toEqual([50053]);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("the signing keys in PostgreSQL are sealed; a node given another key-encryption key refuses to start and names the setting", async () => {
    expect((await c.call(0, "GET", "/v1.0/security/incidents")).status).toBe(200);
    const client = new pg.Client({ connectionString: c.db });
    await client.connect();
    try {
      const rows = (await client.query<{ private_pem: string }>("select private_pem from signing_keys")).rows;
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) {
        expect(r.private_pem.startsWith("enc:v1:")).toBe(true);
        expect(r.private_pem).not.toContain("PRIVATE KEY");
      }
    } finally {
      await client.end();
    }
    // `triage keys rotate` from a machine with another key refuses too, instead of sealing a key no node can open.
    const rotate = await runCli(["keys", "rotate", "--db", c.db, "--data", dir, "--json"], 120_000, {
      TRIAGE_KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    });
    expect(rotate.code).toBe(1);
    expect(rotate.stderr).toMatch(/another key-encryption key/);
    const wrong = startServerProcess(["--http", "--db", c.db, "--data", dir], 60_000, { TRIAGE_KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64") });
    await expect(wrong).rejects.toThrow(/another key-encryption key[\s\S]*TRIAGE_KEY_ENCRYPTION_KEY/);
  });
});
