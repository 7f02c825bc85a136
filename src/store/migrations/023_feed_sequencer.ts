import { sql, type Kysely } from "kysely";
import { isPostgres } from "../dialect.js";

/**
 * PostgreSQL: a writing transaction inserts its change-feed rows unnumbered (`seq` null) and no longer
 * takes its tenant's counter row; the feed sequencer (feed-sequencer.ts) numbers committed rows in
 * batches. Until now every write of a tenant updated `feed_counters` as its last statement and held the
 * row through its commit's WAL flush, so one tenant's writes committed one at a time.
 *
 * `id` gives unnumbered rows an order and a key (`seq` is null until numbered); the partial index
 * finds them. Numbers stay unique per tenant. SQLite keeps numbering inside the transaction: its
 * writes are serialized anyway, so nothing changes there.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`alter table change_feed drop constraint change_feed_pk`.execute(db);
  await sql`alter table change_feed alter column seq drop not null`.execute(db);
  await sql`alter table change_feed add column id bigint generated always as identity`.execute(db);
  await sql`create unique index change_feed_seq on change_feed (tenant_id, seq)`.execute(db);
  await sql`create index change_feed_unnumbered on change_feed (id) where seq is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  // Rows still unnumbered are numbered after the tenant's last number, in the order they were written.
  await sql`with todo as (
      select id, tenant_id, row_number() over (partition by tenant_id order by id) as n from change_feed where seq is null
    ), counts as (
      select tenant_id, count(*)::integer as n from todo group by tenant_id
    ), bumped as (
      insert into feed_counters (tenant_id, last_seq) select tenant_id, n from counts order by tenant_id
      on conflict (tenant_id) do update set last_seq = feed_counters.last_seq + excluded.last_seq
      returning tenant_id, last_seq
    )
    update change_feed f set seq = b.last_seq - c.n + t.n
    from todo t join counts c on c.tenant_id = t.tenant_id join bumped b on b.tenant_id = t.tenant_id
    where f.id = t.id`.execute(db);
  await sql`drop index change_feed_unnumbered`.execute(db);
  await sql`drop index change_feed_seq`.execute(db);
  await sql`alter table change_feed drop column id`.execute(db);
  await sql`alter table change_feed alter column seq set not null`.execute(db);
  await sql`alter table change_feed add constraint change_feed_pk primary key (tenant_id, seq)`.execute(db);
}
