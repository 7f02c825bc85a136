import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createUser, grantAdminConsent, revokeConsent } from "../../src/identity/directory.js";
import { setAppPermissions } from "../../src/store/identity/apps.js";
import { WEB_DELEGATED_PERMISSIONS } from "../../src/web/client.js";
import { cellText } from "../../web/src/hunting.js";
import { HUNTING_TABLES } from "../../src/schema/hunting-tables.js";
import { MAX_EDITOR_QUERY } from "../../src/schema/limits.js";
import type { KqlEditorAnalysis } from "../../src/schema/triage-api.js";
import { browserAvailable, CHROMIUM, launchBrowser, screenshot, signIn, startWebTriage, watch, type WebTriage } from "./support.js";

/**
 * The Hunting page in headless Chromium against a real Triage: a typed query runs and its table is the
 * API's answer, the editor's highlighting, completions and diagnostics are the Kusto language service's
 * (POST /triage/hunting/editor), a summary by day draws a chart, an error shows Kusto's message and
 * position, the URL restores the query and its results, a user without a hunting role is told why, and
 * axe-core finds no serious or critical accessibility violation.
 */

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

if (process.env.TRIAGE_SKIP_BROWSER !== "1" && !browserAvailable() && process.env.CI) {
  throw new Error(`the browser tests need Chromium at ${CHROMIUM}; CI requires them.`);
}

let w: WebTriage;
let browser: Browser;
let analyst: Page;
const problems: string[] = [];
/** Failed requests a test expects (the error it shows); every other problem fails the test. */
let expected: RegExp[] = [];
const contexts: BrowserContext[] = [];
/** The seeded alerts were raised before 2026-11-01: a window that holds them whatever today is. */
const WINDOW = "2026-06-01T00:00:00Z/2026-11-02T00:00:00Z";

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(15_000);
  contexts.push(context);
  watch(context, problems);
  return context.newPage();
}

beforeAll(async () => {
  [w, browser] = await Promise.all([startWebTriage(40), launchBrowser()]);
  analyst = await newPage();
  await signIn(analyst, w.url, w.users.analyst, `/hunting?timespan=${encodeURIComponent(WINDOW)}`);
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await w?.close();
});

afterEach(() => {
  const seen = problems.splice(0).filter((p) => !expected.some((re) => re.test(p)));
  expected = [];
  expect(seen).toEqual([]);
});

async function hunt(query: string, timespan = WINDOW): Promise<{ status: number; body: any }> {
  const headers = await w.t.auth(w.t.tenantId, ["ThreatHunting.Read.All"]);
  const r = await w.t.request("POST", "/v1.0/security/runHuntingQuery", { body: { Query: query, Timespan: timespan }, headers });
  return { status: r.status, body: r.body };
}

async function tableOf(page: Page): Promise<{ head: string[]; rows: string[][] }> {
  await page.locator("table.hunting-table").waitFor();
  const head = await page.locator("table.hunting-table thead th").allTextContents();
  const rows = await page
    .locator("table.hunting-table tbody tr")
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")));
  return { head, rows };
}

function expectedTable(answer: { schema: { name: string }[]; results: Record<string, unknown>[] }): { head: string[]; rows: string[][] } {
  return { head: answer.schema.map((c) => c.name), rows: answer.results.map((r) => answer.schema.map((c) => cellText(r[c.name]))) };
}

/** What the language service answers for a query, asked directly of the API. */
async function analysis(query: string, caret?: number): Promise<KqlEditorAnalysis> {
  const headers = await w.t.auth(w.t.tenantId, ["ThreatHunting.Read.All"]);
  const r = await w.t.request("POST", "/triage/hunting/editor", { body: caret === undefined ? { query } : { query, caret }, headers });
  expect(r.status).toBe(200);
  return r.body as KqlEditorAnalysis;
}

/** Waits until the editor shows the language service's answer for the text it holds. */
async function analyzed(page: Page): Promise<void> {
  await page.locator(".kql-editor[data-analyzed=current]").waitFor();
}

/** The highlighted spans that carry a token class, as [text, kind]. */
async function highlighted(page: Page): Promise<[string, string][]> {
  return page
    .locator(".kql-highlight span")
    .evaluateAll((spans): [string, string][] =>
      spans.flatMap((s) =>
        [...s.classList]
          .filter((c) => c.startsWith("kql-") && !/^kql-(diagnostic|error|end)/.test(c))
          .map((c): [string, string] => [s.textContent ?? "", c.slice(4)]),
      ),
    );
}

