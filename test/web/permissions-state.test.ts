import { describe, expect, it } from "vitest";
import { permissionUrl, readState, stateUrl } from "../../web/src/pages/permissions/state.js";

/** The permissions explorer's URL: every part of the list's state, read back as written, bad values ignored. */
describe("the explorer's state in the URL", () => {
  it("writes every part and reads it back", () => {
    const url = stateUrl({
      text: " mail read ",
      filters: { q: "mail read", scheme: "DelegatedPersonal", adminConsent: false, privilege: 2, enforced: false },
      selected: "Mail.Read",
      call: "GET /users/adele@contoso.com/messages?$top=5",
    });
    expect(url).toBe(
      "/explorer?q=+mail+read+&scheme=DelegatedPersonal&adminConsent=false&privilege=2&enforced=false&sel=Mail.Read&call=GET+%2Fusers%2Fadele%40contoso.com%2Fmessages%3F%24top%3D5",
    );
    const back = readState(url.slice("/explorer".length));
    expect(back).toEqual({
      text: " mail read ",
      filters: { q: "mail read", scheme: "DelegatedPersonal", adminConsent: false, privilege: 2, enforced: false },
      selected: "Mail.Read",
      call: "GET /users/adele@contoso.com/messages?$top=5",
    });
    expect(stateUrl(back)).toBe(url);
  });

  it("an empty state is the bare page", () => {
    expect(stateUrl(readState(""))).toBe("/explorer");
    expect(readState("")).toEqual({ text: "", filters: {}, selected: null, call: "" });
  });

  it("ignores values that are not valid, accepts a scheme in any case, bounds lengths", () => {
    const s = readState("?scheme=delegatedwork&adminConsent=yes&privilege=5&enforced=1&q=" + "x".repeat(300) + "&call=" + "y".repeat(5000));
    expect(s.filters).toEqual({ scheme: "DelegatedWork", q: "x".repeat(200) });
    expect(s.text).toHaveLength(200);
    expect(s.call).toHaveLength(2048);
    expect(readState("?scheme=Delegated&privilege=0").filters).toEqual({});
  });

  it("a permission's page", () => {
    expect(permissionUrl("SecurityIncident.ReadWrite.All")).toBe("/explorer/SecurityIncident.ReadWrite.All");
    expect(permissionUrl("a/b c")).toBe("/explorer/a%2Fb%20c");
  });
});
