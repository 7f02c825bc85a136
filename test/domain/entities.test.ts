import { describe, expect, it } from "vitest";
import { entityKeys, ipKey, urlKey, type EntityKey } from "../../src/domain/entities.js";

const T = "#microsoft.graph.security.";
const MDE_ID = "73e7e2de709dff64ef64b1d0c30e67fab63279db";
const SHA256 = "de96a6e69944335375dc1ac238336066889d9ffc7d73628ef4fe1b1b160ab32c";
const SHA1 = "6cbce4a295c163791b60fc23d285e6d84f28ee4c";
const MD5 = "5d41402abc4b2a76b9719d911017c592";

/** The keys only, which is what correlation compares. */
function keys(...evidence: Record<string, unknown>[]): string[] {
  return entityKeys(evidence).map((k) => k.key);
}

describe("entityKeys: devices", () => {
  it("uses the MDE device id of deviceEvidence, lowercased", () => {
    const keysFound = entityKeys([{ "@odata.type": `${T}deviceEvidence`, mdeDeviceId: MDE_ID.toUpperCase(), deviceDnsName: "ws-fin-042.contoso.com" }]);
    expect(keysFound).toEqual<EntityKey[]>([{ kind: "device", value: MDE_ID, key: `device:${MDE_ID}` }]);
  });

  it("falls back to the DNS name, then the host name, lowercased", () => {
    expect(keys({ "@odata.type": `${T}deviceEvidence`, mdeDeviceId: null, deviceDnsName: "WS-FIN-042.contoso.com" })).toEqual([
      "device:ws-fin-042.contoso.com",
    ]);
    expect(keys({ "@odata.type": `${T}deviceEvidence`, hostName: "WS-FIN-042" })).toEqual(["device:ws-fin-042"]);
  });

  it("counts the mdeDeviceId of process, file and registry value evidence as the same device", () => {
    const found = keys(
      { "@odata.type": `${T}processEvidence`, mdeDeviceId: MDE_ID },
      { "@odata.type": `${T}fileEvidence`, mdeDeviceId: MDE_ID },
      { "@odata.type": `${T}registryValueEvidence`, mdeDeviceId: MDE_ID.toUpperCase() },
    );
    expect(found).toEqual([`device:${MDE_ID}`]);
  });

  it("does not turn a device's external IP into an ip entity (a NAT address is shared by many devices)", () => {
    const found = keys({
      "@odata.type": `${T}deviceEvidence`,
      mdeDeviceId: MDE_ID,
      lastIpAddress: "10.20.4.17",
      lastExternalIpAddress: "203.0.113.40",
    });
    expect(found).toEqual([`device:${MDE_ID}`]);
  });
});

describe("entityKeys: accounts", () => {
  const user = (userAccount: Record<string, unknown>) => ({ "@odata.type": `${T}userEvidence`, userAccount });

  it("prefers the UPN, lowercased", () => {
    expect(keys(user({ userPrincipalName: "Amelia.Ross@Contoso.com", azureAdUserId: "C4A9F1D0-2E4B-4E7B-9A0F-5B8D2C1E3F4A" }))).toEqual([
      "account:amelia.ross@contoso.com",
    ]);
  });

  it("falls back to the Entra object id, then domain\\account", () => {
    expect(keys(user({ azureAdUserId: "c4a9f1d0-2e4b-4e7b-9a0f-5b8d2c1e3f4a", accountName: "amelia.ross" }))).toEqual([
      "account:c4a9f1d0-2e4b-4e7b-9a0f-5b8d2c1e3f4a",
    ]);
    expect(keys(user({ accountName: "Amelia.Ross", domainName: "CONTOSO" }))).toEqual(["account:contoso\\amelia.ross"]);
  });

  it("takes accounts from mailbox and process evidence too", () => {
    const found = keys(
      { "@odata.type": `${T}mailboxEvidence`, userAccount: { userPrincipalName: "bo@contoso.com" } },
      { "@odata.type": `${T}processEvidence`, userAccount: { accountName: "svc-backup", domainName: "CONTOSO" } },
    );
    expect(found).toEqual(["account:bo@contoso.com", "account:contoso\\svc-backup"]);
  });

  it("skips a bare account name without a domain (every machine has an 'administrator')", () => {
    expect(keys(user({ accountName: "administrator" }))).toEqual([]);
  });

  it.each([
    ["NT AUTHORITY\\SYSTEM by name", { accountName: "SYSTEM", domainName: "NT AUTHORITY" }],
    ["qualified accountName", { accountName: "NT AUTHORITY\\SYSTEM" }],
    ["local system", { accountName: "Local System", domainName: "WS-FIN-042" }],
    ["network service", { accountName: "NETWORK SERVICE", domainName: "NT AUTHORITY" }],
    ["local service", { accountName: "LOCAL SERVICE", domainName: "NT AUTHORITY" }],
    ["SID S-1-5-18", { userSid: "S-1-5-18", accountName: "ws-fin-042$", domainName: "CONTOSO" }],
    ["SID S-1-5-19", { userSid: "S-1-5-19", accountName: "x", domainName: "NT AUTHORITY" }],
    ["SID S-1-5-20", { userSid: "s-1-5-20", accountName: "y", domainName: "NT AUTHORITY" }],
  ])("skips the well-known system account: %s (it would tie every incident on every machine)", (_label, account) => {
    expect(keys(user(account), { "@odata.type": `${T}processEvidence`, userAccount: account })).toEqual([]);
  });
});

