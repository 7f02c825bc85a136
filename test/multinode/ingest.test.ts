import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { auditOf, random, shuffle, startCluster, type Cluster } from "../support/cluster.js";
import { alert, deviceId } from "../support/alerts.js";

/**
 * Correlated clusters ingested through two real nodes at once, with alerts that tie clusters together
 * (merges) and alerts sent twice, while analysts comment on the alerts from the other node: each
 * connected group ends in exactly one incident, no alert is lost or duplicated, no incident is merged
 * twice, and no acknowledged comment is lost to a merge moving its alert.
 */
const TRIALS = 5;
const CLUSTERS = 6;
const ALERTS_PER_CLUSTER = 4;
/** Pairs of clusters one alert ties together: groups {0,1}, {2,3,4}, {5}. */
const BRIDGES: [number, number][] = [
  [0, 1],
  [2, 3],
  [3, 4],
];
const RESENT = 3;

let c: Cluster;
beforeAll(async () => {
  c = await startCluster(2);
});
afterAll(async () => {
  await c?.close();
});

/** The connected groups of clusters under BRIDGES. */
function groups(): number[][] {
  const parent = Array.from({ length: CLUSTERS }, (_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (const [a, b] of BRIDGES) parent[find(a)] = find(b);
  const by = new Map<number, number[]>();
  for (let i = 0; i < CLUSTERS; i++) by.set(find(i), [...(by.get(find(i)) ?? []), i]);
  return [...by.values()];
}

async function runTrial(trial: number): Promise<{ merges: number; batches: number }> {
  const rnd = random(1000 + trial);
  const devices = Array.from({ length: CLUSTERS }, () => deviceId());
  const users = Array.from({ length: CLUSTERS }, (_, k) => `user${k}.t${trial}.${devices[k]!.slice(0, 6)}@contoso.com`);
  const at = (minutes: number) => new Date(Date.UTC(2026, 9, 20, 8, 0) + minutes * 60_000).toISOString();

  // Alert id → the cluster whose group it must end in.
  const home = new Map<string, number>();
  const alerts: Record<string, unknown>[] = [];
  for (let k = 0; k < CLUSTERS; k++) {
    for (let j = 0; j < ALERTS_PER_CLUSTER; j++) {
      const a = alert({ device: devices[k], user: users[k], at: at(k * 7 + j * 13) });
      home.set(a.id as string, k);
      alerts.push(a);
    }
  }
  for (const [a, b] of BRIDGES) {
    const bridge = alert({ device: devices[a], user: users[b], at: at(60 + a) });
    home.set(bridge.id as string, a);
    alerts.push(bridge);
  }

  // Random batches of 1–4 alerts, plus a few alerts sent again in batches of their own.
  const batches: Record<string, unknown>[][] = [];
  const order = shuffle(alerts, rnd);
  for (let i = 0; i < order.length;) {
    const n = 1 + Math.floor(rnd() * 4);
    batches.push(order.slice(i, i + n));
    i += n;
  }
  for (const a of shuffle(alerts, rnd).slice(0, RESENT)) batches.push([{ ...a, title: `${String(a.title)} (sent again)` }]);
  const sendOrder = shuffle(batches, rnd);

  const comments: { alertId: string; text: string; status: number; error: string }[] = [];
  const results: any[] = [];
  const failures: string[] = [];
  const sideWrites: Promise<void>[] = [];
  const delays = sendOrder.map(() => Math.floor(rnd() * 25));
  await Promise.all(
    sendOrder.map(async (batch, i) => {
      await sleep(delays[i]!);
      const node = i % 2;
      const r = await c.call(node, "POST", "/ingest/alerts", { value: batch }).catch((e: unknown) => ({ status: 0, text: String(e), body: null }));
      if (r.status !== 200) {
        failures.push(`batch ${i} on node ${node}: ${r.status} ${r.text}`);
        return;
      }
      results.push(...r.body.value);
      // An analyst on the other node comments on the alert at once, racing later merges that move it.
      const first = batch[0]!.id as string;
      const text = `t${trial} b${i} on ${first}`;
      sideWrites.push(
        c.call(1 - node, "POST", `/v1.0/security/alerts_v2/${first}/comments`, { comment: text }).then(
          (cr) => {
            comments.push({ alertId: first, text, status: cr.status, error: cr.status === 200 ? "" : cr.text });
          },
          (e: unknown) => {
            comments.push({ alertId: first, text, status: 0, error: String(e) });
          },
        ),
      );
    }),
  );
  await Promise.all(sideWrites);
  expect(failures).toEqual([]);
  expect(comments.filter((k) => k.status !== 200)).toEqual([]);

  // Every alert once, in its group's single open incident.
  const finalOf = new Map<string, string>();
  await Promise.all(
    alerts.map(async (a) => {
      const r = await c.call(trial % 2, "GET", `/v1.0/security/alerts_v2/${String(a.id)}`);
      expect(r.status, r.text).toBe(200);
      finalOf.set(a.id as string, r.body.incidentId as string);
    }),
  );
  const groupIncidents: string[] = [];
  for (const g of groups()) {
    const ids = alerts.filter((a) => g.includes(home.get(a.id as string)!)).map((a) => a.id as string);
    const incidents = new Set(ids.map((id) => finalOf.get(id)!));
    expect(incidents.size, `group ${g.join("+")} ends in one incident`).toBe(1);
    const incidentId = [...incidents][0]!;
    groupIncidents.push(incidentId);
    const inc = await c.call(0, "GET", `/v1.0/security/incidents/${incidentId}?$expand=alerts($select=id)`);
    expect(inc.status, inc.text).toBe(200);
    expect(inc.body.status).toBe("active");
    expect(inc.body.alerts.map((x: any) => x.id).sort()).toEqual([...ids].sort());
  }
  expect(new Set(groupIncidents).size).toBe(groups().length);

  // Every acknowledged comment is on its alert, once.
  const byAlert = new Map<string, string[]>();
  for (const k of comments) byAlert.set(k.alertId, [...(byAlert.get(k.alertId) ?? []), k.text]);
  for (const [alertId, texts] of byAlert) {
    const r = await c.call(1, "GET", `/v1.0/security/alerts_v2/${alertId}`);
    expect(r.body.comments.map((x: any) => x.comment).sort()).toEqual([...texts].sort());
  }

  // Incidents: one created per "new" outcome; each that is not a group's final one was merged exactly once.
  const created = results.filter((r) => r.correlation.incident === "new").map((r) => r.incidentId as string);
  expect(new Set(created).size).toBe(created.length);
  const mergedReports = results.flatMap((r) => r.merged as { incidentId: string; into: string }[]);
  const redirected = created.filter((id) => !groupIncidents.includes(id));
  expect(created.filter((id) => groupIncidents.includes(id)).sort()).toEqual([...groupIncidents].sort());
  expect(mergedReports.map((m) => m.incidentId).sort()).toEqual([...redirected].sort());
  expect(results.flatMap((r) => r.mergeRefused)).toEqual([]);

  const mergedEvents = new Map<string, number>();
  for (const id of created) {
    const corr = await c.call(id.length % 2, "GET", `/triage/incidents/${id}/correlation`);
    expect(corr.status, corr.text).toBe(200);
    const events = corr.body.events as any[];
    for (const e of events.filter((e) => e.kind === "merged")) mergedEvents.set(e.otherIncidentId, (mergedEvents.get(e.otherIncidentId) ?? 0) + 1);
    const redirects = events.filter((e) => e.kind === "redirected");
    const statusChanges = (await auditOf(c, 0, "incidents", id)).filter((e) => e.property === "status" && e.after === "redirected");
    const inc = await c.call(1, "GET", `/v1.0/security/incidents/${id}`);
    if (redirected.includes(id)) {
      expect(redirects, `incident ${id} redirected once`).toHaveLength(1);
      expect(statusChanges).toHaveLength(1);
      expect(inc.body.status).toBe("redirected");
      expect(inc.body.redirectIncidentId).toBe(redirects[0].otherIncidentId);
      // Following the redirects leads to the incident its alerts ended in.
      let target = inc.body.redirectIncidentId as string;
      for (let hops = 0; !groupIncidents.includes(target) && hops < CLUSTERS; hops++) {
        target = (await c.call(0, "GET", `/v1.0/security/incidents/${target}`)).body.redirectIncidentId;
      }
      expect(groupIncidents).toContain(target);
      expect((await c.call(0, "GET", `/v1.0/security/incidents/${id}/alerts`)).body.value).toEqual([]);
    } else {
      expect(redirects).toHaveLength(0);
      expect(statusChanges).toHaveLength(0);
    }
  }
  for (const id of redirected) expect(mergedEvents.get(id), `merge event for ${id}`).toBe(1);
  expect([...mergedEvents.keys()].sort()).toEqual([...redirected].sort());
  return { merges: redirected.length, batches: sendOrder.length };
}

describe("concurrent ingestion through two nodes", () => {
  it(`never makes two incidents of one cluster, never merges twice, never loses an alert (${TRIALS} trials)`, async () => {
    const trials = [];
    for (let trial = 0; trial < TRIALS; trial++) trials.push(await runTrial(trial));
    // The trials did merge: the property was exercised, not vacuously true.
    expect(trials.every((t) => t.batches > 8)).toBe(true);
    expect(trials.reduce((n, t) => n + t.merges, 0)).toBeGreaterThan(0);
  });
});

describe("an analyst's PATCH racing a merge on another node", () => {
  it("is seen by the merge decision when it commits first: owners that differ refuse the merge", async () => {
    const dev = deviceId();
    const user = `racer.${dev.slice(0, 8)}@contoso.com`;
    const first = await c.call(0, "POST", "/ingest/alerts", [alert({ device: dev })]);
    const second = await c.call(1, "POST", "/ingest/alerts", [alert({ user })]);
    expect([first.status, second.status]).toEqual([200, 200]);
    const a = first.body.value[0].incidentId as string;
    const b = second.body.value[0].incidentId as string;
    expect(a).not.toBe(b);
    expect((await c.call(0, "PATCH", `/v1.0/security/incidents/${a}`, { assignedTo: "alice@contoso.com" })).status).toBe(200);

    // Force the interleaving: hold B's row lock as a slow writer would, queue an analyst's PATCH of B
    // (node 1) and then an alert tying A and B (node 0) behind it, and let go.
    const holder = new pg.Client({ connectionString: c.db });
    await holder.connect();
    try {
      await holder.query("begin");
      await holder.query("select 1 from incidents where tenant_id = $1 and id = $2 for update", [c.tenantId, Number(b)]);
      const waiting = async (n: number) => {
        for (let i = 0; i < 200; i++) {
          const r = await holder.query("select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'");
          if (r.rows[0].n >= n) return;
          await sleep(25);
        }
        throw new Error(`fewer than ${n} writers waiting`);
      };
      const patch = c.call(1, "PATCH", `/v1.0/security/incidents/${b}`, { assignedTo: "bob@contoso.com" });
      await waiting(1);
      const ingest = c.call(0, "POST", "/ingest/alerts", [alert({ device: dev, user })]);
      await waiting(2);
      await holder.query("commit");
      const [p, i] = await Promise.all([patch, ingest]);
      expect(p.status, p.text).toBe(200);
      expect(i.status, i.text).toBe(200);
      const result = i.body.value[0];
      expect(result.merged).toEqual([]);
      expect(result.mergeRefused).toHaveLength(1);
      for (const id of [a, b]) expect((await c.call(1, "GET", `/v1.0/security/incidents/${id}`)).body.status).toBe("active");
    } finally {
      await holder.end();
    }
  });
});
