import { accessSync, constants, mkdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { InvalidArgumentError } from "commander";
import { openPostgresStore, openSqliteStore, type Store } from "../store/open.js";
import type { QueryLimitOptions } from "../store/bounded-read.js";
import { reportPlannerStatisticsFailures } from "../store/planner-statistics.js";

/** Where a command keeps its store: the SQLite file in the data folder, or PostgreSQL with --db. */
export interface StoreOptions {
  data: string;
  db?: string;
}

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/** --db: only a PostgreSQL URL; anything else would silently become a SQLite file named after it. */
export function postgresUrlArg(v: string): string {
  if (!POSTGRES_URL.test(v))
    throw new InvalidArgumentError(
      "expected a PostgreSQL URL (postgres://user@host:5432/database or postgresql://…); leave --db out to use the SQLite file in --data",
    );
  try {
    new URL(v);
  } catch {
    throw new InvalidArgumentError("not a valid URL (expected postgres://user@host:5432/database)");
  }
  return v;
}

export function dbFile(dataDir: string): string {
  return join(resolve(dataDir), "triage.db");
}

/** A PostgreSQL URL fit to print: without its password. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//…@");
}

function dataWayOut(dir: string): string {
  return `Give the user running triage read and write access to ${dir} and the files in it, or choose another folder with --data (or TRIAGE_DATA).`;
}

function errorCode(e: unknown): string | undefined {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 5; c = c.cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

function innermostMessage(e: unknown): string {
  let c: unknown = e;
  while (c instanceof Error && c.cause instanceof Error) c = c.cause;
  return c instanceof Error ? c.message : String(c);
}

/**
 * Creates `dir` and its missing parents, owner-only. Not mkdirSync's `recursive`: where a file system
 * answers ENOENT for a folder whose parent exists (/proc, /sys), Node retries without end at full CPU.
 * Each level is tried at most twice, so this ends after as many steps as the path has parts.
 */
function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
    return;
  } catch (e) {
    const code = errorCode(e);
    if (code === "EEXIST") {
      if (!statSync(dir).isDirectory()) throw new Error(`${dir} exists and is not a folder`);
      return;
    }
    if (code !== "ENOENT") throw e;
  }
  const parent = dirname(dir);
  if (parent === dir) throw new Error(`cannot create ${dir}`);
  makeDirectory(parent);
  mkdirSync(dir, { mode: 0o700 });
}

/** Makes sure the data folder exists and is usable; a message naming it and the way out when not. */
export function prepareDataDir(data: string): string {
  const dir = resolve(data);
  try {
    makeDirectory(dir);
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new Error(`cannot use the data folder ${dir}: ${innermostMessage(e)}. ${dataWayOut(dir)}`, { cause: e });
  }
  return dir;
}

/** The failure to open PostgreSQL, said with the URL (no password) and what to do about it. */
function postgresFailure(url: string, e: unknown): Error {
  const shown = redactUrl(url);
  const code = errorCode(e);
  const reason = innermostMessage(e);
  if (code === "3D000") {
    const u = new URL(url);
    const name = decodeURIComponent(u.pathname.replace(/^\//, "")) || "postgres";
    const args = [u.hostname && `-h ${u.hostname}`, u.port && `-p ${u.port}`, u.username && `-U ${decodeURIComponent(u.username)}`, name]
      .filter(Boolean)
      .join(" ");
    return new Error(`the PostgreSQL database "${name}" does not exist at ${shown}. Create it with: createdb ${args}`, { cause: e });
  }
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EHOSTUNREACH" || code === "ETIMEDOUT") {
    return new Error(`cannot reach PostgreSQL at ${shown}: ${reason}. Check that the server runs and that --db names its host and port.`, { cause: e });
  }
  if (code === "28P01" || code === "28000") {
    return new Error(`PostgreSQL at ${shown} refused the sign-in: ${reason}. Check the user and password in --db (or PGPASSWORD).`, { cause: e });
  }
  return new Error(`cannot open the PostgreSQL store at ${shown}: ${reason}`, { cause: e });
}

/** Opens the store a command names, turning the environment's refusals into messages an operator can act on. */
export async function openCliStore(o: StoreOptions, limits: QueryLimitOptions = {}): Promise<Store> {
  if (o.db) {
    try {
      const store = await openPostgresStore(o.db, undefined, limits);
      // A load (`triage import`, `triage sync`) refreshes the planner's statistics in the background.
      reportPlannerStatisticsFailures(store.db, (e) =>
        process.stderr.write(
          `warning: refreshing PostgreSQL's planner statistics failed (${innermostMessage(e)}); autovacuum or the next large load refreshes them\n`,
        ),
      );
      return store;
    } catch (e) {
      throw postgresFailure(o.db, e);
    }
  }
  const dir = prepareDataDir(o.data);
  const file = dbFile(dir);
  try {
    return await openSqliteStore(file, limits);
  } catch (e) {
    const code = errorCode(e);
    if (code?.startsWith("SQLITE_") || (code && /^E[A-Z]+$/.test(code))) {
      throw new Error(`cannot open the SQLite store ${file}: ${innermostMessage(e)}. ${dataWayOut(dir)}`, { cause: e });
    }
    throw e;
  }
}
