import type SQLite from "better-sqlite3";
import { SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver } from "kysely";

/**
 * Kysely's SQLite dialect, except that a failed transaction keeps its cause.
 *
 * On some errors — SQLITE_FULL (disk or size limit), SQLITE_IOERR, SQLITE_NOMEM — SQLite rolls the
 * transaction back itself. Kysely's transaction wrapper then issues its own ROLLBACK, which fails
 * with "cannot rollback - no transaction is active", and that error is the one it throws: the real
 * cause was lost, and the log of a write refused for a full disk named only the rollback. A rollback
 * of a transaction SQLite has already ended is skipped, so the original error is what propagates.
 */
export function sqliteDialect(native: SQLite.Database): SqliteDialect {
  return new (class extends SqliteDialect {
    override createDriver(): Driver {
      return new CauseKeepingDriver(native);
    }
  })({ database: native });
}

class CauseKeepingDriver extends SqliteDriver {
  constructor(private readonly native: SQLite.Database) {
    super({ database: native });
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (!this.native.inTransaction) return;
    await super.rollbackTransaction(connection);
  }
}
