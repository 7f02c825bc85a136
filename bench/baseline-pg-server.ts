/**
 * The PostgreSQL baseline: the obvious way to write these endpoints with Fastify and node-postgres, on
 * the same database, tables, indexes and SQL shape as Triage (no auth, no OData, no audit, no change
 * feed). Each query is `pool.query(text, values)`, as node-postgres' documentation writes it; the pool
 * has as many connections as Triage's (10). GET one reads the incident and then its alerts; PATCH reads
 * the row under a lock and writes the column and document in a transaction.
 * Usage: node baseline-pg-server.js <postgres url> <tenantId>   (prints "listening on <url>")
 * Serves HTTPS when BENCH_TLS_CERT and BENCH_TLS_KEY name a certificate chain and key (tls.ts).
 */
import Fastify, { type FastifyInstance } from "fastify";
import pg from "pg";
import { baselineTls } from "./tls.js";

const [url, tenant] = process.argv.slice(2) as [string, string];
const pool = new pg.Pool({ connectionString: url, max: 10 });

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
const incident = (d: Doc): Doc => {
  const out: Doc = {};
  for (const k of INCIDENT) out[k] = d[k] ?? null;
  return out;
};
const docs = (rows: { doc: string }[]) => rows.map((r) => JSON.parse(r.doc) as Doc);

const tls = baselineTls();
// Typed as the plain-HTTP instance: the routes are the same over either transport.
const app = (tls ? Fastify({ https: tls }) : Fastify()) as unknown as FastifyInstance;
app.get("/healthz", async () => ({ status: "ok" }));

app.get("/incidents", async (req) => {
  const { status } = req.query as { status?: string };
  const { rows } = status
    ? await pool.query<{ doc: string }>("SELECT doc FROM incidents WHERE tenant_id = $1 AND status = $2 ORDER BY created_at DESC, id DESC LIMIT 50", [
        tenant,
        STATUS.indexOf(status),
      ])
    : await pool.query<{ doc: string }>("SELECT doc FROM incidents WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT 50", [tenant]);
  return { value: docs(rows).map(incident) };
});

app.get("/incidents/:id", async (req, reply) => {
  const id = Number((req.params as { id: string }).id);
  const { rows } = await pool.query<{ doc: string }>("SELECT doc FROM incidents WHERE tenant_id = $1 AND id = $2", [tenant, id]);
  if (!rows[0]) return reply.code(404).send({ error: "not found" });
  const alerts = await pool.query<{ doc: string }>("SELECT doc FROM alerts WHERE tenant_id = $1 AND incident_id = $2 ORDER BY created_at, id", [tenant, id]);
  return { ...incident(JSON.parse(rows[0].doc) as Doc), alerts: docs(alerts.rows) };
});

app.patch("/incidents/:id", async (req, reply) => {
  const { assignedTo } = req.body as { assignedTo: string };
  const id = Number((req.params as { id: string }).id);
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const { rows } = await client.query<{ doc: string }>("SELECT doc FROM incidents WHERE tenant_id = $1 AND id = $2 FOR UPDATE", [tenant, id]);
    if (!rows[0]) {
      await client.query("ROLLBACK");
      return reply.code(404).send({ error: "not found" });
    }
    const now = new Date().toISOString();
    const doc: Doc = { ...(JSON.parse(rows[0].doc) as Doc), assignedTo, lastUpdateDateTime: now };
    await client.query("UPDATE incidents SET assigned_to = $1, updated_at = $2, doc = $3, version = version + 1 WHERE tenant_id = $4 AND id = $5", [
      assignedTo,
      now,
      JSON.stringify(doc),
      tenant,
      id,
    ]);
    await client.query("COMMIT");
    return incident(doc);
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
});

const address = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`listening on ${address}\n`);
process.once("SIGTERM", () => void app.close().then(() => pool.end()));
