/**
 * `triage sync`: copies incidents and alerts from a Microsoft Graph (a real tenant, or another Triage)
 * into a Triage tenant, incrementally and resumably (features/sync; docs/sync.md).
 */
import { readFileSync } from "node:fs";
import { Option, type Command } from "commander";
import { InvalidArgumentError } from "commander";
import type { Store } from "../store/open.js";
import type { StoreOptions } from "./store-access.js";
import { createTenant, findTenant } from "../store/tenants.js";
import { listSyncWindows } from "../store/sync-windows.js";
import { GraphSource, SOURCE_DEFAULTS } from "../features/sync/graph-source.js";
import { ENTRA_AUTHORITY, tokenProvider } from "../features/sync/credential.js";
import { SYNC_DEFAULTS, syncTenant } from "../features/sync/run.js";
import { graphSink } from "../features/sync/sink.js";
import { Anonymizer } from "../features/fixtures/anonymize.js";

export interface SyncCliHelpers {
  dataOption(description?: string): Option;
  dbOption(): Option;
  tenantArg(v: string): string;
  intArg(min: number, max: number): (v: string) => number;
  withStore<T>(o: StoreOptions, fn: (store: Store) => Promise<T>): Promise<T>;
  print(json: boolean, value: unknown, text: string): void;
}

/** The environment variable that can hold the client secret, so that it stays out of the process list. */
export const SYNC_SECRET_ENV = "TRIAGE_SYNC_CLIENT_SECRET";
/** And the anonymization key. */
export const SYNC_ANONYMIZE_KEY_ENV = "TRIAGE_SYNC_ANONYMIZE_KEY";
const MIN_ANONYMIZE_KEY = 16;

interface SyncCliOptions extends StoreOptions {
  from: string;
  tenant: string;
  into?: string;
  clientId?: string;
  clientSecret?: string;
  certificate?: string;
  authority: string;
  graphVersion: "v1.0" | "beta";
  pageSize: number;
  alertPageSize: number;
  maxPages?: number;
  maxRetries: number;
  maxRetryAfter: number;
  status?: boolean;
  anonymizeKey?: string;
  json?: boolean;
}

/** An https:// base URL without credentials, query or fragment (http:// only on loopback, for tests). */
function baseUrlArg(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new InvalidArgumentError("expected a URL such as https://graph.microsoft.com");
  }
  const loopback = u.hostname === "127.0.0.1" || u.hostname === "localhost" || u.hostname === "[::1]";
  if (u.protocol !== "https:" && !(u.protocol === "http:" && loopback)) throw new InvalidArgumentError("expected an https:// URL");
  if (u.username || u.password || u.search || u.hash) throw new InvalidArgumentError("expected a URL without credentials, query or fragment");
  if (u.pathname !== "/" && u.pathname !== "")
    throw new InvalidArgumentError("expected the service's base URL, without a path (such as https://graph.microsoft.com)");
  return u.origin;
}

