import { GRAPH_SCHEMES, graphPermissions, type GraphPermission, type GraphScheme } from "./graph-data.js";

/**
 * The least-privilege finder: which permission does a Microsoft Graph call need? A call as a developer
 * writes it ("GET /users/adele@contoso.com/messages?$top=5", a full URL, a /v1.0 or /beta prefix) is
 * normalized and matched against the path templates of Graph's permission data; the answer is, per
 * scheme, the least privileged permission and the alternatives in order of privilege. Pure: a function
 * of the data alone.
 */

export const FINDER_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export const MAX_CALL_LENGTH = 2048;
/** Deeper than any Graph path the data knows; bounds the matcher's work on a hostile input. */
const MAX_SEGMENTS = 40;

export interface Candidate {
  permission: string;
  privilegeLevel: number | null;
  /** The data marks this permission least privileged for the call under this scheme. */
  markedLeast: boolean;
  /** Other permissions the data says the call also needs with this one. */
  alsoRequires: string[];
  /** The data's path template that granted it. */
  template: string;
}

export interface SchemeAnswer {
  /** The least privileged permission for the call under the scheme, or null when none grants it. */
  leastPrivileged: string | null;
  /** "marker": the data's least= marker chose it; "privilege-level": no marker, the lowest privilege level did. */
  basis: "marker" | "privilege-level" | null;
  /** Every permission that grants the call under the scheme, least privileged first. */
  candidates: Candidate[];
}

export interface FinderAnswer {
  method: string;
  /** The path as matched: no host, version, query or trailing slash. */
  path: string;
  /** Whether the input named a version (/v1.0 or /beta); the data does not distinguish them. */
  version: "v1.0" | "beta" | null;
  found: boolean;
  /** The data's templates the call matched (the most specific ones). */
  templates: string[];
  /** Set when the call matched only through an alias (/me for /users/{id}, or the reverse). */
  alias: string | null;
  schemes: Record<GraphScheme, SchemeAnswer>;
  message: string;
}

export class CallError extends Error {}

type Segment = { kind: "literal"; value: string } | { kind: "param" } | { kind: "pattern"; re: RegExp } | { kind: "deep" };

interface Grant {
  permission: GraphPermission;
  schemes: GraphScheme[];
  least: GraphScheme[];
  alsoRequires: string[];
  /** How many methods the path set groups: a set for GET alone is narrower than one for GET and PATCH. */
  breadth: number;
}

interface Template {
  /** As the data first writes it. */
  template: string;
  segments: Segment[];
  grants: Map<string, Grant[]>;
}

const PARAM = /^\{[^{}/]+\}$/;

