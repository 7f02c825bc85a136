import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FINDER_CSV_COLUMNS, PATH_CSV_COLUMNS, SUMMARY_CSV_COLUMNS } from "../../src/permissions/explorer.js";
import { startTriage, type TestTriage } from "../support/triage.js";

/** The explorer's API over every Microsoft Graph permission: public, JSON and CSV, bounded inputs. */

let t: TestTriage;
beforeAll(async () => {
  t = await startTriage();
});
afterAll(async () => {
  await t.close();
});

const get = (path: string, headers: Record<string, string> = {}) => t.get(path, { authorization: "", ...headers });

function expectBadRequest(r: { status: number; body: any }, words: RegExp) {
  expect(r.status).toBe(400);
  expect(r.body.error.code).toBe("BadRequest");
  expect(r.body.error.message).toMatch(words);
}

describe("GET /permissions: every Graph permission in a compact list", () => {
  it("keeps the reference of the enforced permissions and adds the list of all of them", async () => {
    const r = await get("/permissions");
    expect(r.status).toBe(200);
    expect(r.body.permissions).toHaveLength(9);
    expect(r.body.total).toBeGreaterThanOrEqual(918);
    expect(r.body.all).toHaveLength(r.body.total);
    expect(r.body.dataSource).toMatchObject({
      repo: "microsoftgraph/microsoft-graph-devx-content",
      commit: "6cbd6bbd665a877560fdefbad74f3bdb5b57af88",
      license: "MIT",
    });
    const mail = r.body.all.find((p: any) => p.name === "Mail.Read");
    expect(mail).toMatchObject({ enforced: false, source: "graph-data", authorizationType: "oAuth2" });
    expect(Object.keys(mail.schemes).sort()).toEqual(["Application", "DelegatedPersonal", "DelegatedWork"]);
    expect(mail.schemes.DelegatedWork).toMatchObject({ displayName: "Read user mail", requiresAdminConsent: false, privilegeLevel: 2 });
    expect(mail.paths).toContain("/me/messages");
    expect(
      r.body.all
        .filter((p: any) => p.enforced)
        .map((p: any) => p.name)
        .sort(),
    ).toEqual(r.body.permissions.map((p: any) => p.name).sort());
    // Compact enough to load at once on a page.
    expect(r.text.length).toBeLessThan(4_000_000);
  });

  it("filters by q (exact name first), scheme, admin consent, privilege level and enforcement", async () => {
    const exact = await get("/permissions?q=mail.read");
    expect(exact.body.all[0].name).toBe("Mail.Read");
    expect(exact.body.all.map((p: any) => p.name)).toEqual(expect.arrayContaining(["Mail.ReadWrite", "Mail.ReadBasic"]));
    expect(exact.body.permissions).toEqual([]);

    // By id, by path, by display text.
    expect((await get("/permissions?q=b9abcc4f-94fc-4457-9141-d20ce80ec952")).body.all[0].name).toBe("SecurityIncident.Read.All");
    const byPath = await get(`/permissions?q=${encodeURIComponent("/security/incidents/{id}")}`);
    expect(byPath.body.all.map((p: any) => p.name).sort()).toEqual(["SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All"]);
    expect(byPath.body.permissions.map((p: any) => p.name).sort()).toEqual(["SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All"]);
    expect((await get("/permissions?q=read%20your%20mail")).body.all.map((p: any) => p.name)).toContain("Mail.Read");

    const personal = await get("/permissions?scheme=delegatedpersonal");
    expect(personal.body.all.length).toBeGreaterThan(10);
    expect(personal.body.all.every((p: any) => p.schemes.DelegatedPersonal)).toBe(true);

    const userConsent = await get("/permissions?scheme=DelegatedWork&adminConsent=false");
    expect(userConsent.body.all.length).toBeGreaterThan(10);
    expect(userConsent.body.all.every((p: any) => p.schemes.DelegatedWork.requiresAdminConsent === false)).toBe(true);

    const level4 = await get("/permissions?privilege=4");
    expect(level4.body.all.length).toBeGreaterThan(0);
    expect(level4.body.all.every((p: any) => Object.values(p.schemes).some((s: any) => s.privilegeLevel === 4))).toBe(true);

    const enforced = await get("/permissions?enforced=true");
    expect(enforced.body.all).toHaveLength(9);
    expect(enforced.body.filters).toEqual({ enforced: true });
    expect((await get("/permissions?enforced=false")).body.all).toHaveLength(enforced.body.total - 9);
  });

  it("400 for a bad filter, a repeated one or a q that is too long", async () => {
    expectBadRequest(await get("/permissions?scheme=Delegated"), /scheme/);
    expectBadRequest(await get("/permissions?adminConsent=yes"), /adminConsent/);
    expectBadRequest(await get("/permissions?privilege=5"), /privilege/);
    expectBadRequest(await get("/permissions?enforced=1"), /enforced/);
    expectBadRequest(await get("/permissions?q=a&q=b"), /more than once/);
    expectBadRequest(await get(`/permissions?q=${"x".repeat(201)}`), /longer than 200/);
    expectBadRequest(await get("/permissions?format=csv&rows=everything"), /rows/);
  });

  it("CSV: today's method rows for the enforced permissions, or one row per permission × scheme with rows=permissions", async () => {
    const methods = await get("/permissions?format=csv&q=mail.read");
    expect(methods.text.split("\r\n")).toHaveLength(2); // a header and the final line end: Triage enforces no Mail permission
    const rows = await get("/permissions?format=csv&rows=permissions&q=mail.read");
    expect(rows.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const lines = rows.text.trimEnd().split("\r\n");
    expect(lines[0]).toBe(SUMMARY_CSV_COLUMNS.join(","));
    expect(lines[1]).toMatch(/^Mail\.Read,DelegatedWork,570282fd-fa5c-430d-a7fd-fc8dc98a9dca,false,graph-data,oAuth2,false,2,Read user mail,/);
    // Only the schemes that pass the filters.
    const level4 = (await get("/permissions?format=csv&rows=permissions&privilege=4")).text.trimEnd().split("\r\n").slice(1);
    expect(level4.length).toBeGreaterThan(0);
    expect(level4.every((l) => l.split(",")[7] === "4")).toBe(true);
  });
});

describe("GET /permissions unfiltered: serialized once, revalidated by ETag, gzipped", () => {
  it("answers the same bytes each time with an ETag, 304 for If-None-Match, gzip when accepted", async () => {
    const plain = await fetch(`${t.url}/permissions`, { headers: { "accept-encoding": "identity" } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get("content-encoding")).toBeNull();
    const etag = plain.headers.get("etag");
    expect(etag).toMatch(/^"[\w-]{27}"$/);
    expect(plain.headers.get("vary")).toContain("accept-encoding");
    const body = await plain.text();
    const again = await fetch(`${t.url}/permissions`, { headers: { "accept-encoding": "identity" } });
    expect(again.headers.get("etag")).toBe(etag);
    expect(await again.text()).toBe(body);
    // The cached body is the whole list, the same as a filter every permission passes builds per request.
    const everything = JSON.parse(body);
    expect(everything.all).toHaveLength(everything.total);
    const unenforced = (await get("/permissions?enforced=false")).body.all;
    const enforced = (await get("/permissions?enforced=true")).body.all;
    expect(everything.all.map((p: any) => p.name).sort()).toEqual([...unenforced, ...enforced].map((p: any) => p.name).sort());

    const notModified = await fetch(`${t.url}/permissions`, { headers: { "if-none-match": `W/"nope", ${etag}` } });
    expect(notModified.status).toBe(304);
    expect(await notModified.text()).toBe("");
    expect((await fetch(`${t.url}/permissions`, { headers: { "if-none-match": '"other"' } })).status).toBe(200);

    // gzip on the wire (content-length is the compressed size; fetch decompresses the body).
    const zipped = await fetch(`${t.url}/permissions`, { headers: { "accept-encoding": "gzip" } });
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    expect(Number(zipped.headers.get("content-length"))).toBeLessThan(body.length / 4);
    expect(await zipped.text()).toBe(body);
    // Filtered and CSV answers are built per request, without the cached ETag.
    expect((await fetch(`${t.url}/permissions?q=mail`)).headers.get("etag")).toBeNull();
    expect((await fetch(`${t.url}/permissions?format=csv`)).headers.get("content-type")).toBe("text/csv; charset=utf-8");
  });
});

describe("GET /permissions/{name}: a permission page's content", () => {
  it("a permission Triage does not enforce: schemes with ids, path sets, where it is least, PowerShell, code, registration", async () => {
    const r = await get("/permissions/mail.send");
    expect(r.status).toBe(200);
    const d = r.body;
    expect(d).toMatchObject({ name: "Mail.Send", enforced: false, source: "graph-data", triage: null });
    expect(d.schemes.DelegatedWork).toMatchObject({
      id: "e383f46e-2787-4529-855e-0e479a3ffac0",
      schemeDisplayName: "Delegated (work or school account)",
      requiresAdminConsent: false,
    });
    expect(d.schemes.Application).toMatchObject({ id: "b633e1c5-b582-4048-a93e-9f11b44c7e96", requiresAdminConsent: true, userDisplayName: null });
    expect(d.pathSets.some((s: any) => s.methods.includes("POST") && s.paths.some((p: any) => p.path === "/me/sendmail"))).toBe(true);
    expect(d.leastPrivilegedFor).toContainEqual({ method: "POST", path: "/me/sendmail", schemes: ["DelegatedWork", "DelegatedPersonal", "Application"] });
    expect(d.powershell[0]).toEqual({ purpose: "Sign in with the delegated permission", command: 'Connect-MgGraph -Scopes "Mail.Send"' });
    expect(d.examples.method).toBe("POST");
    expect(d.examples.code.map((c: any) => c.language)).toEqual(["http", "javascript", "typescript", "powershell", "python", "csharp"]);
    expect(d.examples.code.find((c: any) => c.language === "javascript").code).toContain(`client.api("${d.examples.path}").post(body)`);
    expect(d.registration.Application.join(" ")).toMatch(/Grant admin consent/);
    expect(d.registration.DelegatedWork.join(" ")).not.toMatch(/Grant admin consent/);
  });

  it("an enforced permission carries Triage's reference and its cmdlets", async () => {
    const d = (await get("/permissions/SecurityIncident.ReadWrite.All")).body;
    expect(d.enforced).toBe(true);
    expect(d.triage.methods["v1.0"].map((m: any) => m.operation)).toContain("PATCH /security/incidents/{id}");
    expect(d.powershell.map((p: any) => p.command)).toEqual(expect.arrayContaining(["Update-MgSecurityIncident", "Update-MgBetaSecurityIncident"]));
    expect(d.examples).toMatchObject({ method: "GET", path: "/security/incidents/{id}", version: "v1.0" });
  });

  it("a permission the data lacks comes from Triage's catalog, with its source", async () => {
    const d = (await get("/permissions/SecurityData.Manage.All")).body;
    expect(d).toMatchObject({ name: "SecurityData.Manage.All", source: "triage-catalog", enforced: true });
    expect(d.sourceUrl).toMatch(/^https:\/\/learn\.microsoft\.com\//);
    expect(d.notes.join(" ")).toContain(d.sourceUrl);
    expect((await get("/permissions/Mail.Send")).body.sourceUrl).toBeNull();
  });

  it("CSV of one permission: the data's rows, or Triage's method rows for an enforced one", async () => {
    const r = await get("/permissions/Mail.Send?format=csv");
    const lines = r.text.trimEnd().split("\r\n");
    expect(lines[0]).toBe(PATH_CSV_COLUMNS.join(","));
    expect(lines).toContain("Mail.Send,Application,POST,/me/sendmail,true,");
    const paths = await get("/permissions/SecurityIncident.Read.All?format=csv&rows=paths");
    expect(paths.text).toContain("SecurityIncident.Read.All,DelegatedWork,GET,/security/incidents,true,");
  });

  it("404 for a name nobody has, 414 for an absurd one", async () => {
    const r = await get("/permissions/No.Such.Permission");
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("NotFound");
    const long = await get(`/permissions/${"x".repeat(201)}`);
    expect(long.status).toBe(414);
    expect(long.body.error.code).toBe("RequestUriTooLong");
  });
});

describe("GET /permissions/lookup: the least-privilege finder", () => {
  it("answers per scheme with the alternatives, for a call written as a developer writes it", async () => {
    const r = await get(
      `/permissions/lookup?method=get&path=${encodeURIComponent("https://graph.microsoft.com/v1.0/users/adele@contoso.com/messages?$top=5")}`,
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      method: "GET",
      path: "/users/adele@contoso.com/messages",
      version: "v1.0",
      found: true,
      templates: ["/users/{id}/messages"],
    });
    expect(r.body.schemes.Application.leastPrivileged).toBe("Mail.ReadBasic.All");
    expect(r.body.schemes.DelegatedWork.candidates.map((c: any) => c.permission)).toEqual(["Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite"]);
    // The method may come in the path, as "METHOD /path".
    const inPath = await get(`/permissions/lookup?path=${encodeURIComponent("PATCH /security/incidents/42")}`);
    expect(inPath.body.schemes.DelegatedWork.leastPrivileged).toBe("SecurityIncident.ReadWrite.All");
  });

  it("says when nothing grants the call (200, found: false), in JSON and CSV", async () => {
    const r = await get("/permissions/lookup?method=DELETE&path=/security/incidents/42");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ found: false, message: "No permission in the data grants DELETE /security/incidents/42." });
    const csv = await get("/permissions/lookup?method=DELETE&path=/security/incidents/42&format=csv");
    expect(csv.text).toBe(FINDER_CSV_COLUMNS.join(",") + "\r\n");
    const found = await get("/permissions/lookup?method=POST&path=/me/sendMail", { accept: "text/csv" });
    expect(found.headers.get("content-disposition")).toBe('attachment; filename="triage-permission-lookup.csv"');
    expect(found.text.split("\r\n")[1]).toBe("POST,/me/sendMail,DelegatedWork,1,Mail.Send,true,true,2,,/me/sendmail");
  });

  it("400 without a path, for a bad method, a path too long or two of them", async () => {
    expectBadRequest(await get("/permissions/lookup"), /'path' is required/);
    expectBadRequest(await get("/permissions/lookup?method=TRACE&path=/me"), /not one of/);
    expectBadRequest(await get("/permissions/lookup?method=GETTINGLONGER&path=/me"), /not an HTTP method/);
    expectBadRequest(await get(`/permissions/lookup?path=/${"a".repeat(2100)}`), /longer than 2048/);
    expectBadRequest(await get("/permissions/lookup?path=/me&path=/users"), /more than once/);
  });
});
