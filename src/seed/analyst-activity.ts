/**
 * What a small SOC team does with the generated incidents over the four weeks: who takes which
 * incident and when, the notes they leave, the tags they add, how they resolve it. Each incident's
 * plan is a pure function of (seed, incident id, what opened it), so a seed gives the same story.
 *
 * The plan follows the state the provider reported for the alert that opened the incident (the
 * generator's campaign state): a campaign the provider shows as resolved is one the team resolved,
 * with the same classification and determination, at the time it resolved the alerts.
 */
import type { AlertClassification, AlertDetermination } from "../schema/enums.js";
import { Rng } from "./random.js";
import { determinationFits, isVerdict, type Verdict } from "./verdicts.js";

export interface Analyst {
  upn: string;
  displayName: string;
}

/** The demo's team: the first one is the analyst the demo lets you sign in as. */
export const DEMO_ANALYSTS: readonly Analyst[] = [
  { upn: "analyst@contoso.com", displayName: "Alex Analyst" },
  { upn: "sam.okafor@contoso.com", displayName: "Sam Okafor" },
  { upn: "mei.tanaka@contoso.com", displayName: "Mei Tanaka" },
  { upn: "diego.ramos@contoso.com", displayName: "Diego Ramos" },
];

/** The alert that opened an incident, as the provider reported it. */
export interface OpenedIncident {
  incidentId: string;
  createdMs: number;
  status: "new" | "inProgress" | "resolved";
  classification: AlertClassification | null;
  determination: AlertDetermination | null;
  /** The provider's last update of the alert: how far an investigation still open has got. */
  updatedMs: number;
  resolvedMs: number | null;
  title: string;
}

export type AnalystAction =
  | { atMs: number; incidentId: string; analyst: Analyst; kind: "update"; changes: Record<string, unknown> }
  | { atMs: number; incidentId: string; analyst: Analyst; kind: "comment"; text: string };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const PROGRESS_NOTES: readonly string[] = [
  "Isolated the device while we look at the process tree.",
  "Reset the user's password and revoked their sessions and refresh tokens.",
  "Called the user: they do not recognise the activity. Continuing.",
  "Pulled the sign-in logs for the last 7 days; no other account affected so far.",
  "Submitted the file sample for deep analysis.",
  "Blocked the sender domain and purged the message from every mailbox.",
  "Ran a full antivirus scan on the device; waiting for the result.",
  "Checked the IPs against threat intelligence: two hits on known infrastructure.",
  "Collected the investigation package from the device.",
  "Asked the device owner's manager whether this was planned work.",
];

const TAKE_NOTES: readonly string[] = [
  "Taking this one.",
  "Picking this up: reviewing the alert evidence first.",
  "Mine. Starting with the device timeline.",
  "On it; will update after the first look.",
];

const TAGS: Record<Verdict, readonly string[]> = {
  truePositive: ["Escalated", "Containment", "Customer notified", "Needs follow-up"],
  falsePositive: ["Detection tuning", "Noisy rule"],
  informationalExpectedActivity: ["Red team", "Allow-list candidate", "Known admin activity"],
};
const OPEN_TAGS: readonly string[] = ["VIP", "Needs follow-up", "Escalated", "Phishing wave"];

const RESOLUTION_NOTES: Record<Verdict, readonly string[]> = {
  truePositive: [
    "Contained and remediated: device cleaned, credentials rotated, indicators blocked.",
    "Confirmed malicious. Remediation done; monitoring the user for a week.",
    "True positive, handled with the playbook. Lessons learned noted for the weekly review.",
  ],
  falsePositive: [
    "Benign: the detection matched a signed internal tool. Tuning request raised.",
    "Not malicious after review of the process tree and the file reputation.",
    "Not enough data left to confirm anything; closing as a false positive.",
  ],
  informationalExpectedActivity: [
    "Expected: part of the scheduled penetration test.",
    "Line-of-business application behaving as designed; added to the allow-list review.",
    "The user confirmed the activity with their manager.",
  ],
};

/** Moves a night-time moment to the next morning, unless that would pass `latest`. */
function workingHours(ms: number, rng: Rng, latest: number): number {
  const hour = new Date(ms).getUTCHours();
  if (hour >= 7 && hour < 20) return ms;
  const day = Math.floor(ms / (24 * HOUR)) * 24 * HOUR;
  const morning = (hour >= 20 ? day + 24 * HOUR : day) + 7 * HOUR + rng.int(0, 90) * MINUTE;
  return morning < latest ? morning : ms;
}

/** A moment strictly inside (from, to), at least a second from either end when there is room, skewed towards `from` if asked. */
function between(rng: Rng, from: number, to: number, skew = false): number {
  const x = rng.next();
  const span = to - from;
  if (span <= 2000) return from + Math.floor(span / 2);
  return from + 1000 + Math.floor((skew ? x * x : x) * (span - 2000));
}

