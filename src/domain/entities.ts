/**
 * Entity keys for alert correlation: the devices, accounts, addresses, files, mailboxes and URLs an alert's
 * evidence names, each reduced to one canonical string. Two alerts that share a key are candidates for the
 * same incident, so every rule here errs on the side of *not* producing a key for values that many unrelated
 * alerts share (system accounts, loopback addresses, the empty file, …): such a key would tie unrelated
 * incidents together.
 *
 * Input is normalized evidence (see `normalizeEvidence`), but every field is read defensively.
 */
import { evidenceShortName } from "../schema/evidence.js";

export type EntityKind = "device" | "account" | "ip" | "fileHash" | "mailbox" | "url";

export type EntityKey = { kind: EntityKind; value: string; key: string };

/** Output order: by kind in this order, then by value (code-unit order, locale-independent). */
const KIND_ORDER: readonly EntityKind[] = ["device", "account", "ip", "fileHash", "mailbox", "url"];

/**
 * The deduplicated entity keys of an alert's evidence, in a deterministic order (kind, then value) that
 * does not depend on the order of the evidence array.
 */
export function entityKeys(evidence: readonly Record<string, unknown>[]): EntityKey[] {
  const found = new Map<string, EntityKey>();
  const add = (kind: EntityKind, value: string | undefined): void => {
    if (value === undefined || value === "") return;
    const key = `${kind}:${value}`;
    if (!found.has(key)) found.set(key, { kind, value, key });
  };

  for (const e of evidence) {
    const type = text(e["@odata.type"]);
    const subtype = type === undefined ? undefined : evidenceShortName(type);
    switch (subtype) {
      case "deviceEvidence":
        add("device", lower(e.mdeDeviceId) ?? lower(e.deviceDnsName) ?? lower(e.hostName));
        // lastIpAddress/lastExternalIpAddress are deliberately not used: a NAT or proxy egress address is
        // shared by every device behind it.
        break;
      case "fileEvidence":
        add("device", lower(e.mdeDeviceId));
        add("fileHash", fileHash(e.fileDetails));
        break;
      case "processEvidence":
        add("device", lower(e.mdeDeviceId));
        add("account", accountKey(e.userAccount));
        add("fileHash", fileHash(e.imageFile));
        // parentProcessImageFile is not used: parents are mostly explorer.exe, cmd.exe, services.exe…,
        // the same binaries on every machine.
        break;
      case "registryValueEvidence":
        add("device", lower(e.mdeDeviceId));
        break;
      case "userEvidence":
        add("account", accountKey(e.userAccount));
        break;
      case "mailboxEvidence":
        add("account", accountKey(e.userAccount));
        add("mailbox", lower(e.primaryAddress));
        break;
      case "analyzedMessageEvidence":
        add("mailbox", lower(e.recipientEmailAddress));
        break;
      case "ipEvidence":
        add("ip", ipKey(e.ipAddress));
        break;
      case "networkConnectionEvidence":
        add("ip", ipKey(field(e.sourceAddress, "ipAddress")));
        add("ip", ipKey(field(e.destinationAddress, "ipAddress")));
        break;
      case "fileHashEvidence":
        add("fileHash", hashKey(e.value));
        break;
      case "urlEvidence":
        add("url", urlKey(e.url));
        break;
      default:
        break;
    }
  }

  return [...found.values()].sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || compare(a.value, b.value));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A trimmed non-empty string, else undefined. */
function text(v: unknown): string | undefined {
  if (typeof v !== "string") return undefined;
  const t = v.trim();
  return t === "" ? undefined : t;
}

function lower(v: unknown): string | undefined {
  return text(v)?.toLowerCase();
}

