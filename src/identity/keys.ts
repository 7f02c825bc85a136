import { createPrivateKey, type KeyObject } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, type JWK } from "jose";
import type { Db } from "../store/tables.js";
import { addSigningKey, listSigningKeys, replacePrivateKey } from "../store/identity/signing-keys.js";
import { KeyEncryption, KeyEncryptionError } from "./key-encryption.js";
import { newRsaKeyPair } from "./rsa-keys.js";

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
}

/**
 * Token signing keys live in the database, so every node signs with the same key and publishes the
 * same JWKS. The newest unretired key signs; retired keys stay published until every token they
 * signed has expired. With a key-encryption key, private keys are stored sealed (AES-256-GCM) and
 * keys found in clear (written before encryption was configured) are sealed on first read.
 */
export class KeyRing {
  private cache: { at: number; signing: SigningKey; published: JWK[] } | null = null;

  constructor(
    private readonly db: Db,
    /** How long a token lives: a retired key is published this much longer. */
    private readonly tokenLifetimeSeconds: number,
    /** How long the key set is cached in memory before it is read again. */
    private readonly cacheMs = 30_000,
    private readonly encryption?: KeyEncryption,
  ) {}

  /** The private key as stored: sealed when this ring has a key-encryption key. */
  private stored(kid: string, pem: string): string {
    return this.encryption ? this.encryption.seal(pem, `signing_keys:${kid}`) : pem;
  }

  private privatePem(kid: string, stored: string): string {
    if (!KeyEncryption.isSealed(stored)) return stored;
    if (!this.encryption) {
      throw new KeyEncryptionError(
        "The store's signing keys are encrypted: give this process the key-encryption key (TRIAGE_KEY_ENCRYPTION_KEY or --key-file).",
      );
    }
    return this.encryption.open(stored, `signing_keys:${kid}`);
  }

  /**
   * Checks that this ring can open the store's sealed keys, and seals every private key still stored in clear. Each row is updated only if it still holds the
   * clear text read, so nodes doing this at once (with the same key) cannot undo each other.
   */
  async sealStoredKeys(): Promise<number> {
    const rows = await listSigningKeys(this.db);
    // A node given the wrong key (or none) says so at startup, not at its first token request.
    const newestSealed = rows.find((r) => KeyEncryption.isSealed(r.private_pem));
    if (newestSealed) this.privatePem(newestSealed.kid, newestSealed.private_pem);
    if (!this.encryption) return 0;
    let sealed = 0;
    for (const r of rows) {
      if (KeyEncryption.isSealed(r.private_pem)) continue;
      if (await replacePrivateKey(this.db, r.kid, r.private_pem, this.stored(r.kid, r.private_pem))) sealed++;
    }
    return sealed;
  }

  private async load(): Promise<{ signing: SigningKey; published: JWK[] }> {
    if (this.cache && Date.now() - this.cache.at < this.cacheMs) return this.cache;
    let rows = await listSigningKeys(this.db);
    if (!rows.some((r) => r.retired_at === null)) {
      await this.rotate();
      rows = await listSigningKeys(this.db);
    }
    const current = rows.find((r) => r.retired_at === null)!;
    const horizon = Date.now() - (this.tokenLifetimeSeconds + 300) * 1000;
    const published = rows.filter((r) => r.retired_at === null || Date.parse(r.retired_at) > horizon).map((r) => JSON.parse(r.public_jwk) as JWK);
    if (this.encryption && !KeyEncryption.isSealed(current.private_pem)) await this.sealStoredKeys();
    const signing = {
      kid: current.kid,
      privateKey: createPrivateKey(this.privatePem(current.kid, current.private_pem)),
      publicJwk: JSON.parse(current.public_jwk) as JWK,
    };
    this.cache = { at: Date.now(), signing, published };
    return this.cache;
  }

  async signingKey(): Promise<SigningKey> {
    return (await this.load()).signing;
  }

  /** The published keys (the JWKS), re-read from the database when `fresh`. */
  async publishedKeys(fresh = false): Promise<JWK[]> {
    if (fresh) this.cache = null;
    return (await this.load()).published;
  }

  /** A new signing key; the previous one is retired but stays published. */
  async rotate(now = new Date()): Promise<string> {
    // On the thread pool (rsa-keys.ts): the event loop serves other requests meanwhile.
    const { privateKey, publicKey } = await newRsaKeyPair();
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    const publicJwk: JWK = { kty: "RSA", use: "sig", alg: "RS256", kid, n: jwk.n, e: jwk.e };
    await addSigningKey(this.db, {
      kid,
      private_pem: this.stored(kid, privateKey.export({ type: "pkcs8", format: "pem" }).toString()),
      public_jwk: JSON.stringify(publicJwk),
      created_at: now.toISOString(),
    });
    this.cache = null;
    return kid;
  }
}
