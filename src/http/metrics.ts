import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Store } from "../store/open.js";
import type { IngestResult } from "../domain/ingest/result.js";
import type { DeliveriesInFlight, DeliveryObserver, DeliveryOutcome } from "../features/notifications/engine.js";
import { notificationBacklog } from "../store/subscriptions.js";

/** How an advanced-hunting query ended: answered, refused as the query's fault (KQL that does not parse or check, a value it cannot convert), stopped at the time limit, over the row limit, or failed otherwise. */
export type HuntingOutcome = "ok" | "invalid" | "timeout" | "too_many_rows" | "failed";

import { UNMATCHED_ROUTE } from "./route-label.js";

export { UNMATCHED_ROUTE };

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const HUNTING_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const ROW_BUCKETS = [0, 1, 10, 100, 1_000, 10_000, 100_000];
// From a commit to the receiver's 2xx: the batch window (0.5 s) at best, up to Graph's 4-hour retry period.
const LAG_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 14_400];
const STATEMENT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

/**
 * Triage's Prometheus metrics: one registry per server, so two servers in one process (the tests)
 * keep their own counts. Every label has a bounded set of values: routes are Fastify's templates
 * (`/v1.0/security/incidents/:id`), never the URL a client sent.
 */
export class Metrics implements DeliveryObserver {
  readonly registry = new Registry();
  private readonly requests: Histogram<"method" | "route" | "status">;
  private readonly errors: Counter<"method" | "route" | "status">;
  private readonly alerts: Counter<"outcome">;
  private readonly batches: Histogram;
  private readonly correlation: Counter<"decision">;
  private readonly statements: Histogram<"path">;
  private readonly faults: Counter<"fault" | "source">;
  private readonly hunting: Histogram<"outcome">;
  private readonly huntingRows: Histogram;
  private readonly deliveries: Counter<"outcome">;
  private readonly retries: Counter;
  private readonly lag: Histogram;
  private store: Store | undefined;
  private inFlight: (() => DeliveriesInFlight) | undefined;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "triage_" });
    this.requests = new Histogram({
      name: "triage_http_request_duration_seconds",
      help: "Time from a request's arrival to its response, per route template, method and status (its _count is the request rate).",
      labelNames: ["method", "route", "status"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.errors = new Counter({
      name: "triage_http_errors_total",
      help: "Responses with a 4xx or 5xx status, per route template, method and status.",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.alerts = new Counter({
      name: "triage_ingest_alerts_total",
      help: "Alerts ingested, by outcome: created (new to the store) or updated (sent again).",
      labelNames: ["outcome"],
      registers,
    });
    this.batches = new Histogram({
      name: "triage_ingest_batch_duration_seconds",
      help: "Time to validate, correlate and commit one ingestion batch.",
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.correlation = new Counter({
      name: "triage_correlation_decisions_total",
      help: "Correlation decisions: new alerts that opened a new incident or joined one, incidents merged, and joins or merges refused by the incident size limits.",
      labelNames: ["decision"],
      registers,
    });
    this.statements = new Histogram({
      name: "triage_store_statement_duration_seconds",
      help: "Time of each store statement, by path: builder (writes and transactions), read (hot reads), bounded (listings with a time limit).",
      labelNames: ["path"],
      buckets: STATEMENT_BUCKETS,
      registers,
    });
    this.faults = new Counter({
      name: "triage_faults_injected_total",
      help: "Faults injected on the Graph surface (docs/testing-faults.md), by fault (429, 500, 502, 503, 504, latency, drop) and source (rule, or the preset that injected it).",
      labelNames: ["fault", "source"],
      registers,
    });
    this.hunting = new Histogram({
      name: "triage_hunting_query_duration_seconds",
      help: "Time of an advanced-hunting query, from checking its KQL to its last row, by outcome: ok, invalid (the query's fault: KQL that does not parse or check, a value it cannot convert), timeout (--hunting-timeout), too_many_rows, failed.",
      labelNames: ["outcome"],
      buckets: HUNTING_BUCKETS,
      registers,
    });
    this.huntingRows = new Histogram({
      name: "triage_hunting_rows_returned",
      help: "Rows an answered advanced-hunting query returned.",
      buckets: ROW_BUCKETS,
      registers,
    });
    this.deliveries = new Counter({
      name: "triage_notification_deliveries_total",
      help: "Change-notification deliveries (one POST to a receiver) by outcome: delivered (acknowledged with a 2xx), failed (to be retried), dropped (failing at the end of the retry period, or not sent to an endpoint that answers too slowly).",
      labelNames: ["outcome"],
      registers,
    });
    this.retries = new Counter({
      name: "triage_notification_retries_total",
      help: "Change-notification deliveries that were retries of a failed one.",
      registers,
    });
    this.lag = new Histogram({
      name: "triage_notification_delivery_lag_seconds",
      help: "Per notification delivered, the time from its change's commit to the receiver's 2xx (its _count is the notifications delivered).",
      buckets: LAG_BUCKETS,
      registers,
    });
    // Read from the store at scrape time, at most once per scrape for all of them.
    let backlog: ReturnType<typeof notificationBacklog> | undefined;
    const readBacklog = () => {
      const store = this.store;
      if (!store) return Promise.resolve(undefined);
      backlog ??= notificationBacklog(store.db, new Date().toISOString()).finally(() => setImmediate(() => (backlog = undefined)));
      return backlog.catch(() => undefined);
    };
    const backlogGauge = (name: string, help: string, read: (b: Awaited<ReturnType<typeof notificationBacklog>>) => number) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          const b = await readBacklog();
          if (b) this.set(read(b));
        },
      });
    backlogGauge("triage_notification_subscriptions", "Change-notification subscriptions not yet expired, across every tenant.", (b) => b.subscriptions);
    backlogGauge("triage_notification_subscriptions_failing", "Subscriptions whose receiver failed the last attempt (retrying).", (b) => b.failing);
    backlogGauge(
      "triage_notification_backlog",
      "Change-feed entries past the subscriptions' cursors, summed: what the delivery engine has still to look at (before each subscription's filter).",
      (b) => b.entries,
    );
    backlogGauge("triage_notification_backlog_age_seconds", "Age of the oldest change-feed entry some subscription has still to handle (0 when none).", (b) =>
      b.oldestAt === null ? 0 : Math.max(0, (Date.now() - Date.parse(b.oldestAt)) / 1000),
    );
    backlogGauge(
      "triage_notification_lifecycle_pending",
      "Lifecycle notifications (reauthorizationRequired, subscriptionRemoved, missed) waiting to be sent, new or retrying.",
      (b) => b.lifecycle,
    );
    // What is in flight on this node, as the delivery engine tells it when scraped.
    const readInFlight = () => this.inFlight?.();
    const inFlightGauge = (name: string, help: string, field: keyof DeliveriesInFlight) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const now = readInFlight();
          if (now) this.set(now[field]);
        },
      });
    inFlightGauge("triage_notification_deliveries_in_flight", "Change-notification deliveries under way on this node.", "deliveries");
    inFlightGauge(
      "triage_notification_body_bytes_in_flight",
      "Bytes the bodies of this node's deliveries in flight hold (bounded by notifications.maxInFlightBytes).",
      "bodyBytes",
    );
    inFlightGauge(
      "triage_notification_deliveries_waiting_for_memory",
      "Deliveries on this node waiting for room in notifications.maxInFlightBytes before they build their body.",
      "waitingForBytes",
    );
    // Read at scrape time: nothing is spent on them between scrapes.
    const pools = () => this.store?.pools() ?? [];
    for (const field of ["total", "idle", "waiting"] as const) {
      new Gauge({
        name: `triage_store_pool_${field}`,
        help: {
          total: "Connections (PostgreSQL) or read workers (SQLite) open, per pool.",
          idle: "Connections or read workers free, per pool.",
          waiting: "Callers waiting for a connection or read worker, per pool.",
        }[field],
        labelNames: ["pool"],
        registers,
        collect() {
          for (const use of pools()) this.set({ pool: use.pool }, use[field]);
        },
      });
    }
  }

  /**
   * Times every response of `app`, labelled by its route template, and every statement of `store`;
   * stops timing the store when the app closes. One app and store per Metrics.
   */
  install(app: FastifyInstance, store: Store): void {
    this.store = store;
    store.observe({ statement: (path, seconds) => this.statements.observe({ path }, seconds) });
    app.addHook("onClose", async () => store.observe(undefined));
    app.addHook("onResponse", (req, reply, done) => {
      const labels = { method: req.method, route: req.routeOptions.url ?? UNMATCHED_ROUTE, status: reply.statusCode };
      this.requests.observe(labels, reply.elapsedTime / 1000);
      if (reply.statusCode >= 400) this.errors.inc(labels);
      done();
    });
  }

  /** One committed ingestion batch: its alerts' outcomes and correlation decisions, as the feature answered them. */
  ingested(results: readonly IngestResult[], seconds: number): void {
    this.batches.observe(seconds);
    let created = 0;
    let newIncidents = 0;
    let joined = 0;
    let merged = 0;
    let refused = 0;
    for (const r of results) {
      // An alert sent again stays where it is: only a new alert is a placement decision.
      if (r.outcome !== "created") continue;
      created++;
      if (r.correlation.incident === "new") newIncidents++;
      else joined++;
      merged += r.merged.length;
      refused += (r.correlation.notJoined?.length ?? 0) + r.mergeRefused.length;
    }
    if (created > 0) this.alerts.inc({ outcome: "created" }, created);
    if (results.length > created) this.alerts.inc({ outcome: "updated" }, results.length - created);
    if (newIncidents > 0) this.correlation.inc({ decision: "new" }, newIncidents);
    if (joined > 0) this.correlation.inc({ decision: "joined" }, joined);
    if (merged > 0) this.correlation.inc({ decision: "merged" }, merged);
    if (refused > 0) this.correlation.inc({ decision: "refused" }, refused);
  }

  /** One injected fault: its kind, and the rule or preset behind it (both bounded sets). */
  faultInjected(fault: string, source: string): void {
    this.faults.inc({ fault, source });
  }

  /** One advanced-hunting query: how it ended, how long it took, and (answered) its rows. */
  hunted(outcome: HuntingOutcome, seconds: number, rows: number): void {
    this.hunting.observe({ outcome }, seconds);
    if (outcome === "ok") this.huntingRows.observe(rows);
  }

  /** One change-notification delivery attempt (the delivery engine's observer). */
  deliveryAttempted(attempt: { outcome: DeliveryOutcome; notifications: number; retry: boolean; lagSeconds: readonly number[] }): void {
    this.deliveries.inc({ outcome: attempt.outcome });
    if (attempt.retry) this.retries.inc();
    for (const s of attempt.lagSeconds) this.lag.observe(s);
  }

  watchInFlight(read: () => DeliveriesInFlight): void {
    this.inFlight = read;
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/**
 * The metrics listener: a plain HTTP server, apart from the API's, answering GET /metrics and
 * nothing else (404). It is not a Fastify route, so it is not in the OpenAPI document.
 */
export async function listenMetrics(metrics: Metrics, host: string, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("Method not allowed\n");
      return;
    }
    if (path !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not found: the metrics are at /metrics\n");
      return;
    }
    metrics.scrape().then(
      ({ contentType, body }) => res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" }).end(req.method === "HEAD" ? undefined : body),
      () => res.writeHead(500, { "content-type": "text/plain" }).end("Collecting the metrics failed\n"),
    );
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return { server, url: `http://${shown}:${address.port}/metrics` };
}
