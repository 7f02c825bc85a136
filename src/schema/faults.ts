/**
 * Fault injection's configuration (docs/testing-faults.md): what an administrator sets for a tenant or
 * one app, as the admin API and `triage faults set` take it and as the store keeps it. Parsing checks
 * every field and bound, so a stored configuration is always one the injector can run.
 */
import { randomBytes } from "node:crypto";
import { Type, type Static } from "@sinclair/typebox";
import { badRequest, INJECTED_STATUSES, type InjectedStatus } from "../errors/graph-error.js";

export const FAULT_PRESETS = ["graph-throttle", "expand-alerts-failure"] as const;
export type FaultPreset = (typeof FAULT_PRESETS)[number];
export const FAULT_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"] as const;

/** Bounds of a configuration: each is a 400 beyond. */
export const FAULT_LIMITS = {
  rules: 20,
  seedLength: 200,
  /** Fixed latency and jitter, each, in milliseconds. */
  latencyMs: 30_000,
  retryAfterSeconds: 3600,
  /** Most times one rule may be told to fire (`limit`). */
  fires: 1_000_000,
  perMinute: 100_000,
  maxTop: 1000,
} as const;

/** Graph's published limit for `/security`: 150 requests a minute per app per tenant. */
export const GRAPH_THROTTLE_PER_MINUTE = 150;
/**
 * `expand-alerts-failure`: a page of incidents with `$expand=alerts` larger than this fails, as large
 * tenants have seen at `$top=25` (addendum §7.2); Triage's choice of threshold.
 */
export const EXPAND_FAILURE_MAX_TOP = 10;

/** One rule, normalized: a fault with its share and target, or a named preset. */
export interface FaultRule {
  /** A status to answer with, `latency` to add, or `drop` to close the connection without an answer. */
  fault?: InjectedStatus | "latency" | "drop";
  preset?: FaultPreset;
  /** The share of matching requests it fires on, 0 to 1. */
  share: number;
  /** Methods it applies to; empty: all. */
  methods: string[];
  /** A Graph route template (`/security/incidents/{id}`) or a prefix ending in `*`; null: all. */
  route: string | null;
  /** The most times it fires (then it stays quiet until set again); null: no end. */
  limit: number | null;
  /** Seconds in `Retry-After` (429 and 503). */
  retryAfter?: number;
  /** Latency: fixed milliseconds, and up to `jitterMs` more drawn from the seed. */
  ms?: number;
  jitterMs?: number;
  /** graph-throttle: requests a minute per app per tenant. */
  perMinute?: number;
  /** expand-alerts-failure: the largest page that still succeeds. */
  maxTop?: number;
}

export interface FaultConfig {
  /** Every draw is derived from it: the same seed and the same requests give the same faults. */
  seed: string;
  rules: FaultRule[];
}

/** The configuration's JSON for the OpenAPI document. */
export const FaultConfigSchema = Type.Object(
  {
    seed: Type.Optional(Type.String({ maxLength: FAULT_LIMITS.seedLength, description: "Draws derive from it; a random one is chosen when absent." })),
    rules: Type.Array(
      Type.Object({
        fault: Type.Optional(
          Type.Union([...Object.keys(INJECTED_STATUSES).map((s) => Type.Literal(Number(s))), Type.Literal("latency"), Type.Literal("drop")]),
        ),
        preset: Type.Optional(Type.Union(FAULT_PRESETS.map((p) => Type.Literal(p)))),
        share: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
        methods: Type.Optional(Type.Array(Type.String())),
        route: Type.Optional(Type.String()),
        limit: Type.Optional(Type.Integer({ minimum: 1 })),
        retryAfter: Type.Optional(Type.Integer({ minimum: 0 })),
        ms: Type.Optional(Type.Integer({ minimum: 0 })),
        jitterMs: Type.Optional(Type.Integer({ minimum: 0 })),
        perMinute: Type.Optional(Type.Integer({ minimum: 1 })),
        maxTop: Type.Optional(Type.Integer({ minimum: 0 })),
      }),
      { maxItems: FAULT_LIMITS.rules },
    ),
  },
  { description: "Fault rules (docs/testing-faults.md)." },
);

/** A configuration as a client writes it (before parsing fills in the defaults). */
export type FaultConfigInput = Static<typeof FaultConfigSchema>;

function int(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw badRequest(`'${name}' must be a whole number from ${min} to ${max}.`);
  return v;
}

