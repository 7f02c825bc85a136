import { createServer, type Server } from "node:http";
import { generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, SignJWT, type JWK } from "jose";
import type { Kysely } from "kysely";
import { KeyRing } from "../../src/identity/keys.js";
import type { KeyEncryption } from "../../src/identity/key-encryption.js";
import type { Database } from "../../src/store/tables.js";

/** Seconds since the epoch, as JWT time claims count them. */
export const nowSec = (): number => Math.floor(Date.now() / 1000);

/** A random `uti`, like Entra's. */
export const uti = (): string => randomBytes(16).toString("base64url");

export const b64json = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString("base64url");

/** An RSA key pair the test controls, with its public JWK (kid = thumbprint unless given). */
export interface TestKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JWK;
}

export async function newRsaKey(kid?: string): Promise<TestKey> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = await exportJWK(publicKey);
  const id = kid ?? (await calculateJwkThumbprint(jwk));
  return { kid: id, privateKey, publicKey, publicJwk: { kty: "RSA", use: "sig", alg: "RS256", kid: id, n: jwk.n, e: jwk.e } };
}

/**
 * Triage's current signing key, read from its database the way another node would: lets a test mint
 * tokens whose signature is right, so that a rejection can only be for the claim under test.
 */
export async function serverSigningKey(db: Kysely<Database>, encryption?: KeyEncryption): Promise<{ kid: string; privateKey: KeyObject }> {
  const key = await new KeyRing(db, 3599, 0, encryption).signingKey();
  return { kid: key.kid, privateKey: key.privateKey };
}

/** Signs `claims` (undefined values are left out) with RS256 unless the header says otherwise. */
export async function sign(
  key: { kid?: string; privateKey: KeyObject | Uint8Array },
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
  const h = { alg: "RS256", typ: "JWT", ...(key.kid ? { kid: key.kid } : {}), ...header };
  return new SignJWT(payload).setProtectedHeader(h as { alg: string }).sign(key.privateKey);
}

/** A JWS with an empty signature: header.payload. */
export function unsigned(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  return `${b64json(header)}.${b64json(claims)}.`;
}

/** The token's payload edited in place; the header and the (now wrong) signature are kept. */
export function tamper(token: string, edit: (payload: Record<string, unknown>) => void): string {
  const [h, p, s] = token.split(".");
  const payload = JSON.parse(Buffer.from(p!, "base64url").toString("utf8")) as Record<string, unknown>;
  edit(payload);
  return `${h}.${b64json(payload)}.${s}`;
}

/** POSTs a form to a tenant's token endpoint; answers the status and the JSON body. */
export async function tokenEndpoint(url: string, tenant: string, form: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * A stand-in for an external Entra authority (login.microsoftonline.com): serves a JWKS at `/keys`
 * on loopback and counts how often it is fetched.
 */
export interface StandInIssuer {
  jwksUri: string;
  /** How many times `/keys` was requested. */
  fetches(): number;
  /** Replaces the published key set (a key rotation). */
  publish(keys: JWK[]): void;
  close(): Promise<void>;
}

export async function startStandInIssuer(keys: JWK[]): Promise<StandInIssuer> {
  let published = keys;
  let count = 0;
  const server: Server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/keys") {
      count++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: published }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    jwksUri: `http://127.0.0.1:${port}/keys`,
    fetches: () => count,
    publish: (next) => {
      published = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
