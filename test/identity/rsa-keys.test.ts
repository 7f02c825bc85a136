/**
 * Keys made ahead (identity/rsa-keys.ts) are handed out once each, and the command line starts as many
 * as `triage serve --ephemeral` will use (cli/early.ts); the cheaper hash of generated secrets still
 * verifies, and only what asks for it gets it (identity/hash.ts).
 */
import { describe, expect, it } from "vitest";
import { makeRsaKeysAhead, MAX_KEYS_AHEAD, newRsaKeyPair, rsaKeysWaiting } from "../../src/identity/rsa-keys.js";
import { rsaKeysNeeded } from "../../src/cli/early.js";
import { hashSecret, verifySecret } from "../../src/identity/hash.js";

describe("RSA keys made ahead", () => {
  it("hands each waiting key out once, then makes new ones", { timeout: 30_000 }, async () => {
    while (rsaKeysWaiting() > 0) await newRsaKeyPair();
    makeRsaKeysAhead(2);
    expect(rsaKeysWaiting()).toBe(2);
    makeRsaKeysAhead(2); // already waiting: nothing more is started
    expect(rsaKeysWaiting()).toBe(2);
    const keys = await Promise.all([newRsaKeyPair(), newRsaKeyPair(), newRsaKeyPair()]);
    expect(rsaKeysWaiting()).toBe(0);
    const moduli = keys.map((k) => k.publicKey.export({ format: "jwk" }).n);
    expect(new Set(moduli).size).toBe(3);
    for (const k of keys) expect(k.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    makeRsaKeysAhead(50);
    expect(rsaKeysWaiting()).toBe(MAX_KEYS_AHEAD);
    while (rsaKeysWaiting() > 0) await newRsaKeyPair();
  });

  it("starts as many as the command will use", () => {
    expect(rsaKeysNeeded(["serve", "--ephemeral", "--json"])).toBe(3);
    expect(rsaKeysNeeded(["serve", "--ephemeral", "--ca-dir", "/x"])).toBe(2);
    expect(rsaKeysNeeded(["serve", "--ephemeral", "--ca-dir=/x"])).toBe(2);
    expect(rsaKeysNeeded(["serve", "--ephemeral", "--http"])).toBe(1);
    expect(rsaKeysNeeded(["serve", "--demo"])).toBe(0);
    expect(rsaKeysNeeded(["seed", "--ephemeral"])).toBe(0);
    expect(rsaKeysNeeded([])).toBe(0);
  });
});

describe("secret hashes", () => {
  it("are scrypt at N=2^14 unless a generated secret asks for N=2^10, and both verify", async () => {
    const standard = await hashSecret("a secret");
    const generated = await hashSecret("a secret", "generated");
    expect(standard).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(generated).toMatch(/^scrypt\$1024\$8\$1\$/);
    for (const h of [standard, generated]) {
      expect(await verifySecret("a secret", h)).toBe(true);
      expect(await verifySecret("a secreT", h)).toBe(false);
    }
  });
});
