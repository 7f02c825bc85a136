import { kusto } from "./kusto.js";
import { translateKql } from "./translate.js";

/**
 * A query through the parts of the language service most queries use (both tables, a join, filters,
 * a summarize with bin, sorting): translating it once loads the library and runs its binder's first,
 * slow pass, which would otherwise fall on the first hunting request after a start.
 */
const WARM_QUERY = `AlertInfo
| where Timestamp > ago(1d) and Severity in ("High", "Medium") and Title has "credential"
| join kind=inner (AlertEvidence | where EntityType == "User" | project AlertId, AccountUpn) on AlertId
| summarize Alerts = dcount(AlertId), Titles = make_set(Title) by AccountUpn, bin(Timestamp, 1h)
| order by Alerts desc
| take 10`;

/**
 * Loads the Kusto language service and translates one query with it, in two turns of the event loop
 * (loading, then the first analysis: each blocks it for a second or so) so that requests waiting in
 * between are served. Answers how long it took, in milliseconds. No I/O; nothing is run in the store.
 */
export async function warmHunting(): Promise<number> {
  const started = performance.now();
  kusto();
  await new Promise<void>((resolve) => setImmediate(resolve));
  translateKql(WARM_QUERY, { now: new Date() });
  return performance.now() - started;
}
