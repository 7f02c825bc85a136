/**
 * `npm run bench:delivery`: change notifications under load. A real `triage serve
 * --allow-private-destinations` on a fresh store, HTTPS receivers on loopback in this process (their
 * certificate is issued by a local CA that the server is told to trust with NODE_EXTRA_CA_CERTS, as a
 * receiver with a real certificate would be trusted), and `--subscriptions` subscriptions to
 * `security/alerts_v2` (changeType `created`), each with its own notificationUrl.
 *
 *   npm run bench:delivery -- [--store sqlite|postgres] [--subscriptions 100] [--rate 1000] [--duration 15]
 *                             [--batch 50] [--ingest-duration 10] [--ingest-connections 4] [--cost-rounds 3]
 *                             [--drain 120] [--pg postgres://postgres@127.0.0.1:5432/[DATABASE]] [--profile]
 *
 * Phases, on one server:
 *  1. ingestion as fast as it goes (autocannon, `--ingest-connections`, 100 alerts a request), no subscriptions;
 *  2. the subscriptions are created; alerts are ingested at `--rate` a second (`--batch` a request, on a
 *     fixed schedule: bench/soak-load.ts) for `--duration` seconds, and the bench waits until every
 *     subscription has been told of every alert (at most `--drain` seconds more);
 *  3. ingestion as fast as it goes again, with the subscriptions delivering;
 *  4. the subscriptions are deleted and phase 1 runs again;
 *  5. phases 3 and 4 again, with `--subscriptions` new subscriptions, until `--cost-rounds` rounds have run. Each run
 *     with subscriptions is compared with the mean of the runs without on either side of it, so drift
 *     falls on both sides; the cost printed is the median of the rounds'.
 *
 * Latency is, per notification, from the commit of its alert (the `at` of the alert's `created` row in the
 * change feed, written in the ingesting transaction) to the moment the receiver answered 202. With
 * `--profile` the server runs under `node --cpu-prof` (profile in .bench/profiles/).
 *
 * Prints p50/p99/max latency, notifications and POSTs received, duplicates, ingestion rates and the
 * load average; writes .bench/delivery-STORE-results.json. See docs/benchmarks.md.
 */
import { createServer, type Server } from "node:https";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { BENCH_DIR, BUILD_DIR, TENANT, TRIAGE_BIN, cpuSeconds, fmt, importDist, median, readFlags, run, runLoader, sleep } from "./common.js";
import type { AutocannonResult, LoadSpec } from "./load.js";
import type { PacedResult, PacedSpec } from "./soak-load.js";
import { startTriage, type Running } from "./servers.js";
import { ensureApps, feedEndOf, getToken, INGEST_TENANT, query, storeArgs, type StoreKind, type StoreRef } from "./stores.js";
import type * as TlsMod from "../src/identity/tls.js";
import { summarizeProfile } from "./profile.js";
import { readdirSync, statSync } from "node:fs";

interface Options {
  store: StoreKind;
  subscriptions: number;
  rate: number;
  duration: number;
  batch: number;
  ingestDuration: number;
  ingestConnections: number;
  costRounds: number;
  drain: number;
  pg: string;
  profile: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    store: "sqlite",
    subscriptions: 100,
    rate: 1000,
    duration: 15,
    batch: 50,
    ingestDuration: 10,
    ingestConnections: 4,
    costRounds: 3,
    drain: 120,
    pg: process.env.TRIAGE_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/",
    profile: false,
  };
  readFlags(argv, (flag, { value, num }) => {
    switch (flag) {
      case "--store":
        o.store = value() as StoreKind;
        break;
      case "--subscriptions":
        o.subscriptions = num();
        break;
      case "--rate":
        o.rate = num();
        break;
      case "--duration":
        o.duration = num();
        break;
      case "--batch":
        o.batch = num();
        break;
      case "--ingest-duration":
        o.ingestDuration = num();
        break;
      case "--ingest-connections":
        o.ingestConnections = num();
        break;
      case "--cost-rounds":
        o.costRounds = num();
        break;
      case "--drain":
        o.drain = num();
        break;
      case "--pg":
        o.pg = value();
        break;
      case "--profile":
        o.profile = true;
        break;
      default:
        throw new Error(`unknown option ${flag}`);
    }
  });
  if (o.store !== "sqlite" && o.store !== "postgres") throw new Error("--store: sqlite or postgres");
  if (!Number.isInteger(o.subscriptions) || o.subscriptions > 1000) throw new Error("--subscriptions: 1 to 1000 (the per-tenant quota)");
  if (!Number.isInteger(o.costRounds) || o.costRounds < 1 || o.costRounds > 20) throw new Error("--cost-rounds: 1 to 20");
  return o;
}

