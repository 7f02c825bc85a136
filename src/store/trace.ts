/**
 * Spans, for every floor from the store up: a thin layer over OpenTelemetry's API that does nothing
 * until tracing is started (http/tracing.ts, `triage serve --tracing`). This module imports only
 * OpenTelemetry's types, so with tracing off no OpenTelemetry code is loaded and a traced call costs
 * one check of an unset variable.
 *
 * Attributes carry bounded, non-secret facts only (route templates, counts, outcomes, the store's
 * kind): never a URL, a query string, a token, a tenant id or a hunting query's text.
 */
import type * as OtelApi from "@opentelemetry/api";

export type SpanAttributes = Record<string, string | number | boolean>;

/** What a traced function may add to its span. */
export interface SpanHandle {
  set(attributes: SpanAttributes): void;
}

/** A span opened by hand (an HTTP request's, which starts and ends in different hooks). */
export interface OpenSpan extends SpanHandle {
  /** Runs `fn` with this span as the current one, so that spans started inside are its children. */
  activate<T>(fn: () => T): T;
  /** Marks the span failed with a bounded error type (a class name or an error code, never a message). */
  fail(errorType: string): void;
  end(): void;
}

interface Active {
  api: typeof OtelApi;
  tracer: OtelApi.Tracer;
}

let active: Active | undefined;

/** Turns tracing on (with the API module and a tracer from a registered provider), or off with undefined. */
export function setTracing(api: typeof OtelApi | undefined, tracer?: OtelApi.Tracer): void {
  active = api && tracer ? { api, tracer } : undefined;
}

/** Whether spans are being recorded. */
export function tracingOn(): boolean {
  return active !== undefined;
}

export interface SpanOptions {
  kind?: "internal" | "server" | "client";
  /** Start a new trace rather than a child of the current span (background work woken by a request). */
  root?: boolean;
}

function kindOf(api: typeof OtelApi, kind: SpanOptions["kind"]): OtelApi.SpanKind {
  return kind === "server" ? api.SpanKind.SERVER : kind === "client" ? api.SpanKind.CLIENT : api.SpanKind.INTERNAL;
}

/** The error type recorded on a failed span: a Graph error's status and code, or the class name. */
export function errorType(e: unknown): string {
  if (e instanceof Error) {
    const status = (e as { status?: unknown }).status;
    const code = (e as { code?: unknown }).code;
    if (typeof status === "number") return String(status);
    if (typeof code === "string" && /^[A-Z0-9_]{1,40}$/i.test(code)) return code;
    return e.name.slice(0, 60);
  }
  return "unknown";
}

/**
 * Runs `fn` in a span named `name`, the current span's child; the span ends when `fn` settles and is
 * marked failed when it throws. With tracing off, just runs `fn`.
 */
export function traced<T>(name: string, attributes: SpanAttributes, fn: (span: SpanHandle | undefined) => Promise<T>, options: SpanOptions = {}): Promise<T> {
  const on = active;
  if (!on) return fn(undefined);
  const { api, tracer } = on;
  const parent = options.root ? api.ROOT_CONTEXT : api.context.active();
  return tracer.startActiveSpan(name, { kind: kindOf(api, options.kind), attributes }, parent, async (span) => {
    try {
      return await fn({ set: (a) => span.setAttributes(a) });
    } catch (e) {
      const type = errorType(e);
      span.setAttribute("error.type", type);
      span.setStatus({ code: api.SpanStatusCode.ERROR });
      throw e;
    } finally {
      span.end();
    }
  });
}

/** Starts a span to be ended by hand, a child of the current span; undefined with tracing off. */
export function startSpan(name: string, attributes: SpanAttributes, options: SpanOptions = {}): OpenSpan | undefined {
  const on = active;
  if (!on) return undefined;
  const { api, tracer } = on;
  const parent = options.root ? api.ROOT_CONTEXT : api.context.active();
  const span = tracer.startSpan(name, { kind: kindOf(api, options.kind), attributes }, parent);
  const ctx = api.trace.setSpan(parent, span);
  let ended = false;
  return {
    set: (a) => span.setAttributes(a),
    activate: (fn) => api.context.with(ctx, fn),
    fail(type) {
      span.setAttribute("error.type", type);
      span.setStatus({ code: api.SpanStatusCode.ERROR });
    },
    end() {
      if (ended) return;
      ended = true;
      span.end();
    },
  };
}
