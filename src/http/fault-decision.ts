/**
 * Which faults a request gets: a pure function of the configuration, its rules' counters and the
 * request. Every draw is an HMAC of the seed, the rule and the rule's count of matched requests, so
 * the same seed and the same requests give the same faults, on any node, in any process.
 */
import { createHmac } from "node:crypto";
import type { FaultConfig, FaultRule, RuleCounter } from "../schema/faults.js";
import type { InjectedStatus } from "../errors/graph-error.js";
import type { NewFaultEvent } from "../store/faults.js";

export interface RequestFacts {
  method: string;
  /** The route template, as the catalog spells it: `/security/incidents/{id}`. */
  route: string;
  /** Incident listings: the page size asked for (or the default), and whether alerts are expanded. */
  top: number;
  expandsAlerts: boolean;
  /** For graph-throttle: this app's requests in the current minute, this one included, and ms until the minute ends. */
  window?: { count: number; ttlMs: number } | undefined;
}

/** What the request gets: a delay first, then (maybe) an answer instead of its own. */
export interface Decision {
  delayMs: number;
  answer: { status: InjectedStatus; retryAfter?: number | undefined } | "drop" | null;
}

/** A number in [0, 1) from the seed, the rule, the rule's count and what the draw is for. */
export function draw(seed: string, rule: number, n: number, purpose: string): number {
  const h = createHmac("sha256", seed).update(`${rule}:${n}:${purpose}`).digest();
  return h.readUIntBE(0, 6) / 2 ** 48;
}

/** Whether a rule applies to a request at all (before its share is drawn). */
export function ruleMatches(rule: FaultRule, f: RequestFacts): boolean {
  if (rule.preset === "graph-throttle") return f.route.startsWith("/security/");
  if (rule.preset === "expand-alerts-failure") return f.method === "GET" && f.route === "/security/incidents" && f.expandsAlerts && f.top > rule.maxTop!;
  if (rule.methods.length > 0 && !rule.methods.includes(f.method)) return false;
  if (rule.route === null) return true;
  return rule.route.endsWith("*") ? f.route.startsWith(rule.route.slice(0, -1)) : f.route === rule.route;
}

export function anyRuleMatches(config: FaultConfig, f: RequestFacts): boolean {
  return config.rules.some((r) => ruleMatches(r, f));
}

/** The graph-throttle preset needs the app's request count; only a configuration with it does. */
export function needsWindow(config: FaultConfig, f: RequestFacts): boolean {
  return config.rules.some((r) => r.preset === "graph-throttle" && ruleMatches(r, f));
}

export interface DecideInput {
  config: FaultConfig;
  counters: RuleCounter[];
  facts: RequestFacts;
  /** What each recorded fault says about the request. */
  request: { clientId: string; requestId: string; at: string; retryAttempt: number | null };
}

/**
 * Goes through the rules in order: each that matches counts the request, and fires on its share of
 * them (presets: when their condition holds) until it has fired `limit` times. Latency adds up; the
 * first status or drop that fires is the answer, and the answers after it do not fire.
 */
export function decide({ config, counters: before, facts, request }: DecideInput): { counters: RuleCounter[]; events: NewFaultEvent[]; decision: Decision } {
  const counters = config.rules.map((_, i) => ({ ...(before[i] ?? { matched: 0, fired: 0 }) }));
  const events: NewFaultEvent[] = [];
  const decision: Decision = { delayMs: 0, answer: null };
  const record = (rule: number, fault: string, status: number | null, delayMs: number | null) =>
    events.push({ ...request, rule, fault, status, delayMs, method: facts.method, route: facts.route });

  config.rules.forEach((rule, i) => {
    if (!ruleMatches(rule, facts)) return;
    const c = counters[i]!;
    c.matched++;
    if (rule.limit !== null && c.fired >= rule.limit) return;
    const isAnswer = rule.fault !== "latency";
    if (isAnswer && decision.answer !== null) return;
    if (rule.preset === "graph-throttle") {
      const w = facts.window;
      if (!w || w.count <= rule.perMinute!) return;
      c.fired++;
      decision.answer = { status: 429, retryAfter: Math.max(1, Math.ceil(w.ttlMs / 1000)) };
      record(i, "429", 429, null);
      return;
    }
    if (rule.preset === "expand-alerts-failure") {
      c.fired++;
      decision.answer = { status: 500 };
      record(i, "500", 500, null);
      return;
    }
    if (draw(config.seed, i, c.matched, "share") >= rule.share) return;
    c.fired++;
    if (rule.fault === "latency") {
      const ms = rule.ms! + Math.floor(draw(config.seed, i, c.matched, "jitter") * (rule.jitterMs! + 1));
      decision.delayMs += ms;
      record(i, "latency", null, ms);
    } else if (rule.fault === "drop") {
      decision.answer = "drop";
      record(i, "drop", null, null);
    } else {
      decision.answer = { status: rule.fault!, retryAfter: rule.retryAfter };
      record(i, String(rule.fault), rule.fault!, null);
    }
  });
  return { counters, events, decision };
}
