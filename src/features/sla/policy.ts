/**
 * The tenant's SLA policy (docs/sla.md): read it, and replace it. Saving a policy recomputes, in the
 * same transaction, the due times of every open incident's clocks from its start, its current
 * severity and the new targets (a breach already recorded stays recorded; a clock the new targets put
 * in the past breaches at once). The first policy starts the tenant's clocks: incidents created from
 * then on get them (features/sla/track.ts).
 */
import { checkSlaPolicyInput, targetsMs, withDues } from "../../domain/sla.js";
import type { SlaPolicy, SlaPolicyInput } from "../../schema/sla.js";
import { announceSla, findSlaPolicy, openSlaStates, putSlaState, saveSlaPolicy, type SlaPolicyTable } from "../../store/sla.js";
import { inTransaction, type StoreDb, type StoreTx } from "../../store/transaction.js";

/** Open clocks recomputed per statement page. */
const RECOMPUTE_PAGE = 500;

export function policyInputOf(row: SlaPolicyTable | undefined): SlaPolicyInput | null {
  return row ? (JSON.parse(row.definition) as SlaPolicyInput) : null;
}

export function policyView(row: SlaPolicyTable | undefined): SlaPolicy {
  const p = policyInputOf(row);
  return {
    enabled: p ? p.enabled !== false : false,
    targets: p?.targets ?? {},
    createdDateTime: row?.created_at ?? null,
    lastModifiedDateTime: row?.updated_at ?? null,
    lastModifiedBy: row?.updated_by ?? null,
  };
}

export async function getSlaPolicy(db: StoreDb, tenantId: string): Promise<SlaPolicy> {
  return policyView(await findSlaPolicy(db, tenantId));
}

/** Recomputes the due times of the tenant's open clocks for `policy`; returns how many there were. */
export async function recomputeDues(tx: StoreTx, tenantId: string, policy: SlaPolicyInput | null): Promise<number> {
  const targets = targetsMs(policy);
  let after = 0;
  let count = 0;
  for (;;) {
    const page = await openSlaStates(tx, tenantId, after, RECOMPUTE_PAGE);
    for (const s of page) await putSlaState(tx, tenantId, withDues(s, targets));
    count += page.length;
    if (page.length < RECOMPUTE_PAGE) return count;
    after = page[page.length - 1]!.incidentId;
  }
}

export interface PolicyContext {
  tenantId: string;
  actor: string;
  now: string;
}

/** Replaces the tenant's policy (a PUT) and recomputes its open clocks. */
export async function setSlaPolicy(db: StoreDb, ctx: PolicyContext, body: unknown): Promise<SlaPolicy> {
  const input = checkSlaPolicyInput(body);
  const definition: SlaPolicyInput = { enabled: input.enabled !== false, targets: input.targets };
  return inTransaction(db, async (tx) => {
    const before = await findSlaPolicy(tx, ctx.tenantId);
    const row: SlaPolicyTable = {
      tenant_id: ctx.tenantId,
      definition: JSON.stringify(definition),
      created_at: before?.created_at ?? ctx.now,
      updated_at: ctx.now,
      updated_by: ctx.actor,
    };
    await saveSlaPolicy(tx, row);
    await recomputeDues(tx, ctx.tenantId, definition);
    await announceSla(tx);
    return policyView(row);
  });
}