describe("entityKeys: IP addresses", () => {
  it("takes ipEvidence and both ends of a network connection; private ranges count", () => {
    const found = keys(
      { "@odata.type": `${T}ipEvidence`, ipAddress: "198.51.100.23", countryLetterCode: "NL" },
      {
        "@odata.type": `${T}networkConnectionEvidence`,
        sourceAddress: { ipAddress: "10.20.4.17" },
        destinationAddress: { "@odata.type": "microsoft.graph.security.ipEvidence", ipAddress: "192.168.1.20" },
        destinationPort: 445,
      },
    );
    expect(found).toEqual(["ip:10.20.4.17", "ip:192.168.1.20", "ip:198.51.100.23"]);
  });

  it("writes IPv6 in one canonical form", () => {
    expect(keys({ "@odata.type": `${T}ipEvidence`, ipAddress: "2001:0DB8:0000:0000:0000:0000:0000:0042" })).toEqual(["ip:2001:db8::42"]);
    expect(ipKey("::ffff:198.51.100.23")).toBe("198.51.100.23");
  });

  it.each([
    ["IPv4 loopback", "127.0.0.1"],
    ["another 127/8 loopback", "127.1.2.3"],
    ["IPv6 loopback", "::1"],
    ["IPv4 unspecified", "0.0.0.0"],
    ["IPv6 unspecified", "::"],
    ["IPv4 link-local", "169.254.12.7"],
    ["IPv6 link-local", "fe80::1c2d:3e4f:5a6b:7c8d"],
    ["IPv6 link-local with zone", "FE80::1%eth0"],
    ["IPv4-mapped loopback", "::ffff:127.0.0.1"],
    ["not an address", "not-an-ip"],
    ["an address with a port", "10.0.0.1:443"],
  ])("skips %s (%s): every host has one, so it relates nothing", (_label, address) => {
    expect(keys({ "@odata.type": `${T}ipEvidence`, ipAddress: address })).toEqual([]);
  });
});

