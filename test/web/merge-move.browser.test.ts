import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { alert, deviceId } from "../support/alerts.js";
import { createApp, createUser, grantAdminConsent } from "../../src/identity/directory.js";
import { WEB_CLIENT_NAME, WEB_REDIRECT_PATH, webClientId } from "../../src/web/client.js";
import { accessTokenOf, browserAvailable, CHROMIUM, launchBrowser, screenshot, signIn, startWebTriage, watch, type WebTriage } from "./support.js";

/**
 * Merging incidents from the queue and moving alerts from an incident page, in headless Chromium
 * against a real Triage: what the dialogs show, what the server answers and refuses, and — through
 * the API afterwards — that the incidents and alerts changed as the page said.
 */

// Skipped with a notice without Chromium, required under CI: as test/web/browser.test.ts.
if (process.env.TRIAGE_SKIP_BROWSER === "1") {
  console.warn("NOTICE: the merge and move browser tests were skipped: TRIAGE_SKIP_BROWSER=1.");
} else if (!browserAvailable()) {
  const why = `the browser tests need Chromium at ${CHROMIUM} (apt-get install -y chromium; TRIAGE_CHROMIUM names another path)`;
  if (process.env.CI) throw new Error(`${why}; CI requires them.`);
  console.warn(`NOTICE: the merge and move browser tests were skipped: ${why}.`);
}

let w: WebTriage;
let browser: Browser;
let analyst: Page;
const problems: string[] = [];
const contexts: BrowserContext[] = [];
let stamp = 0;

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(10_000);
  contexts.push(context);
  watch(context, problems);
  return context.newPage();
}

beforeAll(async () => {
  [w, browser] = await Promise.all([startWebTriage(12), launchBrowser()]);
  analyst = await newPage();
  await signIn(analyst, w.url, w.users.analyst, "/incidents");
}, 120_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await w?.close();
});

afterEach(() => {
  // No console errors, uncaught exceptions or failed requests beyond the refusals a test asked for.
  const seen = problems.splice(0);
  const refusals = expected;
  expected = [];
  for (const pattern of refusals)
    expect(
      seen.filter((p) => pattern.test(p)),
      seen.join("\n"),
    ).toHaveLength(1);
  const browserNote = /console error: Failed to load resource: the server responded with a status of 400/;
  const left = seen.filter((p) => !refusals.some((r) => r.test(p)));
  expect(left.filter((p) => browserNote.test(p)).length).toBeLessThanOrEqual(refusals.length);
  expect(left.filter((p) => !browserNote.test(p))).toEqual([]);
});

/** The refused requests a test causes on purpose (each must happen once), with the console's line about it. */
let expected: RegExp[] = [];
function expectRefusal(pattern: RegExp): void {
  expected.push(pattern);
}

async function get(path: string): Promise<any> {
  const r = await w.t.get(path);
  expect(r.status, r.text).toBe(200);
  return r.body;
}

async function alertCount(incidentId: string): Promise<number> {
  const r = await w.t.get(`/v1.0/security/alerts_v2/$count?$filter=${encodeURIComponent(`incidentId eq '${incidentId}'`)}`);
  expect(r.status, r.text).toBe(200);
  return Number(r.text);
}

/** A new incident of `n` alerts on a device of its own, their titles after `title`; tagged `tag` if given. */
async function incident(title: string, n = 1, tag?: string): Promise<{ id: string; alerts: { id: string; title: string }[] }> {
  const device = deviceId();
  const at = new Date(Date.now() - 60_000).toISOString();
  const alerts = Array.from({ length: n }, (_, i) => alert({ device, at, title: `${title} alert ${i + 1}` }));
  const r = await w.t.ingest(alerts);
  expect(r.status, r.text).toBe(200);
  const ids = new Set(r.body.value.map((v: any) => v.incidentId as string));
  expect(ids.size).toBe(1);
  const id = [...ids][0] as string;
  if (tag) await patch(id, { customTags: [tag] });
  return { id, alerts: alerts.map((a) => ({ id: a.id as string, title: a.title as string })) };
}

