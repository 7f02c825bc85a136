import { execFile, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, httpsRequest, startServerProcess, type ServerProcess } from "./support/process.js";
import { freshPostgresDatabase, TEST_STORE } from "./support/stores.js";

/**
 * The README's "Automation" section, run as a reader runs it: a real `triage serve --demo` over HTTPS
 * (on the suite's store), the tour's setup block for the variables and the token, every `curl` block in
 * bash with real curl and jq, and every Graph JavaScript client example appended to the section's client
 * setup and run with node, as the README says (`NODE_EXTRA_CA_CERTS=data/tls/ca.pem TOKEN=$TOKEN node
 * graph.mjs`). The only substitutions are those the README tells the reader to make when Triage is not
 * at https://127.0.0.1:8443: the URL, and `npx triage` run from this checkout. Then every hunting query
 * of the README and of docs/hunting.md runs on runHuntingQuery and must answer the columns documented
 * after it ("Columns: …").
 */

const ROOT = resolve(import.meta.dirname, "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const HUNTING_DOC = readFileSync(join(ROOT, "docs", "hunting.md"), "utf8");
const DOCUMENTED_URL = "https://127.0.0.1:8443";
/** The demo data's four weeks end on 2026-11-01: the hunting queries read them whatever today is. */
const DEMO_WINDOW = "2026-10-01T00:00:00Z/2026-11-02T00:00:00Z";

interface Block {
  lang: string;
  code: string;
  /** The Markdown between this block and the next one (or the end of the section). */
  after: string;
}

/** A `## ` section of a Markdown document by its heading's text (up to the next `## `). */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`no "## ${heading}" section`);
  const rest = markdown.slice(start + 1);
  const end = rest.slice(3).search(/^## /m);
  return end < 0 ? rest : rest.slice(0, end + 3);
}

/** The fenced code blocks of a Markdown text, in order. */
function blocks(markdown: string): Block[] {
  const found = [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)];
  return found.map((m, i) => ({
    lang: m[1]!,
    code: m[2]!,
    after: markdown.slice(m.index + m[0].length, found[i + 1]?.index ?? markdown.length),
  }));
}

