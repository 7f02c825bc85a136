/**
 * The audit trail's rows: writing an entity's property changes, and reading them back for the audit
 * endpoint. The change and context shapes are the domain's too, so they are declared in schema/records.ts.
 */
import type { Insertable, Kysely, Transaction } from "kysely";
import type { Database } from "./tables.js";
import { ROWS_PER_INSERT } from "./chunks.js";
import { noteFeedActor } from "./feed.js";
import { insertRows } from "./insert-rows.js";
import type { AuditContext, AuditRecord, PropertyChange } from "../schema/records.js";
// What the audit endpoint serves, as read here: one declaration, shared with the web app.
import type { AuditEntry } from "../schema/triage-api.js";

export type { AuditEntry };

export type { AuditContext };

/** The audit rows of one entity's changes. */
export function auditRows(ctx: AuditContext, changes: readonly PropertyChange[]): Insertable<Database["audit_log"]>[] {
  return changes.map((c) => ({
    tenant_id: ctx.tenantId,
    entity_type: ctx.entityType,
    entity_id: ctx.entityId,
    at: ctx.at,
    actor: ctx.actor,
    request_id: ctx.requestId,
    property: c.property,
    before: c.before === undefined ? null : JSON.stringify(c.before),
    after: c.after === undefined ? null : JSON.stringify(c.after),
  }));
}

/** Writes many entities' audit rows, in the order given, in multi-row statements. */
export async function insertAuditRecords(trx: Transaction<Database>, records: readonly AuditRecord[]): Promise<void> {
  const first = records[0];
  if (first) noteFeedActor(trx, first.context.actor);
  const rows = records.flatMap((r) => auditRows(r.context, r.changes));
  await insertRows(trx, "audit_log", rows, ROWS_PER_INSERT);
}

export async function recordChanges(trx: Transaction<Database>, ctx: AuditContext, changes: readonly PropertyChange[]): Promise<void> {
  noteFeedActor(trx, ctx.actor);
  if (changes.length === 0) return;
  await insertRows(trx, "audit_log", auditRows(ctx, changes), ROWS_PER_INSERT);
}

export async function readAudit(
  db: Kysely<Database>,
  tenantId: string,
  entityType: "incident" | "alert",
  entityId: string,
  afterSeq: number,
  limit: number,
): Promise<AuditEntry[]> {
  const rows = await db
    .selectFrom("audit_log")
    .selectAll()
    .where("tenant_id", "=", tenantId)
    .where("entity_type", "=", entityType)
    .where("entity_id", "=", entityId)
    .where("seq", ">", afterSeq)
    .orderBy("seq")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    seq: r.seq,
    entityType: r.entity_type,
    entityId: r.entity_id,
    at: r.at,
    actor: r.actor,
    requestId: r.request_id,
    property: r.property,
    before: r.before === null ? null : JSON.parse(r.before),
    after: r.after === null ? null : JSON.parse(r.after),
  }));
}