const FAULT_FIELDS: Record<string, readonly string[]> = {
  status: ["fault", "share", "methods", "route", "limit", "retryAfter"],
  latency: ["fault", "share", "methods", "route", "limit", "ms", "jitterMs"],
  drop: ["fault", "share", "methods", "route", "limit"],
  "graph-throttle": ["preset", "perMinute"],
  "expand-alerts-failure": ["preset", "maxTop"],
};

/**
 * Whether `route` names Graph routes: one of `known` (templates such as `/security/incidents/{id}`),
 * or a prefix ending in `*` that at least one of them starts with.
 */
function checkRoute(route: string, known: readonly string[], where: string): string {
  const r = route.trim().replace(/^\/(v1\.0|beta)(?=\/)/i, "");
  const ok = r.endsWith("*") ? known.some((k) => k.startsWith(r.slice(0, -1))) : known.includes(r);
  if (!ok) {
    throw badRequest(
      `${where}: '${route}' is not a Graph route Triage serves. Give a template such as /security/incidents/{id}, or a prefix ending in * such as /security/*.`,
    );
  }
  return r;
}

function parseRule(raw: unknown, i: number, known: readonly string[]): FaultRule {
  const where = `rules[${i}]`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw badRequest(`${where} must be an object.`);
  const o = raw as Record<string, unknown>;
  if ((o.fault === undefined) === (o.preset === undefined)) throw badRequest(`${where} needs either 'fault' or 'preset'.`);
  let kind: string;
  const rule: FaultRule = { share: 1, methods: [], route: null, limit: null };
  if (o.preset !== undefined) {
    if (!(FAULT_PRESETS as readonly unknown[]).includes(o.preset)) throw badRequest(`${where}.preset must be one of ${FAULT_PRESETS.join(", ")}.`);
    kind = o.preset as string;
    rule.preset = o.preset as FaultPreset;
  } else {
    const f = typeof o.fault === "string" && /^\d+$/.test(o.fault) ? Number(o.fault) : o.fault;
    if (f === "latency" || f === "drop") kind = f;
    else if (typeof f === "number" && f in INJECTED_STATUSES) kind = "status";
    else throw badRequest(`${where}.fault must be one of ${Object.keys(INJECTED_STATUSES).join(", ")}, latency or drop.`);
    rule.fault = f as FaultRule["fault"];
  }
  const allowed = FAULT_FIELDS[kind]!;
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key))
      throw badRequest(`${where}: '${key}' does not apply to ${rule.preset ?? `fault ${String(rule.fault)}`}; it takes ${allowed.join(", ")}.`);
  }
  if (o.share !== undefined) {
    if (typeof o.share !== "number" || !(o.share >= 0 && o.share <= 1)) throw badRequest(`${where}.share must be a number from 0 to 1.`);
    rule.share = o.share;
  }
  if (o.methods !== undefined) {
    if (!Array.isArray(o.methods) || o.methods.length > FAULT_METHODS.length) throw badRequest(`${where}.methods must be an array of HTTP methods.`);
    rule.methods = [
      ...new Set(
        o.methods.map((m) => {
          const up = typeof m === "string" ? m.toUpperCase() : "";
          if (!(FAULT_METHODS as readonly string[]).includes(up))
            throw badRequest(`${where}.methods: '${String(m)}' is not one of ${FAULT_METHODS.join(", ")}.`);
          return up;
        }),
      ),
    ];
  }
  if (o.route !== undefined) {
    if (typeof o.route !== "string" || o.route.length > 300) throw badRequest(`${where}.route must be a string.`);
    rule.route = checkRoute(o.route, known, `${where}.route`);
  }
  if (o.limit !== undefined) rule.limit = int(o.limit, `${where}.limit`, 1, FAULT_LIMITS.fires);
  if (kind === "status" && o.retryAfter !== undefined) {
    if (rule.fault !== 429 && rule.fault !== 503) throw badRequest(`${where}.retryAfter applies to 429 and 503 only.`);
    rule.retryAfter = int(o.retryAfter, `${where}.retryAfter`, 0, FAULT_LIMITS.retryAfterSeconds);
  }
  // Graph sends Retry-After with every 429; a rule that names none sends one second.
  if (rule.fault === 429 && rule.retryAfter === undefined) rule.retryAfter = 1;
  if (kind === "latency") {
    rule.ms = o.ms === undefined ? 0 : int(o.ms, `${where}.ms`, 0, FAULT_LIMITS.latencyMs);
    rule.jitterMs = o.jitterMs === undefined ? 0 : int(o.jitterMs, `${where}.jitterMs`, 0, FAULT_LIMITS.latencyMs);
    if (rule.ms === 0 && rule.jitterMs === 0) throw badRequest(`${where}: a latency fault needs 'ms' or 'jitterMs'.`);
  }
  if (kind === "graph-throttle") {
    rule.perMinute = o.perMinute === undefined ? GRAPH_THROTTLE_PER_MINUTE : int(o.perMinute, `${where}.perMinute`, 1, FAULT_LIMITS.perMinute);
  }
  if (kind === "expand-alerts-failure") {
    rule.maxTop = o.maxTop === undefined ? EXPAND_FAILURE_MAX_TOP : int(o.maxTop, `${where}.maxTop`, 0, FAULT_LIMITS.maxTop);
  }
  return rule;
}

