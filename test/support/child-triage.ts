import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { runCli, startServerProcess, type ServerProcess } from "./process.js";
import { freshPostgresDatabase, TEST_STORE } from "./stores.js";

/**
 * A real `triage serve` process (plain HTTP on loopback) on a fresh store of the suite's kind, with
 * one tenant and an app that may read and write in it: for what only a separate process can show —
 * its memory, its sockets.
 */
export interface ChildTriage {
  url: string;
  tenantId: string;
  pid: number;
  process: ServerProcess;
  /** Authorization and JSON content-type headers of the tenant's app. */
  headers: Record<string, string>;
  /** The app's client secret, and the access token in `headers`. */
  clientSecret: string;
  token: string;
  /** The process's peak resident set so far, in MB (Linux: VmHWM). */
  peakRssMb(): number;
  close(): Promise<void>;
}

/** `permissions`: application permissions the app has besides reading and writing incidents and alerts; `env`: the server's environment besides this one's. */
export async function startChildTriage(extraArgs: string[] = [], opts: { permissions?: string[]; env?: Record<string, string> } = {}): Promise<ChildTriage> {
  const permissions = opts.permissions ?? [];
  const dir = mkdtempSync(join(tmpdir(), "triage-child-"));
  const pg = TEST_STORE === "postgres" ? await freshPostgresDatabase() : null;
  const storeArgs = pg ? ["--db", pg.url] : ["--data", dir];
  const tenantId = randomUUID();
  const made = await runCli(["tenants", "create", ...storeArgs, "--id", tenantId, "--name", "Child"]);
  if (made.code !== 0) throw new Error(made.stderr);
  const app = await runCli([
    "apps",
    "create",
    ...storeArgs,
    "--tenant",
    tenantId,
    "--name",
    "abuse",
    "--permission",
    "SecurityIncident.ReadWrite.All",
    "--permission",
    "SecurityAlert.ReadWrite.All",
    ...permissions.flatMap((p) => ["--permission", p]),
    "--admin-consent",
    "--json",
  ]);
  if (app.code !== 0) throw new Error(app.stderr);
  const { clientId, clientSecret } = JSON.parse(app.stdout) as { clientId: string; clientSecret: string };
  const server = await startServerProcess(["--http", ...storeArgs, ...extraArgs], undefined, opts.env);
  const tokenRes = await fetch(`${server.url}/${tenantId}/oauth2/v2.0/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: clientId,
      client_secret: clientSecret,
      scope: "https://graph.microsoft.com/.default",
    }),
  });
  const { access_token: token } = (await tokenRes.json()) as { access_token: string };
  const pid = server.child.pid!;
  return {
    url: server.url,
    tenantId,
    pid,
    process: server,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    clientSecret,
    token,
    peakRssMb: () => Number(/VmHWM:\s+(\d+)\s*kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024,
    async close() {
      server.child.kill("SIGTERM");
      const killer = setTimeout(() => server.child.kill("SIGKILL"), 10_000);
      await server.exited;
      clearTimeout(killer);
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
