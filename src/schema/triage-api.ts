/**
 * The JSON of Triage's own read API (/triage/incidents/{id}/audit, /triage/alerts/{id}/audit,
 * /triage/incidents/{id}/correlation, /triage/hunting/editor). Type-only and import-free: the web app compiles it too (with
 * DOM libs and no Node types), so it must stay that way.
 */

export interface AuditEntry {
  seq: number;
  entityType: string;
  entityId: string;
  at: string;
  actor: string;
  requestId: string | null;
  property: string;
  before: unknown;
  after: unknown;
}

export interface AuditPage {
  value: AuditEntry[];
  /** Present when more entries follow: the same path with ?after= the last seq. */
  nextLink?: string;
}

/** One term of an incident's priorityScore, with the points it adds and why. */
export interface PriorityFactor {
  factor: "severity" | "alerts" | "assets" | "detectionSource" | "rarity";
  points: number;
  reason: string;
}

export interface Correlation {
  incidentId: string;
  priority: { score: number | null; factors: PriorityFactor[] };
  entities: { key: string; lastSeenDateTime: string }[];
  events: { seq: number; at: string; kind: string; alertId: string | null; otherIncidentId: string | null; reasons: string[]; detail: string | null }[];
}

/** What the KQL language service classifies a span of a query as (the Hunting page colours these). */
export type KqlTokenKind =
  | "comment"
  | "punctuation"
  | "directive"
  | "literal"
  | "string"
  | "type"
  | "column"
  | "table"
  | "database"
  | "function"
  | "parameter"
  | "variable"
  | "identifier"
  | "operator"
  | "queryOperator"
  | "keyword"
  | "plain";

export interface KqlToken {
  start: number;
  length: number;
  kind: KqlTokenKind;
}

export interface KqlDiagnosticView {
  start: number;
  length: number;
  severity: "error" | "warning" | "suggestion" | "information";
  /** The language service's code, such as KS142. */
  code: string;
  message: string;
}

export interface KqlCompletionItem {
  /** What the list shows, such as `ago(timespan)`. */
  label: string;
  kind: "keyword" | "operator" | "table" | "column" | "function" | "aggregate" | "variable" | "parameter" | "chart" | "syntax" | "other";
  /** Text that replaces the edit range; the caret goes after it. */
  before: string;
  /** Text inserted after the caret, such as a closing parenthesis. */
  after: string;
}

/** POST /triage/hunting/editor: the language service's view of a query, for the Hunting page's editor. */
export interface KqlEditorAnalysis {
  tokens: KqlToken[];
  diagnostics: KqlDiagnosticView[];
  /** With a caret in the request: what may be typed there, replacing the text from `start` for `length`. */
  completion?: {
    start: number;
    length: number;
    items: KqlCompletionItem[];
    /** More items matched than were answered: a longer typed word needs a new request, not just a narrower list. */
    incomplete: boolean;
  };
}

/**
 * The live change stream (GET /triage/changes, text/event-stream): the `data` of each event, by its
 * `event` name. Every `change` and `ready` event carries the feed position as its SSE `id`, which a
 * client sends back as Last-Event-ID to resume.
 */
export interface LiveChange {
  /** The change's number in the tenant's change feed (also the event's id). */
  seq: number;
  entityType: "incident" | "alert";
  /** The incident's or alert's id, as in Graph. */
  id: string;
  changeType: "created" | "updated";
  /** When the change committed (ISO 8601, UTC). */
  at: string;
}

/** `ready`: the stream is open; changes after `position` follow. */
export interface LiveReady {
  position: number;
}

/**
 * `reset`: the stream cannot resume from the Last-Event-ID sent (`gone`: too far behind, or no longer
 * in the feed; `ahead`: past the feed's end). Load everything again, then reconnect from `position`
 * (also the event's id). The server closes the stream after it.
 */
export interface LiveReset {
  reason: "gone" | "ahead";
  position: number;
}

/** `close`: the server ends the stream (`maxDuration`, `tokenExpiry`, `shutdown`); reconnect with Last-Event-ID. */
export interface LiveClose {
  reason: "maxDuration" | "tokenExpiry" | "shutdown";
}
