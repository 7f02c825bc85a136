/**
 * `npm run bench:live`: the live change stream (GET /triage/changes) under fan-out. One Triage (in this
 * process, on a fresh SQLite file, or PostgreSQL with --pg), N open streams of one tenant, alerts
 * ingested one per request by a few concurrent senders; prints the time from each change's commit to
 * its arrival on every stream (p50, p99, max), and the ingestion rate with no streams and with N.
 *
 *   npm run bench:live -- [--streams 200] [--alerts 300] [--senders 4] [--pg postgres://postgres@127.0.0.1:5432/]
 *
 * The streams are read by this process too, so the figures include the readers' own work.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { fmt, importDist, readFlags } from "./common.js";
import type * as ServerModule from "../src/server.js";
import type * as OpenModule from "../src/store/open.js";
import type * as TenantsModule from "../src/store/tenants.js";
import type * as DirectoryModule from "../src/identity/directory.js";

interface Options {
  streams: number;
  alerts: number;
  senders: number;
  pg: string | null;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function alertBody(n: number): unknown {
  const at = new Date().toISOString();
  return {
    id: `bench-live-${randomUUID()}`,
    title: `Live bench ${n}`,
    severity: "medium",
    serviceSource: "microsoftDefenderForEndpoint",
    detectionSource: "microsoftDefenderForEndpoint",
    firstActivityDateTime: at,
    lastActivityDateTime: at,
    evidence: [{ "@odata.type": "#microsoft.graph.security.deviceEvidence", deviceDnsName: `ws-${randomUUID()}.bench.test` }],
  };
}

async function main(): Promise<void> {
  const o: Options = { streams: 200, alerts: 300, senders: 4, pg: null };
  readFlags(process.argv.slice(2), (flag, a) => {
    if (flag === "--streams") o.streams = a.num();
    else if (flag === "--alerts") o.alerts = a.num();
    else if (flag === "--senders") o.senders = a.num();
    else if (flag === "--pg") o.pg = a.value();
    else throw new Error(`unknown flag ${flag}`);
  });
  const { buildServer } = await importDist<typeof ServerModule>("server.js");
  const { openStore } = await importDist<typeof OpenModule>("store/open.js");
  const { createTenant } = await importDist<typeof TenantsModule>("store/tenants.js");
  const { addSecret, createApp, grantAdminConsent } = await importDist<typeof DirectoryModule>("identity/directory.js");

  const dir = mkdtempSync(join(tmpdir(), "triage-bench-live-"));
  let location = join(dir, "triage.db");
  let dropDb: (() => Promise<void>) | null = null;
  if (o.pg) {
    const name = `triage_bench_live_${Date.now()}`;
    const pg = (await import("pg")).default;
    const admin = new pg.Client({ connectionString: o.pg });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    location = `${o.pg.replace(/\/[^/]*$/, "")}/${name}`;
    dropDb = async () => {
      const c = new pg.Client({ connectionString: o.pg! });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  }
  const store = await openStore(location);
  const tenantId = randomUUID();
  await createTenant(store.db, tenantId, "Live bench");
  const app = await buildServer({ store, logger: false, live: { maxConnectionsPerUser: o.streams + 10, maxConnections: o.streams + 10 } });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const client = await createApp(store.db, {
    tenantId,
    displayName: "live-bench",
    appPermissions: ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"],
  });
  await grantAdminConsent(store.db, client.clientId);
  const { secret } = await addSecret(store.db, client.clientId);
  const tokenRes = await fetch(`${url}/${tenantId}/oauth2/v2.0/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: client.clientId,
      client_secret: secret,
      scope: "https://graph.microsoft.com/.default",
    }),
  });
  const token = ((await tokenRes.json()) as { access_token: string }).access_token;
  const auth = { authorization: `Bearer ${token}` };

  async function ingestAll(count: number): Promise<number> {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: o.senders }, async () => {
        while (next < count) {
          const n = next++;
          const r = await fetch(`${url}/ingest/alerts`, {
            method: "POST",
            headers: { ...auth, "content-type": "application/json" },
            body: JSON.stringify({ value: [alertBody(n)] }),
          });
          if (r.status !== 200) throw new Error(`ingest answered ${r.status}: ${await r.text()}`);
          await r.arrayBuffer();
        }
      }),
    );
    return count / ((performance.now() - t0) / 1000);
  }

  const baseline = await ingestAll(o.alerts);

  const lags: number[] = [];
  let received = 0;
  const controllers: AbortController[] = [];
  const readies: Promise<void>[] = [];
  for (let i = 0; i < o.streams; i++) {
    const ctrl = new AbortController();
    controllers.push(ctrl);
    readies.push(
      (async () => {
        const res = await fetch(`${url}/triage/changes`, { headers: { ...auth, accept: "text/event-stream" }, signal: ctrl.signal });
        if (res.status !== 200 || !res.body) throw new Error(`stream answered ${res.status}`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        let ready: () => void = () => undefined;
        const isReady = new Promise<void>((r) => (ready = r));
        void (async () => {
          try {
            for (;;) {
              const { value, done } = await reader.read();
              if (done) return;
              buf += value;
              let end: number;
              while ((end = buf.indexOf("\n\n")) >= 0) {
                const block = buf.slice(0, end);
                buf = buf.slice(end + 2);
                if (block.includes("event: ready")) ready();
                const data = /^data: (.*)$/m.exec(block)?.[1];
                if (block.includes("event: change") && data) {
                  lags.push(Date.now() - Date.parse((JSON.parse(data) as { at: string }).at));
                  received++;
                }
              }
            }
          } catch {
            // aborted at the end
          }
        })();
        await isReady;
      })(),
    );
  }
  await Promise.all(readies);

  const withStreams = await ingestAll(o.alerts);
  // Each alert makes two changes (the alert and its new incident); every stream gets both.
  const expected = o.alerts * 2 * o.streams;
  const until = Date.now() + 60_000;
  while (received < expected && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  for (const c of controllers) c.abort();
  await app.close();
  await store.close();
  await dropDb?.();
  rmSync(dir, { recursive: true, force: true });

  lags.sort((a, b) => a - b);
  console.log(`live change stream, ${o.pg ? "PostgreSQL" : "SQLite"}: ${o.streams} streams, ${o.alerts} alerts by ${o.senders} senders`);
  console.log(`  events received        ${fmt(received)} of ${fmt(expected)}`);
  console.log(`  commit to stream, ms   p50 ${fmt(percentile(lags, 50))}  p99 ${fmt(percentile(lags, 99))}  max ${fmt(lags[lags.length - 1])}`);
  console.log(`  ingestion, alerts/s    no streams ${fmt(baseline, 1)}  with ${o.streams} streams ${fmt(withStreams, 1)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
