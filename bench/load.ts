/**
 * The load generator: autocannon in its own process (never in the server's), driven by a JSON spec
 * in argv[2] (or in the file named by "@path"); prints autocannon's result as JSON on stdout. Requests rotate over the spec's paths or
 * incident ids; PATCH and comment bodies change on every request so each one really writes.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { importDist, SEED_END } from "./common.js";
import type * as Generate from "../src/seed/generate.js";

export interface LoadSpec {
  /** http://127.0.0.1:port */
  url: string;
  duration: number;
  connections: number;
  headers: Record<string, string>;
  kind: "get" | "patch" | "comment" | "ingest";
  /** get: paths to rotate over. */
  paths?: string[];
  /** patch/comment: path with {id}, and the ids to rotate over. */
  template?: string;
  ids?: string[];
  /** ingest: alerts per request, generated from this seed for this tenant. */
  batchSize?: number;
  seed?: string;
  tenantId?: string;
  /** ingest: incidents the alert generator draws from (enough alerts for the run; default 100,000). */
  incidents?: number;
}

export interface AutocannonResult {
  duration: number;
  requests: { average: number; total: number; sent: number };
  latency: { p50: number; p90: number; p99: number; average: number; max: number };
  throughput: { average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  "2xx": number;
  statusCodeStats: Record<string, { count: number }>;
}

export interface Request {
  method?: string;
  path?: string;
  body?: string;
  headers?: Record<string, string>;
  setupRequest?: (req: Request) => Request;
}

type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: AutocannonResult) => void) => unknown;

const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

export async function requestsFor(spec: LoadSpec): Promise<Request[]> {
  let n = 0;
  const json = { "content-type": "application/json" };
  switch (spec.kind) {
    case "get": {
      const paths = spec.paths ?? [];
      return [{ method: "GET", setupRequest: (req) => ({ ...req, path: paths[n++ % paths.length] }) }];
    }
    case "patch": {
      const ids = spec.ids ?? [];
      return [
        {
          method: "PATCH",
          headers: json,
          setupRequest: (req) => {
            const i = n++;
            return { ...req, path: spec.template!.replace("{id}", ids[i % ids.length]!), body: JSON.stringify({ assignedTo: `analyst${i}@contoso.com` }) };
          },
        },
      ];
    }
    case "comment": {
      const ids = spec.ids ?? [];
      return [
        {
          method: "POST",
          headers: json,
          setupRequest: (req) => {
            const i = n++;
            const body = { "@odata.type": "microsoft.graph.security.alertComment", comment: `Benchmark note ${i}: checked the device timeline.` };
            return { ...req, path: spec.template!.replace("{id}", ids[i % ids.length]!), body: JSON.stringify(body) };
          },
        },
      ];
    }
    case "ingest": {
      // Fresh alerts (a new seed each run), generated before the clock starts as far as the expected
      // rate goes, then on demand: every batch is new, so each alert is created and correlated.
      const { generateAlerts } = await importDist<typeof Generate>("seed/generate.js");
      const size = spec.batchSize ?? 100;
      const source = generateAlerts({ seed: spec.seed!, tenantId: spec.tenantId!, incidents: spec.incidents ?? 100_000, end: SEED_END });
      let pending: Generate.GraphAlertInput[] = [];
      const nextBody = (): string => {
        while (pending.length < size) {
          const more = source.next();
          if (more.done) break;
          pending = pending.concat(more.value);
        }
        return JSON.stringify({ value: pending.splice(0, size) });
      };
      const ready: string[] = [];
      for (let i = 0; i < 150; i++) ready.push(nextBody());
      return [
        {
          method: "POST",
          path: "/ingest/alerts",
          headers: json,
          setupRequest: (req) => ({ ...req, body: ready.shift() ?? nextBody() }),
        },
      ];
    }
  }
}

async function main(): Promise<void> {
  // "@file": the spec is in a file (thousands of ids do not fit in one argument).
  const arg = process.argv[2] ?? "{}";
  const spec = JSON.parse(arg.startsWith("@") ? readFileSync(arg.slice(1), "utf8") : arg) as LoadSpec;
  const requests = await requestsFor(spec);
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    autocannon({ url: spec.url, connections: spec.connections, duration: spec.duration, headers: spec.headers, requests, timeout: 30 }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
  process.stdout.write(JSON.stringify(result) + "\n");
}

// Run as a script; imported (by the soak's paced loader) for its request builders only.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    process.stderr.write(`load: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = 1;
  });
}
