import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { codeExamples, registrationSteps } from "../../src/permissions/examples.js";
import { GRAPH_DATA_SOURCE, graphPermission, graphPermissions, parseMarker } from "../../src/permissions/graph-data.js";

const ROOT = join(import.meta.dirname, "..", "..");
const DATA = join(ROOT, "src", "permissions", "graph-data");

/** The id git (and GitHub) gives the file's content: upstream's blob at the same commit has the same one. */
function gitBlobId(bytes: Buffer): string {
  return createHash("sha1")
    .update(Buffer.concat([Buffer.from(`blob ${bytes.length}\0`), bytes]))
    .digest("hex");
}

describe("Microsoft's permission data, copied byte for byte", () => {
  it("has the blob ids docs/permissions.md records, and the licence beside it", () => {
    const docs = readFileSync(join(ROOT, "docs", "permissions.md"), "utf8");
    for (const file of ["permissions.json", "provisioningInfo.json"]) {
      const row = new RegExp(`\\| \`${file}\` \\| \`([0-9a-f]{40})\` \\|`).exec(docs);
      expect(row, file).not.toBeNull();
      expect(gitBlobId(readFileSync(join(DATA, file))), file).toBe(row![1]);
    }
    expect(docs).toContain(GRAPH_DATA_SOURCE.commit);
    expect(readFileSync(join(DATA, "LICENSE"), "utf8")).toMatch(/MIT License/);
    expect(readFileSync(join(DATA, "README.md"), "utf8")).toContain(GRAPH_DATA_SOURCE.commit);
  });

  it("types all 917 permissions with their schemes, ids and path sets", () => {
    // The data's 917, and the one permission Triage enforces that the data is too old for.
    expect(graphPermissions().filter((p) => p.source === "graph-data")).toHaveLength(917);
    expect(
      graphPermissions()
        .filter((p) => p.source !== "graph-data")
        .map((p) => p.name),
    ).toEqual(["SecurityData.Manage.All"]);
    const mail = graphPermission("MAIL.READ")!;
    expect(mail.schemes.DelegatedWork).toMatchObject({
      id: "570282fd-fa5c-430d-a7fd-fc8dc98a9dca",
      adminDisplayName: "Read user mail",
      requiresAdminConsent: false,
    });
    expect(mail.schemes.Application).toMatchObject({
      id: "810c84a8-4a9e-49e6-bf7d-12d183f40d01",
      userDisplayName: null,
      requiresAdminConsent: true,
      privilegeLevel: 3,
    });
    const set = mail.pathSets.find((s) => s.paths.some((p) => p.path === "/me/messages/{id}"))!;
    expect(set.methods).toEqual(["GET"]);
    expect(set.paths.find((p) => p.path === "/me/messages/{id}")!.least).toEqual(["DelegatedWork", "DelegatedPersonal", "Application"]);
    // A permission whose provisioning names another resource app and no id.
    expect(graphPermission("SecurityAlert.Create.All")!.schemes.Application).toMatchObject({ id: null, resourceAppId: "fc780465-2017-40d4-a0c5-307022471b92" });
    expect(graphPermissions().filter((p) => p.authorizationType === "RSC").length).toBeGreaterThan(0);
  });

  it("reads the least= and AlsoRequires= markers", () => {
    expect(parseMarker("")).toEqual({ least: [], alsoRequires: [] });
    expect(parseMarker("least=DelegatedWork,Application")).toEqual({ least: ["DelegatedWork", "Application"], alsoRequires: [] });
    expect(parseMarker("least=Application;AlsoRequires=User.Read.All,Group.Read.All")).toEqual({
      least: ["Application"],
      alsoRequires: ["User.Read.All", "Group.Read.All"],
    });
    expect(parseMarker("AlsoRequires=Application.ReadWrite.All")).toEqual({ least: [], alsoRequires: ["Application.ReadWrite.All"] });
  });
});

describe("a permission page's code examples and registration steps", () => {
  it("send the call as written, in every language, with a body for a write", () => {
    const get = codeExamples("GET", "/security/incidents/{id}");
    expect(get.map((e) => e.language)).toEqual(["http", "javascript", "typescript", "powershell", "python", "csharp"]);
    const code = Object.fromEntries(get.map((e) => [e.language, e.code]));
    expect(code.http).toBe("GET https://graph.microsoft.com/v1.0/security/incidents/{id}");
    expect(code.javascript).toContain('await client.api("/security/incidents/{id}").get();');
    expect(code.typescript).toContain("new RequestInformation(HttpMethod.GET)");
    expect(code.powershell).toBe('Invoke-MgGraphRequest -Method GET -Uri "https://graph.microsoft.com/v1.0/security/incidents/{id}"');
    expect(code.python).toContain('"GET",\n    "https://graph.microsoft.com/v1.0/security/incidents/{id}"');
    expect(code.csharp).toContain('new HttpRequestMessage(new HttpMethod("GET"), "https://graph.microsoft.com/v1.0/security/incidents/{id}")');

    const patch = Object.fromEntries(codeExamples("patch", "/security/incidents/{id}", "beta").map((e) => [e.language, e.code]));
    expect(patch.javascript).toContain('client.api("/security/incidents/{id}").version("beta").patch(body)');
    expect(patch.powershell).toContain('-Method PATCH -Uri "https://graph.microsoft.com/beta/security/incidents/{id}" -Body $body');
    expect(patch.python).toContain("json={}");
    expect(patch.csharp).toContain("request.Content = new StringContent");
    expect(Object.fromEntries(codeExamples("DELETE", "/me/messages/{id}").map((e) => [e.language, e.code])).javascript).toContain(".delete();");
  });

  it("registration: admin consent only where the scheme requires it", () => {
    expect(registrationSteps("Mail.Read", "DelegatedWork", false).join("\n")).not.toContain("Grant admin consent");
    const app = registrationSteps("Mail.Read", "Application", true).join("\n");
    expect(app).toContain("Choose Application permissions, find Mail.Read");
    expect(app).toContain("Grant admin consent");
    expect(app).toContain("client-credentials");
  });
});
