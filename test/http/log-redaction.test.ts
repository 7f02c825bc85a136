import { describe, expect, it } from "vitest";
import { redactUrl } from "../../src/http/log-redaction.js";

describe("redactUrl", () => {
  it("replaces the values of credential parameters, keeps everything else as sent", () => {
    expect(redactUrl("/signin-callback?code=abc&state=xyz")).toBe("/signin-callback?code=[REDACTED]&state=xyz");
    expect(redactUrl("/t/oauth2/v2.0/token?Client_Secret=s&x=1&%70assword=p&refresh_token=r")).toBe(
      "/t/oauth2/v2.0/token?Client_Secret=[REDACTED]&x=1&%70assword=[REDACTED]&refresh_token=[REDACTED]",
    );
    expect(redactUrl("/v1.0/security/incidents?$top=5&$filter=status%20eq%20'active'")).toBe("/v1.0/security/incidents?$top=5&$filter=status%20eq%20'active'");
    expect(redactUrl("/no-query")).toBe("/no-query");
    expect(redactUrl("/x?code")).toBe("/x?code");
    expect(redactUrl("/x?%ZZ=1&id_token_hint=h")).toBe("/x?%ZZ=1&id_token_hint=[REDACTED]");
  });
});
