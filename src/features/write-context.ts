/**
 * Who makes a change, for whom and when: what every write path is called with, and what its audit
 * rows record. Declared with the features, the floor that carries changes out.
 */
import { noteByPerson } from "../store/feed.js";
import type { StoreTx } from "../store/transaction.js";

export interface WriteContext {
  tenantId: string;
  actor: string;
  requestId: string | null;
  now: string;
  /**
   * A signed-in person makes the change (a delegated token: the web app, a user's script): it counts as
   * the incident's first action for its SLA (docs/sla.md#first-action). Absent for apps, ingestion
   * and automation rules.
   */
  person?: boolean;
}

/** Marks the transaction's changes as a person's when they are (call at the start of an incident write). */
export function notePerson(tx: StoreTx, ctx: WriteContext): void {
  if (ctx.person) noteByPerson(tx);
}
