import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openTestStore, type TestStore } from "../support/stores.js";
import { seedStore } from "../../src/cli/seed-store.js";
import { DEMO_ANALYSTS, planAnalystActivity, type OpenedIncident } from "../../src/seed/analyst-activity.js";
import { DETERMINATIONS_BY_CLASSIFICATION } from "../../src/seed/verdicts.js";
import { Rng } from "../../src/seed/random.js";

const END = Date.parse("2026-11-01T00:00:00Z");
const DAY = 86_400_000;

function opened(i: number): OpenedIncident {
  const rng = new Rng("opened", i);
  const createdMs = END - rng.int(1, 28 * DAY);
  const status = rng.pick(["new", "inProgress", "resolved"] as const);
  const classification = status === "resolved" ? rng.pick(["truePositive", "falsePositive", "informationalExpectedActivity"] as const) : null;
  // Some determinations from the wrong family: the plan must not pass them on.
  const determination = classification ? rng.pick(["malware", "notMalicious", "securityTesting", "phishing"] as const) : null;
  const updatedMs = Math.min(END, createdMs + rng.int(10 * 60_000, 3 * DAY));
  return {
    incidentId: String(i + 1),
    createdMs,
    status,
    classification,
    determination,
    updatedMs,
    resolvedMs: status === "resolved" ? updatedMs : null,
    title: "t",
  };
}

describe("the demo team's plan", () => {
  const plans = Array.from({ length: 2000 }, (_, i) => ({ o: opened(i), actions: planAnalystActivity("s", opened(i), END) }));

  it("is the same for the same seed and incident, and differs for another seed", () => {
    for (const { o, actions } of plans.slice(0, 200)) expect(planAnalystActivity("s", o, END)).toEqual(actions);
    expect(plans.slice(0, 200).map(({ o }) => planAnalystActivity("other", o, END))).not.toEqual(plans.slice(0, 200).map((p) => p.actions));
  });

  it("acts after the incident opened, one call at a time, before the demo ends, by the team", () => {
    const upns = DEMO_ANALYSTS.map((a) => a.upn);
    for (const { o, actions } of plans) {
      let last = o.createdMs;
      for (const a of actions) {
        expect(a.atMs).toBeGreaterThan(last);
        expect(a.atMs).toBeLessThan(END);
        expect(DEMO_ANALYSTS).toContain(a.analyst);
        if (a.kind === "update" && "assignedTo" in a.changes) expect(upns).toContain(a.changes.assignedTo);
        last = a.atMs;
      }
    }
  });

  it("resolves what the provider resolved, last, with a determination of the classification's family", () => {
    let resolved = 0;
    for (const { o, actions } of plans) {
      const resolution = actions.findIndex((a) => a.kind === "update" && a.changes.status === "resolved");
      if (o.status !== "resolved") {
        expect(resolution).toBe(-1);
        continue;
      }
      expect(resolution).toBe(actions.length - 1);
      const changes = (actions[resolution] as { changes: Record<string, unknown> }).changes;
      expect(changes.classification).toBe(o.classification);
      expect(DETERMINATIONS_BY_CLASSIFICATION[o.classification as keyof typeof DETERMINATIONS_BY_CLASSIFICATION]).toContain(changes.determination);
      expect(changes.determination).toBe(
        DETERMINATIONS_BY_CLASSIFICATION[o.classification as keyof typeof DETERMINATIONS_BY_CLASSIFICATION].includes(o.determination!)
          ? o.determination
          : "other",
      );
      expect(actions[0]).toMatchObject({ kind: "update", changes: { status: "inProgress" } });
      resolved++;
    }
    expect(resolved).toBeGreaterThan(100);
  });
});

describe("seeding with the team at work", () => {
  const dir = mkdtempSync(join(tmpdir(), "triage-team-"));
  const stores: TestStore[] = [];
  afterAll(async () => {
    for (const s of stores) {
      await s.store.close();
      await s.drop();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  async function seeded(sub: string) {
    const s = await openTestStore(mkdtempSync(join(dir, sub)));
    stores.push(s);
    const summary = await seedStore(s.store, {
      tenantId: "5f0c3a9e-8d1b-4e2f-9a7c-6b5d4e3f2a10",
      incidents: 60,
      seed: "team",
      end: new Date(END),
      analysts: true,
    });
    const incidents = await s.store.db.selectFrom("incidents").select(["id", "doc"]).orderBy("id").execute();
    const audit = await s.store.db
      .selectFrom("audit_log")
      .select(["entity_type", "entity_id", "at", "actor", "property", "before", "after"])
      .orderBy("seq")
      .execute();
    return { summary, incidents, audit };
  }

  it("gives the same incidents and audit trail on every run", async () => {
    const a = await seeded("a-");
    const b = await seeded("b-");
    expect(a.summary.analysts!.updates).toBeGreaterThan(0);
    expect(a.summary.analysts!.comments).toBeGreaterThan(0);
    expect(b.summary.analysts).toEqual(a.summary.analysts);
    expect(b.incidents).toEqual(a.incidents);
    expect(b.audit).toEqual(a.audit);
    for (const r of a.audit) expect(Date.parse(r.at)).toBeLessThanOrEqual(END);
  }, 120_000);
});
