import type { Transaction } from "kysely";
import type { Database } from "./tables.js";
import { changedColumns } from "./columns.js";
import { GraphError } from "../errors/graph-error.js";
import { noteChange } from "./feed.js";

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
  if (Number(res.numUpdatedRows) !== 1) throw concurrentUpdate(table, before.id);
  noteChange(trx, before.tenant_id, table === "incidents" ? "incident" : "alert", before.id, "updated");
}

/**
 * The answer when another writer changed the row between this request's read and its write. Nothing
 * of this request was written (its transaction rolls back), so it is safe to send again: a Graph 409
 * says so, rather than a 500 that reads as a fault of the service.
 */
export function concurrentUpdate(table: "incidents" | "alerts", id: string | number): GraphError {
  const what = table === "incidents" ? `The incident '${String(id)}'` : `The alert '${String(id)}'`;
  return new GraphError(
    409,
    "Conflict",
    `${what} was changed by another request while this one was being processed; nothing was written. Send the request again.`,
  );
}
