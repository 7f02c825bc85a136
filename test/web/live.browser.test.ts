import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page, Request } from "playwright-core";
import { alert, deviceId } from "../support/alerts.js";
import { browserAvailable, CHROMIUM, launchBrowser, screenshot, signIn, startWebTriage, watch, type WebTriage } from "./support.js";

/**
 * The live queue and incident page in headless Chromium against a real Triage: changes made through
 * the API (as another analyst or an alert source would) show up without a reload, from the change
 * stream and without polling.
 */

// Skipped with a notice without Chromium, required under CI: as test/web/browser.test.ts.
if (process.env.TRIAGE_SKIP_BROWSER === "1") {
  console.warn("NOTICE: the live-update browser tests were skipped: TRIAGE_SKIP_BROWSER=1.");
} else if (!browserAvailable()) {
  const why = `the browser tests need Chromium at ${CHROMIUM} (apt-get install -y chromium; TRIAGE_CHROMIUM names another path)`;
  if (process.env.CI) throw new Error(`${why}; CI requires them.`);
  console.warn(`NOTICE: the live-update browser tests were skipped: ${why}.`);
}

let w: WebTriage;
let browser: Browser;
let page: Page;
const problems: string[] = [];
const contexts: BrowserContext[] = [];
const requests: Request[] = [];

beforeAll(async () => {
  [w, browser] = await Promise.all([startWebTriage(12), launchBrowser()]);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(15_000);
  contexts.push(context);
  watch(context, problems);
  page = await context.newPage();
  page.on("request", (r) => requests.push(r));
  await signIn(page, w.url, w.users.analyst, "/incidents");
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await w?.close();
});

afterEach(() => {
  const seen = problems.splice(0);
  expect(seen, seen.join("\n")).toEqual([]);
});

async function waitForQueue(): Promise<void> {
  await page.locator("table.incident-table[aria-busy=false]").waitFor();
}

/** Marks the document, so a reload (which would lose the mark) is caught. */
async function mark(): Promise<void> {
  await page.evaluate(() => ((globalThis as any).__notReloaded = true));
}
async function notReloaded(): Promise<boolean> {
  return page.evaluate(() => (globalThis as any).__notReloaded === true);
}

describe.skipIf(!browserAvailable() || process.env.TRIAGE_SKIP_BROWSER === "1")("live updates in the web app", { timeout: 90_000 }, () => {
  it("shows a newly ingested incident that matches the queue's filters, without a reload or polling", async () => {
    await page.goto(`${w.url}/incidents?severity=high`);
    await waitForQueue();
    await page.locator(".live-indicator[data-live=live]").waitFor();
    await mark();
    const stream = requests.find((r) => r.url().startsWith(`${w.url}/triage/changes`))!;
    expect(stream).toBeDefined();
    // The token goes in the Authorization header, never in the URL.
    expect(stream.url()).toBe(`${w.url}/triage/changes`);
    expect(await stream.headerValue("authorization")).toMatch(/^Bearer /);

    // Quiet: no list requests while nothing changes.
    const listCalls = () => requests.filter((r) => r.url().startsWith(`${w.url}/v1.0/security/incidents`)).length;
    const quietBefore = listCalls();
    await page.waitForTimeout(5_000);
    expect(listCalls()).toBe(quietBefore);

    const low = `Live low ${Date.now()}`;
    const high = `Live high ${Date.now()}`;
    const at = new Date().toISOString();
    expect((await w.t.ingest([alert({ device: deviceId(), severity: "low", title: low, at })])).status).toBe(200);
    expect((await w.t.ingest([alert({ device: deviceId(), severity: "high", title: high, at })])).status).toBe(200);
    const row = page.locator("tbody tr.fresh", { hasText: high });
    await row.waitFor();
    await expect(row.locator(".badge.new").count()).resolves.toBe(1);
    // The low-severity incident does not match the view and is not shown.
    await page.waitForTimeout(1_000);
    await expect(page.locator("tbody tr", { hasText: low }).count()).resolves.toBe(0);
    expect(await notReloaded()).toBe(true);
    await screenshot(page, "queue-live");

    // A change to a shown incident, made elsewhere, updates its row in place.
    const id = (await row.getAttribute("data-incident-id"))!;
    const patch = await w.t.request("PATCH", `/v1.0/security/incidents/${id}`, { body: { assignedTo: "someone.else@contoso.test" } });
    expect(patch.status, patch.text).toBe(200);
    await page.locator(`tbody tr[data-incident-id="${id}"] td.assignee`, { hasText: "someone.else@contoso.test" }).waitFor();
    expect(await notReloaded()).toBe(true);
  });

  it("follows changes to the open incident and its comments", async () => {
    const res = await w.t.ingest([alert({ device: deviceId(), severity: "medium", title: `Live incident page ${Date.now()}` })]);
    const id = res.body.value[0].incidentId as string;
    await page.goto(`${w.url}/incidents/${id}`);
    await page.locator(".live-indicator[data-live=live]").waitFor();
    await mark();

    const comment = `Seen from the API at ${Date.now()}`;
    const posted = await w.t.request("POST", `/v1.0/security/incidents/${id}/comments`, {
      body: { "@odata.type": "microsoft.graph.security.alertComment", comment },
    });
    expect(posted.status, posted.text).toBe(200);
    await page.locator("ol.comments li", { hasText: comment }).waitFor();

    const patch = await w.t.request("PATCH", `/v1.0/security/incidents/${id}`, { body: { status: "inProgress" } });
    expect(patch.status, patch.text).toBe(200);
    await page.locator(".head-badges", { hasText: "In progress" }).waitFor();
    expect(await notReloaded()).toBe(true);
  });
});
