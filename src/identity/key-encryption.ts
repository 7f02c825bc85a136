import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/** The environment variable that carries the key-encryption key (32 bytes, base64 or hex). */
export const KEY_ENCRYPTION_ENV = "TRIAGE_KEY_ENCRYPTION_KEY";
const PREFIX = "enc:v1:";

/** The key file's place when neither the environment nor --key-file names one: beside the store, not in it. */
export function defaultKeyFile(dataDir: string): string {
  return join(resolve(dataDir), "keys", "master.key");
}

export class KeyEncryptionError extends Error {}

/**
 * Private keys at rest in the store are sealed with AES-256-GCM under a key that lives outside the
 * database (an environment variable or a file), so a copy of the database — a backup, a readable file,
 * a PostgreSQL dump — does not let anyone mint tokens. The row's kid is authenticated data, so a
 * sealed key cannot be moved to another row. node:crypto does this in a few lines; no library needed.
 */
export class KeyEncryption {
  /** Names the key in every sealed value, so a node with another key says so instead of "bad tag". */
  readonly id: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new KeyEncryptionError(`The key-encryption key must be 32 bytes; it is ${key.length}.`);
    this.id = createHash("sha256").update(key).digest("base64url").slice(0, 8);
  }

  static isSealed(stored: string): boolean {
    return stored.startsWith(PREFIX);
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const ct = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return `${PREFIX}${this.id}:${iv.toString("base64url")}:${cipher.getAuthTag().toString("base64url")}:${ct.toString("base64url")}`;
  }

  open(stored: string, context: string): string {
    const [keyId, iv, tag, ct] = stored.slice(PREFIX.length).split(":");
    if (!keyId || !iv || !tag || ct === undefined) throw new KeyEncryptionError("A sealed private key in the store is damaged.");
    if (keyId !== this.id) {
      throw new KeyEncryptionError(
        `The store's signing keys were encrypted with another key-encryption key (${keyId}; this node has ${this.id}). Give every node the same key (${KEY_ENCRYPTION_ENV} or --key-file).`,
      );
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      throw new KeyEncryptionError("A sealed private key in the store could not be decrypted: it was altered, or sealed for another row.");
    }
  }
}

/** 32 bytes written as base64 (or base64url) or as 64 hex digits. */
export function parseKeyText(text: string, where: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, "hex") : Buffer.from(t, "base64");
  if (key.length !== 32) throw new KeyEncryptionError(`${where} must hold a 32-byte key (base64, or 64 hex digits); it holds ${key.length} bytes.`);
  return key;
}

export interface ResolvedKey {
  encryption: KeyEncryption;
  /** Where the key came from: the variable's name or the file's path. */
  source: string;
  /** A new key file was written. */
  created: boolean;
}

/**
 * The key-encryption key, in this order: the environment variable, the given key file (which must
 * exist), or the default file beside the store, created (0600, in a 0700 folder) on first use.
 */
export function resolveKeyEncryption(o: { env?: string | undefined; keyFile?: string | undefined; defaultFile: string }): ResolvedKey {
  if (o.env) return { encryption: new KeyEncryption(parseKeyText(o.env, KEY_ENCRYPTION_ENV)), source: KEY_ENCRYPTION_ENV, created: false };
  if (o.keyFile) {
    const file = resolve(o.keyFile);
    if (!existsSync(file))
      throw new KeyEncryptionError(`Key file ${file} does not exist (create one with: head -c 32 /dev/urandom | base64 > ${file}; chmod 600 ${file}).`);
    return { encryption: new KeyEncryption(readKeyFile(file, false)), source: file, created: false };
  }
  const file = o.defaultFile;
  if (existsSync(file)) return { encryption: new KeyEncryption(readKeyFile(file, true)), source: file, created: false };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // "wx": two processes starting at once must not overwrite each other's key.
  try {
    writeFileSync(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return { encryption: new KeyEncryption(readKeyFile(file, true)), source: file, created: false };
  }
  return { encryption: new KeyEncryption(key), source: file, created: true };
}

/** The default file is Triage's own and is kept owner-only; an operator's file (perhaps a read-only mount) is left as it is. */
function readKeyFile(file: string, tighten: boolean): Buffer {
  if (tighten && process.platform !== "win32" && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return parseKeyText(readFileSync(file, "utf8"), `Key file ${file}`);
}
