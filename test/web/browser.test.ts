import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { alert, deviceId } from "../support/alerts.js";
import { timeFormat } from "../../web/src/format.js";
import { LABELS } from "../../web/src/model.js";
import { accessTokenOf, browserAvailable, CHROMIUM, launchBrowser, screenshot, signIn, startWebTriage, watch, type WebTriage } from "./support.js";

/**
 * The web app end to end, in headless Chromium against a real Triage: signing in through the
 * authorization code flow, the queue and its URL, an incident's actions and audit trail, live
 * updates, bulk changes, the dashboard, a reader's view, the admin pages,
 * narrow windows — and not one console error, uncaught exception or failed request on the way.
 */

// Without Chromium the browser tests are skipped with a notice, so a newcomer's `npm test` says what it
// left out; under CI (CI set) a missing browser is a failure, since the tests are required there.
if (process.env.TRIAGE_SKIP_BROWSER === "1") {
  console.warn("NOTICE: the browser tests were skipped: TRIAGE_SKIP_BROWSER=1.");
} else if (!browserAvailable()) {
  const why = `the browser tests need Chromium at ${CHROMIUM} (apt-get install -y chromium; TRIAGE_CHROMIUM names another path)`;
  if (process.env.CI) throw new Error(`${why}; CI requires them.`);
  console.warn(`NOTICE: the browser tests were skipped: ${why}.`);
}

let w: WebTriage;
let browser: Browser;
const problems: string[] = [];
const contexts: BrowserContext[] = [];

async function newPage(opts: { width?: number; height?: number; clipboard?: boolean; locale?: string; timezoneId?: string } = {}): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
    acceptDownloads: true,
    locale: opts.locale,
    timezoneId: opts.timezoneId,
  });
  if (opts.clipboard) await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: w.url });
  context.setDefaultTimeout(10_000);
  contexts.push(context);
  watch(context, problems);
  return context.newPage();
}

/** The analyst's signed-in page, shared by the tests that act as the analyst. */
let analyst: Page;

beforeAll(async () => {
  [w, browser] = await Promise.all([startWebTriage(), launchBrowser()]);
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await w?.close();
});

afterEach(() => {
  // Every test ends with a clean console: no errors, warnings, uncaught exceptions or failed requests.
  const seen = problems.splice(0);
  expect(seen).toEqual([]);
});

async function apiGet(path: string): Promise<any> {
  const r = await w.t.get(path);
  expect(r.status, r.text).toBe(200);
  return r.body;
}

async function queueCount(page: Page): Promise<number> {
  const text = (await page.locator(".page-head p.muted").textContent()) ?? "";
  const m = /([\d,]+) incidents?/.exec(text);
  if (!m) throw new Error(`no count in '${text}'`);
  return Number(m[1]!.replace(/,/g, ""));
}

async function waitForQueue(page: Page): Promise<void> {
  await page.locator("table.incident-table[aria-busy=false]").waitFor();
}

/** Unfolds the queue's filter panel (folded on a queue without filters). */
async function openFilters(page: Page): Promise<void> {
  const filters = page.locator("details.filters");
  if (!(await filters.evaluate((d: any) => d.open as boolean))) await filters.locator("summary").click();
  await page.getByLabel("Search name or id").waitFor();
}

/** Enum members shown as they are spelled in the API: any LABELS key, as a whole word, in the text. */
function rawCodes(text: string): string[] {
  return Object.keys(LABELS).filter((code) => new RegExp(`\\b${code}\\b`).test(text));
}