/**
 * A configuration from its JSON, or a 400 naming what is wrong. `routes` are the Graph route
 * templates a rule may name (the catalog's operation paths). A configuration without a seed gets a
 * random one, kept with it so that its run can be repeated.
 */
export function parseFaultConfig(body: unknown, routes: readonly string[]): FaultConfig {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badRequest('The body must be a JSON object: {"seed":"…","rules":[…]}.');
  const o = body as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (key !== "seed" && key !== "rules") throw badRequest(`'${key}' is not a fault configuration property; use seed and rules.`);
  let seed: string;
  if (o.seed === undefined || o.seed === null) seed = randomBytes(8).toString("hex");
  else if (typeof o.seed !== "string" || o.seed.length === 0 || o.seed.length > FAULT_LIMITS.seedLength || [...o.seed].some((ch) => ch.charCodeAt(0) < 0x20)) {
    throw badRequest(`'seed' must be a string of 1 to ${FAULT_LIMITS.seedLength} printable characters.`);
  } else seed = o.seed;
  if (!Array.isArray(o.rules) || o.rules.length === 0 || o.rules.length > FAULT_LIMITS.rules) {
    throw badRequest(`'rules' must be an array of 1 to ${FAULT_LIMITS.rules} rules.`);
  }
  return { seed, rules: o.rules.map((r, i) => parseRule(r, i, routes)) };
}

/** One rule as a line of text, for the command line. */
export function describeRule(r: FaultRule): string {
  if (r.preset === "graph-throttle") return `preset graph-throttle: 429 beyond ${r.perMinute} requests a minute per app on /security/*`;
  if (r.preset === "expand-alerts-failure") return `preset expand-alerts-failure: 500 for GET /security/incidents?$expand=alerts with pages above ${r.maxTop}`;
  const what =
    r.fault === "latency" ? `latency ${r.ms} ms${r.jitterMs ? ` + up to ${r.jitterMs} ms` : ""}` : r.fault === "drop" ? "dropped connection" : `${r.fault}`;
  const retry = r.retryAfter !== undefined ? ` (Retry-After ${r.retryAfter})` : "";
  const target = `${r.methods.length ? r.methods.join(",") : "any method"} ${r.route ?? "any route"}`;
  return `${what}${retry} on ${Math.round(r.share * 1000) / 10}% of ${target}${r.limit !== null ? `, at most ${r.limit} times` : ""}`;
}

/** How many requests a rule has matched since it was set, and how often it fired. */
export interface RuleCounter {
  matched: number;
  fired: number;
}

/** One injected fault, as the admin API and `triage faults events` show it. */
export interface FaultEvent {
  seq: number;
  at: string;
  /** The app whose request it was. */
  clientId: string;
  /** Which configuration injected it: the tenant's, or the app's own. */
  scope: "tenant" | "app";
  /** The rule's index in its configuration. */
  rule: number;
  /** What was injected: a status (`"429"`…), `latency` or `drop`. */
  fault: string;
  /** The status answered (null for latency, and for a drop). */
  status: number | null;
  /** Latency added, in milliseconds (latency faults only). */
  delayMs: number | null;
  requestId: string;
  method: string;
  /** The route template the request was for. */
  route: string;
  /** The request's Retry-Attempt header (the Microsoft clients' retry handlers send it), when present. */
  retryAttempt: number | null;
}

export const FaultEventSchema = Type.Object({
  seq: Type.Integer({ description: "Increasing; page with ?after=." }),
  at: Type.String({ format: "date-time" }),
  clientId: Type.String(),
  scope: Type.Union([Type.Literal("tenant"), Type.Literal("app")]),
  rule: Type.Integer(),
  fault: Type.String({ description: "429, 500, 502, 503, 504, latency or drop." }),
  status: Type.Union([Type.Integer(), Type.Null()]),
  delayMs: Type.Union([Type.Integer(), Type.Null()]),
  requestId: Type.String(),
  method: Type.String(),
  route: Type.String(),
  retryAttempt: Type.Union([Type.Integer(), Type.Null()]),
});