function field(obj: unknown, name: string): unknown {
  return typeof obj === "object" && obj !== null && !Array.isArray(obj) ? (obj as Record<string, unknown>)[name] : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Accounts

/**
 * Built-in service identities. They run on every Windows machine, so an alert on "NT AUTHORITY\SYSTEM"
 * says nothing about which incident it belongs to; keying on them would merge unrelated incidents.
 */
const SYSTEM_ACCOUNT_NAMES: ReadonlySet<string> = new Set([
  "system",
  "local system",
  "localsystem",
  "network service",
  "networkservice",
  "local service",
  "localservice",
]);
/** Well-known SIDs of LocalSystem, LocalService and NetworkService (same reason). */
const SYSTEM_SIDS: ReadonlySet<string> = new Set(["s-1-5-18", "s-1-5-19", "s-1-5-20"]);

function isSystemAccount(account: unknown): boolean {
  const sid = lower(field(account, "userSid"));
  if (sid !== undefined && SYSTEM_SIDS.has(sid)) return true;
  const name = lower(field(account, "accountName"));
  if (name === undefined) return false;
  // accountName sometimes arrives qualified ("NT AUTHORITY\SYSTEM").
  const bare = name.slice(name.lastIndexOf("\\") + 1);
  return SYSTEM_ACCOUNT_NAMES.has(bare) || SYSTEM_SIDS.has(bare);
}

/** userPrincipalName, else azureAdUserId, else domain\account (all lowercased). */
function accountKey(account: unknown): string | undefined {
  if (typeof account !== "object" || account === null || isSystemAccount(account)) return undefined;
  const upn = lower(field(account, "userPrincipalName"));
  if (upn !== undefined) return upn;
  const aadId = lower(field(account, "azureAdUserId"));
  if (aadId !== undefined) return aadId;
  const name = lower(field(account, "accountName"));
  const domain = lower(field(account, "domainName"));
  if (name === undefined) return undefined;
  if (name.includes("\\")) return name;
  // A bare name without a domain ("administrator") exists on every machine: not an identity.
  return domain === undefined ? undefined : `${domain}\\${name}`;
}

// ---------------------------------------------------------------------------------------------------
// File hashes

/** Hashes of the zero-byte file: every empty file on every machine has them. */
const EMPTY_FILE_HASHES: ReadonlySet<string> = new Set([
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", // sha256("")
  "da39a3ee5e6b4b0d3255bfef95601890afd80709", // sha1("")
  "d41d8cd98f00b204e9800998ecf8427e", // md5("")
]);

function hashKey(v: unknown): string | undefined {
  const h = lower(v);
  return h === undefined || EMPTY_FILE_HASHES.has(h) ? undefined : h;
}

/** sha256, else sha1, else md5 of a fileDetails; the empty file yields nothing (no weaker fallback). */
function fileHash(details: unknown): string | undefined {
  const h = lower(field(details, "sha256")) ?? lower(field(details, "sha1")) ?? lower(field(details, "md5"));
  return hashKey(h);
}

// ---------------------------------------------------------------------------------------------------
// IP addresses

/**
 * The canonical form of an address (IPv4 dotted decimal; IPv6 in RFC 5952 form; IPv4-mapped IPv6 as IPv4),
 * or undefined when it is not an address or is one that every host has: loopback and unspecified
 * (0.0.0.0, ::) mean "this machine", and link-local (169.254/16, fe80::/10) addresses are reused on every
 * network segment. Private ranges are kept: internal lateral movement is exactly what should correlate.
 */
export function ipKey(v: unknown): string | undefined {
  const raw = text(v);
  if (raw === undefined) return undefined;
  const v4 = parseIPv4(raw);
  if (v4 !== undefined) return isSharedIPv4(v4) ? undefined : v4.join(".");
  const v6 = parseIPv6(raw);
  if (v6 === undefined) return undefined;
  const mapped = ipv4Mapped(v6);
  if (mapped !== undefined) return isSharedIPv4(mapped) ? undefined : mapped.join(".");
  const unspecified = v6.every((w) => w === 0);
  const loopback = v6.slice(0, 7).every((w) => w === 0) && v6[7] === 1;
  const linkLocal = ((v6[0] ?? 0) & 0xffc0) === 0xfe80;
  if (unspecified || loopback || linkLocal) return undefined;
  return formatIPv6(v6);
}

function isSharedIPv4([a, b, c, d]: readonly number[]): boolean {
  if (a === 127) return true; // loopback 127/8
  if (a === 0 && b === 0 && c === 0 && d === 0) return true; // unspecified
  return a === 169 && b === 254; // link-local (APIPA)
}

function parseIPv4(s: string): number[] | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const octets = parts.map((p) => (/^\d{1,3}$/.test(p) ? Number(p) : NaN));
  return octets.every((o) => o >= 0 && o <= 255) ? octets : undefined;
}

/** Eight 16-bit words, or undefined. Accepts `::` compression, an embedded IPv4 tail, and a `%zone`. */
function parseIPv6(input: string): number[] | undefined {
  let s = input;
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  if (!s.includes(":")) return undefined;

  const words = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const groups = part.split(":");
    for (const [i, g] of groups.entries()) {
      if (i === groups.length - 1 && g.includes(".")) {
        const v4 = parseIPv4(g);
        if (v4 === undefined) return undefined;
        const [a = 0, b = 0, c = 0, d = 0] = v4;
        out.push((a << 8) | b, (c << 8) | d);
      } else if (/^[0-9a-f]{1,4}$/i.test(g)) {
        out.push(parseInt(g, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };

  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const head = words(halves[0] ?? "");
  const tail = halves.length === 2 ? words(halves[1] ?? "") : [];
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : undefined;
}

function ipv4Mapped(w: readonly number[]): number[] | undefined {
  if (!(w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff)) return undefined;
  const hi = w[6] ?? 0;
  const lo = w[7] ?? 0;
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];
}

/** RFC 5952: lowercase, no leading zeros, the longest run (≥ 2) of zero words as `::`. */
function formatIPv6(w: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < w.length;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < w.length && w[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = w.map((x) => x.toString(16));
  if (bestLen < 2) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

// ---------------------------------------------------------------------------------------------------
// URLs

/**
 * A URL with its scheme and host lowercased, the fragment dropped, and a bare "/" path removed, so
 * `HTTPS://Evil.Example/#x` and `https://evil.example` are one entity. Path and query keep their case
 * (they are case-sensitive on most servers). A value without a scheme is treated as host[/path].
 */
export function urlKey(v: unknown): string | undefined {
  let s = text(v);
  if (s === undefined) return undefined;
  const hash = s.indexOf("#");
  if (hash >= 0) s = s.slice(0, hash);
  const m = /^(?:([a-z][a-z0-9+.-]*):\/\/)?([^/?#]*)(.*)$/is.exec(s);
  if (m === null) return undefined;
  const scheme = m[1]?.toLowerCase();
  const authority = m[2] ?? "";
  let rest = m[3] ?? "";
  // Lowercase the host (and port), not a userinfo part.
  const at = authority.lastIndexOf("@");
  const host = at >= 0 ? `${authority.slice(0, at + 1)}${authority.slice(at + 1).toLowerCase()}` : authority.toLowerCase();
  if (rest === "/") rest = "";
  const result = `${scheme === undefined ? "" : `${scheme}://`}${host}${rest}`;
  return result === "" ? undefined : result;
}