/** The Automation section: its preamble's blocks and each `### ` subsection's blocks, by heading. */
export function automationExamples(readme: string): { preamble: Block[]; capabilities: Map<string, Block[]> } {
  const text = section(readme, "Automation: merging, moving, hunting, describing");
  const [preamble = "", ...parts] = text.split(/^### /m);
  return {
    preamble: blocks(preamble),
    capabilities: new Map(parts.map((p) => [p.slice(0, p.indexOf("\n")).trim(), blocks(p)])),
  };
}

/** The hunting queries a code block holds: a `kql` block is one; elsewhere the `Query` values and beta's getRunHuntingQuery(query='…'). */
export function queriesIn(block: Block): string[] {
  if (block.lang === "kql") return [block.code.trim()];
  const out: { at: number; query: string }[] = [];
  for (const m of block.code.matchAll(/"?Query"?:\s*("(?:[^"\\]|\\.)*")/g)) out.push({ at: m.index, query: JSON.parse(m[1]!) as string });
  for (const m of block.code.matchAll(/getRunHuntingQuery\(query='((?:[^']|'')*)'/g)) {
    out.push({ at: m.index, query: decodeURIComponent(m[1]!).replace(/''/g, "'") });
  }
  return out.sort((a, b) => a.at - b.at).map((q) => q.query);
}

/** The columns documented after a block: "Columns: `A`, `B`; `C`." — one group per query, in order. */
export function documentedColumns(block: Block): string[][] | undefined {
  const line = /^Columns: (.*)$/m.exec(block.after)?.[1];
  return line?.split(";").map((group) => [...group.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
}

function run(
  file: string,
  args: string[],
  opts: { cwd: string; env?: Record<string, string>; input?: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(file, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout: 60_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

let work: string;
let scratch: string;
let server: ServerProcess;
let pg: { url: string; drop(): Promise<void> } | null = null;
let ca: string;
let storeEnv: Record<string, string>;
const examples = automationExamples(README);
/** The tour's first block: B, C, T, TOKEN, H and J. */
const tourSetup = blocks(section(README, "A tour of the API"))[0]!;

/** Runs README shell text after the tour's setup, in the data folder's parent, as the reader's terminal. */
async function shell(code: string): Promise<string> {
  const script = [tourSetup.code, code]
    .join("\n")
    .replaceAll(DOCUMENTED_URL, server.url)
    .replace(/\bnpx triage\b/g, `node ${BIN}`);
  const r = await run("bash", ["-o", "pipefail", "-e"], { cwd: work, env: storeEnv, input: script });
  expect(r.code, `${code}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** Runs a JavaScript example as the README says: the client setup, then the example, in graph.mjs. */
async function javascript(example: string): Promise<string> {
  const setup = examples.preamble.find((b) => b.lang === "js")!;
  const file = join(scratch, "graph.mjs");
  writeFileSync(file, `${setup.code}\n${example}`.replaceAll(DOCUMENTED_URL, server.url));
  const command = /`(NODE_EXTRA_CA_CERTS=\S+ TOKEN=\$TOKEN node) graph\.mjs`/.exec(README)?.[1];
  expect(command, "the README's command for graph.mjs").toBeDefined();
  return shell(`${command} ${file}`);
}

/** A Graph GET as the demo app, checking what an example did. */
async function graph(path: string, token: string): Promise<any> {
  const r = await httpsRequest(`${server.url}${path}`, { ca, headers: { authorization: `Bearer ${token}` } });
  expect(r.status, `${path}: ${r.text}`).toBe(200);
  return r.json();
}

async function demoToken(): Promise<string> {
  return (await shell('printf %s "$TOKEN"')).trim();
}

beforeAll(async () => {
  for (const tool of ["curl", "jq"]) {
    const r = await run("bash", ["-c", `command -v ${tool}`], { cwd: tmpdir() });
    if (r.code !== 0) throw new Error(`The README's examples need ${tool} on the PATH (apt-get install ${tool}).`);
  }
  work = mkdtempSync(join(tmpdir(), "triage-readme-"));
  // graph.mjs goes in the checkout, as the README says, so that it finds the client in node_modules.
  mkdirSync(join(ROOT, "test-output"), { recursive: true });
  scratch = mkdtempSync(join(ROOT, "test-output", "readme-"));
  pg = TEST_STORE === "postgres" ? await freshPostgresDatabase() : null;
  // TRIAGE_DB is what `--db` defaults to: the README's commands then reach the same store.
  storeEnv = pg ? { TRIAGE_DB: pg.url } : {};
  server = await startServerProcess(["--demo", "--data", join(work, "data"), ...(pg ? ["--db", pg.url] : [])], 150_000);
  expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  ca = readFileSync(join(work, "data", "tls", "ca.pem"), "utf8");
  // The section's first block grants the demo app the permissions its examples need.
  const consent = examples.preamble.find((b) => b.lang === "sh")!;
  expect(consent.code).toContain("apps consent");
  expect(await shell(consent.code)).toMatch(/SecurityData\.Manage\.All.*ThreatHunting\.Read\.All/);
}, 200_000);

afterAll(async () => {
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

type Check = (output: string, token: string) => Promise<void>;

/** What each example must have done, by capability and by kind of example. */
const checks: Record<string, { sh: Check; js: Check }> = {
  "Merge incidents": {
    sh: async (out, token) => {
      const answer = JSON.parse(out);
      expect(answer["@odata.context"]).toBe(`${server.url}/v1.0/$metadata#microsoft.graph.security.mergeResponse`);
      const target = answer.targetIncidentId as string;
      expect(["10", "41"]).toContain(target);
      const other = target === "10" ? "41" : "10";
      expect(await graph(`/v1.0/security/incidents/${other}`, token)).toMatchObject({ status: "redirected", redirectIncidentId: target });
      const comments = (await graph(`/v1.0/security/incidents/${target}`, token)).comments as { comment: string }[];
      expect(comments.map((c) => c.comment)).toContain("Same user, same day");
    },
    js: async (out, token) => {
      const target = out.trim();
      expect(["64", "66"]).toContain(target);
      expect(await graph(`/v1.0/security/incidents/${target === "64" ? "66" : "64"}`, token)).toMatchObject({
        status: "redirected",
        redirectIncidentId: target,
      });
    },
  },
  "Move alerts": {
    sh: async (out, token) => {
      const target = JSON.parse(out).targetIncidentId as string;
      expect(target).not.toBe("4");
      expect((await graph("/v1.0/security/alerts_v2/da639267343891131494_69936504", token)).incidentId).toBe(target);
      expect((await graph(`/v1.0/security/incidents/${target}`, token)).status).toBe("active");
    },
    js: async (out, token) => {
      expect(out.trim()).toBe("4");
      expect((await graph("/v1.0/security/alerts_v2/da639268996678949585_1174903909", token)).incidentId).toBe("4");
    },
  },
  "Advanced hunting": {
    sh: async (out) => {
      const answer = JSON.parse(out);
      expect(answer.schema).toEqual([
        { name: "Severity", type: "String" },
        { name: "Alerts", type: "Int64" },
      ]);
      expect(answer.results.length).toBeGreaterThanOrEqual(3);
      expect(answer.results.reduce((n: number, r: { Alerts: number }) => n + r.Alerts, 0)).toBeGreaterThan(300);
    },
    js: async (out) => {
      const rows = out.trim().split("\n");
      expect(rows).toHaveLength(5);
      for (const row of rows) expect(row).toMatch(/^\S+\.\S+ \d+$/);
    },
  },
  "`$metadata`": {
    sh: async (out) => {
      expect(out.trim().split("\n")).toEqual(['<Action Name="mergeIncidents"', '<Action Name="moveAlerts"', '<Action Name="runHuntingQuery"']);
    },
    js: async (out) => {
      expect(out.trim().split("\n")).toEqual([
        '<Action Name="mergeIncidents"',
        '<Action Name="moveAlerts"',
        '<Action Name="runHuntingQuery"',
        '<Function Name="getRunHuntingQuery"',
        '<Function Name="getHuntingSchema"',
      ]);
    },
  },
  OpenAPI: {
    sh: async (out) => {
      const [paths, docs] = out.trim().split("\n");
      expect(Number(paths)).toBeGreaterThan(50);
      expect(docs).toBe("200 text/html; charset=utf-8");
    },
    js: async (out) => {
      expect(out.trim()).toMatch(/^3\.1\.\d+ \d{2,}$/);
    },
  },
};

describe("the README's automation examples", () => {
  it("has a curl and a JavaScript example for each capability, and this test checks each", () => {
    expect([...examples.capabilities.keys()]).toEqual(Object.keys(checks));
    for (const [heading, found] of examples.capabilities) {
      expect(
        found.map((b) => b.lang),
        heading,
      ).toEqual(["sh", "js"]);
    }
    expect(examples.preamble.map((b) => b.lang)).toEqual(["sh", "js"]);
  });

  for (const [heading, check] of Object.entries(checks)) {
    it(`${heading}: the curl example, run with curl`, async () => {
      const sh = examples.capabilities.get(heading)!.find((b) => b.lang === "sh")!;
      await check.sh(await shell(sh.code), await demoToken());
    });

    it(`${heading}: the Graph JavaScript client example, run with node`, async () => {
      const js = examples.capabilities.get(heading)!.find((b) => b.lang === "js")!;
      await check.js(await javascript(js.code), await demoToken());
    });
  }
});

/** The Azure CLI (Debian's azure-cli): present, or the recipe is skipped with a notice — except under CI. */
const azReady = spawnSync("bash", ["-c", "command -v az"], { stdio: "ignore" }).status === 0;
if (!azReady && !process.env.CI) {
  console.warn("Skipping the README's Azure CLI recipe: az is not on the PATH (apt-get install azure-cli). Under CI it is required.");
}

describe("the README's Azure CLI recipe", () => {
  it.skipIf(!azReady && !process.env.CI)(
    "registers Triage as a cloud, signs in with az login and lists incidents with az rest, as written",
    { timeout: 120_000 },
    async () => {
      const found = blocks(section(README, "The Azure CLI"));
      expect(found.map((b) => b.lang)).toEqual(["sh"]);
      const rows = (await shell(found[0]!.code)).trim().split("\n");
      // The same query the recipe sends, asked with the demo app's token: az printed exactly its answer.
      const expected = await graph("/v1.0/security/incidents?$top=3&$filter=severity%20eq%20%27high%27&$orderby=createdDateTime%20desc", await demoToken());
      expect(expected.value).toHaveLength(3);
      expect(rows).toEqual(expected.value.map((i: { id: string; severity: string; status: string }) => `${i.id}\t${i.severity}\t${i.status}`));
    },
  );
});

describe("every hunting query of the README and docs/hunting.md", () => {
  const documents = { "README.md": section(README, "Automation: merging, moving, hunting, describing"), "docs/hunting.md": HUNTING_DOC };
  const queries = Object.entries(documents).flatMap(([name, text]) =>
    blocks(text).flatMap((block) => {
      const found = queriesIn(block);
      if (found.length === 0) return [];
      const columns = documentedColumns(block);
      return found.map((query, i) => ({ name, query, columns: columns?.length === found.length ? columns[i] : undefined }));
    }),
  );

  it("finds them, each with its documented columns", () => {
    expect(queries.filter((q) => q.name === "README.md").length).toBeGreaterThanOrEqual(2);
    expect(queries.filter((q) => q.name === "docs/hunting.md").length).toBeGreaterThanOrEqual(4);
    for (const q of queries) expect(q.columns, `${q.name}: "Columns:" after ${q.query}`).toBeDefined();
  });

  /** The columns runHuntingQuery answers for a query over the demo data, or its error. */
  async function columnsOf(query: string): Promise<{ status: number; columns: string[]; text: string }> {
    const r = await httpsRequest(`${server.url}/v1.0/security/runHuntingQuery`, {
      ca,
      method: "POST",
      headers: { authorization: `Bearer ${await demoToken()}`, "content-type": "application/json" },
      body: JSON.stringify({ Query: query, Timespan: DEMO_WINDOW }),
    });
    return { status: r.status, columns: r.status === 200 ? (r.json().schema as { name: string }[]).map((c) => c.name) : [], text: r.text };
  }

  it("runs each on runHuntingQuery without error and answers the documented columns", async () => {
    for (const q of queries) {
      const r = await columnsOf(q.query);
      expect(r.status, `${q.name}: ${q.query}\n${r.text}`).toBe(200);
      expect(r.columns, `${q.name}: ${q.query}`).toEqual(q.columns);
    }
  });

  it("the comparison can fail: a wrong column list or a broken query is caught", async () => {
    const block: Block = { lang: "kql", code: "AlertInfo | project Title | take 1\n", after: "\nColumns: `Nope`.\n" };
    expect(queriesIn(block)).toEqual(["AlertInfo | project Title | take 1"]);
    expect(documentedColumns(block)).toEqual([["Nope"]]);
    expect((await columnsOf(queriesIn(block)[0]!)).columns).toEqual(["Title"]);
    expect((await columnsOf("AlertInfo | project NoSuchColumn")).status).toBe(400);
    expect(documentedColumns({ ...block, after: "\nNo list here.\n" })).toBeUndefined();
    const sh: Block = {
      lang: "sh",
      code: `curl -d '{"Query": "AlertInfo | where Title has \\"x\\"", "Timespan": "P1D"}'\ncurl "$B/beta/security/getRunHuntingQuery(query='AlertInfo%20%7C%20where%20Title%20%3D%3D%20''a''',timespan='P1D')"\n`,
      after: "",
    };
    expect(queriesIn(sh)).toEqual(['AlertInfo | where Title has "x"', "AlertInfo | where Title == 'a'"]);
  });
});
