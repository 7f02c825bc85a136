import { sql } from "kysely";
import type { Store } from "./open.js";
import type { Cursor } from "../query/plan.js";
import { CompiledCache, readArrays, slot } from "./prepared.js";
import { projection, type Projection, type ReadRow } from "./read.js";

/**
 * An incident's alerts as `$expand=alerts` serves them: the first `limit` in the order of
 * `GET /security/incidents/{id}/alerts?$orderby=createdDateTime asc`, and where the incident holds
 * more, the position to continue that listing from.
 */
export interface ExpandedAlerts {
  rows: ReadRow[];
  /** After the last row served, within the snapshot the rows were read in; null when none are left. */
  next: Cursor | null;
}

const compiled = new CompiledCache(50);

/**
 * The keys are chosen first and only those rows' documents are read: an incident of thousands of
 * alerts costs an index range and a sort of keys, not thousands of documents. The tenant's alert
 * counter is read in the same statement, so the continuation sees exactly the alerts that existed
 * when these were read.
 */
function statement(store: Store, proj: Projection, limit: number) {
  return compiled.get(`${store.dialect}|${proj}|${limit}`, () =>
    sql`select a.id, ${projection(proj)}, a.created_at, (select next_alert_seq from tenants where id = ${slot("tenant")}) as next_bound
      from alerts a join (
        select id from alerts where tenant_id = ${slot("tenant")} and incident_id = ${slot("incident")}
        order by created_at, id limit ${sql.lit(limit + 1)}
      ) k on a.id = k.id
      where a.tenant_id = ${slot("tenant")}
      order by a.created_at, a.id`.compile(store.db),
  );
}

/** At most `limit` alerts of each incident, oldest first, in the form `proj` asks for. */
export async function readExpandedAlerts(
  store: Store,
  tenantId: string,
  incidentIds: number[],
  proj: Projection,
  limit: number,
): Promise<Map<number, ExpandedAlerts>> {
  const q = statement(store, proj, limit);
  // One bounded statement per incident: a page of incidents costs at most its size times the limit,
  // whatever the incidents hold.
  const results = await Promise.all(incidentIds.map((incident) => readArrays(store, q, { tenant: tenantId, incident })));
  const out = new Map<number, ExpandedAlerts>();
  incidentIds.forEach((incident, i) => {
    const found = results[i]!;
    const served = found.slice(0, limit);
    const rows = served.map((r) => ({ id: r[0] as string | number, doc: r[1] as string | null, ready: r[2] as string | null }));
    const last = served[served.length - 1];
    const next = found.length > limit && last ? { after: [last[3] as string, last[0] as string], bound: Number(last[4]) - 1 } : null;
    out.set(incident, { rows, next });
  });
  return out;
}

/**
 * An incident and its first `limit` alerts (as `readExpandedAlerts` reads them) in one statement: a
 * single round trip for `GET /security/incidents/{id}?$expand=alerts`, and one snapshot for both. The
 * incident's row comes first; its id is read as text (the alerts' ids are) and given back as a number.
 */
function withIncident(store: Store, proj: Projection, alertsProj: Projection, limit: number) {
  return compiled.get(`${store.dialect}|with-incident|${proj}|${alertsProj}|${limit}`, () =>
    sql`select 0 as part, cast(id as text) as id, ${projection(proj)}, null as created_at, null as next_bound
      from incidents where tenant_id = ${slot("tenant")} and id = ${slot("incident")}
      union all
      select 1, a.id, ${projection(alertsProj)}, a.created_at, (select next_alert_seq from tenants where id = ${slot("tenant")})
      from alerts a join (
        select id from alerts where tenant_id = ${slot("tenant")} and incident_id = ${slot("incident")}
        order by created_at, id limit ${sql.lit(limit + 1)}
      ) k on a.id = k.id
      where a.tenant_id = ${slot("tenant")}
      order by part, created_at, id`.compile(store.db),
  );
}

/** One incident with its expanded alerts, or undefined when the tenant has no such incident. */
export async function readIncidentWithAlerts(
  store: Store,
  tenantId: string,
  incidentId: number,
  proj: Projection,
  alertsProj: Projection,
  limit: number,
): Promise<{ incident: ReadRow; alerts: ExpandedAlerts } | undefined> {
  const found = await readArrays(store, withIncident(store, proj, alertsProj, limit), { tenant: tenantId, incident: incidentId });
  const head = found[0];
  if (!head || Number(head[0]) !== 0) return undefined;
  const incident: ReadRow = { id: Number(head[1]), doc: head[2] as string | null, ready: head[3] as string | null };
  const served = found.slice(1, limit + 1);
  const rows = served.map((r) => ({ id: r[1] as string, doc: r[2] as string | null, ready: r[3] as string | null }));
  const last = served[served.length - 1];
  const next = found.length > limit + 1 && last ? { after: [last[4] as string, last[1] as string], bound: Number(last[5]) - 1 } : null;
  return { incident, alerts: { rows, next } };
}
