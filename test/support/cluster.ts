import { createServer } from "node:net";
import { randomBytes, randomUUID } from "node:crypto";
import { expect } from "vitest";
import { runCli, startServerProcess, type ServerProcess } from "./process.js";
import { freshPostgresDatabase } from "./stores.js";

/**
 * Several real `triage serve` processes on one fresh PostgreSQL database, as behind a load balancer:
 * they share one public URL (the issuer of their tokens and the host of their nextLinks), and each
 * listens on its own loopback port.
 */
export const PUBLIC_URL = "http://triage.cluster.test";

export interface Node {
  /** Where this node really listens (http://127.0.0.1:port). */
  url: string;
  process: ServerProcess;
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface Cluster {
  db: string;
  /** The key-encryption key every node is given (TRIAGE_KEY_ENCRYPTION_KEY). */
  keyEncryptionKey: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  nodes: Node[];
  /** A token from node 0's token endpoint (used on every node unless a call says otherwise). */
  token: string;
  /** A fresh client-credentials token from the given node's token endpoint. */
  tokenFrom(node: number): Promise<string>;
  /** Real HTTP to one node. */
  call(node: number, method: string, path: string, body?: unknown, token?: string): Promise<CallResult>;
  /** Starts another node on the same database (optionally with more `serve` arguments). */
  addNode(extraArgs?: string[]): Promise<Node>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function startNode(db: string, extraArgs: string[], keyEncryptionKey: string): Promise<Node> {
  // The printed URL is the public one, so the port is chosen here; retried if another process took it.
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      // Every node seals and opens the shared signing keys with the same key-encryption key.
      const process = await startServerProcess(["--http", "--db", db, "--public-url", PUBLIC_URL, "--port", String(port), ...extraArgs], 60_000, {
        TRIAGE_KEY_ENCRYPTION_KEY: keyEncryptionKey,
      });
      return { url: `http://127.0.0.1:${port}`, process };
    } catch (e) {
      if (attempt >= 2 || !/EADDRINUSE/.test(String(e))) throw e;
    }
  }
}

async function stopNode(node: Node): Promise<void> {
  if (node.process.child.exitCode === null) node.process.child.kill("SIGTERM");
  const timer = setTimeout(() => node.process.child.kill("SIGKILL"), 10_000);
  await node.process.exited;
  clearTimeout(timer);
}

/** A tenant, an app with read-write permissions and admin consent, and `size` nodes serving them. */
export async function startCluster(size = 2, extraArgs: string[] = []): Promise<Cluster> {
  const database = await freshPostgresDatabase();
  const tenantId = randomUUID();
  // The CLI creates the schema before any node starts.
  const tenant = await runCli(["tenants", "create", "--db", database.url, "--id", tenantId, "--name", "Cluster"]);
  expect(tenant.code, tenant.stderr).toBe(0);
  const created = await runCli([
    "apps",
    "create",
    "--db",
    database.url,
    "--tenant",
    tenantId,
    "--name",
    "cluster-test",
    "--permission",
    "SecurityIncident.ReadWrite.All",
    "--permission",
    "SecurityAlert.ReadWrite.All",
    "--admin-consent",
    "--json",
  ]);
  expect(created.code, created.stderr).toBe(0);
  const { clientId, clientSecret } = JSON.parse(created.stdout) as { clientId: string; clientSecret: string };

  const keyEncryptionKey = randomBytes(32).toString("base64");
  const nodes: Node[] = [];
  try {
    nodes.push(...(await Promise.all(Array.from({ length: size }, () => startNode(database.url, extraArgs, keyEncryptionKey)))));
  } catch (e) {
    await Promise.all(nodes.map(stopNode));
    await database.drop();
    throw e;
  }

  async function tokenFrom(node: number): Promise<string> {
    const res = await fetch(`${nodes[node]!.url}/${tenantId}/oauth2/v2.0/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: clientId,
        client_secret: clientSecret,
        scope: "https://graph.microsoft.com/.default",
      }),
    });
    const body = (await res.json()) as { access_token?: string };
    if (!body.access_token) throw new Error(`no token from node ${node}: ${JSON.stringify(body)}`);
    return body.access_token;
  }

  const cluster: Cluster = {
    db: database.url,
    keyEncryptionKey,
    tenantId,
    clientId,
    clientSecret,
    nodes,
    token: "",
    tokenFrom,
    async call(node, method, path, body, token) {
      const headers: Record<string, string> = { authorization: `Bearer ${token ?? cluster.token}` };
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(nodes[node]!.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      let parsed: unknown = text;
      if (res.status >= 500) {
        // Put the node's log lines for this request into the failure message.
        await new Promise((r) => setTimeout(r, 100));
        const id = res.headers.get("request-id") ?? "";
        const log = nodes[node]!.process.output()
          .split("\n")
          .filter((l) => id && l.includes(id));
        return { status: res.status, headers: res.headers, body: text, text: `${text}\nnode ${node} log:\n${log.join("\n")}` };
      }
      if ((res.headers.get("content-type") ?? "").includes("json") && text) parsed = JSON.parse(text);
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    async addNode(more = []) {
      const node = await startNode(database.url, [...extraArgs, ...more], keyEncryptionKey);
      nodes.push(node);
      return node;
    },
    async close() {
      await Promise.all(nodes.map(stopNode));
      await database.drop();
    },
  };
  cluster.token = await tokenFrom(0);
  return cluster;
}

/** Every audit entry of an incident or alert, following the pages. */
export async function auditOf(c: Cluster, node: number, type: "incidents" | "alerts", id: string): Promise<any[]> {
  const out: any[] = [];
  let after = 0;
  for (;;) {
    const r = await c.call(node, "GET", `/triage/${type}/${id}/audit?after=${after}&top=500`);
    expect(r.status, r.text).toBe(200);
    out.push(...(r.body.value as any[]));
    if (!r.body.nextLink) return out;
    after = out[out.length - 1].seq;
  }
}

/** A small seeded PRNG (mulberry32), so a failing trial's interleaving can be replayed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle<T>(items: T[], rnd: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
