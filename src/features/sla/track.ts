/**
 * Keeping incidents' SLA clocks along the change feed (docs/sla.md#how-clocks-are-kept). The rule
 * runner (features/automation/runner.ts) calls this for each batch of a tenant's feed, inside the
 * transaction that moves its cursor — so each change is counted once, on one node, and a crash before
 * the commit leaves it to be counted again. An incident gets clocks when Triage creates it (its
 * `created` feed record) after the tenant's first policy was saved; they start at that commit. Each
 * later change moves them (domain/sla.ts: afterChange), with the change's commit time and whether a
 * signed-in person made it.
 */
import { afterChange, targetsMs } from "../../domain/sla.js";
import type { FeedEntry } from "../../store/feed.js";
import { incidentRecordOf } from "../../store/incident-rows.js";
import { findIncidentRow } from "../../store/incidents.js";
import { putSlaState, slaStates, type SlaPolicyTable } from "../../store/sla.js";
import type { StoreTx } from "../../store/transaction.js";
import { policyInputOf } from "./policy.js";

/** Moves the clocks of the incidents `entries` changed; returns how many incidents' clocks were written. */
export async function trackSla(tx: StoreTx, tenantId: string, entries: readonly FeedEntry[], policy: SlaPolicyTable): Promise<number> {
  const targets = targetsMs(policyInputOf(policy));
  const since = Date.parse(policy.created_at);
  const changes = entries.filter((e) => e.entityType === "incident" && e.slaBreach === null);
  if (changes.length === 0) return 0;
  const ids = [...new Set(changes.map((e) => Number(e.entityId)).filter(Number.isSafeInteger))];
  const states = await slaStates(tx, tenantId, ids);
  const touched = new Set<number>();
  for (const e of changes) {
    const id = Number(e.entityId);
    const row = await findIncidentRow(tx, tenantId, id);
    if (!row) continue;
    const rec = incidentRecordOf(row);
    const atMs = Date.parse(e.at);
    const prev = states.get(id) ?? null;
    if (!prev && !(e.changeType === "created" && atMs >= since)) continue;
    const next = afterChange(
      prev,
      { id, severity: rec.doc.severity, status: rec.doc.status, createdMs: atMs },
      { atMs, byPerson: e.byPerson && !e.automated, actor: e.actor },
      targets,
    );
    states.set(id, next);
    touched.add(id);
  }
  for (const id of touched) await putSlaState(tx, tenantId, states.get(id)!);
  return touched.size;
}