export function addSyncCommand(cli: Command, h: SyncCliHelpers): void {
  cli
    .command("sync")
    .description("copy incidents and alerts from a Microsoft Graph tenant into a Triage tenant, incrementally")
    .addOption(h.dataOption("data directory (holds triage.db)"))
    .addOption(h.dbOption())
    .requiredOption("--from <url>", "the Graph to read, such as https://graph.microsoft.com", baseUrlArg)
    .requiredOption("--tenant <id>", "the source tenant (its id or domain)")
    .option("--into <id>", "the Triage tenant to write (created if missing; default: the source tenant's id)", h.tenantArg)
    .option("--client-id <id>", "the app that reads the source (application permissions SecurityIncident.Read.All and SecurityAlert.Read.All)")
    .option("--client-secret <secret>", `its client secret (or set ${SYNC_SECRET_ENV})`)
    .option("--certificate <file>", "a PEM file with its certificate and unencrypted private key, instead of a secret")
    .option("--authority <url>", "the token service", baseUrlArg, ENTRA_AUTHORITY)
    .addOption(new Option("--graph-version <v>", "the Graph version to read").choices(["v1.0", "beta"]).default("v1.0"))
    .option("--page-size <n>", "incidents a page, with their alerts", h.intArg(1, 50), SYNC_DEFAULTS.incidentPageSize)
    .option("--alert-page-size <n>", "alerts a page", h.intArg(1, 1000), SYNC_DEFAULTS.alertPageSize)
    .option("--max-pages <n>", "stop after this many pages (the next run goes on)", h.intArg(1, 10_000_000))
    .option("--max-retries <n>", "retries of one page when throttled or unavailable", h.intArg(0, 100), SOURCE_DEFAULTS.maxRetries)
    .option("--max-retry-after <s>", "the longest wait for one retry, in seconds", h.intArg(1, 3600), SOURCE_DEFAULTS.maxRetryAfterSeconds)
    .option(
      "--anonymize-key <key>",
      `anonymize what is copied with this HMAC key (${MIN_ANONYMIZE_KEY} characters or more; the same key on every run into a tenant; or set ${SYNC_ANONYMIZE_KEY_ENV})`,
    )
    .option("--status", "print how far each collection has been copied, and read nothing")
    .option("--json", "print the summary as JSON")
    .action(async (o: SyncCliOptions) => {
      const into = o.into ?? o.tenant;
      const sourceKey = `${o.from}/${o.graphVersion}#${o.tenant}`;
      await h.withStore(o, async (store) => {
        if (o.status) {
          const windows = (await listSyncWindows(store.db, into)).map((w) => ({
            source: w.source,
            collection: w.collection,
            since: w.since,
            pages: w.pages,
            records: w.records,
            updatedAt: w.updated_at,
          }));
          h.print(
            o.json === true,
            windows,
            windows.map((w) => `${w.source}  ${w.collection}: ${w.records} records in ${w.pages} pages, up to ${w.since ?? "(nothing yet)"}`).join("\n") ||
              "(nothing synced into this tenant)",
          );
          return;
        }
        if (!o.clientId) throw new Error("--client-id is needed");
        const secret = o.clientSecret ?? process.env[SYNC_SECRET_ENV];
        if (o.certificate && secret) throw new Error(`give a client secret or --certificate, not both`);
        if (!o.certificate && !secret) throw new Error(`give --client-secret (or ${SYNC_SECRET_ENV}) or --certificate`);
        let certificatePem: string | undefined;
        if (o.certificate) {
          try {
            certificatePem = readFileSync(o.certificate, "utf8");
          } catch (e) {
            throw new Error(`Cannot read ${o.certificate}: ${(e as Error).message}`);
          }
        }
        const anonymizeKey = o.anonymizeKey ?? process.env[SYNC_ANONYMIZE_KEY_ENV];
        if (anonymizeKey !== undefined && anonymizeKey.length < MIN_ANONYMIZE_KEY)
          throw new Error(`the anonymization key must be ${MIN_ANONYMIZE_KEY} characters or more`);
        if (!(await findTenant(store.db, into))) await createTenant(store.db, into, `Synced from ${o.from}`);
        const abort = new AbortController();
        const stop = () => abort.abort(new Error("interrupted"));
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        try {
          const source = new GraphSource({
            from: o.from,
            version: o.graphVersion,
            token: tokenProvider({ authority: o.authority, tenant: o.tenant, clientId: o.clientId, secret, certificatePem }),
            maxRetries: o.maxRetries,
            maxRetryAfterSeconds: o.maxRetryAfter,
            signal: abort.signal,
            onRetry: (e) => {
              if (o.json !== true) process.stderr.write(`retrying in ${(e.waitMs / 1000).toFixed(1)} s (${e.reason}): ${e.url}\n`);
            },
          });
          const started = Date.now();
          const unknown = new Set<string>();
          const report = await syncTenant(store.db, {
            tenantId: into,
            sourceKey,
            source,
            sink: graphSink({
              fetchIncident: (id) => source.incident(id),
              anonymizer: anonymizeKey === undefined ? undefined : new Anonymizer(Buffer.from(anonymizeKey, "utf8")),
              onUnknownProperty: (type, name) => {
                if (!unknown.has(`${type}.${name}`) && o.json !== true)
                  process.stderr.write(`not copied: ${type} property '${name}', which Triage does not know\n`);
                unknown.add(`${type}.${name}`);
              },
            }),
            incidentPageSize: o.pageSize,
            alertPageSize: o.alertPageSize,
            maxPages: o.maxPages,
            signal: abort.signal,
          });
          const seconds = (Date.now() - started) / 1000;
          h.print(
            o.json === true,
            { tenantId: into, source: sourceKey, ...report, seconds, propertiesNotCopied: [...unknown].sort() },
            `Synced ${report.incidents} incidents and ${report.alerts} alerts into tenant ${into} in ${report.pages} pages (${seconds.toFixed(1)} s)` +
              `${report.caughtUp ? "" : "; stopped at --max-pages, run again to go on"}${report.expandDropped ? "; incidents read without $expand=alerts (the source failed on it)" : ""}.`,
          );
        } finally {
          process.removeListener("SIGINT", stop);
          process.removeListener("SIGTERM", stop);
        }
      });
    });
}
