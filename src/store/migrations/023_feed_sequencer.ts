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
  // Rows still unnumbered are numbered after the tenant's last number, in the order they were written
  // (no node runs while a migration goes down).
  await sql`insert into feed_counters (tenant_id, last_seq)
    select distinct tenant_id, 0 from change_feed where seq is null
    on conflict (tenant_id) do nothing`.execute(db);
  await sql`update change_feed f set seq = c.last_seq + t.n
    from (select id, tenant_id, row_number() over (partition by tenant_id order by id) as n from change_feed where seq is null) t
    join feed_counters c on c.tenant_id = t.tenant_id
    where f.id = t.id`.execute(db);
  await sql`update feed_counters c set last_seq = m.top
    from (select tenant_id, max(seq) as top from change_feed group by tenant_id) m
    where m.tenant_id = c.tenant_id and m.top > c.last_seq`.execute(db);
  await sql`drop index change_feed_unnumbered`.execute(db);
  await sql`drop index change_feed_seq`.execute(db);
  await sql`alter table change_feed drop column id`.execute(db);
  await sql`alter table change_feed alter column seq set not null`.execute(db);
  await sql`alter table change_feed add constraint change_feed_pk primary key (tenant_id, seq)`.execute(db);
}
