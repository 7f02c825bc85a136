import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, expect, it } from "vitest";
import { openPostgresStore, openSqliteStore } from "../../src/store/open.js";
import { notificationId } from "../../src/features/notifications/notification-body.js";
import { runCli, startServerProcess, type ServerProcess } from "../support/process.js";
import { freshPostgresDatabase, TEST_STORE } from "../support/stores.js";
import { alert, deviceId } from "../support/alerts.js";
import { startReceiver, type Receiver } from "../support/receiver.js";

/**
 * A real `triage serve` is killed (SIGKILL) while concurrent ingestion and PATCHes commit; a server
 * started again on the same store announces, to a real receiver on loopback, every change the clients
 * were acknowledged and every change in the feed — and nothing that is not in the feed.
 */
const dir = mkdtempSync(join(tmpdir(), "triage-notify-crash-"));
let pg: { url: string; drop(): Promise<void> } | null = null;
let rx: Receiver | undefined;
const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) s.child.kill("SIGKILL");
  await rx?.close();
  await pg?.drop();
  rmSync(dir, { recursive: true, force: true });
});

it("announces every committed change after a crash mid-flight", { timeout: 240_000 }, async () => {
  pg = TEST_STORE === "postgres" ? await freshPostgresDatabase() : null;
  const storeArgs = pg ? ["--db", pg.url] : ["--data", dir];
  const tenant = randomUUID();
  expect((await runCli(["tenants", "create", ...storeArgs, "--id", tenant, "--name", "Crash"])).code).toBe(0);
  const created = await runCli([
    "apps",
    "create",
    ...storeArgs,
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
  rx = await startReceiver("/notify");
  const receiver = rx;

  const start = async () => {
    const s = await startServerProcess(["--http", ...storeArgs, "--allow-private-destinations"]);
    servers.push(s);
    const tokenRes = await fetch(`${s.url}/${tenant}/oauth2/v2.0/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: clientId,
        client_secret: clientSecret,
        scope: "https://graph.microsoft.com/.default",
      }),
    });
    const { access_token: token } = (await tokenRes.json()) as { access_token: string };
    const call = (path: string, method: string, body: unknown) =>
      fetch(s.url + path, { method, headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
    return { s, call };
  };

  const first = await start();
  const subs: Record<string, string> = {};
  for (const resource of ["security/alerts_v2", "security/incidents"]) {
    const r = await first.call("/v1.0/subscriptions", "POST", {
      changeType: "created,updated",
      notificationUrl: receiver.url,
      resource,
      expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
      clientState: "crash",
    });
    expect(r.status, await r.clone().text()).toBe(201);
    subs[resource] = ((await r.json()) as { id: string }).id;
  }

  // Writers: ingestion of new alerts, and PATCHes of alerts they ingested before, concurrently.
  const ingested: string[] = [];
  const patched: string[] = [];
  const incidents = new Set<string>();
  let stop = false;
  const workers = Array.from({ length: 6 }, async (_, w) => {
    const mine: string[] = [];
    for (let i = 0; i < 500 && !stop; i++) {
      try {
        if (i % 2 === 0 || mine.length === 0) {
          const a = alert({ device: deviceId() });
          const r = await first.call("/ingest/alerts", "POST", [a]);
          if (r.ok) {
            const body = (await r.json()) as { value: { incidentId: string }[] };
            incidents.add(body.value[0]!.incidentId);
            ingested.push(a.id as string);
            mine.push(a.id as string);
          }
        } else {
          const id = mine.shift()!;
          const r = await first.call(`/v1.0/security/alerts_v2/${id}`, "PATCH", { assignedTo: `w${w}-${i}`, status: "inProgress" });
          if (r.ok) patched.push(id);
        }
      } catch {
        return; // the server is gone
      }
    }
  });
  // Killed once enough writes were acknowledged and some notifications went out (a loaded machine takes
  // longer to get there; the deadline only bounds the wait).
  for (const deadline = Date.now() + 60_000; (ingested.length + patched.length <= 60 || receiver.deliveries.length < 2) && Date.now() < deadline;)
    await new Promise((r) => setTimeout(r, 25));
  // From here the receiver refuses every POST, and more writes are acknowledged before the kill: their
  // changes cannot have been announced before the crash, however fast delivery is, so the restarted
  // server must announce them.
  receiver.statuses.push(...Array<number>(100_000).fill(503));
  const acknowledged = ingested.length + patched.length;
  for (const deadline = Date.now() + 60_000; ingested.length + patched.length < acknowledged + 10 && Date.now() < deadline;)
    await new Promise((r) => setTimeout(r, 25));
  first.s.child.kill("SIGKILL");
  stop = true;
  await Promise.all(workers);
  await first.s.exited;
  expect(ingested.length).toBeGreaterThan(20);
  expect(patched.length).toBeGreaterThan(5);
  const beforeRestart = receiver.notifications().length;

  // What committed: the feed, read from the store the dead server left.
  const store = pg ? await openPostgresStore(pg.url) : await openSqliteStore(join(dir, "triage.db"));
  let feed: { seq: number; entity_type: string; entity_id: string; change_type: string }[];
  try {
    feed = (
      await store.db
        .selectFrom("change_feed")
        .select(["seq", "entity_type", "entity_id", "change_type"])
        .where("tenant_id", "=", tenant)
        .orderBy("seq")
        .execute()
    ).map((r) => ({ ...r, seq: Number(r.seq) }));
  } finally {
    await store.close();
  }
  const expected = new Map<string, { sub: string; entityId: string; changeType: string }>();
  for (const e of feed) {
    const sub = e.entity_type === "alert" ? subs["security/alerts_v2"]! : subs["security/incidents"]!;
    expected.set(notificationId(sub, e.seq), { sub, entityId: e.entity_id, changeType: e.change_type });
  }

  receiver.statuses.length = 0;
  const second = await start();
  await receiver.waitFor(() => {
    const got = new Set(receiver.notifications().map((n) => n.id as string));
    return [...expected.keys()].every((id) => got.has(id));
  }, 120_000);
  expect(receiver.notifications().length).toBeGreaterThan(beforeRestart);

  const got = receiver.notifications();
  // Nothing announced that is not in the feed, and each as the feed has it.
  for (const n of got) {
    const e = expected.get(n.id as string);
    expect(e, `notification ${n.id} for ${n.resource}`).toBeDefined();
    expect(n.subscriptionId).toBe(e!.sub);
    expect(n.resourceData.id).toBe(e!.entityId);
    expect(n.changeType).toBe(e!.changeType);
    expect(n.clientState).toBe("crash");
  }
  // Every acknowledged write was announced: each ingested alert as created, each PATCHed one as updated.
  const alertsOf = (changeType: string) =>
    new Set(got.filter((n) => n.subscriptionId === subs["security/alerts_v2"] && n.changeType === changeType).map((n) => n.resourceData.id as string));
  const createdAlerts = alertsOf("created");
  const updatedAlerts = alertsOf("updated");
  for (const id of ingested) expect(createdAlerts.has(id), `created ${id}`).toBe(true);
  for (const id of patched) expect(updatedAlerts.has(id), `updated ${id}`).toBe(true);
  // Each acknowledged alert's incident was announced too.
  const announcedIncidents = new Set(got.filter((n) => n.subscriptionId === subs["security/incidents"]).map((n) => n.resourceData.id as string));
  for (const id of incidents) expect(announcedIncidents.has(id), `incident ${id}`).toBe(true);

  second.s.child.kill("SIGTERM");
  await second.s.exited;
});
