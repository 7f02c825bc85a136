import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command, Option } from "commander";
import { describe, expect, it } from "vitest";
import { program } from "../../src/cli/main.js";

/**
 * The README's command table is where a newcomer learns the CLI: it must list every command and every
 * option `--help` shows, each with its meaning and default, and nothing the CLI does not have.
 */

const README = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");

interface Row {
  flags: string;
  meaning: string;
  default: string;
}

/** Commands that run something (not groups such as `apps`), by their path: "serve", "apps create". */
function leafCommands(cmd: Command, path: string[] = []): { path: string; command: Command }[] {
  return cmd.commands.flatMap((c) => {
    if (c.name() === "help") return [];
    const here = [...path, c.name()];
    return c.commands.length > 0 ? leafCommands(c, here) : [{ path: here.join(" "), command: c }];
  });
}

/** What `--help` lists for a command, without --help itself. */
function helpOptions(cmd: Command): Option[] {
  return cmd
    .createHelp()
    .visibleOptions(cmd)
    .filter((o) => o.long !== "--help");
}

function cells(line: string): string[] {
  return line
    .replace(/^\|/, "")
    .replace(/\|\s*$/, "")
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, "|"));
}

/** The "## Command line" section's per-command tables, by command path. */
export function readmeCommands(readme: string): Map<string, Row[]> {
  const start = readme.search(/^## Command line$/m);
  if (start === -1) return new Map();
  const rest = readme.slice(start + 1);
  const end = rest.search(/^## /m);
  const section = end === -1 ? rest : rest.slice(0, end);
  const commands = new Map<string, Row[]>();
  for (const part of section.split(/^### /m).slice(1)) {
    const heading = /^`triage ([a-z -]+)`\s*$/m.exec(part.split("\n")[0]!);
    if (!heading) continue;
    const rows = part
      .split("\n")
      .filter((l) => /^\|\s*`--/.test(l))
      .map((l) => {
        const [flags = "", meaning = "", dflt = ""] = cells(l);
        return { flags: flags.replace(/^`|`$/g, ""), meaning, default: dflt };
      });
    commands.set(heading[1]!, rows);
  }
  return commands;
}

/** Every way the README's command tables and the CLI disagree. */
export function disagreements(readme: string, cli: Command): string[] {
  const documented = readmeCommands(readme);
  const problems: string[] = [];
  const leaves = leafCommands(cli);
  for (const { path, command } of leaves) {
    const rows = documented.get(path);
    if (!rows) {
      problems.push(`triage ${path}: no "### \`triage ${path}\`" section`);
      continue;
    }
    const options = helpOptions(command);
    for (const o of options) {
      const row = rows.find((r) => r.flags === o.flags);
      if (!row) {
        problems.push(`triage ${path}: ${o.flags} is not listed`);
        continue;
      }
      if (!row.meaning) problems.push(`triage ${path}: ${o.flags} has no meaning`);
      if (!row.default) problems.push(`triage ${path}: ${o.flags} has no default`);
      // The default commander applies, or the one the description states, must be the one shown.
      const stated = /\(default:? ([^;,)]+)/.exec(o.description)?.[1];
      const expected = typeof o.defaultValue === "string" || typeof o.defaultValue === "number" ? String(o.defaultValue) : stated;
      if (expected !== undefined && row.default && !row.default.includes(expected)) {
        problems.push(`triage ${path}: ${o.flags} default is ${expected}, the README says ${row.default}`);
      }
    }
    for (const row of rows) {
      if (!options.some((o) => o.flags === row.flags)) problems.push(`triage ${path}: the README lists ${row.flags}, which the CLI does not have`);
    }
  }
  for (const path of documented.keys()) {
    if (!leaves.some((l) => l.path === path)) problems.push(`triage ${path}: documented, but the CLI has no such command`);
  }
  return problems;
}

describe("the README's command table", () => {
  it("finds the commands and their options in the CLI and in the README", () => {
    const leaves = leafCommands(program()).map((l) => l.path);
    expect(leaves).toEqual(expect.arrayContaining(["serve", "seed", "docs", "backup", "apps create", "users roles", "keys rotate"]));
    expect(helpOptions(program().commands.find((c) => c.name() === "serve")!).length).toBeGreaterThan(30);
    expect(readmeCommands(README).get("serve")?.length).toBeGreaterThan(30);
  });

  it("lists every command and every option --help shows, with its meaning and default, and nothing else", () => {
    expect(disagreements(README, program())).toEqual([]);
  });

  it("fails when an option, a command or a default is missing or wrong", () => {
    const withoutRow = README.replace(/^\| `--read-workers <n>` .*\n/m, "");
    expect(disagreements(withoutRow, program())).toEqual(["triage serve: --read-workers <n> is not listed"]);
    const withoutSection = README.replace(/^### `triage keys rotate`$/m, "### Key rotation");
    expect(disagreements(withoutSection, program())).toEqual(['triage keys rotate: no "### `triage keys rotate`" section']);
    const wrongDefault = README.replace(/^(\| `--days <n>` \| [^|]* \| )`180` \|$/m, "$1`90` |");
    expect(disagreements(wrongDefault, program())).toEqual(["triage apps secret: --days <n> default is 180, the README says `90`"]);
    const extra = README.replace(/^(\| `--json` \| print JSON \| off \|)$/m, "$1\n| `--yaml` | print YAML | off |");
    expect(disagreements(extra, program())).toEqual(["triage tenants list: the README lists --yaml, which the CLI does not have"]);
  });
});