describe("entityKeys: file hashes", () => {
  it("uses sha256 of fileEvidence, else sha1, else md5, lowercased", () => {
    const file = (fileDetails: Record<string, unknown>) => ({ "@odata.type": `${T}fileEvidence`, fileDetails });
    expect(keys(file({ sha256: SHA256.toUpperCase(), sha1: SHA1, md5: MD5 }))).toEqual([`fileHash:${SHA256}`]);
    expect(keys(file({ sha256: null, sha1: SHA1, md5: MD5 }))).toEqual([`fileHash:${SHA1}`]);
    expect(keys(file({ md5: MD5.toUpperCase() }))).toEqual([`fileHash:${MD5}`]);
  });

  it("uses the image file of processEvidence (not the parent's, which is explorer.exe everywhere)", () => {
    const found = keys({
      "@odata.type": `${T}processEvidence`,
      imageFile: { fileName: "powershell.exe", sha256: SHA256 },
      parentProcessImageFile: { fileName: "explorer.exe", sha256: "a".repeat(64) },
    });
    expect(found).toEqual([`fileHash:${SHA256}`]);
  });

  it("uses the value of fileHashEvidence", () => {
    expect(keys({ "@odata.type": `${T}fileHashEvidence`, algorithm: "sha1", value: SHA1.toUpperCase() })).toEqual([`fileHash:${SHA1}`]);
  });

  it.each([
    ["sha256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"],
    ["sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"],
    ["md5", "d41d8cd98f00b204e9800998ecf8427e"],
  ])("skips the empty-file %s (every empty file on every machine has it)", (alg, hash) => {
    expect(keys({ "@odata.type": `${T}fileHashEvidence`, value: hash })).toEqual([]);
    expect(keys({ "@odata.type": `${T}fileEvidence`, fileDetails: { [alg]: hash } })).toEqual([]);
  });

  it("does not fall back to a weaker hash of the same empty file", () => {
    const found = keys({
      "@odata.type": `${T}fileEvidence`,
      fileDetails: { sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", md5: MD5 },
    });
    expect(found).toEqual([]);
  });
});

describe("entityKeys: mailboxes", () => {
  it("uses mailboxEvidence.primaryAddress and analyzedMessageEvidence.recipientEmailAddress, lowercased", () => {
    const found = keys(
      { "@odata.type": `${T}mailboxEvidence`, primaryAddress: "Amelia.Ross@contoso.com" },
      {
        "@odata.type": `${T}analyzedMessageEvidence`,
        recipientEmailAddress: "AMELIA.ROSS@CONTOSO.COM",
        p1Sender: { emailAddress: "billing@example-phish.net" },
      },
    );
    expect(found).toEqual(["mailbox:amelia.ross@contoso.com"]);
  });
});

describe("entityKeys: URLs", () => {
  it("lowercases scheme and host but not the path", () => {
    expect(keys({ "@odata.type": `${T}urlEvidence`, url: "HTTPS://Login.Example-Phish.NET/Common/OAuth2?X=1" })).toEqual([
      "url:https://login.example-phish.net/Common/OAuth2?X=1",
    ]);
  });

  it("strips a bare trailing slash and drops the fragment", () => {
    expect(urlKey("https://Evil.Example/")).toBe("https://evil.example");
    expect(urlKey("https://evil.example/#top")).toBe("https://evil.example");
    expect(urlKey("https://evil.example/a/#top")).toBe("https://evil.example/a/");
  });

  it("keeps userinfo case and handles a value without a scheme", () => {
    expect(urlKey("ftp://Bob@FILES.Example:21/x")).toBe("ftp://Bob@files.example:21/x");
    expect(urlKey("Evil.Example/Path")).toBe("evil.example/Path");
  });
});

describe("entityKeys: dedupe and order", () => {
  const alert = [
    { "@odata.type": `${T}urlEvidence`, url: "https://evil.example/" },
    { "@odata.type": `${T}ipEvidence`, ipAddress: "198.51.100.23" },
    { "@odata.type": `${T}deviceEvidence`, mdeDeviceId: MDE_ID },
    { "@odata.type": `${T}processEvidence`, mdeDeviceId: MDE_ID, userAccount: { userPrincipalName: "a@contoso.com" } },
    { "@odata.type": `${T}userEvidence`, userAccount: { userPrincipalName: "A@Contoso.com" } },
    { "@odata.type": `${T}urlEvidence`, url: "HTTPS://EVIL.EXAMPLE#x" },
    { "@odata.type": `${T}mailboxEvidence`, primaryAddress: "a@contoso.com" },
  ];

  it("returns each entity once, ordered by kind then value", () => {
    expect(entityKeys(alert)).toEqual<EntityKey[]>([
      { kind: "device", value: MDE_ID, key: `device:${MDE_ID}` },
      { kind: "account", value: "a@contoso.com", key: "account:a@contoso.com" },
      { kind: "ip", value: "198.51.100.23", key: "ip:198.51.100.23" },
      { kind: "mailbox", value: "a@contoso.com", key: "mailbox:a@contoso.com" },
      { kind: "url", value: "https://evil.example", key: "url:https://evil.example" },
    ]);
  });

  it("gives the same answer whatever the order of the evidence", () => {
    const forward = entityKeys(alert);
    expect(entityKeys([...alert].reverse())).toEqual(forward);
    expect(entityKeys(alert)).toEqual(forward);
  });

  it("ignores unknown subtypes, missing @odata.type, and junk values", () => {
    expect(
      keys(
        { "@odata.type": `${T}futureThingEvidence`, ipAddress: "198.51.100.23" },
        { ipAddress: "198.51.100.23" },
        { "@odata.type": `${T}ipEvidence`, ipAddress: 42 },
        { "@odata.type": `${T}deviceEvidence`, mdeDeviceId: "   " },
        { "@odata.type": `${T}userEvidence`, userAccount: "amelia" },
      ),
    ).toEqual([]);
  });

  it("does not mutate the evidence", () => {
    const copy = structuredClone(alert);
    entityKeys(alert);
    expect(alert).toEqual(copy);
  });
});
