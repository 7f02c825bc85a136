/**
 * The baseline: the obvious way to write these endpoints with Fastify and better-sqlite3, on the same
 * SQLite file, the same indexes and the same SQL shape as Triage (no auth, no OData, no audit).
 * Ingestion is the obvious ingestion service: each alert stored as JSON, one transaction per batch,
 * correlated naively by its first device or account (an incident per new key), in tables of its own
 * in the same file, created empty at start and dropped at exit.
 * Usage: node baseline-server.js <triage.db> <tenantId>   (prints "listening on <url>")
 * Serves HTTPS when BENCH_TLS_CERT and BENCH_TLS_KEY name a certificate chain and key (tls.ts).
 */
import Fastify, { type FastifyInstance } from "fastify";
import Database from "better-sqlite3";
import { baselineTls } from "./tls.js";

const [file, tenant] = process.argv.slice(2) as [string, string];
const read = new Database(file, { readonly: true });
const write = new Database(file);
write.pragma("journal_mode = WAL");
write.pragma("synchronous = FULL"); // the durability Triage has: a write is on disk before the answer
write.pragma("busy_timeout = 5000");

const STATUS = ["active", "resolved", "inProgress", "redirected", "unknownFutureValue", "awaitingAction"];
const INCIDENT = [
  "id",
  "tenantId",
  "status",
  "incidentWebUrl",
  "redirectIncidentId",
  "displayName",
  "createdDateTime",
  "lastUpdateDateTime",
  "assignedTo",
  "classification",
  "determination",
  "severity",
  "customTags",
  "systemTags",
  "description",
  "summary",
  "lastModifiedBy",
  "resolvingComment",
  "priorityScore",
  "comments",
];
type Doc = Record<string, unknown>;
const incident = (doc: string): Doc => {
  const d = JSON.parse(doc) as Doc;
  const out: Doc = {};
  for (const k of INCIDENT) out[k] = d[k] ?? null;
  return out;
};

const byStatus = read.prepare("SELECT doc FROM incidents WHERE tenant_id = ? AND status = ? ORDER BY created_at DESC, id DESC LIMIT 50");
const newest = read.prepare("SELECT doc FROM incidents WHERE tenant_id = ? ORDER BY created_at DESC, id DESC LIMIT 50");
const one = read.prepare("SELECT doc FROM incidents WHERE tenant_id = ? AND id = ?");
const alertsOf = read.prepare("SELECT doc FROM alerts WHERE tenant_id = ? AND incident_id = ? ORDER BY created_at, id");
const current = write.prepare("SELECT doc FROM incidents WHERE tenant_id = ? AND id = ?");
const update = write.prepare("UPDATE incidents SET assigned_to = ?, updated_at = ?, doc = ?, version = version + 1 WHERE tenant_id = ? AND id = ?");

// Ingestion's tables: the baseline's own, so Triage's data is untouched.
write.exec(`
  DROP TABLE IF EXISTS baseline_ingest_alerts;
  DROP TABLE IF EXISTS baseline_ingest_incidents;
  DROP TABLE IF EXISTS baseline_ingest_keys;
  CREATE TABLE baseline_ingest_incidents (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, doc TEXT NOT NULL);
  CREATE TABLE baseline_ingest_alerts (id TEXT PRIMARY KEY, incident_id INTEGER NOT NULL, created_at TEXT NOT NULL, doc TEXT NOT NULL);
  CREATE INDEX baseline_ingest_alerts_incident ON baseline_ingest_alerts (incident_id, created_at);
  CREATE TABLE baseline_ingest_keys (key TEXT PRIMARY KEY, incident_id INTEGER NOT NULL);
`);
const keyIncident = write.prepare("SELECT incident_id FROM baseline_ingest_keys WHERE key = ?");
const addKey = write.prepare("INSERT INTO baseline_ingest_keys (key, incident_id) VALUES (?, ?)");
const addIncident = write.prepare("INSERT INTO baseline_ingest_incidents (created_at, doc) VALUES (?, ?)");
const putAlert = write.prepare("INSERT OR REPLACE INTO baseline_ingest_alerts (id, incident_id, created_at, doc) VALUES (?, ?, ?, ?)");

