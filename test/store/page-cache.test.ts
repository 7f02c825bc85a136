import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/store/open.js";
import { DEFAULT_SQLITE_CACHE_MB } from "../../src/store/bounded-read.js";

// The write connection's page cache (`--sqlite-cache-mb`): SQLite's own 2 MiB is less than an ingestion batch touches.
describe("the SQLite write connection's page cache", () => {
  const dir = mkdtempSync(join(tmpdir(), "triage-page-cache-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cacheKib = async (file: string, mb?: number) => {
    const store = await openSqliteStore(join(dir, file), mb === undefined ? {} : { sqliteCacheMb: mb });
    try {
      // Read inside a write transaction: the statement runs on the write connection.
      return await store.db.transaction().execute(async (tx) => -(await sql<{ cache_size: number }>`pragma cache_size`.execute(tx)).rows[0]!.cache_size);
    } finally {
      await store.close();
    }
  };

  it("is 8 MiB unless told otherwise, and the size given when told", async () => {
    expect(DEFAULT_SQLITE_CACHE_MB).toBe(8);
    expect(await cacheKib("default.db")).toBe(8 * 1024);
    expect(await cacheKib("given.db", 3)).toBe(3 * 1024);
  });
});
