/**
 * Beta incidents' `recommendedHuntingQueries`, computed when an incident is served under /beta from
 * its alerts as they are then (domain/recommended-hunting.ts), so the queries always name the
 * incident's current devices, accounts, addresses and titles, whatever moved in or out of it.
 */
import type { Store } from "../store/open.js";
import { readExpandedAlerts } from "../store/expanded-alerts.js";
import type { ReadRow } from "../store/read.js";
import { recommendedHuntingQueries } from "../domain/recommended-hunting.js";

/** The queries are built from an incident's first alerts, oldest first: a bounded read, whatever the incident holds. */
export const RECOMMENDATION_ALERTS = 100;

const PROPERTY = "recommendedHuntingQueries";

/**
 * The incident rows with `recommendedHuntingQueries` set in their documents. Rows read ready to send
 * (no document) and a `$select` without the property are left as they are.
 */
export async function withRecommendedHunting(store: Store, tenantId: string, rows: ReadRow[], select: string[] | null): Promise<ReadRow[]> {
  if (select && !select.includes(PROPERTY)) return rows;
  const ids = rows.filter((r) => r.doc !== null).map((r) => Number(r.id));
  if (ids.length === 0) return rows;
  const alerts = await readExpandedAlerts(store, tenantId, ids, "doc", RECOMMENDATION_ALERTS);
  return rows.map((r) => {
    if (r.doc === null) return r;
    const docs = (alerts.get(Number(r.id))?.rows ?? []).flatMap((a) => (a.doc === null ? [] : [JSON.parse(a.doc) as Record<string, unknown>]));
    const doc = JSON.parse(r.doc) as Record<string, unknown>;
    doc[PROPERTY] = recommendedHuntingQueries(docs);
    return { ...r, doc: JSON.stringify(doc) };
  });
}
