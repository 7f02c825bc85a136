import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { alert, deviceId } from "../support/alerts.js";
import { accessTokenOf, browserAvailable, CHROMIUM, launchBrowser, screenshot, signIn, startWebTriage, watch, type WebTriage } from "./support.js";

/**
 * The automation rules admin page, in headless Chromium against a real Triage whose rule runner runs:
 * a rule made in the page acts on an incident ingested afterwards, the dry run shows what a rule
 * would do to an existing incident and changes nothing, the API's refusals show as it words them,
 * enabling and deleting reach the server, and axe-core finds no serious or critical violation.
 */

if (process.env.TRIAGE_SKIP_BROWSER === "1") {
  console.warn("NOTICE: the automation rules browser tests were skipped: TRIAGE_SKIP_BROWSER=1.");
} else if (!browserAvailable()) {
  const why = `the browser tests need Chromium at ${CHROMIUM} (apt-get install -y chromium; TRIAGE_CHROMIUM names another path)`;
  if (process.env.CI) throw new Error(`${why}; CI requires them.`);
  console.warn(`NOTICE: the automation rules browser tests were skipped: ${why}.`);
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const TAG = "auto-escalated";
const ASSIGNEE = "ir-lead@contoso.test";

let w: WebTriage;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const problems: string[] = [];
/** The refused requests a test causes on purpose. */
let expected: RegExp[] = [];

beforeAll(async () => {
  [w, browser] = await Promise.all([startWebTriage(6), launchBrowser()]);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(10_000);
  watch(context, problems);
  page = await context.newPage();
  await signIn(page, w.url, w.users.admin, "/admin/automation");
}, 120_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await w?.close();
});

afterEach(() => {
  const seen = problems.splice(0);
  const refusals = expected;
  expected = [];
  const browserNote = /console error: Failed to load resource: the server responded with a status of 4\d\d/;
  for (const pattern of refusals)
    expect(
      seen.filter((p) => pattern.test(p)),
      seen.join("\n"),
    ).toHaveLength(1);
  const left = seen.filter((p) => !refusals.some((r) => r.test(p)) && !(refusals.length && browserNote.test(p)));
  expect(left).toEqual([]);
});

