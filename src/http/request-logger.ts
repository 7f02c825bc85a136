import type { FastifyBaseLogger } from "fastify";
import type { Bindings, ChildLoggerOptions } from "pino";

interface LevelAware extends FastifyBaseLogger {
  isLevelEnabled(level: string): boolean;
}

type Level = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

/**
 * Each request's logger (`req.log`, carrying its request id), made only when the request logs
 * something. Fastify makes one per request with pino's `child`, which runs the bindings through the
 * redaction paths (log-redaction.ts) every time: about 3–4 µs that a request which logs nothing — as
 * every request does at `--log-level warn` unless it fails — spent for nothing. A call at a level the
 * logger leaves out makes nothing; the first that counts makes the child, and later calls go to it.
 * The methods live on the prototype, so that a request that logs nothing allocates one small object.
 */
class LazyRequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: LevelAware,
    private readonly bindings: Bindings,
    private readonly opts: ChildLoggerOptions,
  ) {}

  private real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.opts));
  }

  private log(level: Level, args: unknown[]): void {
    if (!this.made && !this.parent.isLevelEnabled(level)) return;
    (this.real()[level] as (...a: unknown[]) => void)(...args);
  }

  get level(): string {
    return this.made ? this.made.level : this.parent.level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  fatal(...args: unknown[]): void {
    this.log("fatal", args);
  }
  error(...args: unknown[]): void {
    this.log("error", args);
  }
  warn(...args: unknown[]): void {
    this.log("warn", args);
  }
  info(...args: unknown[]): void {
    this.log("info", args);
  }
  debug(...args: unknown[]): void {
    this.log("debug", args);
  }
  trace(...args: unknown[]): void {
    this.log("trace", args);
  }
  silent(): void {}

  child(bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real().child(bindings, opts);
  }
}

/**
 * Fastify's `childLoggerFactory`. A logger that cannot say which levels it keeps, or a route with a
 * log level of its own (whose child keeps other levels than its parent), gets Fastify's own child.
 */
export function lazyRequestLogger(parent: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  const levels = parent as Partial<LevelAware>;
  if (typeof levels.isLevelEnabled !== "function" || opts.level !== undefined) return parent.child(bindings, opts);
  return new LazyRequestLogger(parent as LevelAware, bindings, opts) as unknown as FastifyBaseLogger;
}