function verdictOf(o: OpenedIncident): { classification: Verdict; determination: AlertDetermination } | null {
  if (!isVerdict(o.classification)) return null;
  return {
    classification: o.classification,
    determination: determinationFits(o.classification, o.determination) ? (o.determination as AlertDetermination) : "other",
  };
}

/**
 * The team's actions on one incident, in time order, all before `endMs`. Nothing happens to an
 * incident nobody has looked at yet; the newest ones mostly stay that way.
 */
export function planAnalystActivity(seed: string, o: OpenedIncident, endMs: number, team: readonly Analyst[] = DEMO_ANALYSTS): AnalystAction[] {
  const rng = new Rng(seed, "analysts", o.incidentId);
  const latest = endMs - 1000;
  const owner = rng.pick(team);
  const out: AnalystAction[] = [];
  const update = (atMs: number, changes: Record<string, unknown>, who = owner) =>
    out.push({ atMs, incidentId: o.incidentId, analyst: who, kind: "update", changes });
  const comment = (atMs: number, text: string, who = owner) => out.push({ atMs, incidentId: o.incidentId, analyst: who, kind: "comment", text });
  const verdict = verdictOf(o);

  if (o.status === "resolved" && o.resolvedMs !== null && verdict) {
    // Resolved just after the provider's own resolution of the alerts, so that is the last change.
    const resolveAt = Math.min(latest, o.resolvedMs + 1000);
    const span = resolveAt - o.createdMs;
    const takeAt = workingHours(o.createdMs + Math.max(MINUTE, Math.floor(span * 0.3 * square(rng.next()))), rng, o.createdMs + span / 2);
    update(takeAt, { status: "inProgress", assignedTo: owner.upn });
    if (rng.chance(0.3)) comment(between(rng, takeAt, resolveAt, true), rng.pick(TAKE_NOTES));
    if (rng.chance(0.6)) comment(workingHours(between(rng, takeAt, resolveAt), rng, resolveAt), rng.pick(PROGRESS_NOTES));
    if (rng.chance(0.45)) update(between(rng, takeAt, resolveAt), { customTags: [rng.pick(TAGS[verdict.classification])] });
    const resolution: Record<string, unknown> = { status: "resolved", classification: verdict.classification, determination: verdict.determination };
    if (rng.chance(0.7)) resolution.resolvingComment = rng.pick(RESOLUTION_NOTES[verdict.classification]);
    update(resolveAt, resolution);
    if (rng.chance(0.1) && resolveAt - takeAt > 4 * MINUTE) {
      // Handed over: from then on the new owner does the work and resolves.
      const other = team[(team.indexOf(owner) + 1 + rng.int(0, team.length - 2)) % team.length] ?? owner;
      const at = workingHours(between(rng, takeAt + MINUTE, resolveAt - 2 * MINUTE), rng, resolveAt - 2 * MINUTE);
      for (const a of out) if (a.atMs > at) a.analyst = other;
      comment(at, `Handing over to ${other.displayName}: needs someone with ${rng.pick(["mail flow", "identity", "endpoint"])} experience.`);
      update(at + MINUTE, { assignedTo: other.upn });
    }
  } else if (o.status === "inProgress") {
    const until = Math.min(latest, Math.max(o.updatedMs, o.createdMs + 20 * MINUTE));
    const takeAt = workingHours(between(rng, o.createdMs, o.createdMs + Math.min(6 * HOUR, (until - o.createdMs) / 2), true), rng, until);
    update(takeAt, { status: "inProgress", assignedTo: owner.upn });
    if (rng.chance(0.75)) comment(workingHours(between(rng, takeAt, until), rng, until), rng.pick(PROGRESS_NOTES));
    if (rng.chance(0.4)) update(between(rng, takeAt, until), { customTags: [rng.pick(OPEN_TAGS)] });
  } else if (endMs - o.createdMs > 12 * HOUR && rng.chance(0.3)) {
    // Triaged and owned, not started yet.
    const at = workingHours(between(rng, o.createdMs, Math.min(latest, o.createdMs + 2 * 24 * HOUR), true), rng, latest);
    update(at, { assignedTo: owner.upn });
    if (rng.chance(0.25)) comment(between(rng, at, latest, true), rng.pick(TAKE_NOTES));
    if (rng.chance(0.15)) update(between(rng, at, latest), { customTags: [rng.pick(OPEN_TAGS)] });
  }
  // Distinct, increasing times: each action is one API call after the previous one.
  out.sort((a, b) => a.atMs - b.atMs);
  for (let i = 1; i < out.length; i++) {
    const prev = out[i - 1]!;
    if (out[i]!.atMs <= prev.atMs) out[i]!.atMs = prev.atMs + 1000;
  }
  return out.filter((a) => a.atMs <= latest);
}

function square(x: number): number {
  return x * x;
}
