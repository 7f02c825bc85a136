import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeProtectedHeader } from "jose";
import { runCli } from "../support/process.js";
import { PUBLIC_URL, startCluster, type Cluster } from "../support/cluster.js";
import { alert, deviceId } from "../support/alerts.js";

/**
 * What nodes must share lives in the database: paging state travels in the link, signing keys and
 * throttling budgets are read from the store, so any node continues where another left off.
 */
let c: Cluster;
beforeAll(async () => {
  c = await startCluster(2);
  // 90 incidents of one alert each, and 30 more alerts joining some of them.
  const devices = Array.from({ length: 90 }, () => deviceId());
  const first = devices.map((device, i) => alert({ device, at: new Date(Date.UTC(2026, 9, 1) + i * 3_600_000).toISOString() }));
  const more = devices.slice(0, 30).map((device, i) => alert({ device, at: new Date(Date.UTC(2026, 9, 1) + i * 3_600_000 + 60_000).toISOString() }));
  for (const [node, batch] of [
    [0, first],
    [1, more],
  ] as const) {
    const r = await c.call(node, "POST", "/ingest/alerts", { value: batch });
    expect(r.status, r.text).toBe(200);
  }
});
afterAll(async () => {
  await c?.close();
});

/** The link's path and query, to send to any node (the link names the cluster's public URL). */
function pathOf(link: string): string {
  expect(link.startsWith(`${PUBLIC_URL}/`)).toBe(true);
  return link.slice(PUBLIC_URL.length);
}

/** Follows @odata.nextLink to the end, each page from the node `pick` names; the ids in order. */
async function pageThrough(first: string, pick: (page: number) => number, meanwhile?: (page: number) => Promise<void>): Promise<string[]> {
  const ids: string[] = [];
  let path: string | undefined = first;
  for (let page = 0; path; page++) {
    const r = await c.call(pick(page), "GET", path);
    expect(r.status, r.text).toBe(200);
    ids.push(...(r.body.value as { id: string }[]).map((x) => x.id));
    const next = r.body["@odata.nextLink"] as string | undefined;
    path = next ? pathOf(next) : undefined;
    await meanwhile?.(page);
  }
  return ids;
}

describe("paging across nodes", () => {
  it.each([
    ["/v1.0/security/incidents?$top=7", "incidents, newest first"],
    ["/v1.0/security/incidents?$top=11&$orderby=displayName&$filter=severity ge 'low'", "incidents by name, filtered"],
    ["/beta/security/alerts_v2?$top=9&$orderby=firstActivityDateTime asc", "alerts by activity"],
  ])("%s (%s): a nextLink from one node continues on the other, no duplicate, no gap", async (first) => {
    const path = first.replace(/ /g, "%20");
    const oneNode = await pageThrough(path, () => 0);
    expect(oneNode.length).toBeGreaterThan(80);
    expect(new Set(oneNode).size).toBe(oneNode.length);
    // Alternate nodes page by page while new alerts arrive through the other node: the listing's
    // snapshot, carried in the link, keeps it to what existed at the first page.
    const alternating = await pageThrough(
      path,
      (p) => p % 2,
      async (p) => {
        if (p % 3 === 0) {
          const r = await c.call(1 - (p % 2), "POST", "/ingest/alerts", [alert({ device: deviceId(), at: "2026-10-05T00:00:00Z" })]);
          expect(r.status, r.text).toBe(200);
        }
      },
    );
    expect(alternating).toEqual(oneNode);
  });
});

describe("signing keys in the database", () => {
  it("a token from one node works on the other; after a rotation old tokens still work and a new node's tokens work everywhere", async () => {
    const before = c.token;
    const oldKid = decodeProtectedHeader(before).kid;
    for (const node of [0, 1]) expect((await c.call(node, "GET", "/v1.0/security/incidents?$top=1")).status).toBe(200);
    // Node 1 issues too, with the same key.
    expect(decodeProtectedHeader(await c.tokenFrom(1)).kid).toBe(oldKid);

    // Like the nodes, the CLI seals the new key with the cluster's key-encryption key.
    const rotated = await runCli(["keys", "rotate", "--db", c.db, "--json"], 120_000, { TRIAGE_KEY_ENCRYPTION_KEY: c.keyEncryptionKey });
    expect(rotated.code, rotated.stderr).toBe(0);
    const newKid = JSON.parse(rotated.stdout).kid as string;
    expect(newKid).not.toBe(oldKid);
    for (const node of [0, 1]) expect((await c.call(node, "GET", "/v1.0/security/incidents?$top=1", undefined, before)).status).toBe(200);

    // A node started now reads the new key (the running ones pick it up within their key cache's
    // 30 s, or at once when a token signed with it arrives).
    await c.addNode();
    const fresh = await c.tokenFrom(2);
    expect(decodeProtectedHeader(fresh).kid).toBe(newKid);
    for (const node of [0, 1, 2]) {
      for (const token of [before, fresh]) {
        const r = await c.call(node, "GET", "/v1.0/security/incidents?$top=1", undefined, token);
        expect(r.status, `node ${node}: ${r.text}`).toBe(200);
      }
      const jwks = await c.call(node, "GET", `/${c.tenantId}/discovery/v2.0/keys`);
      expect(jwks.status).toBe(200);
      expect((jwks.body.keys as { kid: string }[]).map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
    }
  });
});

describe("throttling in the database", () => {
  it("two throttled nodes draw on one budget per app", async () => {
    const MAX = 12;
    const [a, b] = await Promise.all([c.addNode(["--throttle", String(MAX)]), c.addNode(["--throttle", String(MAX)])]);
    const ia = c.nodes.indexOf(a);
    const ib = c.nodes.indexOf(b);
    const statuses = await Promise.all(Array.from({ length: 2 * MAX }, (_, i) => c.call(i % 2 ? ia : ib, "GET", "/v1.0/security/incidents?$top=1")));
    const ok = statuses.filter((r) => r.status === 200);
    const throttled = statuses.filter((r) => r.status === 429);
    expect(ok).toHaveLength(MAX);
    expect(throttled).toHaveLength(MAX);
    for (const r of throttled) {
      expect(r.body.error.code).toBe("TooManyRequests");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    // Both nodes refuse now, whichever served the budget; another app's budget is its own.
    for (const node of [ia, ib]) expect((await c.call(node, "GET", "/v1.0/security/incidents?$top=1")).status).toBe(429);
    const other = await runCli([
      "apps",
      "create",
      "--db",
      c.db,
      "--tenant",
      c.tenantId,
      "--name",
      "other",
      "--permission",
      "SecurityIncident.Read.All",
      "--admin-consent",
      "--json",
    ]);
    expect(other.code, other.stderr).toBe(0);
    const creds = JSON.parse(other.stdout) as { clientId: string; clientSecret: string };
    const tr = await fetch(`${a.url}/${c.tenantId}/oauth2/v2.0/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: creds.clientId,
        client_secret: creds.clientSecret,
        scope: "https://graph.microsoft.com/.default",
      }),
    });
    const token = ((await tr.json()) as { access_token: string }).access_token;
    for (const node of [ia, ib]) expect((await c.call(node, "GET", "/v1.0/security/incidents?$top=1", undefined, token)).status).toBe(200);
  });
});
