/**
 * SLA rules (docs/sla.md), pure: reading a policy a client sends, the due times of an incident's two
 * clocks (time to first action, time to resolve) from its start, severity and the policy, how a change
 * moves them (a person's change meets the first-action clock; resolving, or being merged away, closes
 * the incident and stops both; reopening starts them again with the same due times), which running clock
 * is due next, and what an incident shows.
 */
import { Value } from "@sinclair/typebox/value";
import { badRequest } from "../errors/graph-error.js";
import {
  MAX_SLA_TARGET_MS,
  MIN_SLA_TARGET_MS,
  SLA_SEVERITIES,
  SlaPolicyInputSchema,
  type IncidentSla,
  type SlaKind,
  type SlaPolicyInput,
  type SlaSeverity,
  type SlaState,
} from "../schema/sla.js";

/** Per severity, each clock's target in milliseconds (null: none). */
export type SlaTargetsMs = Record<SlaSeverity, Record<SlaKind, number | null>>;

const DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** An ISO 8601 duration of days, hours, minutes and seconds, in milliseconds; null when it is not one. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text);
  if (!m || text === "P" || text.endsWith("T")) return null;
  const [d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number];
  return (((d * 24 + h) * 60 + mi) * 60 + s) * 1000;
}

/** A policy from a request body: the schema, then each duration within bounds. Bad input is a 400 naming it. */
export function checkSlaPolicyInput(body: unknown): SlaPolicyInput {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest("The request body must be a JSON object: the SLA policy.");
  if (!Value.Check(SlaPolicyInputSchema, body)) {
    const first = [...Value.Errors(SlaPolicyInputSchema, body)].sort((a, b) => b.path.length - a.path.length)[0];
    const where = first && first.path !== "" ? `'${first.path.slice(1).replace(/\//g, ".")}'` : "the policy";
    if (first && typeof first.value === "string" && /^\/targets\/[^/]+\/[^/]+$/.test(first.path))
      throw badRequest(`Invalid value for ${where}: '${first.value.slice(0, 40)}' is not an ISO 8601 duration such as PT15M, PT4H or P2D.`);
    throw badRequest(first ? `Invalid value for ${where}: ${first.message}.` : "The SLA policy is not valid.");
  }
  const input = body as SlaPolicyInput;
  for (const sev of SLA_SEVERITIES) {
    for (const [kind, text] of Object.entries(input.targets[sev] ?? {})) {
      if (text === null || text === undefined) continue;
      const ms = parseDuration(text);
      if (ms === null) throw badRequest(`Invalid value for 'targets.${sev}.${kind}': '${text}' is not an ISO 8601 duration such as PT15M, PT4H or P2D.`);
      if (ms < MIN_SLA_TARGET_MS || ms > MAX_SLA_TARGET_MS)
        throw badRequest(`Invalid value for 'targets.${sev}.${kind}': '${text}' must be from 1 second (PT1S) to 365 days (P365D).`);
    }
  }
  return input;
}

/** The targets in milliseconds; a disabled policy (or none) has none. */
export function targetsMs(policy: SlaPolicyInput | null): SlaTargetsMs {
  const out = {} as SlaTargetsMs;
  for (const sev of SLA_SEVERITIES) {
    const t = policy && policy.enabled !== false ? policy.targets[sev] : undefined;
    const ms = (v: string | null | undefined) => (typeof v === "string" ? parseDuration(v) : null);
    out[sev] = { firstAction: ms(t?.firstAction), resolve: ms(t?.resolve) };
  }
  return out;
}

/** The policy's severity for an incident's (Graph's unknownFutureValue, or anything else, counts as unknown). */
export function slaSeverity(severity: unknown): SlaSeverity {
  return (SLA_SEVERITIES as readonly unknown[]).includes(severity) ? (severity as SlaSeverity) : "unknown";
}