async function adminApi(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const token = await accessTokenOf(page);
  const r = await w.t.request(method, path, { body, headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, body: r.body };
}

async function incident(id: string): Promise<any> {
  const r = await w.t.get(`/v1.0/security/incidents/${id}`);
  expect(r.status, r.text).toBe(200);
  return r.body;
}

async function ingest(severity: string, title: string): Promise<string> {
  const r = await w.t.ingest([alert({ device: deviceId(), severity, title, at: new Date(Date.now() - 60_000).toISOString() })]);
  expect(r.status, r.text).toBe(200);
  return r.body.value[0].incidentId as string;
}

/** Polls until `check` holds, at most `ms`. */
async function until<T>(read: () => Promise<T>, check: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (check(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function axeViolations(): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate<{ id: string; impact: string; help: string; nodes: { target: string[] }[] }[]>(
    "axe.run(document, { resultTypes: ['violations'] }).then((r) => r.passes.length > 20 ? r.violations : Promise.reject(new Error('axe checked too little')))",
  );
  return result
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

const editor = () => page.getByRole("region", { name: /^(New rule|Edit rule)/ });

describe.skipIf(!browserAvailable() || process.env.TRIAGE_SKIP_BROWSER === "1")("the automation rules page", { timeout: 90_000 }, () => {
  it("creates a rule from the keyboard that tags and assigns the next high-severity incident, and not a medium one", async () => {
    await page.getByRole("cell", { name: "No automation rules yet." }).waitFor();
    const create = page.getByRole("button", { name: "New rule" });
    await create.focus();
    await page.keyboard.press("Enter");
    const form = editor();
    await form.getByLabel("Name").fill("High severity: escalate");
    await form.getByLabel("Order (1 to 1000; lowest runs first)").fill("10");
    await form.getByLabel("When").selectOption("incidentCreated");
    await form.getByRole("button", { name: "Add condition" }).press("Enter");
    const condition = form.getByRole("group", { name: "Condition 1" });
    await condition.getByLabel("Property").selectOption("severity");
    await condition.getByLabel("Operator").selectOption("equals");
    await condition.getByLabel("Values (comma-separated; any may match)").fill("high");
    // The first action starts as "Add tags"; a second one assigns, then moves first.
    await form.getByRole("group", { name: "Action 1" }).getByLabel("Tags (comma-separated)").fill(TAG);
    await form.getByRole("button", { name: "Add action" }).click();
    const second = form.getByRole("group", { name: "Action 2" });
    await second.getByLabel("Type").selectOption("assign");
    await second.getByLabel("Assign to (empty unassigns)").fill(ASSIGNEE);
    await second.getByRole("button", { name: "Move action 2 up" }).click();
    await expect(form.getByRole("group", { name: "Action 1" }).getByLabel("Type").inputValue()).resolves.toBe("assign");
    await screenshot(page, "automation-editor", true);
    await form.getByRole("button", { name: "Create rule" }).click();

    const row = page.getByRole("row", { name: /High severity: escalate/ });
    await row.waitFor();
    await expect(page.getByRole("status").first().textContent()).resolves.toContain("High severity: escalate saved.");
    await expect(row.textContent()).resolves.toContain(`Assign to ${ASSIGNEE}; Add tags ${TAG}`);
    const saved = await adminApi("GET", "/triage/automation/rules");
    expect(saved.body.value).toHaveLength(1);
    expect(saved.body.value[0]).toMatchObject({
      displayName: "High severity: escalate",
      order: 10,
      enabled: true,
      trigger: "incidentCreated",
      conditions: { match: "all", items: [{ property: "severity", operator: "equals", values: ["high"] }] },
      actions: [
        { type: "assign", assignedTo: ASSIGNEE },
        { type: "addTags", tags: [TAG] },
      ],
    });

    // The rule runner acts on changes in order: once the later high incident is tagged, the earlier
    // medium one has been judged too.
    const medium = await ingest("medium", "Medium activity");
    const high = await ingest("high", "High activity");
    const acted = await until(
      () => incident(high),
      (i) => i.customTags.includes(TAG),
    );
    expect(acted.customTags).toContain(TAG);
    expect(acted.assignedTo).toBe(ASSIGNEE);
    const untouched = await incident(medium);
    expect(untouched.customTags).not.toContain(TAG);
    expect(untouched.assignedTo).not.toBe(ASSIGNEE);
  });

  it("dry-runs the rule being edited against an existing incident, showing the planned actions and changing nothing", async () => {
    const medium = await ingest("medium", "Dry run target");
    const before = await incident(medium);
    await page.getByRole("button", { name: "Edit High severity: escalate" }).click();
    const form = editor();
    await form.getByRole("group", { name: "Condition 1" }).getByLabel("Values (comma-separated; any may match)").fill("high, medium");
    await form.getByLabel("Incident id").fill(medium);
    await form.getByRole("button", { name: "Dry run" }).click();
    const result = form.getByTestId("dry-run-result");
    await result.waitFor();
    await expect(result.textContent()).resolves.toContain("The conditions hold.");
    await expect(result.getByRole("list", { name: "Conditions" }).textContent()).resolves.toContain("Holds: Severity equals high or medium (actual: medium)");
    const planned = await result.getByRole("list", { name: "Planned actions" }).locator(":scope > li").allTextContents();
    expect(planned).toHaveLength(2);
    expect(planned[0]).toContain(`Assign the incident to ${ASSIGNEE}.`);
    expect(planned[1]).toContain(`Add the tags ${TAG}.`);
    await screenshot(page, "automation-dry-run", true);
    expect(await axeViolations()).toEqual([]);

    // Nothing was written: the incident is as it was, and the saved rule still says "high" only.
    const after = await incident(medium);
    expect(after.customTags).toEqual(before.customTags);
    expect(after.assignedTo).toBe(before.assignedTo);
    expect((await adminApi("GET", "/triage/automation/rules")).body.value[0].conditions.items[0].values).toEqual(["high"]);

    // An incident that does not exist: the API's 404, word for word.
    expected.push(/HTTP 404 POST .*\/triage\/automation\/dryRun/);
    await form.getByLabel("Incident id").fill("999999");
    await form.getByRole("button", { name: "Dry run" }).click();
    const refusal = await adminApi("POST", "/triage/automation/dryRun", {
      rule: { displayName: "x", trigger: "incidentCreated", actions: [{ type: "addTags", tags: ["x"] }] },
      incidentId: "999999",
    });
    expect(refusal.status).toBe(404);
    await expect(form.getByRole("alert").textContent()).resolves.toBe(refusal.body.error.message);
    await form.getByRole("button", { name: "Cancel" }).click();
  });

  it("shows the API's refusal of a bad rule word for word and stores nothing", async () => {
    expected.push(/HTTP 400 POST .*\/triage\/automation\/rules$/);
    await page.getByRole("button", { name: "New rule" }).click();
    const form = editor();
    await form.getByLabel("Name").fill("Out of range");
    await form.getByLabel("Order (1 to 1000; lowest runs first)").fill("5000");
    await form.getByRole("group", { name: "Action 1" }).getByLabel("Tags (comma-separated)").fill("x");
    await form.getByRole("button", { name: "Create rule" }).click();
    const shown = await form.getByRole("alert").textContent();
    const direct = await adminApi("POST", "/triage/automation/rules", {
      displayName: "Out of range",
      order: 5000,
      enabled: true,
      expirationDateTime: null,
      trigger: "incidentCreated",
      conditions: { match: "all", items: [] },
      actions: [{ type: "addTags", tags: ["x"] }],
    });
    expect(direct.status).toBe(400);
    expect(shown).toBe(direct.body.error.message);
    expect((await adminApi("GET", "/triage/automation/rules")).body.value).toHaveLength(1);
    await form.getByRole("button", { name: "Cancel" }).click();
  });

  it("disables, re-enables and deletes a rule, and axe finds no serious or critical violation on the list", async () => {
    const enabled = page.getByRole("checkbox", { name: "High severity: escalate Enabled" });
    await enabled.focus();
    await page.keyboard.press("Space");
    const off = await until(
      () => adminApi("GET", "/triage/automation/rules"),
      (r) => r.body.value[0]?.enabled === false,
      5_000,
    );
    expect(off.body.value[0].enabled).toBe(false);
    await expect.poll(() => enabled.isChecked()).toBe(false);
    // The box shows the server's state: it changes when the PATCH is answered.
    await enabled.click();
    const on = await until(
      () => adminApi("GET", "/triage/automation/rules"),
      (r) => r.body.value[0]?.enabled === true,
      5_000,
    );
    expect(on.body.value[0].enabled).toBe(true);
    await expect.poll(() => enabled.isChecked()).toBe(true);
    expect(await axeViolations()).toEqual([]);

    await page.getByRole("button", { name: "Delete High severity: escalate" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete High severity: escalate?" });
    await dialog.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("cell", { name: "No automation rules yet." }).waitFor();
    expect((await adminApi("GET", "/triage/automation/rules")).body.value).toEqual([]);
  });
});
