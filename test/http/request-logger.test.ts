import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import { lazyRequestLogger } from "../../src/http/request-logger.js";

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const parent = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const child = vi.spyOn(parent, "child");
  return { parent, lines, child };
}

describe("a request's logger", () => {
  it("makes no child for calls at levels the logger leaves out", () => {
    const { parent, lines, child } = capture("warn");
    const log = lazyRequestLogger(parent, { reqId: "r1" }, {});
    log.info({ a: 1 }, "incoming request");
    log.debug("detail");
    log.trace("more");
    expect(lines).toEqual([]);
    expect(child).not.toHaveBeenCalled();
    expect(log.level).toBe("warn");
  });

  it("logs with the request's bindings once a call counts, through one child", () => {
    const { parent, lines, child } = capture("warn");
    const log = lazyRequestLogger(parent, { reqId: "r2" }, {});
    log.warn({ fault: "x" }, "fault injected");
    log.error(new Error("boom"), "request failed");
    log.info("left out");
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => [l.reqId, l.msg])).toEqual([
      ["r2", "fault injected"],
      ["r2", "request failed"],
    ]);
    expect(lines[0]!.fault).toBe("x");
    expect((lines[1]!.err as { message: string }).message).toBe("boom");
  });

  it("at info, every call is the child's, and children of it keep both bindings", () => {
    const { parent, lines } = capture("info");
    const log = lazyRequestLogger(parent, { reqId: "r3" }, {});
    log.info("incoming request");
    log.child({ part: "store" }).info("inner");
    expect(lines.map((l) => [l.reqId, l.part, l.msg])).toEqual([
      ["r3", undefined, "incoming request"],
      ["r3", "store", "inner"],
    ]);
  });

  it("follows a change of the parent's level until its child is made", () => {
    const { parent, lines } = capture("warn");
    const log = lazyRequestLogger(parent, { reqId: "r4" }, {});
    parent.level = "info";
    expect(log.level).toBe("info");
    log.info("now kept");
    expect(lines.map((l) => l.msg)).toEqual(["now kept"]);
  });

  it("a route with a level of its own gets its child at once, at that level", () => {
    const { parent, lines, child } = capture("warn");
    const log = lazyRequestLogger(parent, { reqId: "r5" }, { level: "debug" });
    expect(child).toHaveBeenCalledTimes(1);
    log.debug("route detail");
    expect(lines.map((l) => [l.reqId, l.msg])).toEqual([["r5", "route detail"]]);
  });

  it("setting its level makes the child at that level", () => {
    const { parent, lines } = capture("warn");
    const log = lazyRequestLogger(parent, { reqId: "r6" }, {});
    log.level = "debug";
    log.debug("kept");
    expect(parent.level).toBe("warn");
    expect(lines.map((l) => [l.reqId, l.msg])).toEqual([["r6", "kept"]]);
  });
});
