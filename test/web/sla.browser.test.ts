import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { alert, deviceId } from "../support/alerts.js";
import { browserAvailable, CHROMIUM, launchBrowser, screenshot, signIn, startWebTriage, watch, type WebTriage } from "./support.js";

/**
 * SLAs in the web app (docs/sla.md), in headless Chromium against a real Triage whose rule runner and
 * breach watch run: the policy saved on the Admin page's SLA tab gives a new incident clocks, and once
 * its first action is overdue the queue and the incident page say so.
 */

if (process.env.TRIAGE_SKIP_BROWSER === "1") {
  console.warn("NOTICE: the SLA browser tests were skipped: TRIAGE_SKIP_BROWSER=1.");
} else if (!browserAvailable()) {
  const why = `the browser tests need Chromium at ${CHROMIUM} (apt-get install -y chromium; TRIAGE_CHROMIUM names another path)`;
  if (process.env.CI) throw new Error(`${why}; CI requires them.`);
  console.warn(`NOTICE: the SLA browser tests were skipped: ${why}.`);
}

let w: WebTriage;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  [w, browser] = await Promise.all([startWebTriage(4), launchBrowser()]);
  context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  context.setDefaultTimeout(15_000);
  watch(context, problems);
  page = await context.newPage();
  await signIn(page, w.url, w.users.admin, "/admin/sla");
}, 120_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await w?.close();
});

describe.skipIf(!browserAvailable() || process.env.TRIAGE_SKIP_BROWSER === "1")("SLAs in the web app", { timeout: 90_000 }, () => {
  it("a policy saved on the SLA tab makes a new incident overdue in the queue and on its page", async () => {
    const form = page.getByRole("form", { name: "SLA policy" });
    await form.getByLabel("High: first action within").fill("PT1S");
    await form.getByLabel("High: resolve within").fill("P1D");
    await form.getByRole("button", { name: "Save policy" }).click();
    await page.getByText("SLA policy saved.").waitFor();
    const saved = await w.t.request("GET", "/triage/sla/policy", { headers: { authorization: `Bearer ${await w.t.tokenFor(w.t.tenantId)}` } });
    // An app may not read the policy; the page saved it as the administrator.
    expect(saved.status).toBe(403);

    const r = await w.t.ingest([alert({ device: deviceId(), severity: "high", title: "Overdue in the queue" })]);
    expect(r.status, r.text).toBe(200);
    const id = String(r.body.value[0].incidentId);
    const end = Date.now() + 30_000;
    while (!(await w.t.get(`/v1.0/security/incidents/${id}`)).body["@triage.sla"]?.firstAction?.breachedDateTime) {
      if (Date.now() > end) throw new Error("the breach was not recorded within 30 s");
      await new Promise((res) => setTimeout(res, 200));
    }

    await page.goto(`${w.url}/`);
    const row = page.locator(`tr[data-incident-id="${id}"]`);
    await row.waitFor();
    await expect(row.getByTestId("sla").textContent()).resolves.toBe("Overdue");
    await screenshot(page, "sla-queue");

    await row.getByRole("link").click();
    await page.getByTestId("sla-first-action").waitFor();
    await expect(page.locator(".head-badges").getByTestId("sla").textContent()).resolves.toBe("Overdue");
    await expect(page.getByTestId("sla-first-action").textContent()).resolves.toContain("Overdue");
    await expect(page.getByTestId("sla-resolve").textContent()).resolves.not.toContain("Overdue");
    await screenshot(page, "sla-incident");
    expect(problems).toEqual([]);
  });
});
