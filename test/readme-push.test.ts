import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, startServerProcess, type ServerProcess } from "./support/process.js";
import { freshPostgresDatabase, TEST_STORE } from "./support/stores.js";

/**
 * The README's "Push" walk-through, run as a reader runs it: `triage serve` with the README's
 * arguments (on the suite's store), the receiver as `node receiver.mjs`, the subscription made with
 * the Graph JavaScript client after the Automation section's client setup (`NODE_EXTRA_CA_CERTS=…
 * TOKEN=$TOKEN node graph.mjs`), and every shell block in bash with real curl and jq after the tour's
 * setup. The only substitutions are those the README tells the reader to make: Triage's URL, the
 * receiver's port when 3000 is taken (a free one here, always), and `npx triage` run from this checkout.
 */

const ROOT = resolve(import.meta.dirname, "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const DOCUMENTED_URL = "https://127.0.0.1:8443";

interface Block {
  lang: string;
  code: string;
}

/** A `## ` section of the README by its heading's text (up to the next `## `). */
function section(heading: string): string {
  const start = README.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no "## ${heading}" section`);
  const rest = README.slice(start + 1);
  const end = rest.slice(3).search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end + 3);
}

function blocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

function run(
  file: string,
  args: string[],
  opts: { cwd: string; env?: Record<string, string>; input?: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(file, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout: 90_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

const push = blocks(section("Push: change notifications and an automation rule"));
const [serveBlock, receiverBlock, subscribeBlock, ingestBlock, ruleBlock, ingestHighBlock, checkBlock] = push;
const tourSetup = blocks(section("A tour of the API"))[0]!;
const clientSetup = blocks(section("Automation: merging, moving, hunting, describing")).find((b) => b.lang === "js")!;

let work: string;
let scratch: string;
let server: ServerProcess;
let pg: { url: string; drop(): Promise<void> } | null = null;
let storeEnv: Record<string, string>;
let port: number;
let receiver: ChildProcess;
let received = "";

/** The reader's substitutions: Triage's URL, the receiver's port, this checkout's CLI. */
function substitute(code: string): string {
  return code
    .replaceAll(DOCUMENTED_URL, server.url)
    .replaceAll("127.0.0.1:3000", `127.0.0.1:${port}`)
    .replace(/\.listen\(3000,/, `.listen(${port},`)
    .replace(/\bnpx triage\b/g, `node ${BIN}`);
}

async function shell(code: string): Promise<string> {
  const r = await run("bash", ["-o", "pipefail", "-e"], { cwd: work, env: storeEnv, input: substitute([tourSetup.code, code].join("\n")) });
  expect(r.code, `${code}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

async function waitFor(what: string, pred: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  expect(push.map((b) => b.lang)).toEqual(["sh", "js", "js", "sh", "sh", "sh", "sh"]);
  work = mkdtempSync(join(tmpdir(), "triage-readme-push-"));
  mkdirSync(join(ROOT, "test-output"), { recursive: true });
  // receiver.mjs and graph.mjs go in the checkout, as the README says (graph.mjs finds the client there).
  scratch = mkdtempSync(join(ROOT, "test-output", "readme-push-"));
  pg = TEST_STORE === "postgres" ? await freshPostgresDatabase() : null;
  storeEnv = pg ? { TRIAGE_DB: pg.url } : {};
  const serve = /^npx triage serve (.*)$/m.exec(serveBlock!.code)?.[1]?.trim().split(/\s+/);
  expect(serve).toEqual(["--demo", "--allow-private-destinations"]);
  server = await startServerProcess([...serve!, "--data", join(work, "data"), ...(pg ? ["--db", pg.url] : [])], 400_000);
  port = await freePort();
  const file = join(scratch, "receiver.mjs");
  writeFileSync(file, substitute(receiverBlock!.code));
  receiver = spawn(process.execPath, [file], { cwd: scratch, stdio: ["ignore", "pipe", "pipe"] });
  receiver.stdout!.setEncoding("utf8").on("data", (d: string) => (received += d));
  await waitFor("the receiver listens", () => received.includes(`receiving on http://127.0.0.1:${port}`));
}, 500_000);

afterAll(async () => {
  receiver?.kill("SIGTERM");
  if (server) {
    server.child.kill("SIGTERM");
    const killer = setTimeout(() => server.child.kill("SIGKILL"), 10_000);
    await server.exited;
    clearTimeout(killer);
  }
  await pg?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe("the README's push walk-through", () => {
  it("subscribes with the Graph JavaScript client, and the receiver is notified of a new incident", async () => {
    const file = join(scratch, "graph.mjs");
    writeFileSync(file, substitute(`${clientSetup.code}\n${subscribeBlock!.code}`));
    const command = /`(NODE_EXTRA_CA_CERTS=\S+ TOKEN=\$TOKEN node) graph\.mjs`/.exec(README)?.[1];
    expect(command).toBeDefined();
    const out = await shell(`${command} ${file}`);
    expect(out.trim()).toMatch(/^[0-9a-f-]{36} security\/incidents \d{4}-\d\d-\d\dT/);

    const alert = JSON.parse(await shell(ingestBlock!.code));
    expect(alert.incidentId).toMatch(/^\d+$/);
    await waitFor("the receiver prints the new incident", () => received.includes(`created security/incidents/${alert.incidentId} my-secret`));
  }, 120_000);

  it("creates the rule with the CLI, and the rule tags and comments the next high-severity incident", async () => {
    expect(await shell(ruleBlock!.code)).toMatch(/^Created rule [0-9a-f-]{36} \(High severity: flag for review\)\./);
    const alert = JSON.parse(await shell(ingestHighBlock!.code));
    let seen: { customTags: string[]; comments: string[] } = { customTags: [], comments: [] };
    await waitFor("the rule acts on the incident", async () => {
      seen = JSON.parse(await shell(checkBlock!.code));
      return seen.customTags.includes("needs-review");
    });
    expect(seen).toEqual({ customTags: ["needs-review"], comments: ["Flagged for review by automation."] });
    await waitFor("the receiver prints that incident too", () => received.includes(`created security/incidents/${alert.incidentId} my-secret`));
    // rule.json was written in the reader's terminal's folder.
    expect(JSON.parse(readFileSync(join(work, "rule.json"), "utf8")).trigger).toBe("incidentCreated");
  }, 120_000);
});
