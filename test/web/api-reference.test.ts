import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext } from "playwright-core";
import { startTriage, type TestTriage } from "../support/triage.js";
import { browserAvailable, CHROMIUM, launchBrowser, screenshot, watch } from "./support.js";

/**
 * The API reference at /docs in headless Chromium: every operation of GET /openapi.json is on the
 * page, the navigation and schema links land where they point, and nothing is fetched from elsewhere.
 */

const skip = process.env.TRIAGE_SKIP_BROWSER === "1" || !browserAvailable();
if (skip && process.env.TRIAGE_SKIP_BROWSER !== "1") {
  const why = `the API reference browser test needs Chromium at ${CHROMIUM}`;
  if (process.env.CI) throw new Error(`${why}; CI requires it.`);
  console.warn(`NOTICE: ${why}; skipped.`);
}

describe.skipIf(skip)("the API reference page", () => {
  let t: TestTriage;
  let browser: Browser;
  let context: BrowserContext;
  const problems: string[] = [];
  const requested: string[] = [];

  beforeAll(async () => {
    [t, browser] = await Promise.all([startTriage(), launchBrowser()]);
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(10_000);
    watch(context, problems);
    context.on("request", (r) => requested.push(r.url()));
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await t?.close();
  });

  it("shows every operation of the document, grouped by tag, with working links and no outside requests", async () => {
    const doc = (await t.get("/openapi.json", { authorization: "" })).body;
    const page = await context.newPage();
    // Reached from the web app's header, signed in or not.
    await page.goto(`${t.url}/explorer`);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API reference" }).click();
    await page.waitForURL(`${t.url}/docs`);
    await expect(page.title()).resolves.toBe("Triage API reference");
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Triage API reference");

    // One section per operation, headed by its method and path, as the document lists them.
    const headings = await page.locator("section.op h3").allTextContents();
    const expected: string[] = [];
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(item)) expected.push(`${method.toUpperCase()} ${path}`);
    }
    expect(headings.map((h) => h.replace(/\s+/g, " ").trim()).sort()).toEqual(expected.sort());
    for (const tag of ["Incidents", "Alerts", "Batch", "Ingestion", "Triage API", "Permissions", "Token service"]) {
      await expect(page.getByRole("heading", { level: 2, name: tag, exact: true }).isVisible()).resolves.toBe(true);
    }

    // The navigation jumps to an operation; its request body links to the schema it points at.
    await page.getByRole("navigation", { name: "Operations" }).getByRole("link", { name: "PATCH /v1.0/security/incidents/{id}", exact: true }).click();
    const op = page.locator(`section.op:target`);
    await expect(op.locator("h3").textContent()).resolves.toContain("/v1.0/security/incidents/{id}");
    await expect(op.locator(".auth").textContent()).resolves.toContain("SecurityIncident.ReadWrite.All");
    await op.getByRole("link", { name: "microsoft.graph.security.incidentUpdate" }).click();
    const schema = page.locator("section.schema:target");
    await expect(schema.locator("h3").textContent()).resolves.toBe("microsoft.graph.security.incidentUpdate");
    const rows = await schema.locator("tbody tr td:first-child").allTextContents();
    expect(rows).toEqual(Object.keys(doc.components.schemas["microsoft.graph.security.incidentUpdate"].properties));
    await expect(schema.isVisible()).resolves.toBe(true);
    await screenshot(page, "api-reference");

    // The public permissions API says that it needs no token.
    await expect(page.locator(`section.op#op-getPermissionsLookup .auth`).textContent()).resolves.toBe("No token needed.");
    expect(requested.filter((u) => !u.startsWith(t.url))).toEqual([]);
    expect(problems).toEqual([]);
  });
});
