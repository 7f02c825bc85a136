/**
 * The snowball workload: fresh alerts whose devices and accounts are drawn from pools of a few
 * thousand, so that correlation ties them into ever larger incidents. Ingested in process through the
 * ingestion feature (no HTTP: what is measured is the store and correlation), in batches from several
 * concurrent senders, on a fresh store; prints alerts/s and CPU per alert for each tenth of the run
 * with the size of the largest incident then, so a cost that grows with the incidents' size shows.
 *
 *   node .bench/build/bench/snowball.js --alerts 10000,100000 --store sqlite
 *   node .bench/build/bench/snowball.js --alerts 100000 --unbounded     # no correlation limits
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadavg } from "node:os";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { BENCH_DIR, ROOT, fmt, readFlags } from "./common.js";
import type * as IngestMod from "../src/features/ingest/index.js";
import type * as NormalizeMod from "../src/domain/normalize-alert.js";
import type * as OpenMod from "../src/store/open.js";
import type * as TenantsMod from "../src/store/tenants.js";

interface Options {
  alerts: number[];
  store: "sqlite" | "postgres";
  pool: number;
  batch: number;
  senders: number;
  unbounded: boolean;
  pg: string;
  /** The build to measure (a dist/ folder): this checkout's by default. */
  dist: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    alerts: [10_000, 100_000],
    store: "sqlite",
    pool: 3000,
    batch: 100,
    senders: 8,
    unbounded: false,
    pg: process.env.TRIAGE_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/",
    dist: join(ROOT, "dist"),
  };
  readFlags(argv, (flag, { value, num }) => {
    if (flag === "--alerts") o.alerts = value().split(",").map(Number);
    else if (flag === "--store") o.store = value() as Options["store"];
    else if (flag === "--pool") o.pool = num();
    else if (flag === "--batch") o.batch = num();
    else if (flag === "--senders") o.senders = num();
    else if (flag === "--unbounded") o.unbounded = true;
    else if (flag === "--pg") o.pg = value();
    else if (flag === "--dist") o.dist = value();
    else throw new Error(`unknown option ${flag}`);
  });
  return o;
}

const TENANT = "5e1f0c2d-7a3b-4c8d-9e6f-0a1b2c3d4e5f";
const TITLES = ["Suspicious PowerShell command line", "Credential dumping via LSASS access", "Unusual sign-in location", "Ransomware behaviour detected"];
const CATEGORIES = ["Execution", "CredentialAccess", "InitialAccess", "Impact", "DefenseEvasion", "LateralMovement"];
const SEVERITIES = ["low", "medium", "high", "informational"];
const SOURCES = ["microsoftDefenderForEndpoint", "microsoftDefenderForIdentity", "azureAdIdentityProtection", "antivirus"];

