/**
 * What a rule's conditions look at: the facts of an incident (with what its alerts contribute —
 * detection and service sources, MITRE techniques, the entities in their evidence) or of one alert,
 * each as a list of strings. Pure: the caller reads the documents.
 */
import type { ConditionProperty } from "../../schema/automation.js";
import { entityKeys } from "../entities.js";

export type Facts = Record<ConditionProperty, string[]>;

function one(v: unknown): string[] {
  return typeof v === "string" && v !== "" ? [v] : [];
}

function many(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string" && x !== "") : [];
}

function unique(values: Iterable<string>): string[] {
  return [...new Set(values)];
}

function evidenceOf(alerts: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return alerts
    .flatMap((a) => (Array.isArray(a.evidence) ? (a.evidence as unknown[]) : []))
    .filter((e): e is Record<string, unknown> => typeof e === "object" && e !== null);
}

function entityFacts(alerts: readonly Record<string, unknown>[]): Pick<Facts, "account" | "device" | "ip"> {
  const keys = entityKeys(evidenceOf(alerts));
  const of = (kind: string) => unique(keys.filter((k) => k.kind === kind).map((k) => k.value));
  return { account: of("account"), device: of("device"), ip: of("ip") };
}

/**
 * An incident's facts; `alerts` are its alerts' documents (or as many as were read); `slaBreach`, for
 * the slaBreached trigger, the clock breached.
 */
export function incidentFacts(incident: Record<string, unknown>, alerts: readonly Record<string, unknown>[], slaBreach: string | null = null): Facts {
  return {
    severity: one(incident.severity),
    status: one(incident.status),
    title: one(incident.displayName),
    detectionSource: unique(alerts.flatMap((a) => one(a.detectionSource))),
    serviceSource: unique(alerts.flatMap((a) => one(a.serviceSource))),
    tags: unique([...many(incident.customTags), ...many(incident.systemTags)]),
    assignedTo: one(incident.assignedTo),
    mitreTechniques: unique(alerts.flatMap((a) => many(a.mitreTechniques))),
    ...entityFacts(alerts),
    slaBreach: slaBreach === null ? [] : [slaBreach],
  };
}

/** One alert's facts (an alert has no custom tags: its system tags are its tags). */
export function alertFacts(alert: Record<string, unknown>): Facts {
  return {
    severity: one(alert.severity),
    status: one(alert.status),
    title: one(alert.title),
    detectionSource: one(alert.detectionSource),
    serviceSource: one(alert.serviceSource),
    tags: many(alert.systemTags),
    assignedTo: one(alert.assignedTo),
    mitreTechniques: unique(many(alert.mitreTechniques)),
    ...entityFacts([alert]),
    slaBreach: [],
  };
}
