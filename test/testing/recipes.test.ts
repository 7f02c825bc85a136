/**
 * The recipes of docs/testing.md, each run as its users run it: Vitest and Jest through their command
 * lines on examples/vitest and examples/jest (importing `triage/testing` by its package name), and pytest
 * with MSAL for Python (Debian's python3-pytest, python3-requests, python3-msal) on examples/pytest,
 * against `triage serve --ephemeral --json`.
 */
import { describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PYTHON = process.env.TRIAGE_PYTHON ?? "/usr/bin/python3";

/** The environment of a recipe's run: without this run's Vitest variables, which would confuse a nested runner. */
function recipeEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST") && k !== "NODE_OPTIONS" && k !== "TEST"));
  return { ...env, FORCE_COLOR: "0", NO_COLOR: "1", ...extra };
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 170_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

const pythonReady = spawnSync(PYTHON, ["-c", "import pytest, requests, msal"], { stdio: "ignore" }).status === 0;
if (!pythonReady && !process.env.CI) {
  console.warn(
    `Skipping the pytest recipe: ${PYTHON} lacks pytest, requests or msal (apt-get install python3-pytest python3-requests python3-msal). Under CI it is required.`,
  );
}

describe("testing recipes", () => {
  it("runs the Vitest recipe (examples/vitest)", { timeout: 180_000 }, async () => {
    const r = await run(process.execPath, [`${ROOT}node_modules/vitest/vitest.mjs`, "run"], `${ROOT}examples/vitest`, recipeEnv());
    expect(r.output).toMatch(/Tests\s+2 passed \(2\)/);
    expect(r.code, r.output).toBe(0);
  });

  it("runs the Jest recipe (examples/jest) with the pinned Jest", { timeout: 180_000 }, async () => {
    const r = await run(process.execPath, [`${ROOT}node_modules/jest/bin/jest.js`, "--ci", "--config", "jest.config.mjs"], `${ROOT}examples/jest`, recipeEnv());
    expect(r.output).toMatch(/Tests:\s+2 passed, 2 total/);
    expect(r.code, r.output).toBe(0);
  });

  it.skipIf(!pythonReady && !process.env.CI)(
    "runs the pytest recipe (examples/pytest): MSAL for Python signs in by client credentials and by device code",
    { timeout: 180_000 },
    async () => {
      const r = await run(
        PYTHON,
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA"],
        `${ROOT}examples/pytest`,
        recipeEnv({ TRIAGE_COMMAND: `"${process.execPath}" "${ROOT}bin/triage.js"`, PYTHONDONTWRITEBYTECODE: "1" }),
      );
      expect(r.output).toMatch(/PASSED test_incidents\.py::test_lists_the_incidents_an_alert_opened/);
      expect(r.output).toMatch(/PASSED test_incidents\.py::test_device_code_flow/);
      expect(r.code, r.output).toBe(0);
    },
  );
});
