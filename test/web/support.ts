/**
 * The web app's end-to-end harness: a real Triage (plain HTTP on loopback, a temporary store) with
 * generated incidents, the tenant's web client, an analyst, a reader and an administrator, and
 * Debian's Chromium driven by playwright-core (no browser is downloaded).
 */
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { startTriage, type TestTriage } from "../support/triage.js";
import { seedStore } from "../../src/cli/seed-store.js";
import { createUser } from "../../src/identity/directory.js";
import { ensureWebClient } from "../../src/web/client.js";
import { defaultWebRoot } from "../../src/web/routes.js";

export const CHROMIUM = process.env.TRIAGE_CHROMIUM ?? "/usr/bin/chromium";
export const SCREENSHOTS = fileURLToPath(new URL("../../test-output/screenshots/", import.meta.url));

export interface WebUser {
  upn: string;
  password: string;
  roles: string[];
}

export interface WebTriage {
  t: TestTriage;
  url: string;
  users: { analyst: WebUser; reader: WebUser; admin: WebUser };
  webClientId: string;
  close(): Promise<void>;
}

export async function startWebTriage(incidents = 60): Promise<WebTriage> {
  if (!defaultWebRoot()) throw new Error("The web app is not built: run `npm run build` first (npm test does it in pretest).");
  // The permissions list is built before the first page asks for it (`triage serve` builds it at the first request).
  const t = await startTriage({ warmPermissionsList: true });
  await seedStore(t.store, { tenantId: t.tenantId, incidents, seed: "triage-web-test", end: new Date("2026-11-01T00:00:00Z") });
  const client = await ensureWebClient(t.store.db, t.tenantId);
  const users = {
    analyst: { upn: "analyst@contoso.test", password: "Analyst-Pa55word", roles: ["Security Operator"] },
    reader: { upn: "reader@contoso.test", password: "Reader-Pa55word", roles: ["Security Reader"] },
    admin: { upn: "admin@contoso.test", password: "Admin-Pa55word", roles: ["Security Administrator"] },
  };
  const names = { analyst: "Alex Analyst", reader: "Riley Reader", admin: "Ada Admin" };
  for (const [k, u] of Object.entries(users)) {
    await createUser(t.store.db, { tenantId: t.tenantId, upn: u.upn, password: u.password, roles: u.roles, displayName: names[k as keyof typeof names] });
  }
  return { t, url: t.url, users, webClientId: client.clientId, close: () => t.close() };
}

export function browserAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/** Every console error or warning, uncaught exception and failed request of the pages of a context. */
export function watch(context: BrowserContext, problems: string[]): void {
  const onPage = (page: Page) => {
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`${page.url()}: console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`${page.url()}: uncaught ${e.message}`));
    page.on("response", (r) => {
      if (r.status() >= 400) problems.push(`${page.url()}: HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
    });
  };
  context.on("page", onPage);
  for (const p of context.pages()) onPage(p);
}

/** Signs in through Triage's own sign-in page, as a user would; resolves on the page signed in. */
export async function signIn(page: Page, base: string, user: WebUser, start = "/"): Promise<void> {
  await page.goto(base + start);
  await page.locator("main").getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/oauth2\/v2\.0\/authorize/);
  await page.getByLabel("User name").fill(user.upn);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => !u.pathname.includes("/oauth2/") && u.pathname !== "/signin-callback");
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** The signed-in session's access token, as the web app keeps it. */
export async function accessTokenOf(page: Page): Promise<string> {
  const raw = await page.evaluate<string | null>('localStorage.getItem("triage.session")');
  if (!raw) throw new Error("not signed in");
  return (JSON.parse(raw) as { accessToken: string }).accessToken;
}
