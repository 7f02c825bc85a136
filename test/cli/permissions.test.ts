import { describe, expect, it } from "vitest";
import { runCli } from "../support/process.js";

/** `triage permissions find | show | list`, run as the installed command (the built CLI). */

describe("triage permissions", () => {
  it("find: the least privileged permission per scheme, readable and as JSON; exit 0", async () => {
    const r = await runCli(["permissions", "find", "GET /users/adele@contoso.com/messages?$top=5"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("matches /users/{id}/messages");
    expect(r.stdout).toMatch(/Application \(app-only\):\n {2}Mail\.ReadBasic\.All {2}\(least privileged, privilege 3\)/);
    const json = await runCli(["permissions", "find", "https://graph.microsoft.com/v1.0/me/sendMail", "--method", "post", "--json"]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      method: "POST",
      version: "v1.0",
      found: true,
      schemes: { DelegatedWork: { leastPrivileged: "Mail.Send" } },
    });
  });

  it("find: exit 1 when no permission grants the call, 2 for what is not a call", async () => {
    const none = await runCli(["permissions", "find", "DELETE /security/incidents/1"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("No permission in the data grants DELETE /security/incidents/1.");
    const json = await runCli(["permissions", "find", "DELETE /security/incidents/1", "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).found).toBe(false);
    const bad = await runCli(["permissions", "find", "FETCH /me"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("not one of GET, POST, PUT, PATCH, DELETE");
    const conflict = await runCli(["permissions", "find", "POST /me/sendMail", "--method", "GET"]);
    expect(conflict.code).toBe(2);
    expect(conflict.stderr).toContain("names the method POST and the method parameter GET");
  });

  it("show: one permission; exit 1 for an unknown one", async () => {
    const r = await runCli(["permissions", "show", "securityincident.readwrite.all"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("SecurityIncident.ReadWrite.All  (enforced by Triage)");
    expect(r.stdout).toContain("id: 34bf0e97-1971-4929-b999-9e2442d941d7");
    expect(r.stdout).toContain("Update-MgSecurityIncident");
    const json = JSON.parse((await runCli(["permissions", "show", "Mail.Read", "--json"])).stdout);
    expect(json.schemes.DelegatedPersonal.id).toBe(json.schemes.DelegatedWork.id);
    const missing = await runCli(["permissions", "show", "No.Such.Permission"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No.Such.Permission");
  });

  it("list: search and filters; exit 2 for a bad filter", async () => {
    const r = await runCli(["permissions", "list", "--q", "securityincident"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([
      "SecurityIncident.Read.All *  [DelegatedWork, Application]  Read incidents",
      "SecurityIncident.ReadWrite.All *  [DelegatedWork, Application]  Read and write to incidents",
    ]);
    const enforced = JSON.parse((await runCli(["permissions", "list", "--enforced", "true", "--json"])).stdout);
    expect(enforced).toHaveLength(9);
    const bad = await runCli(["permissions", "list", "--scheme", "Personal"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("DelegatedWork, DelegatedPersonal, Application");
  });
});
