import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from "node:crypto";

let runs = 0;

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  runs++;
  return new Promise((resolve, reject) => scryptCb(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** How many scrypt computations this process has started: lets tests see that every path does the same work. */
export function scryptRuns(): number {
  return runs;
}

/** scrypt parameters: N=2^14, r=8, p=1 — OWASP's minimum for scrypt, about 50 ms here. */
const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

/** A salted scrypt hash, self-describing: scrypt$N$r$p$salt$hash (base64url). */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(secret, salt, KEYLEN, { N, r: R, p: P });
  return ["scrypt", N, R, P, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** Compares in constant time (timingSafeEqual over equal-length keys). */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const key = await scrypt(secret, Buffer.from(salt, "base64url"), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(key, expected);
}

let dummy: Promise<string> | undefined;

/**
 * A hash of nothing anyone knows, with the same parameters as real ones: verifying against it costs
 * what verifying a real secret costs, so an unknown user or a secret whose hint matches nothing
 * answers no faster than a wrong password for a real one.
 */
export function dummyHash(): Promise<string> {
  dummy ??= hashSecret(randomBytes(32).toString("base64url"));
  return dummy;
}
