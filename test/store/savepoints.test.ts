import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inTransaction, withSavepoint } from "../../src/store/transaction.js";
import { countRequest } from "../../src/store/rate-limits.js";
import { openTestStore, type TestStore } from "../support/stores.js";

// A savepoint undoes only its own writes, whatever savepoints came before it in the transaction, and
// transactions one after another take them the same way (their names repeat; SQLite, or PostgreSQL
// with TRIAGE_TEST_STORE=postgres).
describe("savepoints", () => {
  const dir = mkdtempSync(join(tmpdir(), "triage-savepoints-"));
  let test: TestStore;
  beforeAll(async () => {
    test = await openTestStore(dir);
  });
  afterAll(async () => {
    await test.store.close();
    await test.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const keys = async (prefix: string) =>
    (await test.store.db.selectFrom("rate_limits").select("key").where("key", "like", `${prefix}%`).execute()).map((r) => r.key).sort();
  const write = (tx: Parameters<Parameters<typeof inTransaction>[1]>[0], key: string) => countRequest(tx, key, 60_000);
  const fails = async (p: Promise<unknown>) => expect(p).rejects.toThrow("undo");

  it("undoes a failed one alone: after others, nested in one, and in every transaction of a run", async () => {
    for (let round = 0; round < 3; round++) {
      const p = `sp${round}-`;
      await inTransaction(test.store.db, async (tx) => {
        await withSavepoint(tx, () => write(tx, `${p}a`));
        await fails(
          withSavepoint(tx, async () => {
            await write(tx, `${p}b`);
            throw new Error("undo");
          }),
        );
        await withSavepoint(tx, async () => {
          await write(tx, `${p}c`);
          await fails(
            withSavepoint(tx, async () => {
              await write(tx, `${p}d`);
              throw new Error("undo");
            }),
          );
          await withSavepoint(tx, () => write(tx, `${p}e`));
        });
      });
      expect(await keys(p)).toEqual([`${p}a`, `${p}c`, `${p}e`]);
    }
  });
});