/** A deterministic generator (the same alerts every run). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function* alerts(n: number, pool: number): Generator<Record<string, unknown>> {
  const r = rng(42);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const start = Date.parse("2026-11-01T00:00:00Z");
  for (let i = 0; i < n; i++) {
    // One alert a second: the whole run stays within a few correlation windows.
    const at = new Date(start + i * 1000).toISOString();
    const device = Math.floor(r() * pool);
    const user = Math.floor(r() * pool);
    const k = Math.floor(r() * TITLES.length);
    yield {
      id: `snowball-${i}`,
      title: TITLES[k],
      category: pick(CATEGORIES),
      severity: pick(SEVERITIES),
      status: "new",
      serviceSource: "microsoftDefenderForEndpoint",
      detectionSource: pick(SOURCES),
      detectorId: `detector-${k}`,
      createdDateTime: at,
      lastUpdateDateTime: at,
      firstActivityDateTime: at,
      lastActivityDateTime: at,
      evidence: [
        {
          "@odata.type": "#microsoft.graph.security.deviceEvidence",
          createdDateTime: at,
          verdict: "suspicious",
          remediationStatus: "none",
          roles: [],
          mdeDeviceId: `d${String(device).padStart(6, "0")}${"0".repeat(33)}`,
          deviceDnsName: `ws-${device}.contoso.com`,
        },
        {
          "@odata.type": "#microsoft.graph.security.userEvidence",
          createdDateTime: at,
          verdict: "unknown",
          remediationStatus: "none",
          roles: [],
          userAccount: { accountName: `user${user}`, domainName: "CONTOSO", userPrincipalName: `user${user}@contoso.com` },
        },
      ],
    };
  }
}

interface Slice {
  upTo: number;
  alertsPerSec: number;
  cpuMsPerAlert: number;
  largestIncident: number;
}

async function run(o: Options, n: number): Promise<{ alerts: number; seconds: number; cpuMsPerAlert: number; slices: Slice[] }> {
  const load = async <T>(rel: string) => (await import(pathToFileURL(join(o.dist, rel)).href)) as T;
  const { ingestAlerts } = await load<typeof IngestMod>("features/ingest/index.js");
  const { normalizeAlert } = await load<typeof NormalizeMod>("domain/normalize-alert.js");
  const { openStore } = await load<typeof OpenMod>("store/open.js");
  const { createTenant } = await load<typeof TenantsMod>("store/tenants.js");

  let location: string;
  let drop = async () => {};
  if (o.store === "sqlite") {
    const dir = join(BENCH_DIR, `snowball-${process.pid}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    location = join(dir, "triage.db");
    drop = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const url = new URL(o.pg);
    const name = `${url.pathname.replace(/^\/+|\/+$/g, "") || "triage_bench"}_snowball_${process.pid}`;
    url.pathname = "/postgres";
    const admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
    await admin.end();
    url.pathname = `/${name}`;
    location = url.toString();
    drop = async () => {
      url.pathname = "/postgres";
      const c = new pg.Client({ connectionString: url.toString() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  }
  const store = await openStore(location);
  try {
    await createTenant(store.db, TENANT, "Snowball");
    const limits = o.unbounded ? { maxAlerts: Infinity, maxEntities: Infinity } : undefined;
    const source = alerts(n, o.pool);
    const sizes = new Map<string, number>();
    let largest = 0;
    let done = 0;
    const slices: Slice[] = [];
    const step = Math.max(o.batch, Math.floor(n / 10));
    let mark = { at: performance.now(), cpu: process.cpuUsage(), done: 0 };
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const sender = async () => {
      for (;;) {
        const batch: Record<string, unknown>[] = [];
        for (let i = 0; i < o.batch; i++) {
          const next = source.next();
          if (next.done) break;
          batch.push(next.value);
        }
        if (batch.length === 0) return;
        const now = new Date().toISOString();
        const normalized = batch.map((a, i) => normalizeAlert(a, `value[${i}]`, TENANT, now));
        const results = await ingestAlerts(store.db, TENANT, normalized, { windowMs: 24 * 3600_000, actor: "snowball", requestId: null, now, limits });
        for (const r of results) {
          for (const m of r.merged) {
            sizes.set(m.into, (sizes.get(m.into) ?? 0) + (sizes.get(m.incidentId) ?? 0));
            sizes.delete(m.incidentId);
          }
          const size = (sizes.get(r.incidentId) ?? 0) + 1;
          sizes.set(r.incidentId, size);
          if (size > largest) largest = size;
        }
        done += results.length;
        if (done - mark.done >= step || done === n) {
          const now2 = performance.now();
          const cpu = process.cpuUsage(mark.cpu);
          const count = done - mark.done;
          slices.push({
            upTo: done,
            alertsPerSec: (count * 1000) / (now2 - mark.at),
            cpuMsPerAlert: (cpu.user + cpu.system) / 1000 / count,
            largestIncident: Math.max(...sizes.values()),
          });
          mark = { at: now2, cpu: process.cpuUsage(), done };
        }
      }
    };
    await Promise.all(Array.from({ length: o.senders }, sender));
    const cpu = process.cpuUsage(cpu0);
    return { alerts: done, seconds: (performance.now() - t0) / 1000, cpuMsPerAlert: (cpu.user + cpu.system) / 1000 / done, slices };
  } finally {
    await store.close();
    await drop();
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const out = [];
  for (const n of o.alerts) {
    const load0 = loadavg();
    const r = await run(o, n);
    const load1 = loadavg();
    process.stdout.write(
      `\n${o.store}, ${fmt(n)} alerts from pools of ${fmt(o.pool)} devices and accounts, batches of ${o.batch}, ${o.senders} senders, ${o.unbounded ? "no correlation limits" : "default correlation limits"}; ${o.dist}\n` +
        `  ${fmt(r.alerts / r.seconds)} alerts/s overall (${r.seconds.toFixed(1)} s), ${r.cpuMsPerAlert.toFixed(3)} ms of CPU per alert; load average ${load0[0]!.toFixed(1)} → ${load1[0]!.toFixed(1)}\n` +
        `  ${"up to".padStart(9)}  ${"alerts/s".padStart(9)}  ${"CPU ms/alert".padStart(12)}  largest incident\n`,
    );
    for (const s of r.slices) {
      process.stdout.write(
        `  ${fmt(s.upTo).padStart(9)}  ${fmt(s.alertsPerSec).padStart(9)}  ${s.cpuMsPerAlert.toFixed(3).padStart(12)}  ${fmt(s.largestIncident)} alerts\n`,
      );
    }
    const first = r.slices[0]!;
    const last = r.slices[r.slices.length - 1]!;
    process.stdout.write(
      `  last tenth ÷ first: ${(last.alertsPerSec / first.alertsPerSec).toFixed(2)}× alerts/s, ${(last.cpuMsPerAlert / first.cpuMsPerAlert).toFixed(2)}× CPU per alert\n`,
    );
    out.push({ options: o, requested: n, load: [load0, load1], ...r });
  }
  writeFileSync(join(BENCH_DIR, `snowball-results-${process.pid}.json`), JSON.stringify(out, null, 2));
}

main().catch((e: unknown) => {
  process.stderr.write(`snowball: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