const log = (s: string) => process.stderr.write(`[delivery ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

/** A fresh store for each run: nothing of an earlier run's feed or subscriptions is left. */
async function freshStore(o: Options): Promise<StoreRef> {
  const dataDir = join(BENCH_DIR, `delivery-${o.store}`);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  let dbUrl: string | null = null;
  if (o.store === "postgres") {
    const url = new URL(o.pg);
    // A database named in --pg is the one used (dropped and made again); otherwise triage_bench_delivery.
    const name = decodeURIComponent(url.pathname.replace(/^\//, "")) || "triage_bench_delivery";
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`--pg: the database name '${name}' must be lower-case letters, digits and _`);
    url.pathname = "/postgres";
    const admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
    try {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.query(`create database ${name}`);
    } finally {
      await admin.end();
    }
    url.pathname = `/${name}`;
    dbUrl = url.toString();
  }
  const ref: StoreRef = { kind: o.store, size: 0, dataDir, dbUrl, appFile: join(dataDir, "bench-apps.json"), label: `${o.store}, fresh` };
  await run(process.execPath, [TRIAGE_BIN, "tenants", "create", ...storeArgs(ref), "--id", TENANT, "--name", "Contoso", "--json"]);
  return ref;
}

/** Receipts: per notification, the alert it names and when the receiver answered; and per-POST counts. */
interface Receipts {
  alertIds: string[];
  at: number[];
  ids: Set<string>;
  duplicates: number;
  posts: number;
  handshakes: number;
}

/** One HTTPS server on loopback answering the handshake and every notification POST with 202. */
async function startReceivers(tls: { key: string; cert: string }): Promise<{ server: Server; url: string; receipts: Receipts }> {
  const receipts: Receipts = { alertIds: [], at: [], ids: new Set(), duplicates: 0, posts: 0, handshakes: 0 };
  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const token = new URL(req.url ?? "/", "https://x").searchParams.get("validationToken");
    if (token !== null) {
      receipts.handshakes++;
      req.resume();
      res.writeHead(200, { "content-type": "text/plain" }).end(token);
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { value: { id: string; resourceData: { id: string } }[] };
      res.writeHead(202).end();
      const now = Date.now();
      receipts.posts++;
      for (const n of body.value) {
        if (receipts.ids.has(n.id)) {
          receipts.duplicates++;
          continue;
        }
        receipts.ids.add(n.id);
        receipts.alertIds.push(n.resourceData.id);
        receipts.at.push(now);
      }
    });
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, url: `https://127.0.0.1:${(server.address() as { port: number }).port}/hook`, receipts };
}

async function api(base: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, json, text };
}

