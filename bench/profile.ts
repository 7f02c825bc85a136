/**
 * Summarises a V8 CPU profile (`node --cpu-prof`): self time by function and by area (Triage's own
 * modules, packages, Node internals, GC), and inclusive time of Triage's functions.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { ROOT } from "./common.js";

/** Triage's own compiled modules. */
const OWN = pathToFileURL(`${ROOT}/dist/`).href;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  areas: { area: string; ms: number; share: number }[];
  self: { fn: string; ms: number; share: number }[];
  inclusive: { fn: string; ms: number; share: number }[];
}

function area(url: string, fn: string): string {
  if (!url) return fn.startsWith("(") ? fn : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith(OWN)) return `triage:${url.slice(OWN.length).replace(/\.js$/, "")}`;
  if (url.startsWith("node:")) return "node:" + (url.slice(5).split("/")[1] ?? url.slice(5));
  return url;
}

function label(n: ProfileNode): string {
  const url = n.callFrame.url;
  const where = url ? ` ${url.startsWith(OWN) ? `dist/${url.slice(OWN.length)}` : url.replace(/^.*\/node_modules\//, "")}:${n.callFrame.lineNumber + 1}` : "";
  return `${n.callFrame.functionName || "(anonymous)"}${where}`;
}

export function summarizeProfile(file: string, top = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));
  const totalMs = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...byId.values()].filter((n) => n.callFrame.functionName === "(idle)").reduce((s, n) => s + (self.get(n.id) ?? 0), 0);
  const busy = totalMs - idle;

  const areas = new Map<string, number>();
  const selfBy = new Map<string, number>();
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === "(idle)") continue;
    const a = area(n.callFrame.url, n.callFrame.functionName);
    areas.set(a, (areas.get(a) ?? 0) + ms);
    selfBy.set(label(n), (selfBy.get(label(n)) ?? 0) + ms);
  }

  // Inclusive time of Triage's own functions (each counted once per stack, recursion included).
  const inclusive = new Map<string, number>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  for (const [id, ms] of self) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      if (!n.callFrame.url.startsWith(OWN)) continue;
      const l = label(n);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + ms);
    }
  }
  const sorted = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, ms]) => ({ k, ms, share: ms / busy }));
  return {
    totalMs: busy,
    areas: sorted(areas).map(({ k, ms, share }) => ({ area: k, ms, share })),
    self: sorted(selfBy).map(({ k, ms, share }) => ({ fn: k, ms, share })),
    inclusive: sorted(inclusive).map(({ k, ms, share }) => ({ fn: k, ms, share })),
  };
}
