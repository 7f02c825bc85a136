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

/**
 * How costly a hash is made. `standard` is for every secret and password that lasts or that a person
 * chose. `generated` is N=2^10 (~1 ms, 1 MiB), only for what an ephemeral test server makes for
 * itself and throws away with its folder: client secrets of ~200 random bits and a password of 96. A
 * slow hash only protects a secret an attacker can enumerate; one of 96 random bits takes 2^95 tries
 * on average however fast each is, so the cheaper hash gives nothing away, and the server is ready
 * (and answers token requests) sooner. The hash names its own parameters, so verifying needs no flag.
 */
export type HashCost = "standard" | "generated";
const GENERATED_N = 1024;

/** A salted scrypt hash, self-describing: scrypt$N$r$p$salt$hash (base64url). */
export async function hashSecret(secret: string, cost: HashCost = "standard"): Promise<string> {
  const salt = randomBytes(16);
  const n = cost === "generated" ? GENERATED_N : N;
  const key = await scrypt(secret, salt, KEYLEN, { N: n, r: R, p: P });
  return ["scrypt", n, R, P, salt.toString("base64url"), key.toString("base64url")].join("$");
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