/** The alert's first device or account, as naive correlation sees it. */
function firstKey(alert: Doc): string | null {
  for (const e of (alert.evidence as Doc[] | undefined) ?? []) {
    const device = (e.mdeDeviceId ?? e.deviceDnsName) as string | undefined;
    if (device) return `device:${device.toLowerCase()}`;
    const account = e.userAccount as Doc | undefined;
    const name = (account?.userPrincipalName ?? account?.accountName) as string | undefined;
    if (name) return `account:${name.toLowerCase()}`;
  }
  return null;
}

const ingest = write.transaction((alerts: Doc[]) =>
  alerts.map((alert) => {
    const key = firstKey(alert);
    const now = new Date().toISOString();
    let incidentId = key ? (keyIncident.get(key) as { incident_id: number } | undefined)?.incident_id : undefined;
    const outcome = incidentId === undefined ? "new" : "joined";
    if (incidentId === undefined) {
      const doc = { displayName: alert.title ?? "Incident", severity: alert.severity ?? "unknown", status: "active", createdDateTime: now };
      incidentId = Number(addIncident.run(now, JSON.stringify(doc)).lastInsertRowid);
      if (key) addKey.run(key, incidentId);
    }
    const doc = { ...alert, incidentId: String(incidentId), createdDateTime: alert.createdDateTime ?? now };
    putAlert.run(String(alert.id), incidentId, String(doc.createdDateTime), JSON.stringify(doc));
    return { id: alert.id, incidentId: String(incidentId), correlation: outcome };
  }),
);

const tls = baselineTls();
// Typed as the plain-HTTP instance: the routes are the same over either transport.
const app = (tls ? Fastify({ https: tls, bodyLimit: 16 * 1024 * 1024 }) : Fastify({ bodyLimit: 16 * 1024 * 1024 })) as unknown as FastifyInstance;
app.get("/healthz", async () => ({ status: "ok" }));

app.get("/incidents", async (req) => {
  const { status } = req.query as { status?: string };
  const rows = (status ? byStatus.all(tenant, STATUS.indexOf(status)) : newest.all(tenant)) as { doc: string }[];
  return { value: rows.map((r) => incident(r.doc)) };
});

app.get("/incidents/:id", async (req, reply) => {
  const id = Number((req.params as { id: string }).id);
  const row = one.get(tenant, id) as { doc: string } | undefined;
  if (!row) return reply.code(404).send({ error: "not found" });
  const alerts = alertsOf.all(tenant, id) as { doc: string }[];
  return { ...incident(row.doc), alerts: alerts.map((a) => JSON.parse(a.doc) as Doc) };
});

const patch = write.transaction((id: number, assignedTo: string) => {
  const row = current.get(tenant, id) as { doc: string } | undefined;
  if (!row) return undefined;
  const now = new Date().toISOString();
  const doc: Doc = { ...(JSON.parse(row.doc) as Doc), assignedTo, lastUpdateDateTime: now };
  update.run(assignedTo, now, JSON.stringify(doc), tenant, id);
  return doc;
});

app.patch("/incidents/:id", async (req, reply) => {
  const { assignedTo } = req.body as { assignedTo: string };
  const doc = patch(Number((req.params as { id: string }).id), assignedTo);
  if (!doc) return reply.code(404).send({ error: "not found" });
  const out: Doc = {};
  for (const k of INCIDENT) out[k] = doc[k] ?? null;
  return out;
});

app.post("/ingest/alerts", async (req, reply) => {
  const body = req.body as Doc | Doc[];
  const alerts = Array.isArray(body) ? body : Array.isArray(body.value) ? (body.value as Doc[]) : [body];
  if (alerts.length === 0 || alerts.some((a) => typeof a !== "object" || a === null || typeof a.id !== "string")) {
    return reply.code(400).send({ error: "each alert needs an id" });
  }
  return { value: ingest(alerts) };
});

const address = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`listening on ${address}\n`);
process.once(
  "SIGTERM",
  () =>
    void app.close().then(() => {
      read.close();
      write.exec("DROP TABLE IF EXISTS baseline_ingest_alerts; DROP TABLE IF EXISTS baseline_ingest_incidents; DROP TABLE IF EXISTS baseline_ingest_keys;");
      write.close();
    }),
);
