import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../support/process.js";
import { freshPostgresDatabase, TEST_STORE } from "../support/stores.js";

const dir = mkdtempSync(join(tmpdir(), "triage-usage-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GUID = "00000000-0000-4000-8000-000000000001";

/** Runs the CLI on a bad command line: it must exit 2 and say, on stderr, everything `expected` lists. */
async function usageError(args: string[], expected: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await runCli(args, 30_000, env);
  expect(r.code, `${args.join(" ")}\n${r.stderr}`).toBe(2);
  for (const text of expected) expect(r.stderr, args.join(" ")).toContain(text);
  return r.stderr;
}

/** Runs the CLI where the environment refuses: it must exit 1 and say everything `expected` lists. */
async function failure(args: string[], expected: string[], timeoutMs = 30_000): Promise<string> {
  const r = await runCli(args, timeoutMs);
  expect(r.code, `${args.join(" ")}\n${r.stderr}`).toBe(1);
  for (const text of expected) expect(r.stderr, args.join(" ")).toContain(text);
  return r.stderr;
}

describe("triage command line: every usage error says what is wrong and exits 2", () => {
  it.each(["lots", "0", "-1", "2.5"])("serve --throttle %s names the option and what it takes", async (value) => {
    await usageError(["serve", "--data", join(dir, "unused"), "--http", "--throttle", value], ["--throttle", "'graph'", "1 to 10000000"]);
    expect(existsSync(join(dir, "unused")), "nothing is created on bad usage").toBe(false);
  });

  it("serve --tls-cert without --tls-key, and the reverse, say that the two go together", async () => {
    await usageError(
      ["serve", "--data", join(dir, "unused"), "--tls-cert", "cert.pem"],
      ["--tls-cert and --tls-key go together", "--tls-cert needs --tls-key"],
    );
    await usageError(["serve", "--data", join(dir, "unused"), "--tls-key", "key.pem"], ["--tls-cert and --tls-key go together", "--tls-key needs --tls-cert"]);
    expect(existsSync(join(dir, "unused"))).toBe(false);
  });

  it.each([
    ["serve", "--port", "70000", "0 to 65535"],
    ["serve", "--throttle-address", "0", "1 to 10000000"],
    ["serve", "--hsts-max-age", "-5", "0 to 1000000000"],
    ["serve", "--query-timeout", "10", "100 to 600000"],
    ["serve", "--read-workers", "many", "0 to 64"],
    ["serve", "--sqlite-cache-mb", "0", "1 to 1024"],
    ["serve", "--filter-max-nodes", "0", "1 to 10000"],
    ["serve", "--demo-incidents", "0", "1 to 100000"],
    ["serve", "--batch-response-mb", "1.5", "1 to 1024"],
    ["serve", "--request-timeout", "0", "1 to 3600"],
    ["serve", "--ready-min-free-mb", "x", "0 to 1048576"],
    ["seed", "--incidents", "lots", "1 to 10000000"],
    ["seed", "--tenant", "acme", "a tenant id (a GUID)"],
    ["apps secret --client-id " + GUID, "--days", "0", "1 to 3650"],
    ["serve", "--allowed-host", "https://x.example/path", "not a host name"],
  ])("%s %s %s names the option and what it accepts", async (command, option, value, accepted) => {
    await usageError([...command.split(" "), "--data", join(dir, "unused"), option, value], [`option '${option}`, `'${value}' is invalid`, accepted]);
  });

  it.each(["nonsense", "mysql://root@127.0.0.1/triage", "sqlite:triage.db"])(
    "--db %s is refused: only a PostgreSQL URL, and no SQLite file named after it",
    async (value) => {
      const named = join(dir, value.replace(/[^a-z]/gi, "_"));
      await usageError(["tenants", "list", "--data", join(dir, "unused"), "--db", named], ["--db", "PostgreSQL URL", "postgres://"]);
      await usageError(["tenants", "list", "--data", join(dir, "unused"), "--db", value], ["--db", "PostgreSQL URL"]);
      expect(existsSync(named)).toBe(false);
      expect(existsSync(join(dir, "unused"))).toBe(false);
    },
  );

  it("TRIAGE_DB is held to the same rule as --db", async () => {
    const named = join(dir, "from-env.db");
    await usageError(["tenants", "list", "--data", join(dir, "unused")], ["TRIAGE_DB", "PostgreSQL URL"], { TRIAGE_DB: named });
    expect(existsSync(named)).toBe(false);
  });

  it("--log-level takes only pino's levels, and says which", async () => {
    const stderr = await usageError(
      ["serve", "--data", join(dir, "unused"), "--http", "--log-level", "loud"],
      ["--log-level", "fatal, error, warn, info, debug, trace, silent"],
    );
    expect(stderr).not.toContain("custom levels");
    await usageError(["serve", "--data", join(dir, "unused"), "--http"], ["TRIAGE_LOG_LEVEL", "fatal, error"], { TRIAGE_LOG_LEVEL: "verbose" });
  });
});

describe("triage command line: a store it cannot open is named with the way out, and exits 1", () => {
  it.runIf(existsSync("/proc/self"))("--data on a file system that refuses folders (/proc) fails at once instead of spinning", async () => {
    const started = Date.now();
    await failure(["tenants", "list", "--data", "/proc/nope"], ["/proc/nope", "--data"], 15_000);
    await failure(["serve", "--http", "--port", "0", "--data", "/proc/nope/deeper"], ["/proc/nope/deeper", "--data"], 15_000);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("a store file SQLite cannot open names the file and the way out", async () => {
    const data = join(dir, "db-is-a-folder");
    mkdirSync(join(data, "triage.db"), { recursive: true });
    await failure(["tenants", "list", "--data", data], [join(data, "triage.db"), "unable to open database file", "access", "--data"]);
  });

  it("a data folder that is a file, or lies under one, is named with the way out", async () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    await failure(["tenants", "list", "--data", file], [file, "not a folder", "--data"]);
    await failure(["tenants", "list", "--data", join(file, "data")], [join(file, "data"), "--data"]);
  });

  // Permissions bind every user but root, who reads and writes any folder.
  it.runIf(process.platform !== "win32" && process.getuid?.() !== 0)("an unreadable data folder is named with the way out", async () => {
    const data = join(dir, "locked");
    mkdirSync(data);
    chmodSync(data, 0o000);
    try {
      await failure(["tenants", "list", "--data", data], [data, "access", "--data"]);
    } finally {
      chmodSync(data, 0o700);
    }
  });

  it("a PostgreSQL server that does not answer is named (without the password) with what to check", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const stderr = await failure(
      ["tenants", "list", "--db", `postgres://triage:s3cret@127.0.0.1:${port}/triage`],
      [`127.0.0.1:${port}`, "cannot reach PostgreSQL", "--db"],
    );
    expect(stderr).not.toContain("s3cret");
  });
});

describe.runIf(TEST_STORE === "postgres")("triage command line on PostgreSQL", () => {
  const server = process.env.TRIAGE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432";

  it("a missing database is named, with the command that creates it", async () => {
    const name = `triage_missing_${Date.now()}`;
    await failure(["tenants", "list", "--db", `${server}/${name}`], [`"${name}" does not exist`, "createdb", name]);
    await failure(["serve", "--http", "--port", "0", "--data", join(dir, "pg-serve"), "--db", `${server}/${name}`], ["createdb", name]);
  });

  it("accepts postgres:// and postgresql:// URLs", async () => {
    const db = await freshPostgresDatabase();
    try {
      const created = await runCli(["tenants", "create", "--db", db.url, "--id", GUID, "--name", "x", "--json"]);
      expect(created.code, created.stderr).toBe(0);
      const listed = await runCli(["tenants", "list", "--db", db.url.replace(/^postgres:/, "postgresql:"), "--json"]);
      expect(listed.code, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout).map((t: { id: string }) => t.id)).toEqual([GUID]);
    } finally {
      await db.drop();
    }
  });
});
