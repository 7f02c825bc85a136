/**
 * The bundled command line (dist/bundle/, made by `npm run build` through scripts/bundle.js) is what
 * `bin/triage.js` runs: a real `triage serve --ephemeral --json` process answers a token request, a
 * Graph read and a hunting query through it, and a module hook in that process records every file module it imports, to
 * show the bundle was loaded and the separate modules of dist/ were not (and that TRIAGE_UNBUNDLED=1
 * loads those instead). SQLite only: --ephemeral makes its own store.
 */
import { afterAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { send } from "../../src/testing/http.js";
import type { EphemeralInfo } from "../../src/cli/ephemeral.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "bin", "triage.js");
const dir = mkdtempSync(join(tmpdir(), "triage-bundle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A resolve hook (run by Node before the program, through --import) that appends each file: URL it
// resolves to the file named by TRIAGE_TEST_IMPORTS.
const HOOKS = join(dir, "hooks.mjs");
writeFileSync(
  HOOKS,
  `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.startsWith("file:")) appendFileSync(process.env.TRIAGE_TEST_IMPORTS, r.url + "\\n");
  return r;
}
`,
);
const REGISTER = join(dir, "register.mjs");
writeFileSync(REGISTER, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(HOOKS).href)});\n`);

/** Starts `triage serve --ephemeral --json --http`, uses it, stops it; answers the file modules it imported. */
async function serveAndRecord(name: string, env: Record<string, string> = {}): Promise<string[]> {
  const imports = join(dir, `${name}.txt`);
  writeFileSync(imports, "");
  const child = spawn(process.execPath, ["--import", pathToFileURL(REGISTER).href, BIN, "serve", "--ephemeral", "--json", "--http"], {
    env: { ...process.env, ...env, TRIAGE_TEST_IMPORTS: imports },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  try {
    const info = await new Promise<EphemeralInfo>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`no JSON line within 60 s:\n${err}`)), 60_000);
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (!out.includes("\n")) return;
        clearTimeout(timer);
        resolve(JSON.parse(out.slice(0, out.indexOf("\n"))) as EphemeralInfo);
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code}:\n${err}`));
      });
    });
    const token = await send<{ access_token?: string }>(info.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: info.apps.read.clientId,
        client_secret: info.apps.read.clientSecret,
        scope: info.scope,
      }).toString(),
    });
    expect(token.status).toBe(200);
    const incidents = await send<{ value: unknown[] }>(`${info.graphUrl}/security/incidents?$top=1`, {
      method: "GET",
      headers: { authorization: `Bearer ${token.body!.access_token}` },
    });
    expect(incidents.status).toBe(200);
    expect(incidents.body!.value).toEqual([]);
    // Advanced hunting: the Kusto language service, required from node_modules by the bundle's own
    // location, and the SQLite read workers, which require the driver by its resolved path.
    const huntingToken = await send<{ access_token?: string }>(info.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: info.apps.hunting.clientId,
        client_secret: info.apps.hunting.clientSecret,
        scope: info.scope,
      }).toString(),
    });
    const hunting = await send<{ schema: unknown[] }>(`${info.graphUrl}/security/runHuntingQuery`, {
      method: "POST",
      headers: { authorization: `Bearer ${huntingToken.body!.access_token}`, "content-type": "application/json" },
      body: JSON.stringify({ Query: "AlertInfo | take 1" }),
    });
    expect(hunting.status, hunting.text).toBe(200);
    expect(hunting.body.schema.length).toBeGreaterThan(0);
    // What modules read by their URL, from the bundle's folder as from their own: Microsoft Graph's
    // permission data, the built web app, the package's version.
    const permission = await send<{ source: string }>(`${info.url}/permissions/User.Read`, { method: "GET" });
    expect(permission.status).toBe(200);
    expect(permission.body!.source).toBe("graph-data");
    const page = await send<string>(`${info.url}/`, { method: "GET" });
    expect(page.status).toBe(200);
    expect(String(page.headers["content-type"])).toMatch(/^text\/html/);
    const openapi = await send<{ info: { version: string } }>(`${info.url}/openapi.json`, { method: "GET" });
    expect(openapi.body!.info.version).toBe((JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version);
  } finally {
    child.kill("SIGTERM");
  }
  expect(await exited).toBe(0);
  return readFileSync(imports, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((u) => fileURLToPath(u));
}

