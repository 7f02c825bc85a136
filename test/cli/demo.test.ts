import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerProcess, type ServerProcess } from "../support/process.js";
import { freshPostgresDatabase, TEST_STORE } from "../support/stores.js";
import { DEMO_END, DEMO_TENANT } from "../../src/seed/demo-tenant.js";
import { DEMO_ANALYSTS } from "../../src/seed/analyst-activity.js";
import { DETERMINATIONS_BY_CLASSIFICATION, isVerdict } from "../../src/seed/verdicts.js";

const README = readFileSync(fileURLToPath(new URL("../../README.md", import.meta.url)), "utf8");

interface Comment {
  comment: string;
  createdByDisplayName: string;
  createdDateTime: string;
}

interface Incident {
  id: string;
  status: string;
  severity: string;
  assignedTo: string | null;
  classification: string | null;
  determination: string | null;
  customTags: string[];
  comments: Comment[];
  redirectIncidentId: string | null;
  createdDateTime: string;
  lastUpdateDateTime: string;
  lastModifiedBy: string | null;
}

interface AuditEntry {
  at: string;
  actor: string;
  property: string;
  before: unknown;
  after: unknown;
}

const SELECT =
  "id,status,severity,assignedTo,classification,determination,customTags,comments,redirectIncidentId,createdDateTime,lastUpdateDateTime,lastModifiedBy";

