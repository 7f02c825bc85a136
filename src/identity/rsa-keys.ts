/**
 * RSA 2048 key pairs (the local CA's, its server certificates', the token signing keys), made on the
 * libuv thread pool: each takes ~100 ms of a core, and the event loop does not wait for it.
 *
 * A command that knows it will need keys can start them early (`makeRsaKeysAhead`), so that they are
 * made on another core while the bulk of the modules load on the main thread: `triage serve
 * --ephemeral` does (cli/early.ts). A key made ahead is handed out once, to the first caller that asks.
 * This module imports only node:crypto, so importing it costs nothing.
 */
import { generateKeyPair, type KeyObject } from "node:crypto";

export interface RsaKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

function generate(): Promise<RsaKeyPair> {
  const made = new Promise<RsaKeyPair>((resolve, reject) =>
    generateKeyPair("rsa", { modulusLength: 2048 }, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ publicKey, privateKey }))),
  );
  // Waiting unclaimed, a failure must not be an unhandled rejection; whoever takes it still sees it.
  made.catch(() => undefined);
  return made;
}

const ahead: Promise<RsaKeyPair>[] = [];

/** The most key pairs kept waiting: what an ephemeral server needs (CA, server certificate, signing key). */
export const MAX_KEYS_AHEAD = 3;

/** Starts making key pairs now, until `count` (at most MAX_KEYS_AHEAD) are waiting for a taker. */
export function makeRsaKeysAhead(count: number): void {
  while (ahead.length < Math.min(count, MAX_KEYS_AHEAD)) ahead.push(generate());
}

/** How many key pairs made ahead are still waiting. */
export function rsaKeysWaiting(): number {
  return ahead.length;
}

/** A new key pair: one made ahead if one is waiting, else one made now. */
export function newRsaKeyPair(): Promise<RsaKeyPair> {
  return ahead.shift() ?? generate();
}
