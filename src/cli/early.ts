/**
 * What the `triage` command starts before it loads the rest of its modules (bin/triage.js imports this
 * file first, then cli/main.js). Loading the modules keeps one core busy for most of a second; `serve
 * --ephemeral` needs up to three RSA keys, which are made meanwhile on the thread pool (another core)
 * instead of after. Imports nothing heavy: it runs before everything else is loaded.
 */
import { makeRsaKeysAhead } from "../identity/rsa-keys.js";

/** How many RSA keys `triage <args>` will make as it starts: the CA's, its server certificate's, the token signing key. */
export function rsaKeysNeeded(args: readonly string[]): number {
  if (args[0] !== "serve" || !args.includes("--ephemeral")) return 0;
  // An argument that is really another option's value only makes a key too many (thrown away on exit).
  if (args.includes("--http")) return 1;
  if (args.some((a) => a === "--ca-dir" || a.startsWith("--ca-dir="))) return 2;
  return 3;
}

/** Starts, for the command in `argv` (as process.argv), what can be started before the modules load. */
export function startEarly(argv: readonly string[]): void {
  makeRsaKeysAhead(rsaKeysNeeded(argv.slice(2)));
}
