import { randomBytes } from "node:crypto";
import { join } from "node:path";
import pg from "pg";
import { openPostgresStore, openSqliteStore, type Store } from "../../src/store/open.js";

/**
 * The store the integration suite runs on: SQLite by default, PostgreSQL when TRIAGE_TEST_STORE is
 * "postgres" — one suite, every backend. Each PostgreSQL store is a fresh database, dropped afterwards.
 */
export const TEST_STORE = process.env.TRIAGE_TEST_STORE === "postgres" ? "postgres" : "sqlite";
export const PG_SERVER = process.env.TRIAGE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432";

export interface TestStore {
  store: Store;
  /** Where a second process would open the same store (a file path or a postgres:// URL). */
  location: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty PostgreSQL database; its URL. */
export async function freshPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `triage_test_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`create database ${name}`));
  return {
    url: `${PG_SERVER}/${name}`,
    drop: () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

export async function openTestStore(dir: string): Promise<TestStore> {
  if (TEST_STORE === "postgres") {
    const db = await freshPostgresDatabase();
    const store = await openPostgresStore(db.url);
    return { store, location: db.url, drop: db.drop };
  }
  const file = join(dir, "triage.db");
  return { store: await openSqliteStore(file), location: file, drop: async () => {} };
}
