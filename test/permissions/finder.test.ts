import { describe, expect, it } from "vitest";
import { CallError, findLeastPrivileged, parseCall, templateCount } from "../../src/permissions/finder.js";

/** Calls as Microsoft's API reference writes them (its HTTP request sections), answered from Graph's permission data. */
const least = (call: string) => {
  const a = findLeastPrivileged(call);
  return { work: a.schemes.DelegatedWork.leastPrivileged, personal: a.schemes.DelegatedPersonal.leastPrivileged, app: a.schemes.Application.leastPrivileged };
};

describe("parseCall: a call as a developer writes it", () => {
  it.each([
    ["GET /users/adele@contoso.com/messages?$top=5", "GET", "/users/adele@contoso.com/messages", null],
    ["get https://graph.microsoft.com/v1.0/me/messages", "GET", "/me/messages", "v1.0"],
    ["PATCH /beta/security/incidents/42/", "PATCH", "/security/incidents/42", "beta"],
    ["  post   /me/sendMail  ", "POST", "/me/sendMail", null],
    ["/me", "GET", "/me", null],
    ["GET /users('adele%40contoso.com')/messages#x", "GET", "/users/adele@contoso.com/messages", null],
    ["GET https://graph.microsoft.com/V1.0//me//messages?$select=subject", "GET", "/me/messages", "v1.0"],
  ])("%s", (input, method, path, version) => {
    expect(parseCall(input)).toMatchObject({ method, path, version });
  });

  it("takes the method separately, and refuses what is not a call", () => {
    expect(parseCall("/me/sendMail", "post")).toMatchObject({ method: "POST", path: "/me/sendMail" });
    expect(() => parseCall("GET /me", "POST")).toThrow(CallError);
    expect(() => parseCall("FETCH /me")).toThrow(/not one of GET, POST, PUT, PATCH, DELETE/);
    expect(() => parseCall("GET /v1.0")).toThrow(/no path/);
    expect(() => parseCall("GET /%E0%A4%A")).toThrow(/percent-encoding/);
    expect(() => parseCall(`GET /${"a/".repeat(50)}`)).toThrow(/segments/);
    expect(() => parseCall(`GET /${"a".repeat(3000)}`)).toThrow(/longer than/);
  });
});

