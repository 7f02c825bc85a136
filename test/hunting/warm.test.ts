import { describe, expect, it } from "vitest";
import { startTriage } from "../support/triage.js";

/** Whether the Kusto language service is loaded in this process: the library defines the global `Kusto`. */
const loaded = () => (globalThis as { Kusto?: unknown }).Kusto !== undefined;

describe("warming advanced hunting's language service", () => {
  // In this order: the first server does not load the library, so the second one's warming is what loads it.
  it("is not loaded by a server that is not asked to warm it", async () => {
    const t = await startTriage();
    try {
      expect((await t.get("/healthz")).status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      expect(loaded()).toBe(false);
    } finally {
      await t.close();
    }
  });

  it("is loaded once the server listens, and the first hunting query finds it ready", async () => {
    const t = await startTriage({ warmHunting: true });
    try {
      // Bounded wait: loading takes a second or two on a quiet machine.
      for (let i = 0; i < 300 && !loaded(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(loaded()).toBe(true);
      const headers = await t.auth(t.tenantId, ["ThreatHunting.Read.All"]);
      const res = await t.request("POST", "/v1.0/security/runHuntingQuery", { body: { Query: "AlertInfo | count" }, headers });
      expect(res.status, res.text).toBe(200);
      expect(res.body.results).toEqual([{ Count: 0 }]);
    } finally {
      await t.close();
    }
  }, 60_000);
});
