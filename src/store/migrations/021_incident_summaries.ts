import { sql, type Kysely, type RawBuilder } from "kysely";
import { isPostgres } from "../dialect.js";
import { detectionSource } from "../../schema/enums.js";

/**
 * Each incident's derivation summary (schema/records.ts `IncidentSummary`, domain/incident-summary.ts):
 * what its severity, name and priority score are computed from, summed up over its alerts and
 * entities, so that an ingestion batch adding fresh alerts to a large incident updates it from the
 * summary and the new alerts instead of reading all the incident's alerts and entities again.
 *
 * Filled here for the incidents already stored, from their alerts and entities, as the derivation
 * reads them (store/incident-facts.ts): the highest severity (unknownFutureValue counts as unknown),
 * the two smallest distinct titles, each distinct non-empty category and detection source with its
 * first alert on the timeline (created, then seq), the distinct detectors, the devices and accounts.
 * An incident with more than 200 distinct values of one kind (domain/incident-summary.ts
 * SUMMARY_MAX_VALUES) keeps no summary: ingestion derives it from all its alerts, as before.
 */
const MAX_VALUES = 200;

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("incident_summaries")
    .addColumn("tenant_id", "text", (c) => c.notNull())
    .addColumn("incident_id", "integer", (c) => c.notNull())
    .addColumn("alert_count", "integer", (c) => c.notNull())
    .addColumn("severity", "integer", (c) => c.notNull())
    .addColumn("titles", "text", (c) => c.notNull())
    .addColumn("categories", "text", (c) => c.notNull())
    .addColumn("detection_sources", "text", (c) => c.notNull())
    .addColumn("detector_keys", "text", (c) => c.notNull())
    .addColumn("devices", "integer", (c) => c.notNull())
    .addColumn("accounts", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("incident_summaries_pk", ["tenant_id", "incident_id"])
    .execute();
  await backfill(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("incident_summaries").execute();
}

async function backfill(db: Kysely<unknown>): Promise<void> {
  const pg = isPostgres(db);
  const C = pg ? sql` collate "C"` : sql``;
  const arr = (...xs: RawBuilder<unknown>[]) => (pg ? sql`json_build_array(${sql.join(xs)})` : sql`json_array(${sql.join(xs)})`);
  const agg = (x: RawBuilder<unknown>) => (pg ? sql`coalesce(json_agg(${x})::text, '[]')` : sql`coalesce(json_group_array(${x}), '[]')`);
  const mine = sql`a.tenant_id = s.tenant_id and a.incident_id = s.incident_id`;
  const title = sql`coalesce(a.title, '')${C}`;
  const source = sql.raw(
    `case coalesce(a.detection_source, -1) when -1 then 'unknown' ${detectionSource.members.map((m, i) => `when ${i} then '${m}'`).join(" ")} else 'unknown' end`,
  );
  /** Each distinct value of `value` among the incident's alerts (where `where`), with its first alert: [value, createdAt, seq]. */
  const firstsFrom = (value: RawBuilder<unknown>, where: RawBuilder<unknown>) => {
    const seq = sql`(select min(a.seq) from alerts a where ${mine} and ${value} = f.v and a.created_at = f.at)`;
    return sql`(select ${agg(arr(sql.ref("f.v"), sql.ref("f.at"), seq))} from (select ${value} as v, min(a.created_at) as at from alerts a where ${mine} and ${where} group by ${value}) f)`;
  };

  await sql`insert into incident_summaries (tenant_id, incident_id, alert_count, severity, titles, categories, detection_sources, detector_keys, devices, accounts)
    select tenant_id, id, 0, 0, '[]', '[]', '[]', '[]', 0, 0 from incidents`.execute(db);
  await sql`update incident_summaries as s set
      alert_count = (select count(*) from alerts a where ${mine}),
      severity = (select coalesce(max(case when a.severity = 5 then 0 else a.severity end), 0) from alerts a where ${mine}),
      titles = coalesce((select ${agg(sql.ref("t.v"))} from (
        select min(${title}) as v from alerts a where ${mine}
        union all
        select min(${title}) as v from alerts a where ${mine} and ${title} > (select min(${title}) from alerts a where ${mine})
      ) t where t.v is not null), '[]'),
      categories = ${firstsFrom(sql`a.category`, sql`a.category is not null and a.category <> ''`)},
      detection_sources = ${firstsFrom(source, sql`1 = 1`)},
      detector_keys = (select ${agg(sql.ref("d.k"))} from (select distinct coalesce(a.detector_key, 'unknown') as k from alerts a where ${mine}) d),
      devices = (select count(*) from incident_entities e where e.tenant_id = s.tenant_id and e.incident_id = s.incident_id and substr(e.entity_key, 1, 7) = 'device:'),
      accounts = (select count(*) from incident_entities e where e.tenant_id = s.tenant_id and e.incident_id = s.incident_id and substr(e.entity_key, 1, 8) in ('account:', 'mailbox:'))`.execute(
    db,
  );
  const len = (col: string) => (pg ? sql`json_array_length(${sql.ref(col)}::json)` : sql`json_array_length(${sql.ref(col)})`);
  await sql`delete from incident_summaries where ${len("categories")} > ${MAX_VALUES} or ${len("detection_sources")} > ${MAX_VALUES} or ${len("detector_keys")} > ${MAX_VALUES}`.execute(
    db,
  );
}