const under = (files: string[], folder: string) => files.filter((f) => f.startsWith(join(ROOT, folder) + "/"));

describe("the bundled command line", () => {
  it("is made by the build", () => {
    expect(existsSync(join(ROOT, "dist", "bundle", "main.js")), "dist/bundle/main.js: run `npm run build`").toBe(true);
    expect(existsSync(join(ROOT, "dist", "bundle", "early.js"))).toBe(true);
  });

  it(
    "is what bin/triage.js runs: an ephemeral server answers a token request and a Graph read without loading dist/'s own modules",
    { timeout: 120_000 },
    async () => {
      const files = await serveAndRecord("bundled");
      expect(files).toContain(join(ROOT, "dist", "bundle", "main.js"));
      expect(files).toContain(join(ROOT, "dist", "bundle", "early.js"));
      // Nothing of dist/ outside the bundle, and none of the bundled packages' own files.
      expect(files.filter((f) => f.startsWith(join(ROOT, "dist") + "/") && !f.startsWith(join(ROOT, "dist", "bundle") + "/"))).toEqual([]);
      for (const pkg of ["kysely", "@sinclair/typebox", "fastify", "commander"]) expect(under(files, join("node_modules", pkg))).toEqual([]);
      // A few files in all, where the modules of dist/ are about 1,270.
      expect(files.length).toBeLessThan(20);
    },
  );

  it("gives way to the compiled modules when the last compile is newer than the bundle (tsc run on its own)", async () => {
    // A tree of its own: bin/triage.js copied, dist/'s folders linked, and a .tsbuildinfo whose time says when tsc last ran.
    const tree = join(dir, "tree");
    mkdirSync(join(tree, "bin"), { recursive: true });
    mkdirSync(join(tree, "dist"));
    copyFileSync(BIN, join(tree, "bin", "triage.js"));
    for (const d of ["bundle", "cli"]) symlinkSync(join(ROOT, "dist", d), join(tree, "dist", d));
    const bundleTime = statSync(join(ROOT, "dist", "bundle", "main.js")).mtime;
    const help = (name: string, compiled: Date) => {
      writeFileSync(join(tree, "dist", ".tsbuildinfo"), "");
      utimesSync(join(tree, "dist", ".tsbuildinfo"), compiled, compiled);
      const imports = join(dir, `${name}.txt`);
      writeFileSync(imports, "");
      const r = spawnSync(process.execPath, ["--import", pathToFileURL(REGISTER).href, join(tree, "bin", "triage.js"), "--help"], {
        env: { ...process.env, TRIAGE_TEST_IMPORTS: imports },
        encoding: "utf8",
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain("Usage: triage");
      return readFileSync(imports, "utf8");
    };
    expect(help("older-compile", new Date(bundleTime.getTime() - 60_000))).toContain("/dist/bundle/main.js");
    const stale = help("newer-compile", new Date(bundleTime.getTime() + 60_000));
    expect(stale).toContain("/dist/cli/main.js");
    expect(stale).not.toContain("/dist/bundle/");
  });

  it("gives way to the compiled modules with TRIAGE_UNBUNDLED=1", { timeout: 120_000 }, async () => {
    const files = await serveAndRecord("unbundled", { TRIAGE_UNBUNDLED: "1" });
    expect(files).toContain(join(ROOT, "dist", "cli", "main.js"));
    expect(under(files, join("dist", "bundle"))).toEqual([]);
  });
});
