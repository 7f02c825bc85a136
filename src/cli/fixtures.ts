/**
 * `triage export` and `triage import`: a tenant's incidents and alerts, with their history, as a fixture
 * file and back (docs/fixtures.md). The export streams from one snapshot of the store; the import checks
 * every line and writes everything in one transaction, or nothing.
 */
import { createReadStream, createWriteStream, renameSync, rmSync, type WriteStream } from "node:fs";
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import type { Store } from "../store/open.js";
import type { StoreOptions } from "./store-access.js";
import { checkInstant } from "../schema/date-time.js";
import { exportTenant } from "../features/fixtures/export.js";
import { FixtureError, importTenant, type ImportMode } from "../features/fixtures/import.js";
import { MAX_FIXTURE_LINE_BYTES } from "../features/fixtures/format.js";
import { ensureWebClient } from "../web/client.js";

export interface FixtureCliHelpers {
  dataOption(description?: string): Option;
  dbOption(): Option;
  tenantArg(v: string): string;
  withStore<T>(o: StoreOptions, fn: (store: Store) => Promise<T>): Promise<T>;
  print(json: boolean, value: unknown, text: string): void;
}

/** The environment variable `--anonymize-key` may come from (a key on the command line shows in `ps`). */
export const ANONYMIZE_KEY_ENV = "TRIAGE_ANONYMIZE_KEY";
const MIN_KEY_LENGTH = 16;

function instantArg(v: string): string {
  const c = checkInstant(v);
  if (!c.ok) throw new InvalidArgumentError(c.reason);
  return v;
}

function keyArg(v: string): string {
  if (v.length < MIN_KEY_LENGTH) throw new InvalidArgumentError(`expected a key of at least ${MIN_KEY_LENGTH} characters`);
  return v;
}

/** The lines of a file (or stdin for "-"), each at most `max` bytes: a longer one is refused before it is held whole. */
export async function* fileLines(file: string, max = MAX_FIXTURE_LINE_BYTES): AsyncGenerator<string> {
  const stream = file === "-" ? process.stdin : createReadStream(file);
  let parts: Buffer[] = [];
  let held = 0;
  let lineNo = 1;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, start)) {
        if (held + i - start > max) throw new FixtureError(`Line ${lineNo} is longer than ${max} bytes; nothing was imported.`);
        parts.push(chunk.subarray(start, i));
        yield Buffer.concat(parts).toString("utf8");
        lineNo++;
        parts = [];
        held = 0;
        start = i + 1;
      }
      if (start < chunk.length) {
        parts.push(chunk.subarray(start));
        held += chunk.length - start;
        if (held > max) throw new FixtureError(`Line ${lineNo} is longer than ${max} bytes; nothing was imported.`);
      }
    }
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") throw new Error(`Cannot read ${file}: no such file.`);
    throw e;
  }
  if (held > 0) yield Buffer.concat(parts).toString("utf8");
}

/** Writes lines to a stream, waiting when it is full; a write error fails the next write. */
function lineWriter(out: NodeJS.WritableStream): (line: string) => Promise<void> {
  let failed: Error | null = null;
  out.on("error", (e: Error) => (failed = e));
  return (line) =>
    new Promise((done, fail) => {
      if (failed) return fail(failed);
      if (out.write(`${line}\n`)) done();
      else out.once("drain", () => (failed ? fail(failed) : done()));
    });
}

function closeStream(s: WriteStream): Promise<void> {
  return new Promise((done, fail) => s.end((err?: Error | null) => (err ? fail(err) : done())));
}

