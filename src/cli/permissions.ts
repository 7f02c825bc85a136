import { InvalidArgumentError, type Command } from "commander";
import type { PermissionDetails, PermissionSummary } from "../permissions/contracts.js";
import { FilterError, listPermissions, parseFilters, permissionDetails } from "../permissions/explorer.js";
import { CallError, findLeastPrivileged, type FinderAnswer } from "../permissions/finder.js";
import { GRAPH_SCHEMES, GRAPH_SCHEME_NAMES } from "../permissions/graph-data.js";
import { buildPermissionsReference } from "../permissions/reference.js";

/**
 * `triage permissions find | show | list`: the permissions explorer on the command line, from the
 * same data and functions as GET /permissions. No store and no server: the data is in the build.
 */

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value)}\n` : `${text}\n`);
}

function finderText(a: FinderAnswer): string {
  const lines = [`${a.method} ${a.path}`, `  matches ${a.templates.join(", ")}${a.alias ? ` (through the alias ${a.alias})` : ""}`];
  for (const s of GRAPH_SCHEMES) {
    const answer = a.schemes[s];
    lines.push("", `${GRAPH_SCHEME_NAMES[s]}:`);
    if (!answer.leastPrivileged) {
      lines.push("  not supported: no permission grants the call under this scheme");
      continue;
    }
    answer.candidates.forEach((c, i) => {
      const tag = i === 0 ? `least privileged${answer.basis === "privilege-level" ? " (by privilege level; the data marks none)" : ""}` : "higher privileged";
      const level = c.privilegeLevel === null ? "" : `, privilege ${c.privilegeLevel}`;
      const also = c.alsoRequires.length ? `; also requires ${c.alsoRequires.join(" or ")}` : "";
      lines.push(`  ${c.permission}  (${tag}${level}${also})`);
    });
  }
  return lines.join("\n");
}

function detailsText(d: PermissionDetails): string {
  const lines = [
    `${d.name}${d.enforced ? "  (enforced by Triage)" : ""}`,
    `  source: ${d.source === "graph-data" ? "Microsoft Graph permission data" : "Triage's catalog"}`,
  ];
  for (const s of GRAPH_SCHEMES) {
    const x = d.schemes[s];
    if (!x) continue;
    lines.push(
      "",
      `${x.schemeDisplayName}:`,
      `  id: ${x.id ?? "(not provisioned)"}`,
      `  ${x.adminDisplayName}: ${x.adminDescription}`,
      `  admin consent: ${x.requiresAdminConsent ? "required" : "not required"}; privilege level: ${x.privilegeLevel ?? "not given"}`,
    );
  }
  lines.push("", "Grants:");
  for (const set of d.pathSets) {
    lines.push(`  ${set.methods.join(", ")} (${set.schemes.join(", ")}):`);
    for (const p of set.paths)
      lines.push(
        `    ${p.path}${p.least.length ? `  [least: ${p.least.join(", ")}]` : ""}${p.alsoRequires.length ? `  [also requires ${p.alsoRequires.join(", ")}]` : ""}`,
      );
  }
  if (d.powershell.length) lines.push("", "PowerShell:", ...d.powershell.map((c) => `  ${c.command}    # ${c.purpose}`));
  if (d.notes.length) lines.push("", ...d.notes);
  return lines.join("\n");
}

function summaryLine(s: PermissionSummary): string {
  const schemes = GRAPH_SCHEMES.filter((k) => s.schemes[k]).join(", ");
  const first = Object.values(s.schemes)[0];
  return `${s.name}${s.enforced ? " *" : ""}  [${schemes}]  ${first?.displayName ?? ""}`;
}

export function addPermissionCommands(cli: Command): void {
  const permissions = cli.command("permissions").description("Microsoft Graph permissions: the least privileged one for a call, one permission, the list");
  permissions
    .command("find")
    .description('the least privileged permission for a call, such as "GET /users/{id}/messages"; exit 1 when none grants it')
    .argument("<call>", 'the call: "METHOD /path", a full URL, with or without /v1.0 or /beta')
    .option("--method <method>", "the HTTP method, when the call does not name one", "GET")
    .option("--json", "print JSON")
    .action((call: string, o: { method: string; json?: boolean }, cmd: Command) => {
      let answer: FinderAnswer;
      try {
        // The method the call names wins over the default; one given with --method must agree with it.
        answer = findLeastPrivileged(call, cmd.getOptionValueSource("method") === "default" && /^[A-Za-z]+\s/.test(call.trim()) ? undefined : o.method);
      } catch (err) {
        if (err instanceof CallError) throw new InvalidArgumentError(err.message);
        throw err;
      }
      if (o.json) print(true, answer, "");
      if (!answer.found) throw new Error(answer.message);
      if (!o.json) print(false, answer, finderText(answer));
    });
  permissions
    .command("show")
    .description("one permission: ids and consent per scheme, what it grants, PowerShell")
    .argument("<name>", "the permission, such as Mail.Read (any case)")
    .option("--json", "print JSON (everything GET /permissions/{name} answers)")
    .action((name: string, o: { json?: boolean }) => {
      const d = permissionDetails(name, buildPermissionsReference());
      if (!d) throw new Error(`The permission '${name}' is not in Microsoft Graph's permission data or Triage's permission catalog.`);
      print(o.json === true, d, detailsText(d));
    });
  permissions
    .command("list")
    .description("the permissions matching a search and filters (exact name first); * marks those Triage enforces")
    .option("--q <text>", "search names, display texts, descriptions, ids, methods and paths")
    .option("--scheme <scheme>", "DelegatedWork, DelegatedPersonal or Application")
    .option("--admin-consent <true|false>", "only those that do (or do not) require admin consent")
    .option("--privilege <level>", "only those with this privilege level, 1 to 4")
    .option("--enforced <true|false>", "only those Triage enforces (or not)")
    .option("--json", "print JSON")
    .action((o: { q?: string; scheme?: string; adminConsent?: string; privilege?: string; enforced?: string; json?: boolean }) => {
      let list: PermissionSummary[];
      try {
        list = listPermissions(parseFilters({ q: o.q, scheme: o.scheme, adminConsent: o.adminConsent, privilege: o.privilege, enforced: o.enforced }));
      } catch (err) {
        if (err instanceof FilterError) throw new InvalidArgumentError(err.message);
        throw err;
      }
      print(o.json === true, list, list.map(summaryLine).join("\n") || "(no permission matches)");
    });
}