async function patch(id: string, body: unknown): Promise<void> {
  const r = await w.t.request("PATCH", `/v1.0/security/incidents/${id}`, { body });
  expect(r.status, r.text).toBe(200);
}

/** The queue of the incidents tagged `tag`, loaded. */
async function queue(page: Page, tag: string): Promise<void> {
  await page.goto(`${w.url}/incidents?tags=${encodeURIComponent(tag)}`);
  await page.locator("table.incident-table[aria-busy=false]").waitFor();
}

/** Letters only: the move dialog's picker filters by id or by name, so a name must not hold digits an id could match. */
function letters(n: number): string {
  let s = "";
  do {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return s;
}

function uniqueName(what: string): string {
  return `${what} ${letters(Date.now())}-${letters(++stamp)}`;
}

const tagOf = (name: string) => name.toLowerCase().replace(/\s+/g, "-");

describe.skipIf(!browserAvailable() || process.env.TRIAGE_SKIP_BROWSER === "1")("merging and moving in the web app", { timeout: 60_000 }, () => {
  it("merges the incidents selected in the queue into the one the server chooses, and shows its answer", async () => {
    const name = uniqueName("Campaign");
    const tag = tagOf(name);
    const big = await incident(name, 2, tag);
    const small = await incident(name, 1, tag);
    const other = await incident(name, 1, tag);
    const page = analyst;
    await queue(page, tag);
    await expect(page.locator("tbody tr").count()).resolves.toBe(3);

    // The checkboxes work from the keyboard; one incident is not enough to merge, and the bar says why.
    const one = page.getByRole("checkbox", { name: `Select incident ${small.id}` });
    await one.focus();
    await page.keyboard.press("Space");
    await expect(one.isChecked()).resolves.toBe(true);
    const merge = page.getByRole("button", { name: "Merge…" });
    await expect(merge.isDisabled()).resolves.toBe(true);
    await expect(page.locator("#merge-why").textContent()).resolves.toBe("Select 2 to 5 incidents to merge them.");

    await page.getByRole("checkbox", { name: "Select all incidents on this page" }).check();
    await expect(page.getByText("3 incidents selected").isVisible()).resolves.toBe(true);
    await merge.click();
    const dialog = page.getByRole("dialog", { name: "Merge 3 incidents" });
    await dialog.waitFor();
    // The rule's choice is shown before the merge: the incident with the most alerts.
    await expect(dialog.getByTestId("expected-target").textContent()).resolves.toContain(`incident #${big.id}`);
    await expect(dialog.locator(`tr[data-incident-id="${big.id}"] td.num`).textContent()).resolves.toBe("2");
    await dialog.getByLabel("Comment on the target (optional)").fill("Same campaign, merged from the queue.");
    await screenshot(page, "merge-dialog");
    await dialog.getByRole("button", { name: "Merge 3 incidents" }).click();

    const done = page.getByRole("dialog", { name: "Incidents merged" });
    await done.waitFor();
    await expect(done.getByRole("status").textContent()).resolves.toContain(`Merged into incident #${big.id}.`);
    const listed = await done.getByRole("list", { name: "Merged incidents" }).locator("li").allTextContents();
    expect(listed.sort()).toEqual(
      [small.id, other.id].sort().map((id) => expect.stringMatching(new RegExp(`^#${id} .*— Redirected to #${big.id}$`))) as unknown as string[],
    );

    // Through the API: the sources redirect to the target, and their alerts are the target's now.
    for (const s of [small, other]) {
      const source = await get(`/v1.0/security/incidents/${s.id}`);
      expect(source).toMatchObject({ status: "redirected", redirectIncidentId: big.id });
      for (const a of s.alerts) expect((await get(`/v1.0/security/alerts_v2/${a.id}`)).incidentId).toBe(big.id);
    }
    const target = await get(`/v1.0/security/incidents/${big.id}`);
    expect(target.status).toBe("active");
    expect(target.comments.map((c: any) => c.comment)).toContain("Same campaign, merged from the queue.");
    expect(await alertCount(big.id)).toBe(4);

    // The queue behind the dialog has refreshed: the sources show as redirected, nothing stays selected.
    await expect(page.locator(`tr[data-incident-id="${small.id}"] .status-redirected`).count()).resolves.toBe(1);
    await expect(page.locator(`tr[data-incident-id="${other.id}"] .status-redirected`).count()).resolves.toBe(1);
    await done.getByRole("link", { name: `Open incident #${big.id}` }).click();
    await page.waitForURL(new RegExp(`/incidents/${big.id}$`));
    await page.getByRole("heading", { name: "Alerts (4)" }).waitFor();
    await expect(page.getByRole("button", { name: "Merge…" }).count()).resolves.toBe(0);

    // A source's page says where it went.
    await page.goto(`${w.url}/incidents/${small.id}`);
    await expect(page.locator(".redirect-banner a").textContent()).resolves.toBe(`incident #${big.id}`);
  });

  it("shows the server's refusal of a merge plainly, and nothing changes", async () => {
    const name = uniqueName("Disputed");
    const tag = tagOf(name);
    const first = await incident(name, 1, tag);
    const second = await incident(name, 1, tag);
    await patch(first.id, { assignedTo: "kim@contoso.test" });
    await patch(second.id, { assignedTo: "lee@contoso.test" });
    const page = analyst;
    await queue(page, tag);
    await page.getByRole("checkbox", { name: "Select all incidents on this page" }).check();
    await page.getByRole("button", { name: "Merge…" }).click();
    const dialog = page.getByRole("dialog", { name: "Merge 2 incidents" });
    await dialog.getByTestId("expected-target").waitFor();
    await dialog.getByRole("button", { name: "Merge 2 incidents" }).click();
    const shown = dialog.getByRole("alert");
    await shown.waitFor();
    expectRefusal(/HTTP 400 POST .*\/mergeIncidents$/);

    // The page shows the server's own message, which names the incident and the rule.
    const direct = await w.t.request("POST", "/v1.0/security/incidents/mergeIncidents", {
      body: { incidentIds: [first.id, second.id] },
      headers: await w.t.auth(w.t.tenantId, ["SecurityData.Manage.All"]),
    });
    expect(direct.status).toBe(400);
    expect(direct.body.error.message).toMatch(new RegExp(`^Incident '(${first.id}|${second.id})' cannot be merged into incident '\\d+': .*assigned`));
    await expect(shown.textContent()).resolves.toBe(direct.body.error.message);
    await screenshot(page, "merge-refused");
    for (const i of [first, second]) {
      const now = await get(`/v1.0/security/incidents/${i.id}`);
      expect(now.status).toBe("active");
      expect(now.redirectIncidentId).toBeNull();
    }
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog.isVisible()).resolves.toBe(false);
  });

  it("offers a reader no merge, and the API refuses the reader's token", async () => {
    const name = uniqueName("Reader");
    const tag = tagOf(name);
    const a = await incident(name, 1, tag);
    const b = await incident(name, 1, tag);
    const page = await newPage();
    await signIn(page, w.url, w.users.reader, "/incidents");
    await queue(page, tag);
    await expect(page.locator("tbody tr").count()).resolves.toBe(2);
    await expect(page.getByRole("checkbox", { name: /^Select / }).count()).resolves.toBe(0);
    await expect(page.getByRole("button", { name: "Merge…" }).count()).resolves.toBe(0);
    // The web app's token carries the permission; the reader's role is what the API refuses.
    const token = await accessTokenOf(page);
    const r = await w.t.request("POST", "/v1.0/security/incidents/mergeIncidents", {
      body: { incidentIds: [a.id, b.id] },
      headers: { authorization: `Bearer ${token}` },
    });
    expect(r.status, r.text).toBe(403);
    await page.goto(`${w.url}/incidents/${a.id}`);
    await page.getByRole("heading", { name: "Alerts (1)" }).waitFor();
    await expect(page.getByRole("button", { name: /^Move alert/ }).count()).resolves.toBe(0);
  });

  it("moves an alert to another incident, picked from the recent open ones; a closed one is refused", async () => {
    const name = uniqueName("Lateral");
    const from = await incident(name, 2);
    const to = await incident(uniqueName("Destination"));
    const closed = await incident(uniqueName("Closed"));
    await patch(closed.id, { status: "resolved", resolvingComment: "Done." });
    const leaving = from.alerts[1]!;
    const page = analyst;
    await page.goto(`${w.url}/incidents/${from.id}`);
    await page.getByRole("heading", { name: "Alerts (2)" }).waitFor();
    await screenshot(page, "incident-alerts-movable");
    await page.getByRole("button", { name: `Move alert ${leaving.title}` }).click();
    const dialog = page.getByRole("dialog", { name: "Move alert" });
    await dialog.waitFor();

    // A resolved destination: the server's refusal, as it wrote it.
    await dialog.getByLabel("Incident id").fill(closed.id);
    await dialog.getByRole("button", { name: "Move alert" }).click();
    const refusal = dialog.getByRole("alert");
    await refusal.waitFor();
    expectRefusal(/HTTP 400 POST .*\/moveAlerts$/);
    await expect(refusal.textContent()).resolves.toContain(`'${closed.id}'`);
    expect((await get(`/v1.0/security/alerts_v2/${leaving.id}`)).incidentId).toBe(from.id);

    // The picker lists open incidents; the resolved one is not among them.
    await dialog.getByLabel("Incident id").fill("");
    await dialog.getByRole("searchbox", { name: "Or pick a recently updated open incident" }).fill(to.id);
    const pick = dialog.getByRole("listbox", { name: "Recently updated open incidents" });
    await expect(pick.locator("option").allTextContents()).resolves.toEqual([expect.stringMatching(new RegExp(`^#${to.id} `))]);
    await dialog.getByRole("searchbox").fill(closed.id);
    await expect(pick.locator("option").count()).resolves.toBe(0);
    await dialog.getByRole("searchbox").fill("");
    await pick.selectOption(to.id);
    await expect(dialog.getByLabel("Incident id").inputValue()).resolves.toBe(to.id);
    await dialog.getByLabel("Comment on the alert (optional)").fill("Belongs with the destination.");
    await screenshot(page, "move-dialog");
    await dialog.getByRole("button", { name: "Move alert" }).click();

    await expect(page.getByRole("status").filter({ hasText: "moved to" }).textContent()).resolves.toBe(`Alert “${leaving.title}” moved to incident #${to.id}.`);
    await page.getByRole("heading", { name: "Alerts (1)" }).waitFor();
    await expect(page.getByRole("button", { name: `Move alert ${leaving.title}` }).count()).resolves.toBe(0);

    // Through the API: the alert is the destination's, with the comment; both incidents counted again.
    const moved = await get(`/v1.0/security/alerts_v2/${leaving.id}`);
    expect(moved.incidentId).toBe(to.id);
    expect(moved.comments.map((c: any) => c.comment)).toContain("Belongs with the destination.");
    expect(await alertCount(to.id)).toBe(2);
    expect(await alertCount(from.id)).toBe(1);

    await page.getByRole("link", { name: `incident #${to.id}` }).click();
    await page.waitForURL(new RegExp(`/incidents/${to.id}$`));
    await page.getByRole("heading", { name: "Alerts (2)" }).waitFor();
    await expect(page.getByText(leaving.title).first().isVisible()).resolves.toBe(true);
  });

  it("moves an alert to a new incident, named from it", async () => {
    const name = uniqueName("Split");
    const from = await incident(name, 2);
    const leaving = from.alerts[0]!;
    const page = analyst;
    await page.goto(`${w.url}/incidents/${from.id}`);
    await page.getByRole("heading", { name: "Alerts (2)" }).waitFor();
    await page.getByRole("button", { name: `Move alert ${leaving.title}` }).click();
    const dialog = page.getByRole("dialog", { name: "Move alert" });
    await dialog.getByRole("radio", { name: /A new incident/ }).check();
    await expect(dialog.getByLabel("Incident id").count()).resolves.toBe(0);
    await dialog.getByRole("button", { name: "Move alert" }).click();

    const status = page.getByRole("status").filter({ hasText: "moved to" });
    await expect(status.textContent()).resolves.toMatch(new RegExp(`^Alert “${leaving.title}” moved to a new incident, incident #\\d+\\.$`));
    const created = /incident #(\d+)\.$/.exec((await status.textContent())!)![1]!;
    expect(created).not.toBe(from.id);
    await page.getByRole("heading", { name: "Alerts (1)" }).waitFor();

    expect((await get(`/v1.0/security/alerts_v2/${leaving.id}`)).incidentId).toBe(created);
    const fresh = await get(`/v1.0/security/incidents/${created}?$expand=alerts`);
    expect(fresh.alerts.map((a: any) => a.id)).toEqual([leaving.id]);
    expect(fresh.displayName).toContain(name);
    expect(await alertCount(from.id)).toBe(1);

    await status.getByRole("link").click();
    await page.waitForURL(new RegExp(`/incidents/${created}$`));
    await page.getByRole("heading", { name: "Alerts (1)" }).waitFor();
  });

  it("explains, and offers no move, when the web app's registration predates SecurityData.Manage.All", async () => {
    // A tenant whose web app was registered with only the two ReadWrite permissions, as Triage used to.
    const tenant = await w.t.newTenant();
    const web = await createApp(w.t.store.db, {
      tenantId: tenant,
      clientId: webClientId(tenant),
      displayName: WEB_CLIENT_NAME,
      publicClient: true,
      redirectUris: [WEB_REDIRECT_PATH],
      delegatedPermissions: ["SecurityIncident.ReadWrite.All", "SecurityAlert.ReadWrite.All"],
    });
    await grantAdminConsent(w.t.store.db, web.clientId);
    const operator = { upn: "operator@fabrikam.test", password: "Operator-Pa55word", roles: ["Security Operator"] };
    await createUser(w.t.store.db, { tenantId: tenant, ...operator });
    const incidents: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await w.t.ingest([alert({ device: deviceId(), title: `Older registration ${i}` })], tenant);
      expect(r.status, r.text).toBe(200);
      incidents.push(r.body.value[0].incidentId);
    }

    const page = await newPage();
    await page.goto(`${w.url}/incidents`);
    await page.getByLabel("Tenant").fill(tenant);
    await page.locator("main").getByRole("button", { name: "Sign in" }).click();
    await page.getByLabel("User name").fill(operator.upn);
    await page.getByLabel("Password").fill(operator.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("table.incident-table[aria-busy=false]").waitFor();

    // Bulk changes still work for the operator; merging says what is missing and how to get it.
    for (const id of incidents) await page.getByRole("checkbox", { name: `Select incident ${id}` }).check();
    await expect(page.getByRole("button", { name: "Merge…" }).isDisabled()).resolves.toBe(true);
    await expect(page.locator("#merge-why").textContent()).resolves.toMatch(
      /needs the SecurityData\.Manage\.All permission, which this tenant's web app registration lacks: an administrator can add it/,
    );
    await expect(page.getByRole("button", { name: "Assign to me" }).isEnabled()).resolves.toBe(true);
    await page.goto(`${w.url}/incidents/${incidents[0]}`);
    await page.getByRole("heading", { name: "Alerts (1)" }).waitFor();
    await expect(page.getByRole("button", { name: /^Move alert/ }).count()).resolves.toBe(0);
    await expect(page.locator(".hint", { hasText: "SecurityData.Manage.All" }).isVisible()).resolves.toBe(true);
  });
});
