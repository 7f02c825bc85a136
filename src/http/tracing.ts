/**
 * OpenTelemetry tracing, off unless `triage serve --tracing` (or `--otel-endpoint`) turns it on. The
 * SDK and the OTLP exporter are imported only then, so a server without tracing loads none of them;
 * spans are opened through store/trace.ts, which does nothing while tracing is off.
 *
 * An HTTP request's span is named by its route template (`GET /v1.0/security/incidents/:id`), never
 * the URL a client sent, and carries no header, query string, token or tenant id.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { setTracing, startSpan, type OpenSpan } from "../store/trace.js";
// Not from metrics.ts: that would load prom-client in every server, with or without --metrics-port.
import { UNMATCHED_ROUTE } from "./route-label.js";

export interface TracingOptions {
  /**
   * The OTLP/HTTP base URL (`http://collector:4318`): spans go to its `/v1/traces`. Absent: the
   * exporter's own settings, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`
   * (read only now that tracing is on), else `http://localhost:4318`.
   */
  endpoint?: string | undefined;
  serviceVersion: string;
  /** This node's name, as `service.instance.id`. */
  instance: string;
}

export interface Tracing {
  /** Sends the spans buffered so far. */
  flush(): Promise<void>;
  /** Sends the spans still buffered and stops tracing. */
  shutdown(): Promise<void>;
}

/** The traces URL for an OTLP/HTTP base URL, as the exporter derives it from OTEL_EXPORTER_OTLP_ENDPOINT. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, "")}/v1/traces`;
}

/**
 * Loads the SDK, registers a tracer provider that batches spans to an OTLP/HTTP (JSON) exporter,
 * and turns the spans of store/trace.ts on.
 */
export async function startTracing(options: TracingOptions): Promise<Tracing> {
  const [api, node, exporterModule, resources, conventions] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/semantic-conventions"),
  ]);
  const exporter = new exporterModule.OTLPTraceExporter(options.endpoint ? { url: tracesUrl(options.endpoint) } : {});
  const provider = new node.NodeTracerProvider({
    resource: resources.resourceFromAttributes({
      [conventions.ATTR_SERVICE_NAME]: "triage",
      [conventions.ATTR_SERVICE_VERSION]: options.serviceVersion,
      "service.instance.id": options.instance,
    }),
    spanProcessors: [new node.BatchSpanProcessor(exporter)],
  });
  // The AsyncLocalStorage context manager: a span started in a request's handler is that request's child.
  provider.register();
  setTracing(api, provider.getTracer("triage", options.serviceVersion));
  return {
    flush: () => provider.forceFlush(),
    async shutdown() {
      setTracing(undefined);
      await provider.shutdown();
    },
  };
}

const spans = new WeakMap<FastifyRequest, OpenSpan>();

/** A span per request, from its arrival to its response, the parent of what its handler does. */
export function installHttpTracing(app: FastifyInstance): void {
  app.addHook("onRequest", (req, _reply, done) => {
    const route = req.routeOptions.url;
    const span = startSpan(
      route ? `${req.method} ${route}` : req.method,
      {
        "http.request.method": req.method,
        "http.route": route ?? UNMATCHED_ROUTE,
        "url.scheme": req.protocol,
      },
      { kind: "server" },
    );
    if (!span) return done();
    spans.set(req, span);
    span.activate(done);
  });
  // The body arrives in events of the connection's own context: the handler runs in the span again.
  app.addHook("preHandler", (req, _reply, done) => {
    const span = spans.get(req);
    if (span) span.activate(done);
    else done();
  });
  app.addHook("onResponse", (req, reply, done) => {
    const span = spans.get(req);
    if (span) {
      span.set({ "http.response.status_code": reply.statusCode });
      if (reply.statusCode >= 500) span.fail(String(reply.statusCode));
      span.end();
    }
    done();
  });
  app.addHook("onRequestAbort", (req, done) => {
    const span = spans.get(req);
    if (span) {
      span.fail("aborted");
      span.end();
    }
    done();
  });
}
