/**
 * `triage serve --ephemeral`: an ephemeral Triage (ephemeral.ts) as a process of its own. It prints how
 * to reach it (one line of JSON with --json), serves until SIGINT or SIGTERM, and then removes its
 * folder. Started by a parent with an IPC channel (`startTriage` from `triage/testing`), it also takes
 * `seed`, `reset`, `setFaults` and `faultEvents` requests over that channel, and stops when the parent goes away.
 */
import { rmSync } from "node:fs";
import type { Profile } from "../schema/profile.js";
import { startEphemeral, type Ephemeral, type EphemeralInfo } from "./ephemeral.js";

export interface EphemeralServeOptions {
  host: string;
  port: number;
  http?: boolean;
  json?: boolean;
  caDir?: string;
  logLevel: string;
  profile?: Profile | undefined;
}

/** A request from the parent process over the IPC channel, and its answer. */
export type ControlRequest =
  | { id: number; op: "reset" }
  | { id: number; op: "seed"; incidents?: number; seed?: string }
  | { id: number; op: "setFaults"; config: unknown; clientId?: string }
  | { id: number; op: "faultEvents"; clientId?: string };
export type ControlReply = { id: number; ok: true; result?: unknown } | { id: number; ok: false; error: string };

/** The most incidents one `seed` request may generate (the seed command takes more; a test needs few). */
export const MAX_CONTROL_SEED_INCIDENTS = 10_000;

async function answer(eph: Ephemeral, m: unknown): Promise<ControlReply | undefined> {
  if (typeof m !== "object" || m === null || typeof (m as { id?: unknown }).id !== "number") return undefined;
  const req = m as ControlRequest;
  try {
    if (req.op === "reset") {
      await eph.reset();
      return { id: req.id, ok: true };
    }
    if (req.op === "seed") {
      const incidents = req.incidents ?? 20;
      if (!Number.isInteger(incidents) || incidents < 1 || incidents > MAX_CONTROL_SEED_INCIDENTS) {
        return { id: req.id, ok: false, error: `incidents must be a whole number from 1 to ${MAX_CONTROL_SEED_INCIDENTS}` };
      }
      return { id: req.id, ok: true, result: await eph.seed({ incidents, seed: req.seed }) };
    }
    if ((req.op === "setFaults" || req.op === "faultEvents") && req.clientId !== undefined && typeof req.clientId !== "string") {
      return { id: req.id, ok: false, error: "clientId must be a string" };
    }
    if (req.op === "setFaults") return { id: req.id, ok: true, result: await eph.setFaults(req.config, req.clientId) };
    if (req.op === "faultEvents") return { id: req.id, ok: true, result: await eph.faultEvents(req.clientId) };
    return { id: (m as { id: number }).id, ok: false, error: `unknown request ${JSON.stringify((m as { op?: unknown }).op)}` };
  } catch (e) {
    return { id: (m as { id: number }).id, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

function describe(info: EphemeralInfo): string {
  const lines = [
    `Triage (ephemeral) is listening on ${info.url}`,
    `  Tenant:      ${info.tenantId}`,
    `  Authority:   ${info.authority}`,
    `  Graph API:   ${info.graphUrl}`,
    ...(info.caFile ? [`  TLS:         trust ${info.caFile} (NODE_EXTRA_CA_CERTS, REQUESTS_CA_BUNDLE)`] : []),
    ...Object.entries(info.apps).map(
      ([name, a]) => `  ${`${name} app`.padEnd(14)} client id ${a.clientId}  secret ${a.clientSecret}  (${a.permissions.join(", ")})`,
    ),
    `  public client client id ${info.publicClient.clientId}`,
    `  user          ${info.user.upn} / ${info.user.password} (${info.user.roles.join(", ")})`,
    `  Store:       ${info.dataDir} (removed when Triage stops)`,
  ];
  return lines.join("\n") + "\n";
}

export async function serveEphemeral(o: EphemeralServeOptions): Promise<void> {
  // stdout carries only what says how to reach the server; the log goes to stderr.
  // A signal while starting is kept for when the server is up, so that its folder is removed all the same.
  let stopWhenStarted = false;
  const early = () => {
    stopWhenStarted = true;
  };
  process.on("SIGINT", early).on("SIGTERM", early);
  let eph: Ephemeral;
  try {
    eph = await startEphemeral({
      host: o.host,
      port: o.port,
      http: o.http,
      caDir: o.caDir,
      profile: o.profile,
      logger: { level: o.logLevel, stream: process.stderr },
    });
  } finally {
    process.off("SIGINT", early).off("SIGTERM", early);
  }
  if (stopWhenStarted) {
    await eph.close();
    return;
  }
  // However the process ends (an uncaught error, process.exit), the folder goes with it.
  const removeFolder = () => rmSync(eph.info.dataDir, { recursive: true, force: true });
  process.on("exit", removeFolder);
  const onMessage = (m: unknown) => {
    void answer(eph, m).then((reply) => {
      if (reply && process.connected) process.send?.(reply);
    });
  };
  if (process.send) process.on("message", onMessage);
  // The signals are handled before the line is printed: a parent that reads it may stop Triage at once.
  const stopped = new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      eph.app.log.info({ why }, "shutting down the ephemeral server and removing its folder");
      eph.close().then(resolveStop, (err) => {
        process.stderr.write(`triage: stopping failed: ${err instanceof Error ? err.message : String(err)}\n`);
        resolveStop();
      });
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
    // The parent that started this process over IPC is gone (or let go of it): nobody is left to stop it.
    if (process.send) process.once("disconnect", () => stop("parent disconnected"));
  });
  process.stdout.write(o.json ? `${JSON.stringify(eph.info)}\n` : describe(eph.info));
  await stopped;
  process.off("message", onMessage);
  process.off("exit", removeFolder);
  removeFolder();
  if (process.connected) process.disconnect();
}
