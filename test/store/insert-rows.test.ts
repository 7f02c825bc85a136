import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql, type Transaction } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { insertRows } from "../../src/store/insert-rows.js";
import type { Database } from "../../src/store/tables.js";
import { openTestStore, type TestStore } from "../support/stores.js";

// Multi-row inserts written as SQL text, on SQLite or (TRIAGE_TEST_STORE=postgres) PostgreSQL.
describe("insertRows", () => {
  const dir = mkdtempSync(join(tmpdir(), "triage-insert-rows-"));
  let test: TestStore;
  beforeAll(async () => {
    test = await openTestStore(dir);
    await sql`create table insert_rows_test (n integer not null, "odd ""name""" text, note text default 'by default')`.execute(test.store.db);
  });
  afterAll(async () => {
    await test.store.close();
    await test.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const rows = async () =>
    (
      await sql<{ n: number; odd: string | null; note: string | null }>`select n, "odd ""name""" as odd, note from insert_rows_test order by n`.execute(
        test.store.db,
      )
    ).rows;
  // The table is the test's own, not one of the store's.
  const insert = (tx: Transaction<Database>, values: object[], per: number) => insertRows(tx, "insert_rows_test" as keyof Database & string, values, per);

  it("writes every row, in statements of at most the size given, whatever order each row's keys are in", async () => {
    const values = Array.from({ length: 7 }, (_, i) => (i % 2 ? { n: i, 'odd "name"': `v${i}`, note: null } : { note: `n${i}`, 'odd "name"': null, n: i }));
    await test.store.db.transaction().execute((tx) => insert(tx, values, 3));
    expect(await rows()).toEqual(values.map((v, i) => ({ n: i, odd: v['odd "name"'], note: v.note })));
  });

  it("leaves rows whose columns differ, or hold undefined, to the query builder, which writes them as it would", async () => {
    const mixed = () => [{ n: 1 }, { n: 2, note: "given" }, { n: 3, note: undefined }];
    await sql`delete from insert_rows_test`.execute(test.store.db);
    await test.store.db.transaction().execute((tx) => insert(tx, mixed(), 10));
    const ours = await rows();
    await sql`delete from insert_rows_test`.execute(test.store.db);
    await test.store.db
      .insertInto("insert_rows_test" as never)
      .values(mixed() as never)
      .execute();
    expect(ours).toEqual(await rows());
    expect(ours.map((r) => r.note)[1]).toBe("given");
  });

  it("writes nothing for no rows, and nothing at all when the transaction fails", async () => {
    await sql`delete from insert_rows_test`.execute(test.store.db);
    await test.store.db.transaction().execute((tx) => insert(tx, [], 10));
    await expect(
      test.store.db.transaction().execute(async (tx) => {
        await insert(tx, [{ n: 1 }, { n: 2 }], 1);
        await insert(tx, [{ n: null }], 1);
      }),
    ).rejects.toThrow();
    expect(await rows()).toEqual([]);
  });
});
