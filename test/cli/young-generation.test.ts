/**
 * The young generation's bound (bin/triage.js): a server started on Node 24 or later without a size of
 * its own starts again in the same process with `--max-semi-space-size=16`, the size Node 20 and 22
 * use; a size the operator chose is kept; older lines are not started twice. What V8 was started with
 * is read from the process's own command line (Linux), which an exec replaces.
 */
import { existsSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { startTriage, type TriageTestServer } from "../../src/testing/index.js";
import { BIN, startServerProcess } from "../support/process.js";

const NODE_MAJOR = Number(process.versions.node.split(".")[0]);
/** Node 24 and later, where Node can exec itself and V8's semi-spaces grow to 64 MB. */
const REEXECS = NODE_MAJOR >= 24 && typeof (process as { execve?: unknown }).execve === "function";

function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
}

/**
 * Starts `triage serve --ephemeral`, reads the command line of the process it spawned once it listens
 * (an exec keeps the process and replaces its command line), and stops it.
 */
async function serve(env: Record<string, string> = {}): Promise<string[]> {
  const s = await startServerProcess(["--ephemeral"], 60_000, env);
  try {
    return commandLine(s.child.pid!);
  } finally {
    s.child.kill("SIGTERM");
    await s.exited;
  }
}

describe.skipIf(!existsSync("/proc/self/cmdline"))("the young generation's bound", () => {
  let handle: TriageTestServer | null = null;
  afterEach(async () => {
    await handle?.stop();
    handle = null;
  });

  it(
    REEXECS ? "starts a server again in the same process with 16 MB semi-spaces" : "leaves a server on Node 20 and 22 as it was started",
    async () => {
      const argv = await serve();
      if (REEXECS) expect(argv.slice(1, 3)).toEqual(["--max-semi-space-size=16", BIN]);
      else expect(argv.slice(1, 2)).toEqual([BIN]);
    },
    90_000,
  );

  it("keeps a size the operator chose", async () => {
    // V8 takes its flags with dashes or underscores.
    for (const size of ["--max-semi-space-size=8", "--max_semi_space_size=8"]) {
      const argv = await serve({ NODE_OPTIONS: size });
      expect(argv.some((a) => a.startsWith("--max-semi-space-size"))).toBe(false);
      expect(argv.slice(1, 2)).toEqual([BIN]);
    }
  }, 90_000);

  it("gives a server started by triage/testing the same size, with its IPC channel working", async () => {
    handle = await startTriage({ mode: "child-process" });
    const pid = handle.info.pid;
    expect(commandLine(pid)).toContain("--max-semi-space-size=16");
    // The control channel answers: a reset goes over IPC.
    await handle.reset();
  }, 90_000);
});
