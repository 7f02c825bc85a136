import { expect } from "vitest";
import type { Response, TestTriage } from "../support/triage.js";

/** A Graph error body with the given status, whose message names `fragment` (a property, a limit). */
export function expectGraphError(r: Response, status: number, fragment: string | RegExp): void {
  expect(r.status, r.text.slice(0, 500)).toBe(status);
  expect(r.headers.get("content-type")).toMatch(/^application\/json/);
  expect(typeof r.body.error?.code).toBe("string");
  expect(r.body.error.innerError["request-id"]).toBe(r.headers.get("request-id"));
  if (typeof fragment === "string") expect(r.body.error.message).toContain(fragment);
  else expect(r.body.error.message).toMatch(fragment);
}

/** `{"a":{"a":…1…}}` nested `depth` levels, written as text (JSON.stringify itself overflows far below 10,000). */
export function nestedJson(depth: number): string {
  return '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

/** An ingestion body holding one alert whose `hole` value (a JSON string "HOLE") is replaced by `raw`. */
export function bodyWith(alert: Record<string, unknown>, raw: string): string {
  return JSON.stringify({ value: [alert] }).replace('"HOLE"', raw);
}

export function postRaw(t: TestTriage, method: string, path: string, raw: string): Promise<Response> {
  return t.request(method, path, { rawBody: raw, headers: { "content-type": "application/json" } });
}