export function addFixtureCommands(cli: Command, h: FixtureCliHelpers): void {
  cli
    .command("export")
    .description("write a tenant's incidents, alerts, comments, audit trail and correlation state as a fixture file (JSON Lines of Graph records)")
    .addOption(h.dataOption("data directory"))
    .addOption(h.dbOption())
    .requiredOption("--tenant <id>", "tenant to export", h.tenantArg)
    .option("--out <file>", "where to write the file ('-': standard output)", "-")
    .option("--since <date-time>", "only incidents changed at or after this instant (their own last update or one of their alerts'), each whole", instantArg)
    .option("--anonymize", "replace names, accounts, hosts, addresses, hashes, e-mail addresses, URLs and domains with keyed pseudonyms, consistently")
    .addOption(
      new Option(
        "--anonymize-key <key>",
        `with --anonymize: the HMAC key (16 characters or more), for the same pseudonyms on every export (default: a random key per export)`,
      )
        .env(ANONYMIZE_KEY_ENV)
        .argParser(keyArg),
    )
    .option("--json", "print the summary as JSON")
    .action(
      async (o: StoreOptions & { tenant: string; out: string; since?: string; anonymize?: boolean; anonymizeKey?: string; json?: boolean }, cmd: Command) => {
        if (o.anonymizeKey !== undefined && !o.anonymize && cmd.getOptionValueSource("anonymizeKey") === "cli") {
          cmd.error("error: --anonymize-key goes with --anonymize", { exitCode: 2, code: "triage.usage" });
        }
        const key = o.anonymize ? (o.anonymizeKey !== undefined ? Buffer.from(o.anonymizeKey, "utf8") : randomBytes(32)) : undefined;
        await h.withStore(o, async (store) => {
          const toStdout = o.out === "-";
          const target = toStdout ? "" : resolve(o.out);
          const partial = `${target}.partial`;
          const file = toStdout ? null : createWriteStream(partial, { mode: 0o600 });
          try {
            const counts = await exportTenant(store.db, o.tenant, { since: o.since, anonymizeKey: key }, lineWriter(file ?? process.stdout));
            if (file) {
              await closeStream(file);
              // The file appears whole or not at all.
              renameSync(partial, target);
            }
            const summary = { tenantId: o.tenant, file: toStdout ? null : target, anonymized: key !== undefined, since: o.since ?? null, ...counts };
            const text = `Exported ${counts.incidents} incidents and ${counts.alerts} alerts (${counts.audit} audit rows) of tenant ${o.tenant}${toStdout ? "" : ` to ${target}`}.`;
            if (toStdout) process.stderr.write(`${o.json ? JSON.stringify(summary) : text}\n`);
            else h.print(o.json === true, summary, text);
          } catch (e) {
            if (file) {
              file.destroy();
              rmSync(partial, { force: true });
            }
            throw e;
          }
        });
      },
    );

  cli
    .command("import")
    .description("load a fixture file written by 'triage export' into a tenant (created if missing): all of it in one transaction, or nothing")
    .argument("<file>", "the file ('-': standard input)")
    .addOption(h.dataOption("data directory"))
    .addOption(h.dbOption())
    .requiredOption("--tenant <id>", "tenant to load into (created if the store has none of that id)", h.tenantArg)
    .option("--tenant-name <name>", "display name of the tenant when the import creates it (default: the exported tenant's)")
    .option("--replace", "the tenant may hold incidents and alerts: remove them (with their audit trail and correlation state) first, in the same transaction")
    .option("--upsert", "the tenant may hold incidents and alerts: write the file's over them by id, keep the others")
    .option("--json", "print the summary as JSON")
    .action(
      async (fileArg: string, o: StoreOptions & { tenant: string; tenantName?: string; replace?: boolean; upsert?: boolean; json?: boolean }, cmd: Command) => {
        if (o.replace && o.upsert) cmd.error("error: --replace and --upsert exclude each other", { exitCode: 2, code: "triage.usage" });
        const mode: ImportMode = o.replace ? "replace" : o.upsert ? "upsert" : "empty";
        await h.withStore(o, async (store) => {
          const summary = await importTenant(store.db, o.tenant, fileLines(fileArg), { mode, tenantName: o.tenantName });
          // The web app signs in to each tenant as a first-party client of its own.
          if (summary.createdTenant) await ensureWebClient(store.db, o.tenant);
          h.print(
            o.json === true,
            summary,
            `Imported ${summary.incidents} incidents and ${summary.alerts} alerts (${summary.audit} audit rows) into tenant ${o.tenant}${summary.createdTenant ? " (created)" : ""}.`,
          );
        });
      },
    );
}