describe("the least privileged permission for a call", () => {
  it("the issue's three examples and a full URL", () => {
    // List messages: Mail.ReadBasic (delegated), Mail.ReadBasic.All (application); Mail.Read and Mail.ReadWrite higher.
    const messages = findLeastPrivileged("GET /users/adele@contoso.com/messages?$top=5");
    expect(messages.templates).toEqual(["/users/{id}/messages"]);
    expect(least("GET /users/adele@contoso.com/messages?$top=5")).toEqual({ work: "Mail.ReadBasic", personal: "Mail.ReadBasic", app: "Mail.ReadBasic.All" });
    expect(messages.schemes.DelegatedWork.candidates.map((c) => c.permission)).toEqual(["Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite"]);
    expect(messages.schemes.DelegatedWork.basis).toBe("marker");

    // Update incident: SecurityIncident.ReadWrite.All in both schemes; no personal accounts.
    expect(least("PATCH /security/incidents/42")).toEqual({ work: "SecurityIncident.ReadWrite.All", personal: null, app: "SecurityIncident.ReadWrite.All" });
    // user: sendMail: Mail.Send in every scheme.
    expect(least("POST /me/sendMail")).toEqual({ work: "Mail.Send", personal: "Mail.Send", app: "Mail.Send" });
    expect(least("get https://graph.microsoft.com/v1.0/me/messages")).toEqual(least("GET /me/messages"));
  });

  it("a GET that a ReadWrite path set also marks least: the read permission first, the ReadWrite one an alternative", () => {
    const a = findLeastPrivileged("GET /security/incidents/2972395");
    for (const s of ["DelegatedWork", "Application"] as const) {
      expect(a.schemes[s].leastPrivileged).toBe("SecurityIncident.Read.All");
      expect(a.schemes[s].candidates.map((c) => c.permission)).toEqual(["SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All"]);
    }
  });

  it("get the signed-in user: User.Read, delegated only (/me has no application permission)", () => {
    expect(least("GET /me")).toEqual({ work: "User.Read", personal: "User.Read", app: null });
    const me = findLeastPrivileged("GET /me");
    // Alternatives in order of privilege level.
    const levels = me.schemes.DelegatedWork.candidates.slice(1).map((c) => c.privilegeLevel ?? 99);
    expect(levels).toEqual([...levels].sort((x, y) => x - y));
  });

  it("a literal segment wins over a placeholder: /users/delta is not /users/{id}", () => {
    expect(findLeastPrivileged("GET /users/delta").templates).toEqual(["/users/delta"]);
    expect(findLeastPrivileged("GET /users/8ee3b7d5-6b2b-4c7d-8f8e-2a1f3c4d5e6f").templates).toEqual(["/users/{id}"]);
  });

  it("$count, $value and $ref are not ids", () => {
    expect(findLeastPrivileged("GET /security/incidents/$count").found).toBe(false);
    expect(findLeastPrivileged("GET /me/photo/$value").templates).not.toContain("/me/photo/{id}");
  });

  it("matches path segments case-insensitively, the data's and the caller's", () => {
    expect(least("GET /ME/MAILFOLDERS/inbox/MESSAGES")).toEqual(least("GET /me/mailFolders/inbox/messages"));
    expect(findLeastPrivileged("GET /me/mailFolders/inbox/messages").found).toBe(true);
  });

  it("a nested folder at any depth matches the data's '...' template", () => {
    const a = findLeastPrivileged("GET /me/mailFolders/inbox/childFolders/a/childFolders/b/messages/c/attachments/d");
    expect(a.templates).toEqual(["/me/mailfolders/{id}/childfolders/{id}/.../messages/{id}/attachments/{id}"]);
    expect(a.schemes.DelegatedWork.leastPrivileged).toBe("Mail.Read");
  });

  it("an OData function segment with parameters: workbook range(address=…)", () => {
    const a = findLeastPrivileged("GET /me/drive/items/01ABC/workbook/worksheets/Sheet1/range(address='A1:B2')");
    expect(a.found).toBe(true);
    expect(a.templates[0]).toMatch(/range\(address=\{value\}\)$/);
  });

  it("uses the /me ↔ /users/{id} alias when the data writes only one of them", () => {
    const assign = findLeastPrivileged("POST /me/assignLicense");
    expect(assign.found).toBe(true);
    expect(assign.alias).toBe("/me → /users/{id}");
    expect(assign.templates).toEqual(["/users/{id}/assignlicense"]);
    const change = findLeastPrivileged("POST /users/42/changePassword");
    expect(change.alias).toBe("/users/{id} → /me");
    expect(change.schemes.DelegatedWork.leastPrivileged).not.toBeNull();
    // No alias when the call matches as written.
    expect(findLeastPrivileged("GET /me/messages").alias).toBeNull();
  });

  it("says plainly when no permission in the data grants the call", () => {
    for (const call of ["GET /nothing/here", "POST /security/incidents", "PUT /me/messages", "DELETE /security/alerts_v2/1"]) {
      const a = findLeastPrivileged(call);
      expect(a.found, call).toBe(false);
      expect(a.message).toBe(`No permission in the data grants ${call.split(" ")[0]} ${call.split(" ")[1]}.`);
      expect(Object.values(a.schemes).every((s) => s.leastPrivileged === null && s.candidates.length === 0)).toBe(true);
    }
  });

  it("is fast: thousands of lookups on the full data in well under a second", () => {
    expect(templateCount()).toBeGreaterThan(5000);
    findLeastPrivileged("GET /me"); // builds the index
    const calls = ["GET /users/a/messages", "PATCH /security/incidents/1", "POST /me/sendMail", "GET /groups/1/members", "GET /nothing/at/all"];
    const start = performance.now();
    for (let i = 0; i < 2000; i++) findLeastPrivileged(calls[i % calls.length]!);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});