let specFiles = 0;
function runChild<T>(script: string, spec: LoadSpec): Promise<T> {
  const file = join(BENCH_DIR, `delivery-load-${process.pid}-${specFiles++}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return runLoader<T>(join(BUILD_DIR, script), `@${file}`).finally(() => rmSync(file, { force: true }));
}

interface IngestRun {
  alertsPerSec: number;
  alertsPerCpuSec: number;
  failed: number;
  loadavg1: number;
}

let seeds = 0;
/** Ingestion as fast as it goes, into the ingestion tenant: alerts per second and per CPU-second of the server. */
async function ingestAsFastAsItGoes(o: Options, s: Running, token: string): Promise<IngestRun> {
  const spec: LoadSpec = {
    kind: "ingest",
    url: s.base,
    duration: o.ingestDuration,
    connections: o.ingestConnections,
    headers: { authorization: `Bearer ${token}` },
    batchSize: 100,
    tenantId: INGEST_TENANT,
    seed: `delivery-fast-${Date.now()}-${seeds++}`,
  };
  const cpu0 = cpuSeconds(s.pid);
  const r = await runChild<AutocannonResult>("load.js", spec);
  const cpu = cpuSeconds(s.pid) - cpu0;
  const alerts = r["2xx"] * 100;
  return { alertsPerSec: alerts / o.ingestDuration, alertsPerCpuSec: alerts / cpu, failed: r.non2xx + r.errors + r.timeouts, loadavg1: loadavg()[0]! };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const loadStart = loadavg();
  log(`fresh ${o.store} store; load average ${load()}`);
  const ref = await freshStore(o);
  const apps = await ensureApps(ref, true);
  // A local CA and a certificate for 127.0.0.1 for the receivers; the server trusts the CA.
  const { ensureLocalTls } = await importDist<typeof TlsMod>("identity/tls.js");
  const tls = await ensureLocalTls(join(ref.dataDir, "receiver"), []);
  const rx = await startReceivers(tls);
  const profileDir = o.profile ? join(BENCH_DIR, "profiles") : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const s = await startTriage(ref, { serveArgs: ["--allow-private-destinations"], env: { NODE_EXTRA_CA_CERTS: tls.caPath }, profileDir });
  log(`triage ${s.base} ready in ${fmt(s.readyMs)} ms`);
  const results: Record<string, unknown> = { options: o, loadavgStart: loadStart };
  try {
    const token = await getToken(s.base, apps.ingest);

    log("ingestion as fast as it goes, without subscriptions");
    const without1 = await ingestAsFastAsItGoes(o, s, token);
    log(`  ${fmt(without1.alertsPerSec)} alerts/s; load ${load()}`);

    const subscribeAll = async (): Promise<string[]> => {
      log(`creating ${o.subscriptions} subscriptions (each a handshake over HTTPS)`);
      const ids: string[] = [];
      for (let i = 0; i < o.subscriptions; i++) {
        const r = await api(s.base, token, "POST", "/v1.0/subscriptions", {
          changeType: "created",
          notificationUrl: `${rx.url}?receiver=${i}`,
          resource: "security/alerts_v2",
          expirationDateTime: new Date(Date.now() + 86_400_000).toISOString(),
          clientState: `bench-${i}`,
        });
        if (r.status !== 201) throw new Error(`subscribing: ${r.status} ${r.text}`);
        ids.push(r.json.id as string);
      }
      return ids;
    };
    let subs = await subscribeAll();

    const requestsPerSec = o.rate / o.batch;
    log(`ingesting ${fmt(o.rate)} alerts/s (${fmt(requestsPerSec, 1)} requests of ${o.batch}) for ${o.duration} s`);
    const lastSeq = () => feedEndOf(ref, INGEST_TENANT);
    const fromSeq = await lastSeq();
    const cpu0 = cpuSeconds(s.pid);
    const paced = await runChild<PacedResult>("soak-load.js", {
      kind: "ingest",
      url: s.base,
      duration: o.duration,
      connections: 16,
      headers: { authorization: `Bearer ${token}` },
      batchSize: o.batch,
      tenantId: INGEST_TENANT,
      seed: `delivery-paced-${Date.now()}`,
      rate: requestsPerSec,
      windowSeconds: 5,
      maxInFlight: 64,
    } as PacedSpec);
    const alertsSent = paced["2xx"] * o.batch;
    // Alerts created by the paced run: its `created` rows in the feed (an alert sent twice is not new).
    const toSeq = await lastSeq();
    const feed = await query<{ entity_id: string; at: string }>(
      ref,
      "select entity_id, at from change_feed where tenant_id = $1 and entity_type = 'alert' and change_type = 'created' and seq > $2 and seq <= $3",
      [INGEST_TENANT, fromSeq, toSeq],
    );
    const created = feed.length;
    // The paced run's alerts are fresh (a new seed): none found in the feed means the bounds are wrong,
    // and a latency measured over nothing would read as met.
    if (alertsSent > 0 && created === 0)
      throw new Error(`none of the ${alertsSent} alerts sent was found as created in the change feed (seq ${fromSeq}..${toSeq})`);
    const expected = created * o.subscriptions;
    log(
      `  ${fmt(paced["2xx"])} requests answered 2xx (${fmt(alertsSent)} alerts, ${fmt(created)} new), p99 ${fmt(paced.latency.p99)} ms; waiting for ${fmt(expected)} notifications`,
    );
    const committedIds = new Set(feed.map((f) => f.entity_id));
    // Notifications of the alerts counted above (a request answered after toSeq was read adds others).
    const toldOfCommitted = () => rx.receipts.alertIds.reduce((n, id) => (committedIds.has(id) ? n + 1 : n), 0);
    const drainUntil = Date.now() + o.drain * 1000;
    let last = -1;
    for (let got = toldOfCommitted(); got < expected && Date.now() < drainUntil; got = toldOfCommitted()) {
      if (got !== last) {
        last = got;
        log(`  ${fmt(last)} of ${fmt(expected)} received; load ${load()}`);
      }
      await sleep(2000);
    }
    const pacedCpu = cpuSeconds(s.pid) - cpu0;
    const received = toldOfCommitted();
    // Answers the server judged slow (over 2.9 s, its own delays included): they throttle or drop a URL's notifications.
    const slowRows = await query<{ slow: number | string | null; responses: number | string | null }>(
      ref,
      "select sum(slow) as slow, sum(responses) as responses from notification_endpoints",
      [],
    );
    const slowAnswers = { slow: Number(slowRows[0]?.slow ?? 0), responses: Number(slowRows[0]?.responses ?? 0) };
    if (received < expected) {
      // Which alerts some subscription was not told of, by the feed's numbers: where to look.
      const told = new Map<string, number>();
      for (const id of rx.receipts.alertIds) told.set(id, (told.get(id) ?? 0) + 1);
      const seqs = await query<{ entity_id: string; seq: number | string }>(
        ref,
        "select entity_id, seq from change_feed where tenant_id = $1 and entity_type = 'alert' and change_type = 'created' and seq > $2 and seq <= $3 order by seq",
        [INGEST_TENANT, fromSeq, toSeq],
      );
      const short = seqs.filter((r) => (told.get(r.entity_id) ?? 0) < o.subscriptions).map((r) => `${r.seq}:${told.get(r.entity_id) ?? 0}`);
      log(`  not told to every subscription: ${short.length} alerts (seq:subscriptions told) ${short.slice(0, 40).join(" ")}`);
    }
    // Commit times of the alerts: their `created` rows.
    const committed = new Map(feed.map((f) => [f.entity_id, Date.parse(f.at)]));
    const lat = new Float64Array(rx.receipts.at.length);
    let k = 0;
    for (let i = 0; i < rx.receipts.at.length; i++) {
      const c = committed.get(rx.receipts.alertIds[i]!);
      if (c !== undefined) lat[k++] = rx.receipts.at[i]! - c;
    }
    const sorted = lat.subarray(0, k).sort();
    const latency = { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN };
    results.paced = {
      requests: paced["2xx"],
      failed: paced.non2xx + paced.errors + paced.timeouts + paced.skipped,
      requestLatency: paced.latency,
      alertsCreated: created,
      notificationsExpected: expected,
      notificationsReceived: received,
      duplicates: rx.receipts.duplicates,
      posts: rx.receipts.posts,
      slowAnswers,
      latencyMs: latency,
      serverCpuSeconds: pacedCpu,
      loadavg1: loadavg()[0],
    };
    log(`  received ${fmt(received)} of ${fmt(expected)}; p50 ${fmt(latency.p50)} ms, p99 ${fmt(latency.p99)} ms; load ${load()}`);

    // Rounds of ingestion as fast as it goes: with the subscriptions delivering, then without them.
    const rounds: { with: IngestRun; without: IngestRun; delivered: number; cost: number; costPerCpu: number }[] = [];
    let withoutBefore = without1;
    for (let round = 1; round <= o.costRounds; round++) {
      if (round > 1) subs = await subscribeAll();
      log(`round ${round} of ${o.costRounds}: ingestion as fast as it goes, with the subscriptions delivering`);
      const before = rx.receipts.ids.size;
      const withSubs = await ingestAsFastAsItGoes(o, s, token);
      const delivered = rx.receipts.ids.size - before;
      log(`  ${fmt(withSubs.alertsPerSec)} alerts/s, ${fmt(delivered)} notifications delivered meanwhile; load ${load()}`);

      // Let the engine finish what it owes before the subscriptions go, so the next run is quiet.
      const quietUntil = Date.now() + o.drain * 1000;
      let previous = -1;
      while (rx.receipts.ids.size !== previous && Date.now() < quietUntil) {
        previous = rx.receipts.ids.size;
        await sleep(3000);
      }
      for (const id of subs) {
        const r = await api(s.base, token, "DELETE", `/v1.0/subscriptions/${id}`);
        if (r.status !== 204) throw new Error(`unsubscribing: ${r.status} ${r.text}`);
      }
      log(`round ${round} of ${o.costRounds}: ingestion as fast as it goes, without subscriptions`);
      const without = await ingestAsFastAsItGoes(o, s, token);
      log(`  ${fmt(without.alertsPerSec)} alerts/s; load ${load()}`);
      const rate = (withoutBefore.alertsPerSec + without.alertsPerSec) / 2;
      const perCpu = (withoutBefore.alertsPerCpuSec + without.alertsPerCpuSec) / 2;
      rounds.push({ with: withSubs, without, delivered, cost: 1 - withSubs.alertsPerSec / rate, costPerCpu: 1 - withSubs.alertsPerCpuSec / perCpu });
      withoutBefore = without;
    }
    const cost = median(rounds.map((r) => r.cost));
    const costPerCpu = median(rounds.map((r) => r.costPerCpu));
    results.ingestion = { without1, rounds, cost, costPerCpu };
    const loadEnd = loadavg();
    results.loadavgEnd = loadEnd;

    const p = results.paced as { latencyMs: typeof latency; notificationsReceived: number; notificationsExpected: number; duplicates: number; posts: number };
    process.stdout.write(
      `\nDelivery (${o.store}; ${o.subscriptions} subscriptions to HTTPS receivers on loopback; ${fmt(o.rate)} alerts/s for ${o.duration} s):\n` +
        `  notifications      ${fmt(p.notificationsReceived)} of ${fmt(p.notificationsExpected)} received in ${fmt(p.posts)} POSTs, ${p.duplicates} duplicates\n` +
        `  slow answers       ${fmt(slowAnswers.slow)} of ${fmt(slowAnswers.responses)} POSTs judged slow by the server (throttling)\n` +
        `  commit → 202       p50 ${fmt(latency.p50)} ms, p99 ${fmt(latency.p99)} ms, max ${fmt(latency.max)} ms   (goal: p99 < 1,000 ms)\n` +
        `  ingest requests    p50 ${fmt(paced.latency.p50)} ms, p99 ${fmt(paced.latency.p99)} ms, ${paced.non2xx + paced.errors + paced.timeouts + paced.skipped} failed or skipped\n` +
        `\nIngestion as fast as it goes (${o.ingestConnections} connections, 100 alerts a request, ${o.ingestDuration} s a run; ${o.costRounds} rounds, each run with\n` +
        `subscriptions against the mean of the runs without on either side of it):\n` +
        `  without subscriptions  ${fmt(without1.alertsPerSec)} alerts/s (${fmt(without1.alertsPerCpuSec)} per CPU-s), before the first round\n` +
        rounds
          .map(
            (r, i) =>
              `  round ${i + 1}: with ${o.subscriptions} delivering ${fmt(r.with.alertsPerSec)} alerts/s (${fmt(r.with.alertsPerCpuSec)} per CPU-s, ` +
              `${fmt(r.delivered)} notifications meanwhile), then without ${fmt(r.without.alertsPerSec)} (${fmt(r.without.alertsPerCpuSec)} per CPU-s): ` +
              `cost ${(100 * r.cost).toFixed(1)} % (${(100 * r.costPerCpu).toFixed(1)} % per CPU-s)\n`,
          )
          .join("") +
        `  cost                   ${(100 * cost).toFixed(1)} % fewer alerts/s, median of ${rounds.length} (${(100 * costPerCpu).toFixed(1)} % fewer per CPU-second of the server)   (goal: < 10 %)\n` +
        `\nLoad average ${loadStart.map((x) => x.toFixed(2)).join(" ")} at start, ${loadEnd.map((x) => x.toFixed(2)).join(" ")} at the end.\n`,
    );
  } finally {
    await s.stop();
    rx.server.closeAllConnections();
    await new Promise((r) => rx.server.close(r));
  }
  if (profileDir) {
    const newest = readdirSync(profileDir)
      .filter((f) => f.endsWith(".cpuprofile"))
      .map((f) => join(profileDir, f))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    if (newest) {
      const sum = summarizeProfile(newest, 20);
      process.stdout.write(`\nServer profile (${newest}; ${fmt(sum.totalMs)} ms sampled):\n  by area:\n`);
      for (const a of sum.areas.slice(0, 15)) process.stdout.write(`    ${(100 * a.share).toFixed(1).padStart(5)} %  ${a.area}\n`);
      process.stdout.write("  Triage's functions, inclusive:\n");
      for (const f of sum.inclusive.slice(0, 20)) process.stdout.write(`    ${(100 * f.share).toFixed(1).padStart(5)} %  ${f.fn}\n`);
    }
  }
  const file = join(BENCH_DIR, `delivery-${o.store}-results.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  process.stdout.write(`Raw results: ${file}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