describe("triage serve --demo", () => {
  const dir = mkdtempSync(join(tmpdir(), "triage-demo-"));
  let server: ServerProcess;
  let pg: { url: string; drop(): Promise<void> } | null = null;
  let headers: Record<string, string>;
  const incidents: Incident[] = [];

  async function get<T>(path: string): Promise<T> {
    const res = await fetch(path.startsWith("http") ? path : `${server.url}${path}`, { headers });
    expect(res.status, path).toBe(200);
    return (await res.json()) as T;
  }

  beforeAll(async () => {
    pg = TEST_STORE === "postgres" ? await freshPostgresDatabase() : null;
    server = await startServerProcess(["--http", "--data", dir, ...(pg ? ["--db", pg.url] : []), "--demo"], 180_000);
    const creds = JSON.parse(readFileSync(join(dir, "demo-credentials.json"), "utf8")) as { readOnly: { clientId: string; clientSecret: string } };
    const tokenRes = await fetch(`${server.url}/${DEMO_TENANT}/oauth2/v2.0/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: creds.readOnly.clientId,
        client_secret: creds.readOnly.clientSecret,
        scope: "https://graph.microsoft.com/.default",
      }),
    });
    const { access_token: token } = (await tokenRes.json()) as { access_token: string };
    headers = { authorization: `Bearer ${token}` };
    // The whole queue, page by page, as the web app reads it.
    let next: string | undefined = `/v1.0/security/incidents?$select=${SELECT}&$top=50`;
    for (let page = 0; next && page < 100; page++) {
      const body: { value: Incident[]; "@odata.nextLink"?: string } = await get(next);
      incidents.push(...body.value);
      next = body["@odata.nextLink"];
    }
  }, 240_000);

  afterAll(async () => {
    if (server) {
      server.child.kill("SIGTERM");
      await server.exited;
    }
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const byStatus = (s: string) => incidents.filter((i) => i.status === s);

  it("holds incidents in every state a team has after four weeks", () => {
    for (const s of ["active", "inProgress", "resolved", "redirected"]) expect(byStatus(s).length, s).toBeGreaterThan(0);
    const assigned = incidents.filter((i) => i.assignedTo);
    expect(assigned.length).toBeGreaterThan(0);
    expect(incidents.filter((i) => i.status === "active" && !i.assignedTo).length).toBeGreaterThan(0);
    expect(byStatus("active").filter((i) => i.assignedTo).length).toBeGreaterThan(0);
    expect(new Set(assigned.map((i) => i.assignedTo))).toEqual(new Set(DEMO_ANALYSTS.map((a) => a.upn)));
    for (const i of byStatus("inProgress")) expect(i.assignedTo, `incident ${i.id}`).toBeTruthy();
    expect(incidents.filter((i) => i.customTags.length > 0).length).toBeGreaterThan(0);
    expect(incidents.filter((i) => i.comments.length > 0).length).toBeGreaterThan(0);
  });

  it("resolves with a classification and a determination that goes with it, in a realistic mix", () => {
    const resolved = byStatus("resolved");
    for (const i of resolved) {
      expect(isVerdict(i.classification), `incident ${i.id}: ${i.classification}`).toBe(true);
      if (!isVerdict(i.classification)) continue;
      expect(DETERMINATIONS_BY_CLASSIFICATION[i.classification], `incident ${i.id}`).toContain(i.determination);
      expect(i.assignedTo).toBeTruthy();
      expect(i.lastModifiedBy).toMatch(/^API-App:/);
    }
    const mix = new Map<string, number>();
    for (const i of resolved) mix.set(i.classification!, (mix.get(i.classification!) ?? 0) + 1);
    for (const c of ["truePositive", "falsePositive", "informationalExpectedActivity"]) expect(mix.get(c) ?? 0, c).toBeGreaterThan(0);
    expect(mix.get("truePositive")).toBeGreaterThan(mix.get("falsePositive")!);
    // Open incidents carry no verdict yet.
    for (const i of [...byStatus("active"), ...byStatus("inProgress")]) expect(i.classification, `incident ${i.id}`).toBe("unknown");
  });

  it("spreads resolution times, so the dashboard's resolution charts and mean time to resolve have figures", () => {
    // The dashboard (web/src/pages/Dashboard.tsx) measures creation to last update of resolved incidents.
    const resolved = byStatus("resolved");
    const hours = resolved.map((i) => (Date.parse(i.lastUpdateDateTime) - Date.parse(i.createdDateTime)) / 3_600_000);
    for (const h of hours) expect(h).toBeGreaterThan(0);
    const mean = hours.reduce((a, b) => a + b, 0) / hours.length;
    expect(mean).toBeGreaterThan(1);
    expect(Math.max(...hours)).toBeGreaterThan(24);
    expect(Math.min(...hours)).toBeLessThan(24);
    const days = new Set(resolved.map((i) => i.lastUpdateDateTime.slice(0, 10)));
    expect(days.size).toBeGreaterThan(14);
    for (const sev of ["high", "medium", "low"])
      expect(
        resolved.some((i) => i.severity === sev),
        sev,
      ).toBe(true);
    for (const i of incidents) expect(Date.parse(i.lastUpdateDateTime), `incident ${i.id}`).toBeLessThanOrEqual(DEMO_END.getTime());
  });

  it("has analysts' comments at plausible times", () => {
    const names = new Set(DEMO_ANALYSTS.map((a) => a.displayName));
    expect(incidents.some((i) => i.comments.length > 0)).toBe(true);
    for (const i of incidents) {
      for (const c of i.comments) {
        expect(names).toContain(c.createdByDisplayName);
        expect(c.createdDateTime > i.createdDateTime, `incident ${i.id}`).toBe(true);
        expect(c.createdDateTime <= i.lastUpdateDateTime, `incident ${i.id}`).toBe(true);
      }
    }
  });

  it("records each analyst's change in the audit trail as the API does", async () => {
    const resolved = byStatus("resolved").filter((i) => i.comments.length > 0)[0]!;
    const trail = (await get<{ value: AuditEntry[] }>(`/triage/incidents/${resolved.id}/audit`)).value;
    const resolution = trail.find((e) => e.property === "status" && e.after === "resolved");
    expect(resolution).toBeDefined();
    expect(resolution!.at).toBe(resolved.lastUpdateDateTime);
    expect(`API-App:${resolution!.actor}`).toBe(resolved.lastModifiedBy);
    expect(trail.some((e) => e.property === "classification" && e.after === resolved.classification)).toBe(true);
    expect(trail.some((e) => e.property === "comments")).toBe(true);
    expect(trail.some((e) => e.property === "assignedTo")).toBe(true);
    const times = trail.map((e) => e.at);
    expect(times).toEqual([...times].sort());
  });

  it("has merged incidents as ingestion merges them: redirected, alerts moved to the one they point to", async () => {
    const ids = new Map(incidents.map((i) => [i.id, i]));
    for (const r of byStatus("redirected")) {
      const target = ids.get(r.redirectIncidentId ?? "");
      expect(target, `incident ${r.id} points to ${r.redirectIncidentId}`).toBeDefined();
      expect(target!.status).not.toBe("redirected");
      const own = await get<{ alerts: unknown[] }>(`/v1.0/security/incidents/${r.id}?$expand=alerts($select=id)`);
      expect(own.alerts).toHaveLength(0);
      const into = await get<{ alerts: unknown[] }>(`/v1.0/security/incidents/${target!.id}?$expand=alerts($select=id)`);
      expect(into.alerts.length).toBeGreaterThan(1);
      const trail = (await get<{ value: AuditEntry[] }>(`/triage/incidents/${r.id}/audit`)).value;
      expect(trail.some((e) => e.property === "redirectIncidentId" && e.after === target!.id)).toBe(true);
    }
  });

  it("matches the counts the README states", async () => {
    const m =
      /The queue shows (\d+) alerts in (\d+) incidents: (\d+) active \((\d+) of them\s+assigned\), (\d+) in progress, (\d+) resolved \((\d+) true positive, (\d+) false positive, (\d+) informational, expected\s+activity, each with a determination\) and (\d+) merged into another \(redirected\); (\d+) comments on (\d+)\s+incidents, tags on (\d+)\./.exec(
        README,
      );
    expect(m, "README states the demo's counts").not.toBeNull();
    const stated = m!.slice(1).map(Number);
    const alerts = await get<{ "@odata.count": number }>("/v1.0/security/alerts_v2?$count=true&$top=1&$select=id");
    const resolved = byStatus("resolved");
    const verdicts = (c: string) => resolved.filter((i) => i.classification === c).length;
    const counted = await get<{ "@odata.count": number }>("/v1.0/security/incidents?$count=true&$top=1&$select=id");
    expect(counted["@odata.count"]).toBe(incidents.length);
    expect(stated).toEqual([
      alerts["@odata.count"],
      incidents.length,
      byStatus("active").length,
      byStatus("active").filter((i) => i.assignedTo).length,
      byStatus("inProgress").length,
      resolved.length,
      verdicts("truePositive"),
      verdicts("falsePositive"),
      verdicts("informationalExpectedActivity"),
      byStatus("redirected").length,
      incidents.reduce((n, i) => n + i.comments.length, 0),
      incidents.filter((i) => i.comments.length > 0).length,
      incidents.filter((i) => i.customTags.length > 0).length,
    ]);
  });
});
