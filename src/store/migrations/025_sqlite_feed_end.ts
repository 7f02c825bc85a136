import { sql, type Kysely } from "kysely";
import { isPostgres } from "../dialect.js";

/**
 * SQLite: a tenant's last feed number is its feed's largest number, or its counter row where that is
 * larger (store/feed.ts, `feedEnd`); writes no longer advance the counter row, and pruning raises it to
 * the feed's end before deleting. The rows need no change on the way up: every counter row holds its
 * feed's end already. This migration marks the change, so that a Triage from before it, which numbers
 * from the counter row alone, refuses the store rather than hand out numbers again; and its `down`
 * brings every counter row back to its feed's end, for that version. PostgreSQL's counter rows stay
 * what they were: the end of the feed.
 */
export async function up(_db: Kysely<unknown>): Promise<void> {
  // Nothing to rewrite (see above).
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (isPostgres(db)) return;
  await sql`insert into feed_counters (tenant_id, last_seq) select tenant_id, max(seq) from change_feed where true group by tenant_id
    on conflict (tenant_id) do update set last_seq = max(feed_counters.last_seq, excluded.last_seq)`.execute(db);
}