/** Whether a clock is still running: not met, not breached, the incident open, a due time set. */
export function running(s: SlaState, kind: SlaKind): boolean {
  if (s.closedMs !== null) return false;
  return kind === "firstAction"
    ? s.firstActionDueMs !== null && s.firstActionMs === null && s.firstActionBreachedMs === null
    : s.resolveDueMs !== null && s.resolveBreachedMs === null;
}

/** The earliest due time of a running clock, or null. */
export function nextDue(s: SlaState): number | null {
  const dues = [running(s, "firstAction") ? s.firstActionDueMs : null, running(s, "resolve") ? s.resolveDueMs : null].filter((d): d is number => d !== null);
  return dues.length ? Math.min(...dues) : null;
}

/** The state with due times computed for its severity from `targets` (a policy change, a severity change). */
export function withDues(s: SlaState, targets: SlaTargetsMs): SlaState {
  const t = targets[slaSeverity(s.severity)];
  const out: SlaState = {
    ...s,
    firstActionDueMs: t.firstAction === null ? null : s.startedMs + t.firstAction,
    resolveDueMs: t.resolve === null ? null : s.startedMs + t.resolve,
  };
  return { ...out, nextDueMs: nextDue(out) };
}

/** The incident as a change left it, for its clocks. */
export interface SlaIncident {
  id: number;
  severity: unknown;
  status: unknown;
  /**
   * When Triage created the incident (the commit of its `created` change), the clocks' start — not
   * createdDateTime, which follows its first alert and may lie far in the past for a late alert.
   */
  createdMs: number;
}

/** The change, from the change feed. */
export interface SlaChange {
  atMs: number;
  /** A signed-in person made it (not ingestion, not an automation rule, not Triage itself). */
  byPerson: boolean;
  actor: string;
}

/**
 * The clocks after a change to the incident: started at its creation if new; the first person's change
 * meets the first-action clock; `resolved` (or `redirected`: merged into another incident, which keeps
 * its own clocks) closes it and stops both; reopening clears the close, and the clocks run on with the
 * same due times. Due times follow the incident's current severity.
 */
export function afterChange(prev: SlaState | null, incident: SlaIncident, change: SlaChange, targets: SlaTargetsMs): SlaState {
  const s: SlaState = prev
    ? { ...prev }
    : {
        incidentId: incident.id,
        severity: slaSeverity(incident.severity),
        startedMs: incident.createdMs,
        firstActionDueMs: null,
        firstActionMs: null,
        firstActionBy: null,
        firstActionBreachedMs: null,
        resolveDueMs: null,
        closedMs: null,
        resolveBreachedMs: null,
        nextDueMs: null,
      };
  s.severity = slaSeverity(incident.severity);
  if (change.byPerson && s.firstActionMs === null) {
    s.firstActionMs = change.atMs;
    s.firstActionBy = change.actor;
  }
  const closed = incident.status === "resolved" || incident.status === "redirected";
  if (closed && s.closedMs === null) s.closedMs = change.atMs;
  if (!closed) s.closedMs = null;
  return withDues(s, targets);
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What an incident shows of its clocks at `nowMs`. */
export function slaView(s: SlaState, nowMs: number): IncidentSla {
  const clock = (kind: SlaKind) => {
    const due = kind === "firstAction" ? s.firstActionDueMs : s.resolveDueMs;
    const met = kind === "firstAction" ? s.firstActionMs : s.closedMs;
    const breached = kind === "firstAction" ? s.firstActionBreachedMs : s.resolveBreachedMs;
    // Overdue: the incident is open and the clock past due and not met — its breach recorded, or not yet.
    const overdue = s.closedMs === null && due !== null && met === null && (breached !== null || nowMs >= due);
    return { dueDateTime: iso(due), metDateTime: iso(met), breachedDateTime: iso(breached), overdue };
  };
  const firstAction = clock("firstAction");
  const resolve = clock("resolve");
  return { startDateTime: iso(s.startedMs)!, firstAction, resolve, overdue: firstAction.overdue || resolve.overdue, nextDueDateTime: iso(s.nextDueMs) };
}