function segmentOf(raw: string): Segment {
  const s = raw.toLowerCase();
  if (s === "...") return { kind: "deep" };
  if (PARAM.test(s)) return { kind: "param" };
  if (s.includes("{")) {
    const source = s
      .split(/\{[^{}]*\}/)
      .map((lit) => lit.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("[^/]+");
    return { kind: "pattern", re: new RegExp(`^${source}$`) };
  }
  return { kind: "literal", value: s };
}

function splitPath(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

/** Templates indexed by segment count and first literal segment; the few with "..." are scanned. */
interface Index {
  byShape: Map<string, Template[]>;
  deep: Template[];
  count: number;
}

let index: Index | undefined;

function shapeKey(count: number, first: string): string {
  return `${count}/${first}`;
}

function buildIndex(): Index {
  const templates = new Map<string, Template>();
  for (const p of graphPermissions()) {
    for (const set of p.pathSets) {
      const schemes = set.schemes.filter((s) => p.schemes[s] !== undefined);
      for (const gp of set.paths) {
        const key = gp.path.toLowerCase().replace(/\/+$/, "");
        let t = templates.get(key);
        if (!t) {
          t = { template: gp.path, segments: splitPath(gp.path).map(segmentOf), grants: new Map() };
          templates.set(key, t);
        }
        for (const method of set.methods) {
          const list = t.grants.get(method) ?? [];
          list.push({ permission: p, schemes, least: gp.least, alsoRequires: gp.alsoRequires, breadth: set.methods.length });
          t.grants.set(method, list);
        }
      }
    }
  }
  const byShape = new Map<string, Template[]>();
  const deep: Template[] = [];
  for (const t of templates.values()) {
    if (t.segments.some((s) => s.kind === "deep")) {
      deep.push(t);
      continue;
    }
    const first = t.segments[0];
    const key = shapeKey(t.segments.length, first?.kind === "literal" ? first.value : "*");
    const list = byShape.get(key) ?? [];
    list.push(t);
    byShape.set(key, list);
  }
  return { byShape, deep, count: templates.size };
}

function getIndex(): Index {
  index ??= buildIndex();
  return index;
}

/** Per segment: 3 literal, 2 pattern, 1 placeholder, 0 for "..."; compared left to right. */
function matchScore(segments: readonly Segment[], input: readonly string[]): number[] | null {
  const score: number[] = [];
  const go = (si: number, ii: number): boolean => {
    if (si === segments.length) return ii === input.length;
    const seg = segments[si]!;
    if (seg.kind === "deep") {
      // "..." stands for any depth of nesting (childFolders/{id}/childFolders/{id}/…), at least none.
      for (let take = 0; ii + take <= input.length; take++) {
        const mark = score.length;
        if (go(si + 1, ii + take)) {
          score.splice(mark, 0, 0);
          return true;
        }
        score.length = mark;
      }
      return false;
    }
    const value = input[ii];
    if (value === undefined) return false;
    // A placeholder stands for a key, never for a system segment such as $count, $value or $ref.
    const ok = seg.kind === "literal" ? seg.value === value : seg.kind === "param" ? !value.startsWith("$") : seg.re.test(value);
    if (!ok) return false;
    const mark = score.length;
    if (!go(si + 1, ii + 1)) {
      score.length = mark;
      return false;
    }
    score.splice(mark, 0, seg.kind === "literal" ? 3 : seg.kind === "pattern" ? 2 : 1);
    return true;
  };
  return go(0, 0) ? score : null;
}

function compareScores(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** The most specific templates granting `method` on the segments; several when they tie. */
function bestTemplates(method: string, input: readonly string[]): Template[] {
  const { byShape, deep } = getIndex();
  const pool = [...(byShape.get(shapeKey(input.length, input[0] ?? "")) ?? []), ...(byShape.get(shapeKey(input.length, "*")) ?? []), ...deep];
  let best: Template[] = [];
  let bestScore: number[] | null = null;
  for (const t of pool) {
    if (!t.grants.has(method)) continue;
    const score = matchScore(t.segments, input);
    if (!score) continue;
    const c = bestScore ? compareScores(score, bestScore) : 1;
    if (c > 0) {
      best = [t];
      bestScore = score;
    } else if (c === 0) best.push(t);
  }
  return best;
}

/** OData key syntax: users('adele@contoso.com') → users/adele@contoso.com; delta() → delta. */
function splitKeySegment(segment: string): string[] {
  const m = /^([A-Za-z_][\w.]*)\(([^=()]*)\)$/.exec(segment);
  if (!m) return [segment];
  const key = m[2]!.replace(/^'(.*)'$/, "$1");
  return key ? [m[1]!, key] : [m[1]!];
}

export interface ParsedCall {
  method: string;
  path: string;
  segments: string[];
  version: "v1.0" | "beta" | null;
}

/**
 * "get https://graph.microsoft.com/v1.0/me/messages?$top=5" → GET, /me/messages. The method may
 * come separately. Throws CallError with a message fit for a 400.
 */
export function parseCall(call: string, method?: string): ParsedCall {
  if (call.length > MAX_CALL_LENGTH) throw new CallError(`The call is longer than ${MAX_CALL_LENGTH} characters.`);
  let rest = call.trim();
  let m = method?.trim();
  const words = /^([A-Za-z]+)\s+(\S.*)$/.exec(rest);
  if (words && !rest.startsWith("/") && !/^https?:/i.test(rest)) {
    if (m && m.toUpperCase() !== words[1]!.toUpperCase()) throw new CallError(`The call names the method ${words[1]} and the method parameter ${m}.`);
    m = words[1]!;
    rest = words[2]!.trim();
  }
  const upper = (m ?? "GET").toUpperCase();
  if (!(FINDER_METHODS as readonly string[]).includes(upper)) throw new CallError(`The method '${m}' is not one of ${FINDER_METHODS.join(", ")}.`);
  rest = rest.replace(/^https?:\/\/[^/?#]*/i, "").replace(/[?#].*$/s, "");
  if (!rest.startsWith("/")) rest = `/${rest}`;
  let decoded: string[];
  try {
    decoded = splitPath(rest).map((s) => decodeURIComponent(s));
  } catch {
    throw new CallError("The path has a malformed percent-encoding.");
  }
  let version: ParsedCall["version"] = null;
  const first = decoded[0]?.toLowerCase();
  if (first === "v1.0" || first === "beta") {
    version = first;
    decoded = decoded.slice(1);
  }
  const segments = decoded.flatMap(splitKeySegment);
  if (segments.length === 0) throw new CallError("The call has no path: write it as 'GET /me/messages'.");
  if (segments.length > MAX_SEGMENTS) throw new CallError(`The path has more than ${MAX_SEGMENTS} segments.`);
  return { method: upper, path: `/${segments.join("/")}`, segments: segments.map((s) => s.toLowerCase()), version };
}

/** /me/… is the signed-in user's /users/{id}/…; the data sometimes lists only one of the two. */
function aliasOf(segments: readonly string[]): { segments: string[]; alias: string } | null {
  if (segments[0] === "me") return { segments: ["users", "{id}", ...segments.slice(1)], alias: "/me → /users/{id}" };
  if (segments[0] === "users" && segments.length >= 2) return { segments: ["me", ...segments.slice(2)], alias: "/users/{id} → /me" };
  return null;
}

const isReadOnlyName = (name: string) => /\.Read(\.|$)/.test(name) && !/ReadWrite/.test(name);

function answerFor(scheme: GraphScheme, method: string, templates: readonly Template[]): SchemeAnswer {
  const byName = new Map<string, Candidate & { breadth: number }>();
  for (const t of templates) {
    for (const g of t.grants.get(method) ?? []) {
      if (!g.schemes.includes(scheme)) continue;
      const prior = byName.get(g.permission.name);
      const markedLeast = g.least.includes(scheme);
      if (prior && (prior.markedLeast || !markedLeast)) continue;
      byName.set(g.permission.name, {
        permission: g.permission.name,
        privilegeLevel: g.permission.schemes[scheme]?.privilegeLevel ?? null,
        markedLeast,
        alsoRequires: g.alsoRequires,
        template: t.template,
        breadth: g.breadth,
      });
    }
  }
  // The least privileged: among the permissions the data marks least (a marker covers a whole path
  // set, so a ReadWrite permission whose set groups GET with PATCH is "least" for the GET too), the
  // lowest privilege level, then a read-only one, then the narrower set; with no marker, the lowest
  // privilege level. The alternatives follow in order of privilege.
  const rank = (a: Candidate & { breadth: number }, b: Candidate & { breadth: number }) =>
    (a.privilegeLevel ?? 99) - (b.privilegeLevel ?? 99) ||
    Number(isReadOnlyName(b.permission)) - Number(isReadOnlyName(a.permission)) ||
    a.breadth - b.breadth ||
    (a.permission < b.permission ? -1 : 1);
  const all = [...byName.values()];
  const marked = all.filter((c) => c.markedLeast).sort(rank);
  const chosen = marked[0] ?? [...all].sort(rank)[0];
  const ordered = chosen ? [chosen, ...all.filter((c) => c !== chosen).sort(rank)] : [];
  const candidates = ordered.map(({ breadth: _b, ...c }) => c);
  const first = candidates[0];
  return { leastPrivileged: first?.permission ?? null, basis: first ? (first.markedLeast ? "marker" : "privilege-level") : null, candidates };
}

/** The finder's answer for a call; throws CallError for an input that is not a call. */
export function findLeastPrivileged(call: string, method?: string): FinderAnswer {
  const parsed = parseCall(call, method);
  let templates = bestTemplates(parsed.method, parsed.segments);
  let alias: string | null = null;
  if (templates.length === 0) {
    const other = aliasOf(parsed.segments);
    if (other) {
      templates = bestTemplates(parsed.method, other.segments);
      if (templates.length) alias = other.alias;
    }
  }
  const schemes = {} as Record<GraphScheme, SchemeAnswer>;
  for (const s of GRAPH_SCHEMES) schemes[s] = answerFor(s, parsed.method, templates);
  const found = GRAPH_SCHEMES.some((s) => schemes[s].leastPrivileged !== null);
  const call_ = `${parsed.method} ${parsed.path}`;
  const message = found
    ? `${call_}: ` +
      GRAPH_SCHEMES.filter((s) => schemes[s].leastPrivileged)
        .map((s) => `${s} ${schemes[s].leastPrivileged}`)
        .join("; ")
    : `No permission in the data grants ${call_}.`;
  return { method: parsed.method, path: parsed.path, version: parsed.version, found, templates: templates.map((t) => t.template), alias, schemes, message };
}

/** How many distinct path templates the finder knows (for the docs and a sanity check). */
export function templateCount(): number {
  return getIndex().count;
}
