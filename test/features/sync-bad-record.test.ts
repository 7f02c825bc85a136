/**
 * A sync whose source answers a record Triage cannot store — a value of the wrong type, an enum word
 * that is no member, a record over MAX_RECORD_BYTES — stops with the record and property named, before
 * anything of that page is written (docs/sync.md, "What it writes"); the pages before it stay, and the
 * sync run again once the source is mended goes on from there to a whole copy. The source is a real
 * HTTP server answering Graph's paging (time boundary, $top, $skip); the copy is read back through
 * Triage's Graph API. On SQLite and on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { startTriage, type TestTriage } from "../support/triage.js";
import { createTenant } from "../../src/store/tenants.js";
import { GraphSource } from "../../src/features/sync/graph-source.js";
import { graphSink, SyncRecordError } from "../../src/features/sync/sink.js";
import { syncTenant } from "../../src/features/sync/run.js";
import { listSyncWindows } from "../../src/store/sync-windows.js";
import { MAX_RECORD_BYTES } from "../../src/schema/limits.js";

type Doc = Record<string, unknown>;

const incident = (n: number): Doc => ({
  id: String(n),
  status: "active",
  severity: "medium",
  displayName: `Source incident ${n}`,
  createdDateTime: `2026-11-0${n}T08:00:00Z`,
  lastUpdateDateTime: `2026-11-0${n}T09:00:00Z`,
  classification: "unknown",
  determination: "unknown",
  customTags: [],
  systemTags: [],
  comments: [],
  alerts: [],
});

/** Graph's incidents collection over the given records: `lastUpdateDateTime ge` windows, ascending, $top and $skip. */
function graphLike(records: () => Doc[]): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const u = new URL(req.url!, "http://x");
    if (u.pathname === "/v1.0/security/alerts_v2") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ value: [] }));
      return;
    }
    if (u.pathname !== "/v1.0/security/incidents") {
      res.writeHead(404).end();
      return;
    }
    const since = /lastUpdateDateTime ge (\S+)/.exec(u.searchParams.get("$filter") ?? "")?.[1];
    const top = Number(u.searchParams.get("$top"));
    const skip = Number(u.searchParams.get("$skip") ?? 0);
    const page = records()
      .filter((r) => since === undefined || Date.parse(r.lastUpdateDateTime as string) >= Date.parse(since))
      .sort((a, b) => Date.parse(a.lastUpdateDateTime as string) - Date.parse(b.lastUpdateDateTime as string))
      .slice(skip, skip + top);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ value: page }));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })));
}

let t: TestTriage;
let source: { url: string; server: Server };
let records: Doc[] = [];

beforeAll(async () => {
  t = await startTriage();
  source = await graphLike(() => records);
});
afterAll(async () => {
  source?.server.close();
  await t?.close();
});

async function run(tenantId: string) {
  return syncTenant(t.store.db, {
    tenantId,
    sourceKey: `${source.url}|source-tenant`,
    source: new GraphSource({ from: source.url, version: "v1.0", token: async () => "token", maxRetries: 0 }),
    sink: graphSink(),
    incidentPageSize: 2,
  });
}

async function copied(tenantId: string): Promise<string[]> {
  const r = await t.get("/v1.0/security/incidents?$orderby=createdDateTime asc&$top=50", await t.auth(tenantId, ["SecurityIncident.Read.All"]));
  expect(r.status, r.text).toBe(200);
  return (r.body.value as Doc[]).map((i) => i.id as string);
}

const CASES: { name: string; bad: (d: Doc) => Doc; says: RegExp }[] = [
  { name: "a value of the wrong type", bad: (d) => ({ ...d, severity: 42 }), says: /^incident 4: incident property 'severity'.*string/ },
  {
    name: "an enum word that is no member of Graph's enum",
    bad: (d) => ({ ...d, determination: "compromisedUser" }),
    says: /^incident 4: incident property 'determination': 'compromisedUser' is not a member of alertDetermination\.$/,
  },
  {
    name: "a record larger than MAX_RECORD_BYTES",
    bad: (d) => ({ ...d, recommendedActions: "x".repeat(MAX_RECORD_BYTES) }),
    says: new RegExp(`^incident 4 is \\d+ bytes as JSON; an incident may hold at most ${MAX_RECORD_BYTES}\\.$`),
  },
];

describe("triage sync, a record Triage cannot store", { timeout: 60_000 }, () => {
  it.each(CASES)("$name: stops at its page, keeps the pages before, and goes on once the source is mended", async ({ bad, says }) => {
    const tenantId = randomUUID();
    await createTenant(t.store.db, tenantId, "Sync copy");
    const good = [1, 2, 3, 4, 5].map(incident);
    // Pages of two on a `ge` boundary: [1, 2], then [2, 3] (2 taken already), then [3, 4*].
    records = good.map((d) => (d.id === "4" ? bad(d) : d));

    const failed = await run(tenantId).then(
      () => null,
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(SyncRecordError);
    expect((failed as Error).message).toMatch(says);
    // The pages before committed with their window; nothing of the bad record's page was written.
    expect(await copied(tenantId)).toEqual(["1", "2", "3"]);
    const [window] = await listSyncWindows(t.store.db, tenantId);
    expect(window).toMatchObject({ collection: "incidents", since: "2026-11-03T09:00:00Z", pages: 2, records: 3 });

    records = good;
    const report = await run(tenantId);
    expect(report).toMatchObject({ incidents: 2, caughtUp: true });
    expect(await copied(tenantId)).toEqual(["1", "2", "3", "4", "5"]);
  });
});
