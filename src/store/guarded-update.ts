import type { Transaction } from "kysely";
import type { Database } from "./tables.js";
import { changedColumns } from "./columns.js";

interface Versioned {
  tenant_id: string;
  id: string | number;
  version: number;
}

/**
 * Writes the columns of `after` that differ from `before`, only if the row is still at the version it
 * was read at: a concurrent writer that got there first makes this throw, and its transaction roll back.
 */
export async function updateGuarded<T extends Versioned>(trx: Transaction<Database>, table: "incidents" | "alerts", before: T, after: T): Promise<void> {
  const res = await trx
    .updateTable(table)
    .set(changedColumns(before, after) as never)
    .where("tenant_id", "=", before.tenant_id)
    .where("id", "=", before.id as never)
    .where("version", "=", before.version)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) throw new Error(`${table} row ${String(before.id)} changed concurrently`);
}