async function axeViolations(page: Page): Promise<string[]> {
  // Through the DevTools protocol, as the page's Content-Security-Policy forbids inline scripts.
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate<{ id: string; impact: string; help: string; nodes: { target: string[] }[] }[]>(
    "axe.run(document, { resultTypes: ['violations'] }).then((r) => r.passes.length > 20 ? r.violations : Promise.reject(new Error('axe checked too little')))",
  );
  return result
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

async function typeAndRun(page: Page, query: string): Promise<void> {
  const editor = page.getByLabel("Query", { exact: true });
  await editor.fill(query);
  await editor.press("Control+Enter");
  await page.locator(".hunting-results[aria-busy=false]").waitFor();
}

describe.skipIf(!browserAvailable() || process.env.TRIAGE_SKIP_BROWSER === "1")("the Hunting page", { timeout: 60_000 }, () => {
  it("a typed query runs with Ctrl+Enter; the table is the API's answer and the URL carries query and timespan", async () => {
    const page = analyst;
    await expect(page.getByRole("link", { name: "Hunting" }).getAttribute("aria-current")).resolves.toBe("page");
    const query =
      'AlertInfo\n| where Severity in ("High", "Medium")\n| project AlertId, Title, Severity, Timestamp, AttackTechniques\n| order by AlertId asc\n| take 25';
    await typeAndRun(page, query);
    const answer = await hunt(query);
    expect(answer.status).toBe(200);
    expect(answer.body.results.length).toBeGreaterThan(0);
    expect(await tableOf(page)).toEqual(expectedTable(answer.body));
    await expect(page.locator(".hunting-count").textContent()).resolves.toBe(`${answer.body.results.length} rows`);
    const url = new URL(page.url());
    expect(url.pathname).toBe("/hunting");
    expect(url.searchParams.get("query")).toBe(query);
    expect(url.searchParams.get("timespan")).toBe(WINDOW);
    // No chart for rows that are not a summary.
    await expect(page.locator(".hunting-chart").count()).resolves.toBe(0);
    await screenshot(page, "hunting-table");
  });

  it("highlights what the language service classifies: tables, query operators, columns, strings, functions, literals", async () => {
    const page = analyst;
    const editor = page.getByLabel("Query", { exact: true });
    await editor.fill("");
    const query = 'AlertInfo | where Severity == "High" and Timestamp > ago(7d) | summarize count() by bin(Timestamp, 1d)';
    const answered = page.waitForResponse((r) => r.url().endsWith("/triage/hunting/editor") && r.request().postDataJSON()?.query === query);
    await editor.pressSequentially(query);
    await answered;
    await analyzed(page);
    const spans = await highlighted(page);
    // Exactly the language service's tokens, in order.
    const expected = (await analysis(query)).tokens.map((t) => [query.slice(t.start, t.start + t.length), t.kind]);
    expect(spans).toEqual(expected);
    expect(spans).toEqual(
      expect.arrayContaining([
        ["AlertInfo", "table"],
        ["where", "queryOperator"],
        ["Severity", "column"],
        ["==", "operator"],
        ['"High"', "string"],
        ["ago", "function"],
        ["7d", "literal"],
        ["summarize", "queryOperator"],
        ["by", "keyword"],
      ]),
    );
    await expect(page.locator(".kql-highlight").textContent()).resolves.toBe(`${query}\n`);
    await expect(page.locator(".kql-problems").count()).resolves.toBe(0);
    await screenshot(page, "hunting-highlight");
  });

  it("completes the columns of AlertInfo after `AlertInfo | where `, chosen and inserted by keyboard", async () => {
    const page = analyst;
    const editor = page.getByLabel("Query", { exact: true });
    await editor.fill("");
    await editor.pressSequentially("AlertInfo | where ");
    const listbox = page.getByRole("listbox", { name: "Completions" });
    await listbox.waitFor();
    await expect(editor.getAttribute("role")).resolves.toBe("combobox");
    await expect(editor.getAttribute("aria-expanded")).resolves.toBe("true");
    await expect(editor.getAttribute("aria-controls")).resolves.toBe("kql-completions");
    const columns = HUNTING_TABLES.find((t) => t.name === "AlertInfo")!.columns.map((c) => c.name);
    const offered = await listbox.locator("[role=option]").evaluateAll((os) => os.map((o) => o.textContent ?? ""));
    for (const c of columns) expect(offered).toContain(`column ${c}`);
    // Nothing is chosen until an arrow key chooses; the choice is the active descendant.
    await expect(editor.getAttribute("aria-activedescendant")).resolves.toBeNull();
    await editor.press("ArrowDown");
    await editor.press("ArrowDown");
    const active = (await editor.getAttribute("aria-activedescendant"))!;
    const option = page.locator(`#${active}`);
    await expect(option.getAttribute("aria-selected")).resolves.toBe("true");
    const label = ((await option.textContent()) ?? "").replace(/^column /, "");
    expect(columns).toContain(label);
    await editor.press("Enter");
    await expect(listbox.count()).resolves.toBe(0);
    await expect(editor.inputValue()).resolves.toMatch(new RegExp(`^AlertInfo \\| where ${label} ?$`));
    // A typed word narrows the list and its first item is chosen: Tab takes it. Esc closes the list, Ctrl+Space opens it again.
    await editor.fill("AlertInfo | where Timestamp > ago(1d) and Sev");
    await editor.pressSequentially("e");
    await page.getByRole("option", { name: /Severity/ }).waitFor();
    await editor.press("Escape");
    await expect(listbox.count()).resolves.toBe(0);
    await expect(editor.getAttribute("aria-expanded")).resolves.toBe("false");
    await editor.press("Control+Space");
    await page.getByRole("option", { name: /Severity/ }).waitFor();
    await editor.press("Tab");
    await expect(editor.inputValue()).resolves.toMatch(/^AlertInfo \| where Timestamp > ago\(1d\) and Severity ?$/);
  });

  it("completes tables, operators after a pipe, columns of AlertEvidence, and functions with their parentheses", async () => {
    const page = analyst;
    const editor = page.getByLabel("Query", { exact: true });
    await editor.fill("");
    await editor.pressSequentially("AlertEv");
    await page.getByRole("option", { name: /AlertEvidence/ }).waitFor();
    await editor.press("Tab");
    await expect(editor.inputValue()).resolves.toMatch(/^AlertEvidence\s*(\| )?$/);
    await editor.fill("AlertEvidence\n| ");
    await editor.pressSequentially("summ");
    await page.getByRole("option", { name: /summarize/ }).waitFor();
    await editor.press("Tab");
    await editor.pressSequentially(" count() by EntityT");
    await page.getByRole("option", { name: /EntityType/ }).waitFor();
    await editor.press("Tab");
    await expect(editor.inputValue()).resolves.toMatch(/^AlertEvidence\n\| summarize count\(\) by EntityType ?$/);
    // Enter on a word already typed in full is a new line even with the list open ("project" also begins "project-away").
    await editor.fill("AlertEvidence\n| summarize count() by EntityType");
    await editor.pressSequentially("\n| project");
    await page.getByRole("option", { name: /project-away/ }).waitFor();
    await editor.press("Enter");
    await expect(editor.inputValue()).resolves.toBe("AlertEvidence\n| summarize count() by EntityType\n| project\n");
    // A function brings its parentheses, the caret between them.
    await editor.fill("AlertInfo | where Timestamp > ");
    await editor.pressSequentially("ag");
    await page.getByRole("option", { name: /ago\(timespan\)/ }).waitFor();
    await editor.press("Tab");
    await editor.pressSequentially("3d");
    await expect(editor.inputValue()).resolves.toBe("AlertInfo | where Timestamp > ago(3d)");
  });

  it("shows the language service's diagnostics in the editor before the query runs", async () => {
    const page = analyst;
    const editor = page.getByLabel("Query", { exact: true });
    const before = page.url();
    const query = "AlertInfo\n| where NoSuchColumn == 1";
    await editor.fill(query);
    await analyzed(page);
    const [diagnostic] = (await analysis(query)).diagnostics;
    expect(diagnostic).toMatchObject({ code: "KS142", severity: "error" });
    const mark = page.locator(".kql-highlight .kql-diagnostic");
    await expect(mark.textContent()).resolves.toBe("NoSuchColumn");
    await expect(mark.getAttribute("title")).resolves.toBe(diagnostic!.message);
    const problems = page.locator("#kql-problems");
    await expect(problems.textContent()).resolves.toContain(`Line 2, column 9 ${diagnostic!.message} (KS142)`);
    await expect(editor.getAttribute("aria-invalid")).resolves.toBe("true");
    await expect(editor.getAttribute("aria-describedby")).resolves.toBe("kql-help kql-problems");
    await problems.getByRole("button", { name: "Line 2, column 9" }).click();
    const caret = await editor.evaluate((t) => (t as unknown as { selectionStart: number }).selectionStart);
    expect(caret).toBe(query.indexOf("NoSuchColumn"));
    // Nothing ran: the URL is as it was.
    expect(page.url()).toBe(before);
    // Fixed, the mark and the list go.
    await editor.fill("AlertInfo\n| where Severity == 1");
    await analyzed(page);
    await expect(page.locator(".kql-highlight .kql-diagnostic").count()).resolves.toBe(0);
    await expect(problems.count()).resolves.toBe(0);
    await expect(editor.getAttribute("aria-invalid")).resolves.toBeNull();
    await screenshot(page, "hunting-diagnostic");
    // A query longer than the editor analyzes is plain text, and the page says why.
    let asked = 0;
    const count = (r: { url(): string }) => void (r.url().endsWith("/triage/hunting/editor") && asked++);
    page.on("request", count);
    await editor.fill(`AlertInfo | where Title has "${"a".repeat(MAX_EDITOR_QUERY)}"`);
    await page.getByText(`The query is longer than ${MAX_EDITOR_QUERY.toLocaleString("en-US")} characters`).waitFor();
    await expect(page.locator(".kql-highlight span").count()).resolves.toBe(0);
    await page.waitForTimeout(300);
    page.off("request", count);
    expect(asked).toBe(0);
  });

  it("a summary by bin(Timestamp, 1d) draws a chart of its rows", async () => {
    const page = analyst;
    const query = "AlertInfo\n| summarize Alerts = count() by bin(Timestamp, 1d)";
    await typeAndRun(page, query);
    const answer = await hunt(query);
    expect(answer.status).toBe(200);
    expect(await tableOf(page)).toEqual(expectedTable(answer.body));
    const chart = page.locator("figure.hunting-chart");
    await chart.waitFor();
    // One column per day of the answer, and the chart's total is the alerts counted.
    await expect(chart.locator("g.bar-group").count()).resolves.toBe(answer.body.results.length);
    const total = answer.body.results.reduce((n: number, r: any) => n + r.Alerts, 0);
    await expect(chart.locator("svg.chart").getAttribute("aria-label")).resolves.toContain(`: ${total} in ${answer.body.results.length}`);
    await screenshot(page, "hunting-chart");
  });

  it("an error shows Kusto's message and moves the caret to its position", async () => {
    const page = analyst;
    expected = [/HTTP 400 POST .*runHuntingQuery/, /status of 400 \(Bad Request\)/];
    const query = "AlertInfo\n| where NoSuchColumn == 1";
    await typeAndRun(page, query);
    const answer = await hunt(query);
    expect(answer.status).toBe(400);
    const message: string = answer.body.error.message;
    expect(message).toContain("[line:position=2:9]");
    await expect(page.locator(".hunting-error-message").textContent()).resolves.toBe(message);
    await analyzed(page);
    await expect(page.locator(".kql-highlight .kql-error").textContent()).resolves.toBe("NoSuchColumn");
    await page.getByRole("button", { name: "Go to line 2, column 9" }).click();
    const caret = await page.getByLabel("Query", { exact: true }).evaluate((t) => (t as unknown as { selectionStart: number }).selectionStart);
    expect(caret).toBe(query.indexOf("NoSuchColumn"));
    await expect(page.locator("table.hunting-table").count()).resolves.toBe(0);
  });

  it("the shareable URL restores the query and timespan in a new tab and runs it", async () => {
    const query = 'AlertEvidence\n| where EntityType == "User"\n| summarize Alerts = dcount(AlertId) by AccountUpn\n| order by Alerts desc, AccountUpn asc';
    await typeAndRun(analyst, query);
    const link = analyst.url();
    const tab = await analyst.context().newPage();
    await tab.goto(link);
    await tab.locator(".hunting-results[aria-busy=false]").waitFor();
    await expect(tab.getByLabel("Query", { exact: true }).inputValue()).resolves.toBe(query);
    await expect(tab.getByLabel("Time range").inputValue()).resolves.toBe(WINDOW);
    const answer = await hunt(query);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.results.length).toBeGreaterThan(0);
    expect(await tableOf(tab)).toEqual(expectedTable(answer.body));
    // A timespan from the picker is in the link as well.
    const short = new URL(`${w.url}/hunting?query=${encodeURIComponent("AlertInfo | take 3")}&timespan=P30D`);
    await tab.goto(short.href);
    await tab.locator(".hunting-results[aria-busy=false]").waitFor();
    await expect(tab.getByLabel("Time range").inputValue()).resolves.toBe("P30D");
    await tab.close();
  });

  it("has no serious or critical accessibility violation: results with a chart, the completion list open, diagnostics shown", async () => {
    const page = analyst;
    await typeAndRun(page, "AlertInfo\n| summarize Alerts = count() by bin(Timestamp, 1d), Severity");
    await page.locator("figure.hunting-chart").waitFor();
    await analyzed(page);
    expect(await axeViolations(page)).toEqual([]);
    const editor = page.getByLabel("Query", { exact: true });
    await editor.fill("AlertInfo | where NoSuchColumn == 1 and ");
    await editor.pressSequentially("Sev");
    await page.getByRole("option", { name: /Severity/ }).waitFor();
    await page.locator("#kql-problems").waitFor();
    expect(await axeViolations(page)).toEqual([]);
    // The check sees what it should: an option outside a listbox is a critical violation.
    await page.evaluate(
      'document.querySelector("main").append(Object.assign(document.createElement("div"), { id: "stray", role: "option", textContent: "x" }))',
    );
    expect((await axeViolations(page)).join("\n")).toMatch(/critical aria-required-parent: .*#stray/);
    await page.evaluate('document.getElementById("stray").remove()');
    await editor.press("Escape");
  });

  it("a user without a hunting role is told which roles hunting needs", async () => {
    await createUser(w.t.store.db, { tenantId: w.t.tenantId, upn: "norole@contoso.test", password: "NoRole-Pa55word", roles: [], displayName: "Noel Norole" });
    expected = [/HTTP 403 POST .*(runHuntingQuery|\/triage\/hunting\/editor)/, /status of 403 \(Forbidden\)/];
    const page = await newPage();
    const query = "AlertInfo | take 1";
    await signIn(page, w.url, { upn: "norole@contoso.test", password: "NoRole-Pa55word", roles: [] }, `/hunting?query=${encodeURIComponent(query)}`);
    const denied = page.locator(".hunting-denied");
    await denied.waitFor();
    const text = (await denied.textContent()) ?? "";
    expect(text).toContain("Advanced hunting is not available to you.");
    expect(text).toContain("Security Reader, Global Reader, Security Operator or Security Administrator");
    // The editor stays plain text: the language service is refused to this user as hunting is.
    await expect(page.locator(".kql-editor").getAttribute("data-analyzed")).resolves.toBe("none");
    await expect(page.locator("table.hunting-table").count()).resolves.toBe(0);
    await screenshot(page, "hunting-denied");
  });

  it("in a tenant whose web app registration predates hunting, the page says what to grant", async () => {
    // The registration as tenants had it before hunting: the two incident and alert permissions only.
    const registration = async (delegated: string[]) => {
      await revokeConsent(w.t.store.db, w.webClientId);
      await setAppPermissions(w.t.store.db, w.webClientId, "[]", JSON.stringify(delegated));
      await grantAdminConsent(w.t.store.db, w.webClientId);
    };
    await registration(["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"]);
    try {
      expected = [/HTTP 403 POST .*(runHuntingQuery|\/triage\/hunting\/editor)/, /status of 403 \(Forbidden\)/];
      const page = await newPage();
      await signIn(page, w.url, w.users.reader, `/hunting?query=${encodeURIComponent("AlertInfo | take 1")}`);
      const denied = page.locator(".hunting-denied");
      await denied.waitFor();
      const text = (await denied.textContent()) ?? "";
      expect(text).toContain("has not been granted ThreatHunting.Read.All");
      expect(text).toContain("Missing scope permissions");
    } finally {
      await registration(WEB_DELEGATED_PERMISSIONS);
    }
  });
});
