import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { startTriage, type TestTriage } from "../support/triage.js";
import { alert, deviceId } from "../support/alerts.js";
import { TEST_STORE } from "../support/stores.js";
import { down, lz4Available, up } from "../../src/store/migrations/022_alert_doc_lz4.js";

/**
 * PostgreSQL compresses the alerts' documents with LZ4 (migration 022) where the server has it, pglz
 * otherwise; either way an alert reads back as it was sent. SQLite does not compress rows.
 */
describe.skipIf(TEST_STORE !== "postgres")("the alerts' documents on PostgreSQL", () => {
  let t: TestTriage;
  beforeAll(async () => {
    t = await startTriage();
  });
  afterAll(() => t?.close());

  /** An alert whose document is long enough for PostgreSQL to compress (rows past about 2 kB are). */
  const large = (note: string) => alert({ device: deviceId(), extra: { description: `${note} `.repeat(400) } });

  async function ingestedCompression(a: Record<string, unknown>): Promise<string | null> {
    expect((await t.ingest([a])).status).toBe(200);
    const { rows } = await sql<{
      method: string | null;
    }>`select pg_column_compression(doc) as method from alerts where tenant_id = ${t.tenantId} and id = ${a.id as string}`.execute(t.store.db);
    expect(rows).toHaveLength(1);
    return rows[0]!.method;
  }

  it("are compressed with LZ4 when the server has it, and read back whole", async () => {
    const a = large("lz4");
    expect(await ingestedCompression(a)).toBe((await lz4Available(t.store.db as never)) ? "lz4" : "pglz");
    const res = await t.request("GET", `/v1.0/security/alerts_v2/${a.id as string}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.description).toBe(a.description);
  });

  it("are compressed with the server's default without the migration, and with LZ4 once it runs again", async ({ skip }) => {
    if (!(await lz4Available(t.store.db as never))) skip();
    await down(t.store.db as never);
    const before = large("pglz");
    expect(await ingestedCompression(before)).toBe("pglz");
    await up(t.store.db as never);
    expect(await ingestedCompression(large("again"))).toBe("lz4");
    // The documents stored before keep their compression and still read back whole.
    const res = await t.request("GET", `/v1.0/security/alerts_v2/${before.id as string}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.description).toBe(before.description);
  });
});
