import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, expect, it } from "vitest";
import { openSqliteStore } from "../../src/store/open.js";
import { runCli, startServerProcess } from "../support/process.js";
import { alert, deviceId } from "../support/alerts.js";

const dir = mkdtempSync(join(tmpdir(), "triage-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("keeps every write that got a 2xx when the process is killed mid-flight", async () => {
  const tenant = randomUUID();
  expect((await runCli(["tenants", "create", "--data", dir, "--id", tenant, "--name", "Crash"])).code).toBe(0);
  const created = await runCli([
    "apps",
    "create",
    "--data",
    dir,
    "--tenant",
    tenant,
    "--name",
    "writer",
    "--permission",
    "SecurityIncident.ReadWrite.All",
    "--permission",
    "SecurityAlert.ReadWrite.All",
    "--admin-consent",
    "--json",
  ]);
  const { clientId, clientSecret } = JSON.parse(created.stdout);
  const server = await startServerProcess(["--data", dir, "--http"]);
  const tokenRes = await fetch(`${server.url}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: clientId,
      client_secret: clientSecret,
      scope: "https://graph.microsoft.com/.default",
    }),
  });
  const { access_token: token } = (await tokenRes.json()) as { access_token: string };
  const post = (path: string, method: string, body: unknown) =>
    fetch(server.url + path, { method, headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify(body) });

  // One incident to write to, then a stream of concurrent writes of three kinds.
  const seed = (await (await post("/ingest/alerts", "POST", [alert({ device: deviceId() })])).json()) as any;
  const incidentId = seed.value[0].incidentId as string;
  const acked = { alerts: [] as string[], comments: [] as string[], tags: [] as string[] };
  let stop = false;
  const workers = Array.from({ length: 6 }, async (_, w) => {
    for (let i = 0; i < 400 && !stop; i++) {
      try {
        if (i % 3 === 0) {
          const a = alert({ device: deviceId() });
          const r = await post("/ingest/alerts", "POST", [a]);
          if (r.ok) acked.alerts.push(a.id as string);
        } else if (i % 3 === 1) {
          const text = `w${w}-c${i}`;
          const r = await post(`/v1.0/security/incidents/${incidentId}/comments`, "POST", { comment: text });
          if (r.ok) acked.comments.push(text);
        } else {
          const tag = `w${w}-t${i}`;
          const r = await post(`/v1.0/security/alerts_v2/${seed.value[0].id}`, "PATCH", { assignedTo: tag });
          if (r.ok) acked.tags.push(tag);
        }
      } catch {
        return; // the server is gone
      }
    }
  });
  // Kill it hard while the writers are busy: once a few dozen writes were acknowledged (a loaded
  // machine takes longer to get there; the deadline only bounds the wait).
  const acknowledged = () => acked.alerts.length + acked.comments.length + acked.tags.length;
  for (const deadline = Date.now() + 20_000; acknowledged() <= 30 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
  server.child.kill("SIGKILL");
  stop = true;
  await Promise.all(workers);
  await server.exited;
  expect(acked.alerts.length + acked.comments.length + acked.tags.length).toBeGreaterThan(20);

  const store = await openSqliteStore(join(dir, "triage.db"));
  try {
    const alerts = await store.db.selectFrom("alerts").select("id").where("tenant_id", "=", tenant).execute();
    const ids = new Set(alerts.map((a) => a.id));
    for (const id of acked.alerts) expect(ids.has(id), `alert ${id}`).toBe(true);
    const inc = await store.db
      .selectFrom("incidents")
      .select("doc")
      .where("tenant_id", "=", tenant)
      .where("id", "=", Number(incidentId))
      .executeTakeFirstOrThrow();
    const comments = new Set((JSON.parse(inc.doc).comments as any[]).map((c) => c.comment));
    for (const c of acked.comments) expect(comments.has(c), `comment ${c}`).toBe(true);
    const audit = await store.db.selectFrom("audit_log").select("after").where("tenant_id", "=", tenant).where("property", "=", "assignedTo").execute();
    const assigned = new Set(audit.map((a) => JSON.parse(a.after!)));
    for (const tag of acked.tags) expect(assigned.has(tag), `assignment ${tag}`).toBe(true);
  } finally {
    await store.close();
  }
});