describe.skipIf(!browserAvailable() || process.env.TRIAGE_SKIP_BROWSER === "1")("the web app in Chromium", { timeout: 60_000 }, () => {
  it("an analyst signs in with the authorization code flow and lands where the link pointed", async () => {
    analyst = await newPage();
    // An unauthenticated visit to a filtered queue: sign in, then back to the same filters.
    await analyst.goto(`${w.url}/incidents?severity=high`);
    await expect(analyst.getByLabel("Tenant").inputValue()).resolves.toBe(w.t.tenantId);
    await screenshot(analyst, "sign-in");
    await signIn(analyst, w.url, w.users.analyst, "/incidents?severity=high");
    expect(new URL(analyst.url()).pathname).toBe("/incidents");
    expect(new URL(analyst.url()).searchParams.get("severity")).toBe("high");
    await waitForQueue(analyst);
    await expect(analyst.getByRole("checkbox", { name: "High" }).isChecked()).resolves.toBe(true);
    await expect(analyst.locator(".user-role").textContent()).resolves.toBe("Security Operator");
    // The token came from Triage's token endpoint for the tenant's web client, with the user's role.
    const claims = JSON.parse(Buffer.from((await accessTokenOf(analyst)).split(".")[1]!, "base64url").toString());
    expect(claims).toMatchObject({ azp: w.webClientId, tid: w.t.tenantId, preferred_username: w.users.analyst.upn, idtyp: "user" });
    expect(claims.scp.split(" ").sort()).toEqual([
      "SecurityAlert.ReadWrite.All",
      "SecurityData.Manage.All",
      "SecurityIncident.ReadWrite.All",
      "ThreatHunting.Read.All",
    ]);
    await analyst.goto(`${w.url}/incidents`);
    await waitForQueue(analyst);
    await screenshot(analyst, "queue");
  });

  it("filters the queue; the URL carries the filters and opens the same view in a new page", async () => {
    const page = analyst;
    await page.goto(`${w.url}/incidents`);
    await waitForQueue(page);
    const total = await queueCount(page);
    await openFilters(page);
    await page.getByRole("checkbox", { name: "Active" }).check();
    await page.getByRole("checkbox", { name: "High" }).check();
    await page.getByRole("checkbox", { name: "Medium" }).check();
    await page.getByLabel("Assigned to").selectOption("unassigned");
    await page.getByLabel("Sort by").selectOption("priorityScore");
    await page.waitForURL(/sort=priorityScore/);
    await waitForQueue(page);
    const url = new URL(page.url());
    expect(Object.fromEntries(url.searchParams)).toEqual({ status: "active", severity: "high,medium", assigned: "unassigned", sort: "priorityScore" });
    const count = await queueCount(page);
    expect(count).toBeLessThan(total);
    const expected = await w.t.get(
      `/v1.0/security/incidents/$count?$filter=${encodeURIComponent("status eq 'active' and severity in ('high','medium') and assignedTo eq null")}`,
    );
    expect(count).toBe(Number(expected.text));
    // Sorted by priority, highest first.
    const scores = (await page.locator("tbody .priority").allTextContents()).map(Number);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));

    const shared = await page.context().newPage();
    await shared.goto(url.toString());
    await waitForQueue(shared);
    expect(await queueCount(shared)).toBe(count);
    await expect(shared.getByRole("checkbox", { name: "Active" }).isChecked()).resolves.toBe(true);
    await expect(shared.getByRole("checkbox", { name: "Medium" }).isChecked()).resolves.toBe(true);
    await expect(shared.getByRole("checkbox", { name: "Low" }).isChecked()).resolves.toBe(false);
    await expect(shared.getByLabel("Assigned to").inputValue()).resolves.toBe("unassigned");
    expect(await shared.locator("tbody tr").count()).toBe(await page.locator("tbody tr").count());
    await shared.close();

    // Search by name and by id; a detection source through the alerts.
    await page.goto(`${w.url}/incidents`);
    await waitForQueue(page);
    const first = await page.locator("tbody tr").first().getAttribute("data-incident-id");
    await openFilters(page);
    await page.getByLabel("Search name or id").fill(first!);
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(new RegExp(`q=${first}`));
    await waitForQueue(page);
    await expect(page.locator(`tbody tr[data-incident-id="${first}"]`).count()).resolves.toBe(1);
    await page.goto(`${w.url}/incidents?source=antivirus`);
    await waitForQueue(page);
    const withAntivirus = await page.locator("tbody tr").evaluateAll((rows: any[]) => rows.map((r) => r.getAttribute("data-incident-id") as string));
    expect(withAntivirus.length).toBeGreaterThan(0);
    const alerts = await apiGet(`/v1.0/security/alerts_v2?$filter=${encodeURIComponent("detectionSource eq 'antivirus'")}&$select=incidentId&$top=2000`);
    const ids = new Set(alerts.value.map((a: any) => a.incidentId));
    for (const id of withAntivirus) expect(ids.has(id), `incident ${id} has an antivirus alert`).toBe(true);
  });

  it("saves a view and brings it back", async () => {
    const page = analyst;
    await page.goto(`${w.url}/incidents?severity=high&assigned=unassigned`);
    await waitForQueue(page);
    await page.getByLabel("Name for this view").fill("High, unassigned");
    await page.getByRole("button", { name: "Save view" }).click();
    await page.goto(`${w.url}/incidents`);
    await waitForQueue(page);
    await page.getByRole("link", { name: "High, unassigned" }).click();
    await page.waitForURL(/severity=high&assigned=unassigned/);
    await waitForQueue(page);
    await expect(page.getByLabel("Assigned to").inputValue()).resolves.toBe("unassigned");
  });

  it("opens an incident; assigns, comments, classifies, tags and resolves it; the audit trail shows each change", async () => {
    const page = analyst;
    await page.goto(`${w.url}/incidents?status=active&severity=high`);
    await waitForQueue(page);
    const link = page.locator("tbody a.incident-link").first();
    const name = await link.textContent();
    await link.click();
    await page.waitForURL(/\/incidents\/\d+$/);
    const id = new URL(page.url()).pathname.split("/").pop()!;
    await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toContain(name!);
    await page.getByRole("heading", { name: /^Alerts \(\d+\)/ }).waitFor();
    await expect(page.getByRole("heading", { name: /^Priority score/ }).isVisible()).resolves.toBe(true);
    await expect(page.locator(".factors li").count()).resolves.toBe(5);
    await expect(page.locator(".timeline li").count()).resolves.toBeGreaterThan(2);

    await page.getByRole("button", { name: "Assign to me" }).click();
    await expect(page.getByTestId("assigned-to").filter({ hasText: w.users.analyst.upn }).waitFor()).resolves.toBeUndefined();

    await page.getByLabel("Add a comment").fill("Looked at the process tree: malicious.");
    await page.getByRole("button", { name: "Add comment" }).click();
    await page.locator(".comments").getByText("Looked at the process tree: malicious.").waitFor();

    await page.getByLabel("Classification", { exact: true }).selectOption("truePositive");
    await page.getByLabel("Determination", { exact: true }).selectOption("malware");
    await page.getByRole("button", { name: "Save classification" }).click();
    await page.getByRole("status").filter({ hasText: "Classified as True positive: Malware." }).waitFor();

    await page.getByLabel("New tag").fill("web-e2e");
    await page.getByRole("button", { name: "Add tag" }).click();
    await page.getByRole("button", { name: "Remove tag web-e2e" }).waitFor();

    await page.getByLabel("Resolving comment").fill("Malware removed; device reimaged.");
    await page.getByRole("button", { name: "Resolve incident" }).click();
    await page.locator(".head-badges .status-resolved").waitFor();

    const audit = page.locator(".audit-table tbody tr");
    await expect(audit.count()).resolves.toBeGreaterThanOrEqual(6);
    const rows: string[][] = await audit.evaluateAll((trs: any[]) =>
      trs.map((tr) => Array.from(tr.querySelectorAll("td"), (td: any) => String(td.textContent ?? ""))),
    );
    const changed = new Map(rows.map((r) => [r[2], r]));
    for (const property of ["assignedTo", "classification", "determination", "customTags", "status", "resolvingComment"]) {
      expect(changed.get(property)?.[1], `audit of ${property}`).toBe(w.users.analyst.upn);
    }
    // Enum values in words, in the audit trail, the timeline and the priority factors.
    expect(changed.get("status")?.[4]).toBe("Resolved");
    expect(changed.get("classification")?.[4]).toBe("True positive");
    expect(changed.get("determination")?.[4]).toBe("Malware");
    const shown =
      (await page.locator(".audit-table tbody").textContent())! +
      (await page.locator(".timeline").textContent())! +
      (await page.locator(".factors").textContent())!;
    expect(rawCodes(shown)).toEqual([]);
    await page.locator(".timeline li", { hasText: "changed classification: Unknown → True positive" }).waitFor();
    await screenshot(page, "incident", true);

    const incident = await apiGet(`/v1.0/security/incidents/${id}`);
    expect(incident).toMatchObject({
      status: "resolved",
      assignedTo: w.users.analyst.upn,
      classification: "truePositive",
      determination: "malware",
      customTags: ["web-e2e"],
      resolvingComment: "Malware removed; device reimaged.",
    });
    expect(incident.comments.at(-1)).toMatchObject({ comment: "Looked at the process tree: malicious.", createdByDisplayName: w.users.analyst.upn });
  });

  it("shows a redirected incident's target", async () => {
    // Two incidents (a device, an account), then an alert with both: one merges into the other.
    const device = deviceId();
    const user = `merge-${Date.now()}@contoso.test`;
    const at = new Date().toISOString();
    const first = await w.t.ingest([alert({ device, at, title: "Merge test: device" }), alert({ user, at, title: "Merge test: account" })]);
    expect(new Set(first.body.value.map((r: any) => r.incidentId)).size).toBe(2);
    const tie = await w.t.ingest([alert({ device, user, at, title: "Merge test: both" })]);
    const merged = tie.body.value[0].merged;
    expect(merged).toHaveLength(1);
    const { incidentId: id, into: redirectIncidentId } = merged[0];
    await analyst.goto(`${w.url}/incidents/${id}`);
    const link = analyst.locator(".redirect-banner a");
    await expect(link.textContent()).resolves.toBe(`incident #${redirectIncidentId}`);
    await expect(analyst.getByRole("button", { name: "Assign to me" }).count()).resolves.toBe(0);
    await link.click();
    await analyst.waitForURL(new RegExp(`/incidents/${redirectIncidentId}$`));
    await analyst.getByRole("heading", { name: /^Alerts/ }).waitFor();
  });

  it("shows the members Graph added after unknownFutureValue by their names, not as unknownFutureValue", async () => {
    const title = `Sentinel rule ${Date.now()}`;
    const r = await w.t.ingest([
      { ...alert({ device: deviceId(), title, at: new Date().toISOString() }), detectionSource: "nrtAlerts", serviceSource: "microsoftSentinel" },
    ]);
    expect(r.status).toBe(200);
    await analyst.goto(`${w.url}/incidents/${r.body.value[0].incidentId}`);
    await analyst.getByRole("heading", { name: /^Alerts/ }).waitFor();
    await expect(analyst.getByText("Near-real-time rule").first().isVisible()).resolves.toBe(true);
    await expect(analyst.getByText("Unknown future value").count()).resolves.toBe(0);
  });

  it("tells the incident's creation and each alert's joining at the times the details show, and names MITRE techniques", async () => {
    // Activity began hours before Defender raised each alert: the two times differ on the page.
    const device = deviceId();
    const title = `Timeline test ${Date.now()}`;
    const first = {
      ...alert({ device, at: "2026-11-03T10:00:00Z", title: `${title}: first` }),
      firstActivityDateTime: "2026-11-03T07:15:00Z",
      mitreTechniques: ["T1059.001", "T9999.999"],
    };
    const second = { ...alert({ device, at: "2026-11-03T11:30:00Z", title: `${title}: second` }), firstActivityDateTime: "2026-11-03T08:40:00Z" };
    const r = await w.t.ingest([first, second]);
    expect(r.status, r.text).toBe(200);
    const id = r.body.value[0].incidentId as string;
    expect(r.body.value[1].incidentId).toBe(id);
    const incident = await apiGet(`/v1.0/security/incidents/${id}?$expand=alerts`);
    const created = (a: Record<string, unknown>) => incident.alerts.find((x: any) => x.title === a.title).createdDateTime as string;

    await analyst.goto(`${w.url}/incidents/${id}`);
    await analyst.getByRole("heading", { name: "Alerts (2)" }).waitFor();
    const details = analyst.getByTestId("created").locator("time");
    expect(Date.parse((await details.getAttribute("datetime"))!)).toBe(Date.parse(incident.createdDateTime));
    const timeOf = (scope: string, text: string) => analyst.locator(scope, { hasText: text }).locator("time").first();

    // The timeline's "created" is the Details panel's Created, to the character.
    const createdEntry = timeOf(".timeline li", "Incident created from alert");
    await expect(createdEntry.textContent()).resolves.toBe(await details.textContent());
    expect(Date.parse((await createdEntry.getAttribute("datetime"))!)).toBe(Date.parse(incident.createdDateTime));
    // The joining alert joined when it was raised, which its own details show.
    const joined = timeOf(".timeline li", "joined");
    expect(Date.parse((await joined.getAttribute("datetime"))!)).toBe(Date.parse(created(second)));
    await analyst.locator(".alert-item summary", { hasText: `${title}: second` }).click();
    const raised = analyst
      .locator(".alert-item", { hasText: `${title}: second` })
      .getByTestId("raised")
      .locator("time");
    await expect(raised.textContent()).resolves.toBe(await joined.textContent());
    // The correlation panel tells the same times.
    await expect(timeOf(".events li", "Created").textContent()).resolves.toBe(await details.textContent());
    await expect(timeOf(".events li", "Alert joined").textContent()).resolves.toBe(await joined.textContent());
    // Activity times are told as such, apart.
    const activity = analyst.locator(".timeline li.tl-activity", { hasText: `${title}: first` }).locator("time");
    expect(Date.parse((await activity.getAttribute("datetime"))!)).toBe(Date.parse(first.firstActivityDateTime));

    // MITRE techniques: the name with the id, and an id the table does not know alone.
    await analyst.locator(".alert-item summary", { hasText: `${title}: first` }).click();
    const techniques = analyst.locator(".alert-item", { hasText: `${title}: first` }).locator(".tag.technique");
    await expect(techniques.allTextContents()).resolves.toEqual(["T1059.001 PowerShell", "T9999.999"]);
    await expect(techniques.first().getAttribute("title")).resolves.toBe("Command and Scripting Interpreter: PowerShell");
    await screenshot(analyst, "incident-timeline", true);
  });

  it("shows every time in one format, on the queue, an incident and the dashboard", async () => {
    const page = await newPage({ locale: "en-US", timezoneId: "UTC" });
    const expected = timeFormat("en-US", "UTC");
    await signIn(page, w.url, w.users.analyst, "/incidents");
    await waitForQueue(page);
    const times = async () =>
      page
        .locator("main time")
        .evaluateAll((ts: any[]) => ts.map((t) => [t.getAttribute("datetime"), t.textContent, t.getAttribute("title")] as [string, string, string]));
    const queue = await times();
    expect(queue.length).toBeGreaterThan(20);
    for (const [iso, text, title] of queue) {
      expect(text).toBe(expected.time(iso));
      expect(title).toBe(iso);
    }
    // An incident with comments and changes: its details, alerts, timeline, comments and audit trail.
    const commented = (await apiGet(`/v1.0/security/incidents?$filter=${encodeURIComponent("assignedTo eq 'analyst@contoso.test'")}&$top=1`)).value[0];
    await page.goto(`${w.url}/incidents/${commented.id}`);
    await page.locator(".audit-table").waitFor();
    const incident = await times();
    expect(incident.length).toBeGreaterThan(10);
    for (const [iso, text] of incident) expect(text).toBe(expected.time(iso));
    for (const scope of [".timeline", ".comments", ".audit-table", "[data-testid=created]", ".events"]) {
      await expect(page.locator(`${scope} time`).count(), scope).resolves.toBeGreaterThan(0);
    }
    // The dashboard's days are the same dates, in the same words.
    await page.goto(`${w.url}/dashboard`);
    await page.locator(".chart-grid").waitFor();
    await expect(page.locator(".dashboard > p.muted").textContent()).resolves.toMatch(
      /^[A-Z][a-z]{2} \d{1,2}, \d{4} to [A-Z][a-z]{2} \d{1,2}, \d{4} \(UTC days\)/,
    );
    // Techniques by name there too.
    const techniques = await page
      .locator("figure.chart-card", { has: page.locator("figcaption", { hasText: "Top MITRE" }) })
      .locator("text.label")
      .allTextContents();
    expect(techniques.length).toBeGreaterThan(2);
    for (const t of techniques) expect(t).toMatch(/^T\d{4}(\.\d{3})? \S/);
  });

  it("folds the filter panel on a queue without filters, and opens it when the URL carries filters", async () => {
    const page = analyst;
    await page.goto(`${w.url}/incidents`);
    await waitForQueue(page);
    const filters = page.locator("details.filters");
    await expect(filters.evaluate((d: any) => d.open)).resolves.toBe(false);
    await expect(page.getByLabel("Search name or id").isVisible()).resolves.toBe(false);
    await expect(filters.locator("summary").textContent()).resolves.toBe("Filters");
    await page.goto(`${w.url}/incidents?severity=high`);
    await waitForQueue(page);
    await expect(filters.evaluate((d: any) => d.open)).resolves.toBe(true);
    await expect(page.getByRole("checkbox", { name: "High" }).isVisible()).resolves.toBe(true);
    await expect(filters.locator("summary").textContent()).resolves.toBe("Filters (active)");
    // Clearing them leaves the panel where the user had it.
    await page.getByRole("button", { name: "Clear filters" }).click();
    await page.waitForURL((u) => u.search === "");
    await waitForQueue(page);
    await expect(filters.evaluate((d: any) => d.open)).resolves.toBe(true);
  });

  it("fits the queue on a phone: no sideways scrolling, the key columns in view, the filters in reach", async () => {
    const page = await newPage({ width: 390, height: 844 });
    await signIn(page, w.url, w.users.analyst, "/incidents");
    await waitForQueue(page);
    const fits = async () =>
      page.evaluate<{ page: number; table: number }>(
        `({ page: document.documentElement.scrollWidth - window.innerWidth, table: (() => { const t = document.querySelector(".table-wrap"); return t.scrollWidth - t.clientWidth; })() })`,
      );
    expect((await fits()).page).toBeLessThanOrEqual(0);
    expect((await fits()).table).toBeLessThanOrEqual(0);
    const inView = async (locator: ReturnType<Page["locator"]>, what: string) => {
      await expect(locator.isVisible(), what).resolves.toBe(true);
      const box = (await locator.boundingBox())!;
      expect(box.x, what).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width, what).toBeLessThanOrEqual(390);
      expect(box.width, what).toBeGreaterThan(8);
    };
    for (const name of ["Id", "Incident", "Severity", "Status"]) await inView(page.getByRole("columnheader", { name, exact: true }), `${name} header`);
    const row = page.locator("tbody tr").first();
    const id = (await row.getAttribute("data-incident-id"))!;
    await inView(row.locator("td.num").first(), "id");
    await expect(row.locator("td.num").first().textContent()).resolves.toBe(id);
    await inView(row.locator("a.incident-link"), "name");
    await screenshot(page, "queue-phone");
    // The name reads in words, not a letter a line.
    expect((await row.locator("a.incident-link").boundingBox())!.width).toBeGreaterThan(80);
    await inView(row.locator(".badge[class*=sev-]"), "severity");
    await inView(row.locator(".badge[class*=status-]"), "status");
    // The filters: folded, one tap away, and within the screen when open.
    await inView(page.locator("details.filters summary"), "filters");
    await openFilters(page);
    await inView(page.getByLabel("Search name or id"), "search");
    await inView(page.getByRole("checkbox", { name: "High" }), "severity filter");
    await inView(page.getByLabel("Sort by"), "sort");
    await page.getByRole("checkbox", { name: "High" }).check();
    await page.waitForURL(/severity=high/);
    await waitForQueue(page);
    expect((await fits()).page).toBeLessThanOrEqual(0);
    await screenshot(page, "queue-phone-filters", true);
  });

  it("shows new incidents without a reload", async () => {
    const page = analyst;
    await page.goto(`${w.url}/incidents`);
    await waitForQueue(page);
    const before = await queueCount(page);
    const title = `Web e2e live incident ${Date.now()}`;
    const res = await w.t.ingest([alert({ device: deviceId(), severity: "high", title, at: new Date().toISOString() })]);
    expect(res.status, res.text).toBe(200);
    const row = page.locator("tbody tr.fresh", { hasText: title });
    await row.waitFor({ timeout: 15_000 });
    await expect(row.locator(".badge.new").count()).resolves.toBe(1);
    await page.getByText("1 new incident since this list was loaded").waitFor();
    await expect(page.locator(".pager-count").textContent()).resolves.toContain(String(before));
  });

  it("bulk-assigns and sets the status of several incidents through $batch", async () => {
    const page = analyst;
    const batches: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && r.url().endsWith("/v1.0/$batch")) batches.push(r.postData() ?? "");
    });
    await page.goto(`${w.url}/incidents?status=active&sort=id&dir=asc&size=10`);
    await waitForQueue(page);
    const ids = (await page.locator("tbody tr").evaluateAll((rows: any[]) => rows.map((r) => r.getAttribute("data-incident-id") as string))).slice(
      0,
      3,
    ) as string[];
    for (const id of ids) await page.getByRole("checkbox", { name: `Select incident ${id}`, exact: true }).check();
    await page.getByLabel("Assign to", { exact: true }).fill("soc@contoso.test");
    await page.getByRole("button", { name: "Assign", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "Assigned to soc@contoso.test: 3 incidents updated." }).waitFor();
    await waitForQueue(page);
    for (const id of ids) await expect(page.locator(`tr[data-incident-id="${id}"] .assignee`).textContent()).resolves.toBe("soc@contoso.test");

    for (const id of ids.slice(0, 2)) await page.getByRole("checkbox", { name: `Select incident ${id}`, exact: true }).check();
    await page.getByLabel("Status", { exact: true }).selectOption("inProgress");
    await page.getByRole("button", { name: "Set status" }).click();
    await page.getByRole("status").filter({ hasText: "Status set to In progress: 2 incidents updated." }).waitFor();
    await waitForQueue(page);

    expect(batches).toHaveLength(2);
    expect(JSON.parse(batches[0]!).requests.map((r: any) => [r.method, r.url, r.body.assignedTo])).toEqual(
      ids.map((id) => ["PATCH", `/security/incidents/${id}`, "soc@contoso.test"]),
    );
    for (const [i, id] of ids.entries()) {
      const incident = await apiGet(`/v1.0/security/incidents/${id}`);
      expect(incident.assignedTo).toBe("soc@contoso.test");
      expect(incident.status).toBe(i < 2 ? "inProgress" : "active");
    }
  });

  it("draws the dashboard's charts from the API's data", async () => {
    const page = analyst;
    await page.goto(`${w.url}/dashboard`);
    await page.locator(".chart-grid").waitFor();
    const figures = page.locator("figure.chart-card");
    await expect(figures.count()).resolves.toBe(7);
    const bars = (caption: string) => page.locator("figure.chart-card", { has: page.locator("figcaption", { hasText: caption }) }).locator("rect.bar");
    expect(await bars("Incidents opened per day").count()).toBeGreaterThan(10);
    expect(await bars("Incidents resolved per day").count()).toBeGreaterThan(0);
    expect(await bars("Open incidents by severity").count()).toBeGreaterThan(1);
    expect(await bars("Open incidents by assignee").count()).toBeGreaterThan(1);
    expect(await bars("Mean time to resolve").count()).toBeGreaterThan(0);
    expect(await bars("Top detection sources").count()).toBeGreaterThan(2);
    expect(await bars("Top MITRE").count()).toBeGreaterThan(2);
    const open = Number(await page.locator(".kpi", { hasText: "Open incidents" }).locator(".kpi-value").textContent());
    const expected = await w.t.get(`/v1.0/security/incidents/$count?$filter=${encodeURIComponent("status in ('active','inProgress','awaitingAction')")}`);
    expect(open).toBe(Number(expected.text));
    await expect(page.locator(".kpi", { hasText: "Mean time to resolve" }).locator(".kpi-value").textContent()).resolves.not.toBe("—");
    await screenshot(page, "dashboard", true);
  });

  it("a Security Reader sees everything and can change nothing; the API refuses anyway", async () => {
    const page = await newPage();
    await signIn(page, w.url, w.users.reader);
    await waitForQueue(page);
    await expect(page.locator(".user-role").textContent()).resolves.toBe("Security Reader");
    await expect(page.getByRole("checkbox", { name: /Select/ }).count()).resolves.toBe(0);
    await expect(page.getByRole("link", { name: "Admin" }).count()).resolves.toBe(0);
    const id = await page.locator("tbody tr").first().getAttribute("data-incident-id");
    await page.locator("tbody a.incident-link").first().click();
    await page.getByRole("heading", { name: /^Alerts/ }).waitFor();
    await page.getByText("You have read-only access").waitFor();
    for (const name of ["Assign to me", "Set status", "Save classification", "Add tag", "Resolve incident", "Add comment"]) {
      await expect(page.getByRole("button", { name }).count(), name).resolves.toBe(0);
    }
    await expect(page.getByRole("heading", { name: /^Audit trail/ }).isVisible()).resolves.toBe(true);
    await screenshot(page, "reader-incident");
    await page.goto(`${w.url}/admin/apps`);
    await page.getByRole("heading", { name: "Not allowed" }).waitFor();

    // The same token, straight to the API: refused.
    const token = await accessTokenOf(page);
    const headers = { authorization: `Bearer ${token}` };
    const patch = await w.t.request("PATCH", `/v1.0/security/incidents/${id}`, { body: { status: "inProgress" }, headers });
    expect(patch.status).toBe(403);
    expect(patch.body.error.message).toMatch(/Security Operator/);
    expect((await w.t.request("POST", `/v1.0/security/incidents/${id}/comments`, { body: { comment: "no" }, headers })).status).toBe(403);
    expect((await w.t.request("GET", "/triage/admin/apps", { headers })).status).toBe(403);
    expect((await w.t.request("GET", `/v1.0/security/incidents/${id}`, { headers })).status).toBe(200);
  });

  it("an administrator registers an app, consents, adds a secret that works, deletes it, and manages users", async () => {
    const page = await newPage({ clipboard: true });
    await signIn(page, w.url, w.users.admin);
    await page.getByRole("link", { name: "Admin" }).click();
    await page.waitForURL(/\/admin\/apps$/);
    await page.locator(".app-list").waitFor();
    await expect(page.locator(".app-card", { hasText: "Triage web app" }).getByRole("button", { name: "Delete app" }).count()).resolves.toBe(0);

    await page.getByText("Register an app").click();
    await page.getByLabel("Name", { exact: true }).fill("E2E integration");
    await page.locator("#new-app-SecurityIncident\\.Read\\.All").check();
    await page.getByRole("button", { name: "Register", exact: true }).click();
    const card = page.locator(".app-card", { hasText: "E2E integration" });
    await card.waitFor();
    await expect(card.locator(".perm-status li", { hasText: "SecurityIncident.Read.All" }).locator(".badge").textContent()).resolves.toBe("Consented");
    const clientId = (await card.locator("dd code").first().textContent())!;

    await card.getByRole("button", { name: "New secret" }).click();
    const secret = (await page.getByTestId("secret-value").textContent())!;
    expect(secret).toMatch(/^.{3}8Q~/);
    await screenshot(page, "admin-secret");
    await page.getByRole("button", { name: "Done" }).click();
    await card.locator("dd", { hasText: `${secret.slice(0, 3)}…` }).waitFor();

    const token = await fetch(`${w.url}/${w.t.tenantId}/oauth2/v2.0/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: clientId,
        client_secret: secret,
        scope: "https://graph.microsoft.com/.default",
      }),
    }).then((r) => r.json() as Promise<any>);
    expect(token.access_token, JSON.stringify(token)).toBeTruthy();
    const list = await w.t.request("GET", "/v1.0/security/incidents?$top=1", { headers: { authorization: `Bearer ${token.access_token}` } });
    expect(list.status).toBe(200);
    await screenshot(page, "admin-apps", true);

    await card.getByRole("button", { name: "Delete app" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await card.waitFor({ state: "detached" });
    const after = await fetch(`${w.url}/${w.t.tenantId}/oauth2/v2.0/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: clientId,
        client_secret: secret,
        scope: "https://graph.microsoft.com/.default",
      }),
    });
    expect(after.status).toBe(400);

    await page.getByRole("link", { name: "Users and roles" }).click();
    await page.locator(".users-table").waitFor();
    await page.getByText("Add a user").click();
    await page.getByLabel("User principal name").fill("new.analyst@contoso.test");
    await page.getByLabel(/^Password/).fill("New-Analyst-1");
    await page.getByRole("button", { name: "Add user" }).click();
    const row = page.locator(".users-table tr", { hasText: "new.analyst@contoso.test" });
    await row.waitFor();
    await row.getByRole("checkbox", { name: "Security Operator" }).check();
    await row.getByRole("checkbox", { name: "Security Reader" }).uncheck();
    await row.getByRole("button", { name: /Save roles/ }).click();
    await page.getByRole("status").filter({ hasText: "Roles of new.analyst@contoso.test saved." }).waitFor();
    const users = await w.t.store.db.selectFrom("users").select(["upn", "roles"]).where("upn", "=", "new.analyst@contoso.test").executeTakeFirstOrThrow();
    expect(JSON.parse(users.roles)).toEqual(["Security Operator"]);
    await screenshot(page, "admin-users", true);
  });

  it("renews an expired access token with the rotating refresh token", async () => {
    const page = analyst;
    await page.goto(`${w.url}/incidents`);
    await waitForQueue(page);
    const before = JSON.parse((await page.evaluate<string>('localStorage.getItem("triage.session")'))!);
    expect(before.refreshToken).toBeTruthy();
    // As if the hour had passed: the next call must first get a new access token.
    await page.evaluate(
      `localStorage.setItem("triage.session", JSON.stringify({ ...JSON.parse(localStorage.getItem("triage.session")), accessToken: "expired", expiresAt: Date.now() - 1000 }))`,
    );
    await page.reload();
    await waitForQueue(page);
    const after = JSON.parse((await page.evaluate<string>('localStorage.getItem("triage.session")'))!);
    expect(after.accessToken).not.toBe("expired");
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.expiresAt).toBeGreaterThan(Date.now() + 30 * 60_000);
    expect(after.user.upn).toBe(w.users.analyst.upn);
  });

  it("works by keyboard and stays readable in a narrow window", async () => {
    const page = await newPage({ width: 390, height: 844 });
    await signIn(page, w.url, w.users.analyst, "/incidents");
    await waitForQueue(page);
    const overflow = async () => page.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
    expect(await overflow()).toBeLessThanOrEqual(0);
    await screenshot(page, "queue-narrow");
    await page.locator("tbody a.incident-link").first().click();
    await page.getByRole("heading", { name: /^Alerts/ }).waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
    await screenshot(page, "incident-narrow");
    await page.goto(`${w.url}/dashboard`);
    await page.locator(".chart-grid").waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);

    // The first Tab reaches the skip link, which moves focus to the page.
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${w.url}/incidents`);
    await waitForQueue(page);
    await page.keyboard.press("Tab");
    await expect(page.evaluate("document.activeElement?.textContent")).resolves.toBe("Skip to content");
    await page.keyboard.press("Enter");
    await page.keyboard.press("Tab");
    await expect(page.evaluate('document.activeElement?.closest("main") !== null')).resolves.toBe(true);
    // Sign out clears the session.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.locator("main").getByRole("button", { name: "Sign in" }).waitFor();
    await expect(page.evaluate('localStorage.getItem("triage.session")')).resolves.toBeNull();
  });

  it("shows every alert of an incident larger than the server serves inline, and says so in the queue", async () => {
    const device = deviceId();
    const r = await w.t.ingest(Array.from({ length: 120 }, (_, i) => alert({ device, at: `2026-11-02T08:${String(i % 60).padStart(2, "0")}:00Z` })));
    expect(r.status).toBe(200);
    const id = r.body.value[0].incidentId as string;
    await analyst.goto(`${w.url}/incidents/${id}`);
    await analyst.getByRole("heading", { name: "Alerts (120)" }).waitFor();
    // The newest incident: first in the queue.
    await analyst.goto(`${w.url}/incidents`);
    await waitForQueue(analyst);
    const row = analyst.locator("tbody tr").filter({ has: analyst.locator(`a.incident-link[href$="/incidents/${id}"]`) });
    await expect(row.locator("td.num").last().textContent()).resolves.toBe("100+");
  });
});
