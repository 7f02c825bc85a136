import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTriage, type TestTriage } from "../support/triage.js";
import { PG_SERVER, TEST_STORE } from "../support/stores.js";
import { alert, deviceId } from "../support/alerts.js";

/**
 * Health tells the truth: when the store cannot take writes, a refused write logs its real cause, and
 * GET /readyz answers a Graph-shaped 503 until the store takes writes again. The store is made unable
 * to write honestly and locally — SQLite with its page limit set to its current size (writes that
 * need a page fail with SQLITE_FULL, as on a full disk), PostgreSQL with the database made read-only.
 */

let t: TestTriage;
let incidentId: string;
const log: string[] = [];

/** Log lines (JSON) at error level and above that name `text`. */
function logged(text: string): Record<string, any>[] {
  return log.filter((l) => l.includes(text)).map((l) => JSON.parse(l) as Record<string, any>);
}

async function alertCount(): Promise<number> {
  const r = await t.store.db
    .selectFrom("alerts")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("tenant_id", "=", t.tenantId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** PostgreSQL: runs `statement` as the administrator, then ends the server's connections so they reconnect under the new setting. */
async function onDatabase(statement: string): Promise<void> {
  const name = new URL(t.storeArgs[1]!).pathname.slice(1);
  const admin = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
  await admin.connect();
  try {
    await admin.query(statement.replace("$DB", name));
    await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()", [name]);
  } finally {
    await admin.end();
  }
  // The pool drops the ended connections when it hears of it.
  await new Promise((r) => setTimeout(r, 300));
}

/** Makes the store unable to take writes, or able again. */
async function storeWritable(writable: boolean): Promise<void> {
  if (TEST_STORE === "postgres") {
    await onDatabase(writable ? "alter database $DB reset default_transaction_read_only" : "alter database $DB set default_transaction_read_only = on");
  } else {
    // SQLite keeps the limit at no less than the file's current size: "1" means "no bigger than now".
    await sql.raw(`pragma max_page_count = ${writable ? 1_000_000_000 : 1}`).execute(t.store.db);
  }
}

beforeAll(async () => {
  t = await startTriage({
    logger: { level: "warn", stream: { write: (line: string) => void log.push(line) } },
    readiness: { intervalMs: 0 },
  });
  const r = await t.ingest([alert({ device: deviceId() })]);
  expect(r.status).toBe(200);
  incidentId = r.body.value[0].incidentId;
});
afterAll(async () => {
  await t?.close();
});

describe("when the store cannot take writes", () => {
  it("is ready while it can", async () => {
    const r = await t.get("/readyz", { authorization: "" });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: "ready" });
  });

  /** The one "request failed" log line of a request; its error. */
  function failureOf(requestId: string): Record<string, any> {
    const failures = logged(requestId).filter((l) => l.msg === "request failed");
    expect(failures).toHaveLength(1);
    return failures[0]!.err as Record<string, any>;
  }

  function expectStoreFullCause(err: Record<string, any>): void {
    if (TEST_STORE === "postgres") {
      expect(err.code).toBe("25006");
      expect(err.message).toContain("read-only transaction");
    } else {
      expect(err.code).toBe("SQLITE_FULL");
      expect(err.message).toContain("full");
    }
    expect(JSON.stringify(err)).not.toContain("cannot rollback");
  }

  it("refuses an ingestion batch, changes nothing, and logs the real cause", async () => {
    await storeWritable(false);
    const before = await alertCount();
    const r = await t.ingest(Array.from({ length: 200 }, () => alert({ device: deviceId(), extra: { description: "x".repeat(2000) } })));
    expect(r.status).toBe(500);
    expect(r.body.error.code).toBe("InternalServerError");
    expect(await alertCount()).toBe(before);
    expectStoreFullCause(failureOf(r.headers.get("request-id")!));
  });

  it("logs the real cause when the failing statement made the store end the transaction itself", async () => {
    // A one-row update that needs new pages: on SQLite, SQLITE_FULL there rolls back the whole
    // transaction (there is no statement journal to undo just the statement), the case whose cause
    // used to be replaced by the wrapper's own failed ROLLBACK.
    let failed: { status: number; requestId: string } | null = null;
    for (let i = 0; i < 10 && !failed; i++) {
      const r = await t.request("POST", `/v1.0/security/incidents/${incidentId}/comments`, { body: { comment: `${i} ${"c".repeat(10_000)}` } });
      if (r.status !== 200) failed = { status: r.status, requestId: r.headers.get("request-id")! };
    }
    expect(failed, "every comment was written").not.toBeNull();
    expect(failed!.status).toBe(500);
    expectStoreFullCause(failureOf(failed!.requestId));
  });

  it("says it is not ready, in Graph's error shape, while liveness still answers", async () => {
    const r = await t.get("/readyz", { authorization: "" });
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(r.body.error.code).toBe("ServiceUnavailable");
    expect(r.body.error.message).toMatch(TEST_STORE === "postgres" ? /refused a write \(25006\)/ : /size limit/);
    expect(r.body.error.innerError["request-id"]).toBe(r.headers.get("request-id"));
    expect(logged("not ready")).toHaveLength(1);
    // Liveness: the process runs and reaches its store (restarting it would not free the disk).
    expect((await t.get("/healthz", { authorization: "" })).status).toBe(200);
  });

  it("is ready again once the store takes writes, and the write then succeeds", async () => {
    await storeWritable(true);
    const r = await t.get("/readyz", { authorization: "" });
    expect(r.status, r.text).toBe(200);
    expect((await t.ingest([alert({ device: deviceId() })])).status).toBe(200);
  });
});
