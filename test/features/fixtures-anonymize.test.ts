import { describe, expect, it } from "vitest";
import { Anonymizer, Scope } from "../../src/features/fixtures/anonymize.js";
import { entityKeys } from "../../src/domain/entities.js";

const ev = (type: string, props: Record<string, unknown>) => ({ "@odata.type": `#microsoft.graph.security.${type}`, ...props });

/** Evidence of every kind correlation keys on, in the spellings it normalizes. */
const EVIDENCE = [
  ev("deviceEvidence", { mdeDeviceId: "4F0C1D2E3A4B5C6D7E8F90A1B2C3D4E5F6A7B8C9", deviceDnsName: "WS-042.Contoso.com", hostName: "ws-042" }),
  ev("deviceEvidence", { deviceDnsName: "Build-Server.corp.contoso.com" }),
  ev("deviceEvidence", { hostName: "KIOSK7" }),
  ev("userEvidence", { userAccount: { accountName: "jdoe", domainName: "CONTOSO" } }),
  ev("userEvidence", { userAccount: { accountName: "CONTOSO\\asmith" } }),
  ev("userEvidence", { userAccount: { accountName: "SYSTEM", domainName: "NT AUTHORITY" } }),
  ev("userEvidence", { userAccount: { azureAdUserId: "09917573-937A-456B-88BD-968C1D1A7F5A" } }),
  ev("mailboxEvidence", { userAccount: { userPrincipalName: "Jane.Doe@Fabrikam.com" }, primaryAddress: "Jane.Doe@Fabrikam.com" }),
  ev("analyzedMessageEvidence", { recipientEmailAddress: "ceo@fabrikam.com" }),
  ev("ipEvidence", { ipAddress: "203.0.113.7" }),
  ev("ipEvidence", { ipAddress: "127.0.0.1" }),
  ev("ipEvidence", { ipAddress: "::ffff:198.51.100.9" }),
  ev("ipEvidence", { ipAddress: "2001:0DB8:0000:0000:0000:0000:0000:0042" }),
  ev("networkConnectionEvidence", { sourceAddress: { ipAddress: "10.1.2.3" }, destinationAddress: { ipAddress: "192.0.2.1" } }),
  ev("fileHashEvidence", { value: "0C93AF1B71B3E4C5DD9C634B055FBD228FFF3E22176C8A6FAAD0C6C1BC15C3F3" }),
  ev("fileEvidence", { fileDetails: { sha1: "a5bc3b9fb48fc4809d7a5cefb97bbf7b3e0b434c", fileName: "x.exe" } }),
  ev("processEvidence", { imageFile: { md5: "6bccac4455436ca88cf738ce0e10d481" }, userAccount: { userPrincipalName: "svc@contoso.com" } }),
  ev("urlEvidence", { url: "HTTPS://Evil.Example/Path?q=1#frag" }),
  ev("urlEvidence", { url: "http://metrics.shop/" }),
  ev("urlEvidence", { url: "evil.example/dl" }),
];

describe("anonymization", () => {
  it("gives each pseudonymous evidence the pseudonym of the original's entity key", () => {
    const anon = new Anonymizer(Buffer.from("unit-test-key-0123456789"));
    const original = entityKeys(EVIDENCE);
    const mapped = anon.apply(EVIDENCE, new Scope(), "evidence") as Record<string, unknown>[];
    const keys = entityKeys(mapped).map((k) => k.key);
    expect(original.length).toBeGreaterThan(15);
    expect(keys.sort()).toEqual(original.map((k) => anon.entityKey(k.key)).sort());
    // Nothing of the originals is left, but what correlation ignores.
    const text = JSON.stringify(mapped).toLowerCase();
    for (const k of original) expect(text).not.toContain(k.value.toLowerCase());
    expect(text).toContain("127.0.0.1");
    expect(text).toContain('"system"');
  });

  it("is deterministic under a key, and differs under another", () => {
    const a = new Anonymizer(Buffer.from("key-one-0123456789"));
    const b = new Anonymizer(Buffer.from("key-one-0123456789"));
    const c = new Anonymizer(Buffer.from("key-two-0123456789"));
    const doc = { evidence: EVIDENCE, title: "Beacon from ws-042.contoso.com to 203.0.113.7" };
    expect(JSON.stringify(a.apply(doc, new Scope()))).toBe(JSON.stringify(b.apply(doc, new Scope())));
    expect(JSON.stringify(a.apply(doc, new Scope()))).not.toBe(JSON.stringify(c.apply(doc, new Scope())));
  });

  it("clears free text of the values the scope's records name and of anything shaped like one", () => {
    const anon = new Anonymizer(Buffer.from("key-one-0123456789"));
    const scope = new Scope();
    const doc = {
      evidence: [ev("userEvidence", { userAccount: { accountName: "lmoreau", domainName: "PROSEWARE", displayName: "Lily Moreau" } })],
      description: 'Lily Moreau ran "C:\\Users\\lmoreau\\a.exe" on PROSEWARE; mail bob@contoso.com, see https://x.contoso.com/a, host 10.0.0.5, fe80::1:2:3:4',
    };
    anon.collect(doc, scope);
    const out = JSON.stringify(anon.apply(doc, scope));
    for (const v of ["Lily", "lmoreau", "PROSEWARE", "bob@", "contoso", "10.0.0.5", "fe80::1:2:3:4"]) expect(out.toLowerCase()).not.toContain(v.toLowerCase());
    expect(out).toContain("a.exe");
  });
});
