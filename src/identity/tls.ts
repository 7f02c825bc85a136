/**
 * TLS material for Triage's HTTPS listener.
 *
 * Microsoft's client libraries (MSAL, @azure/identity, the Graph SDKs) insist on HTTPS, so Triage serves
 * HTTPS by default. Without an operator-supplied certificate it keeps a small local CA in DATA/tls/: the
 * CA lives for ten years and is what clients trust (`NODE_EXTRA_CA_CERTS=DATA/tls/ca.pem`), while the
 * server certificate it signs is short-lived and re-issued on start whenever it is missing, near expiry
 * or does not name the hosts Triage is asked to answer on.
 *
 * Node's crypto can make keys and signatures but not certificates: node:crypto makes the keys (RSA 2048)
 * and signs (SHA-256), node-forge only lays out the certificates. Everything that reads certificates
 * back uses node:crypto's X509Certificate.
 */
import { X509Certificate, createPrivateKey, randomBytes, sign, type KeyObject } from "node:crypto";
import { chmod, mkdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { isIP } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { newRsaKeyPair } from "./rsa-keys.js";

export interface TlsMaterial {
  /** PEM private key of the served certificate. */
  key: string;
  /** PEM of the served (leaf) certificate alone. */
  cert: string;
  /** PEM chain served: leaf then CA (for operator files: the certificate file's chain as given). */
  ca: string;
  /** The local CA certificate's file, for NODE_EXTRA_CA_CERTS; null for operator-supplied material. */
  caPath: string | null;
}

export interface LocalTlsMaterial extends TlsMaterial {
  caPath: string;
  /** PEM of the local CA certificate alone. */
  caCert: string;
  /** SHA-256 fingerprint of the CA (colon-separated hex, as X509Certificate.fingerprint256). */
  caFingerprint256: string;
  /** True when this call created a new CA (clients must trust the new ca.pem). */
  caCreated: boolean;
  /** True when this call issued a new server certificate. */
  leafIssued: boolean;
  /** When the served certificate expires. */
  leafNotAfter: Date;
}

export interface EnsureLocalTlsOptions {
  /** The current time (tests use it to make certificates that are already old). */
  now?: Date;
}

/** Raised for TLS material that cannot be used; the message says which file and why. */
export class TlsMaterialError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TlsMaterialError";
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Validity of the local CA. */
export const CA_VALIDITY_DAYS = 3650;
/** Validity of the server certificate: within the 397/398-day limit that browsers and Apple platforms apply. */
export const LEAF_VALIDITY_DAYS = 365;
/** A server certificate with less than this left is re-issued on start (and the CA renewed likewise). */
export const RENEW_BEFORE_DAYS = 30;
/** Certificates are back-dated this much to tolerate small clock differences between machines. */
const BACKDATE_MS = 60 * 60 * 1000;

/** The names every local server certificate carries. */
export const DEFAULT_HOSTS: readonly string[] = ["localhost", "127.0.0.1", "::1"];

// ---------------------------------------------------------------------------------------------------
// node-forge, typed to the few calls used here (the package ships no types of its own).

type ForgeKey = { readonly __forgeKey: unique symbol };
interface ForgeAttr {
  shortName: string;
  value: string;
  valueTagClass?: number;
}
interface ForgeAltName {
  type: number;
  value: string;
}
interface ForgeCertificate {
  publicKey: ForgeKey;
  subject: { attributes: ForgeAttr[] };
  serialNumber: string;
  validity: { notBefore: Date; notAfter: Date };
  setSubject(attrs: ForgeAttr[]): void;
  setIssuer(attrs: ForgeAttr[]): void;
  setExtensions(exts: Record<string, unknown>[]): void;
  getExtension(name: string): { altNames?: ForgeAltName[] } | null;
  generateSubjectKeyIdentifier(): { getBytes(): string };
  signatureOid: string | null;
  siginfo: { algorithmOid: string | null };
  tbsCertificate?: ForgeAsn1;
  signature?: string;
}
type ForgeAsn1 = { readonly __forgeAsn1: unique symbol };
interface Forge {
  pki: {
    createCertificate(): ForgeCertificate;
    certificateFromPem(pem: string): ForgeCertificate;
    certificateToPem(cert: ForgeCertificate): string;
    publicKeyFromPem(pem: string): ForgeKey;
    getTBSCertificate(cert: ForgeCertificate): ForgeAsn1;
    oids: { sha256WithRSAEncryption: string };
  };
  asn1: { Type: { UTF8: number }; toDer(a: ForgeAsn1): { getBytes(): string } };
}

let forgeModule: Forge | undefined;
/** node-forge is loaded when a certificate is first read or made (HTTPS only): `--http` servers do not hold it. */
const forge = (): Forge => (forgeModule ??= createRequire(import.meta.url)("node-forge") as Forge);

// ---------------------------------------------------------------------------------------------------
// Host names

interface SanSet {
  dns: string[];
  /** IP addresses as canonical lowercase hex of their 4 or 16 bytes. */
  ips: string[];
}

/** Bytes of an IPv4 or IPv6 literal (IPv6 zone ids dropped), or null when `text` is not one. */
export function ipBytes(text: string): Buffer | null {
  const ip = text.replace(/%.*$/, "");
  const family = isIP(ip);
  if (family === 4) return Buffer.from(ip.split(".").map(Number));
  if (family !== 6) return null;
  let head = ip;
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (v4?.[1]) {
    // An IPv4-suffixed form such as ::ffff:10.0.0.1: the last 32 bits are dotted.
    tail = v4[1].split(".").map(Number);
    head = ip.slice(0, -v4[1].length) + "0:0";
  }
  const [left = "", right] = head.split("::");
  const groups = (part: string): string[] => (part === "" ? [] : part.split(":"));
  const l = groups(left);
  const r = right === undefined ? [] : groups(right);
  const all = right === undefined ? l : [...l, ...Array<string>(8 - l.length - r.length).fill("0"), ...r];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  if (tail.length === 4) Buffer.from(tail).copy(out, 12);
  return out;
}

const DNS_NAME = /^(\*\.)?(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*\.?$/;

/** Splits hosts into DNS names and IP addresses, normalised (lower case, no brackets, no trailing dot). */
function classifyHosts(hosts: Iterable<string>): SanSet {
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const raw of hosts) {
    let host = raw.trim();
    if (host === "") continue;
    if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
    const bytes = ipBytes(host);
    if (bytes) {
      ips.add(bytes.toString("hex"));
      continue;
    }
    const name = host.toLowerCase();
    if (name.length > 253 || !DNS_NAME.test(name)) {
      throw new TlsMaterialError(
        `'${raw}' is neither an IP address nor a DNS host name, so it cannot be put in the server certificate (give host names without scheme or port).`,
      );
    }
    dns.add(name.replace(/\.$/, ""));
  }
  return { dns: [...dns], ips: [...ips] };
}

function sansOf(cert: ForgeCertificate): SanSet {
  const altNames = cert.getExtension("subjectAltName")?.altNames ?? [];
  return {
    dns: altNames.filter((n) => n.type === 2).map((n) => n.value.toLowerCase()),
    ips: altNames.filter((n) => n.type === 7).map((n) => Buffer.from(n.value, "binary").toString("hex")),
  };
}

function covers(have: SanSet, want: SanSet): boolean {
  return want.dns.every((d) => have.dns.includes(d)) && want.ips.every((ip) => have.ips.includes(ip));
}

// ---------------------------------------------------------------------------------------------------
// Files

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** Writes through a temporary file and a rename, so a crash never leaves half a PEM behind. */
async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, data, { mode, flag: "wx" });
    await chmod(tmp, mode); // in case the umask took bits away from `mode` (it never adds any)
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

async function tightenKeyMode(path: string): Promise<void> {
  if (process.platform === "win32") return;
  const { mode } = await stat(path);
  if ((mode & 0o077) !== 0) await chmod(path, 0o600);
}

// ---------------------------------------------------------------------------------------------------
// Issuing

async function newRsaKey(): Promise<{ privatePem: string; publicPem: string }> {
  const { privateKey, publicKey } = await newRsaKeyPair();
  return {
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/**
 * Signs a certificate that forge has built with the issuer's key, as forge's own `cert.sign(key,
 * sha256)` does (sha256WithRSAEncryption over the DER of the TBSCertificate, PKCS #1 v1.5), but with
 * Node's crypto: the same signature, made natively in milliseconds instead of forge's JavaScript
 * big-number arithmetic (hundreds of milliseconds of CPU per signature).
 */
function signCertificate(cert: ForgeCertificate, issuerKeyPem: string): void {
  cert.signatureOid = cert.siginfo.algorithmOid = forge().pki.oids.sha256WithRSAEncryption;
  cert.tbsCertificate = forge().pki.getTBSCertificate(cert);
  const tbs = Buffer.from(forge().asn1.toDer(cert.tbsCertificate).getBytes(), "binary");
  cert.signature = sign("sha256", tbs, createPrivateKey(issuerKeyPem)).toString("binary");
}

/** A random positive 128-bit serial number, as forge wants it (hex, no leading sign bit). */
function newSerial(): string {
  const b = randomBytes(16);
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x40;
  return b.toString("hex");
}

function utf8(shortName: string, value: string): ForgeAttr {
  return { shortName, value, valueTagClass: forge().asn1.Type.UTF8 };
}

/** `Triage local CA (<host>, <date>)`, kept within the 64-character limit on a common name. */
export function caCommonName(now: Date, host: string = hostname()): string {
  const date = now.toISOString().slice(0, 10);
  const room = 64 - `Triage local CA (, ${date})`.length;
  const shortHost = (host.trim() || "unknown host").slice(0, room);
  return `Triage local CA (${shortHost}, ${date})`;
}

interface IssuedCa {
  certPem: string;
  keyPem: string;
}

async function issueCa(now: Date): Promise<IssuedCa> {
  const keys = await newRsaKey();
  const cert = forge().pki.createCertificate();
  cert.publicKey = forge().pki.publicKeyFromPem(keys.publicPem);
  cert.serialNumber = newSerial();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  cert.validity.notAfter = new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS);
  const name = [utf8("CN", caCommonName(now)), utf8("O", "Triage")];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: "basicConstraints", critical: true, cA: true, pathLenConstraint: 0 },
    { name: "keyUsage", critical: true, keyCertSign: true, cRLSign: true },
    { name: "subjectKeyIdentifier" },
  ]);
  signCertificate(cert, keys.privatePem);
  return { certPem: forge().pki.certificateToPem(cert), keyPem: keys.privatePem };
}

interface IssueLeafParams {
  caCertPem: string;
  caKeyPem: string;
  hosts: readonly string[];
  now?: Date;
  /** Defaults to LEAF_VALIDITY_DAYS; never past the CA's own expiry. */
  validityDays?: number;
  /** The leaf's key pair, when it was made ahead (a new one otherwise). */
  keys?: Promise<{ privatePem: string; publicPem: string }>;
}

/**
 * Issues a server certificate signed by the given CA for `hosts` (DNS names and IP literals; nothing is
 * added to them). Exported for tests that need a certificate with an unusual validity.
 */
export async function issueLeafCertificate(params: IssueLeafParams): Promise<{ certPem: string; keyPem: string }> {
  const now = params.now ?? new Date();
  const sans = classifyHosts(params.hosts);
  const caCert = forge().pki.certificateFromPem(params.caCertPem);
  const keys = await (params.keys ?? newRsaKey());

  const cert = forge().pki.createCertificate();
  cert.publicKey = forge().pki.publicKeyFromPem(keys.publicPem);
  cert.serialNumber = newSerial();
  cert.validity.notBefore = new Date(now.getTime() - BACKDATE_MS);
  const wanted = now.getTime() + (params.validityDays ?? LEAF_VALIDITY_DAYS) * DAY_MS;
  cert.validity.notAfter = new Date(Math.min(wanted, caCert.validity.notAfter.getTime()));
  cert.setSubject([utf8("CN", sans.dns[0] ?? "localhost"), utf8("O", "Triage")]);
  // The issuer must equal the CA's subject byte for byte: copy it (forge hands UTF8String values back
  // undecoded and encodes them again on the way out, so decode them first).
  cert.setIssuer(
    caCert.subject.attributes.map((a) => ({
      ...a,
      value: a.valueTagClass === forge().asn1.Type.UTF8 ? Buffer.from(a.value, "binary").toString("utf8") : a.value,
    })),
  );
  cert.setExtensions([
    { name: "basicConstraints", critical: true, cA: false },
    { name: "keyUsage", critical: true, digitalSignature: true, keyEncipherment: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [...sans.dns.map((value) => ({ type: 2, value })), ...sans.ips.map((hex) => ({ type: 7, value: Buffer.from(hex, "hex").toString("binary") }))],
    },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  signCertificate(cert, params.caKeyPem);
  return { certPem: forge().pki.certificateToPem(cert), keyPem: keys.privatePem };
}

// ---------------------------------------------------------------------------------------------------
// Checking what is on disk

function parseCertificate(pem: string, path: string): X509Certificate {
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    throw new TlsMaterialError(`${path} holds no PEM certificate (expected a '-----BEGIN CERTIFICATE-----' block).`);
  }
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new TlsMaterialError(`${path} does not hold a valid certificate: ${(err as Error).message}`, { cause: err });
  }
}

function parsePrivateKey(pem: string, path: string): KeyObject {
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) {
    throw new TlsMaterialError(`${path} holds no PEM private key (expected a '-----BEGIN PRIVATE KEY-----' block).`);
  }
  if (pem.includes("ENCRYPTED PRIVATE KEY") || /Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw new TlsMaterialError(`${path} holds an encrypted private key; give Triage the key without a passphrase.`);
  }
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new TlsMaterialError(`${path} does not hold a valid private key: ${(err as Error).message}`, { cause: err });
  }
}

/** Usable from `now` until at least RENEW_BEFORE_DAYS from now. */
function freshAt(cert: X509Certificate, now: Date): boolean {
  const from = new Date(cert.validFrom).getTime();
  const to = new Date(cert.validTo).getTime();
  return from <= now.getTime() && to - now.getTime() > RENEW_BEFORE_DAYS * DAY_MS;
}

/** The existing CA, or null when there is none or it is too old to keep; throws when it is damaged. */
async function loadCa(certPath: string, keyPath: string, now: Date): Promise<IssuedCa | null> {
  const [certPem, keyPem] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
  if (certPem === null && keyPem === null) return null;
  const repair = `Delete ${certPath} and ${keyPath} to have Triage create a new local CA (clients must then trust the new ca.pem).`;
  if (certPem === null || keyPem === null) {
    throw new TlsMaterialError(`${certPem === null ? certPath : keyPath} is missing but ${certPem === null ? keyPath : certPath} exists. ${repair}`);
  }
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    cert = parseCertificate(certPem, certPath);
    key = parsePrivateKey(keyPem, keyPath);
  } catch (err) {
    throw new TlsMaterialError(`${(err as Error).message} ${repair}`, { cause: err });
  }
  if (!cert.ca) throw new TlsMaterialError(`${certPath} is not a CA certificate. ${repair}`);
  if (!cert.checkPrivateKey(key)) throw new TlsMaterialError(`${keyPath} is not the key of ${certPath}. ${repair}`);
  if (!freshAt(cert, now)) return null; // expired or about to: replace it
  await tightenKeyMode(keyPath);
  return { certPem, keyPem };
}

/** The existing leaf if it is still good for `wanted` under `caPem`, else null. */
async function loadLeaf(certPath: string, keyPath: string, caPem: string, wanted: SanSet, now: Date): Promise<{ certPem: string; keyPem: string } | null> {
  const [certPem, keyPem] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
  if (certPem === null || keyPem === null) return null;
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return null;
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return null;
    if (!freshAt(cert, now)) return null;
    if (!covers(sansOf(forge().pki.certificateFromPem(certPem)), wanted)) return null;
  } catch {
    return null; // damaged: the leaf is disposable, issue a new one
  }
  await tightenKeyMode(keyPath);
  return { certPem, keyPem };
}

function pemBlock(pem: string): string {
  return pem.trim() + "\n";
}

// ---------------------------------------------------------------------------------------------------
// Public API

/**
 * On first use creates DIR/tls/ca.pem + ca-key.pem (a local CA, 10 years, CA:true, keyCertSign) and
 * DIR/tls/server.pem + server-key.pem (a leaf signed by it, 365 days, serverAuth EKU, subjectAltName
 * IP:127.0.0.1, IP:::1, DNS:localhost plus every given extra host name or IP).
 * On later starts reuses them; re-issues the leaf (keeping the CA) when it is missing, damaged, expired or
 * within 30 days of expiry, or when its SANs do not cover the requested hosts. A CA within 30 days of its
 * expiry is replaced (with a new leaf); a damaged CA, or one of its two files alone, is an error rather
 * than silently replaced, since clients trust it. Key files are mode 0600, the tls directory 0700.
 */
export async function ensureLocalTls(dataDir: string, extraHosts: string[], options: EnsureLocalTlsOptions = {}): Promise<LocalTlsMaterial> {
  const now = options.now ?? new Date();
  const hosts = [...DEFAULT_HOSTS, ...extraHosts];
  const wanted = classifyHosts(hosts); // validates extraHosts before anything is written

  const dir = join(dataDir, "tls");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caPath = join(dir, "ca.pem");
  const caKeyPath = join(dir, "ca-key.pem");
  const leafPath = join(dir, "server.pem");
  const leafKeyPath = join(dir, "server-key.pem");

  let ca = await loadCa(caPath, caKeyPath, now);
  const caCreated = ca === null;
  // A new CA needs a new leaf: its key is made alongside the CA's (each takes ~100 ms of a core).
  const leafKeys = caCreated ? newRsaKey() : undefined;
  leafKeys?.catch(() => undefined);
  if (ca === null) {
    ca = await issueCa(now);
    await writeAtomic(caKeyPath, ca.keyPem, 0o600);
    await writeAtomic(caPath, ca.certPem, 0o644);
  }

  let leaf = caCreated ? null : await loadLeaf(leafPath, leafKeyPath, ca.certPem, wanted, now);
  const leafIssued = leaf === null;
  if (leaf === null) {
    leaf = await issueLeafCertificate({ caCertPem: ca.certPem, caKeyPem: ca.keyPem, hosts, now, keys: leafKeys });
    await writeAtomic(leafKeyPath, leaf.keyPem, 0o600);
    await writeAtomic(leafPath, leaf.certPem, 0o644);
  }

  const caX509 = new X509Certificate(ca.certPem);
  return {
    key: leaf.keyPem,
    cert: pemBlock(leaf.certPem),
    ca: pemBlock(leaf.certPem) + pemBlock(ca.certPem),
    caPath,
    caCert: pemBlock(ca.certPem),
    caFingerprint256: caX509.fingerprint256,
    caCreated,
    leafIssued,
    leafNotAfter: new Date(new X509Certificate(leaf.certPem).validTo),
  };
}

/**
 * Operator-supplied certificate and key (PEM files). The certificate file may hold a chain (leaf first,
 * then intermediates); `cert` is its first certificate and `ca` the whole chain as given. Validates that
 * both parse, that the key matches the first certificate and that it has not expired; the errors name the
 * file and the problem.
 */
export async function loadTlsFiles(certPath: string, keyPath: string): Promise<TlsMaterial> {
  const read = async (path: string, what: string): Promise<string> => {
    try {
      return await readFile(path, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === "ENOENT"
          ? "does not exist"
          : code === "EACCES"
            ? "cannot be read (permission denied)"
            : code === "EISDIR"
              ? "is a directory"
              : (err as Error).message;
      throw new TlsMaterialError(`TLS ${what} file ${path} ${why}.`, { cause: err });
    }
  };
  const [certText, keyPem] = await Promise.all([read(certPath, "certificate"), read(keyPath, "private key")]);

  const blocks = certText.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(certText)) {
      throw new TlsMaterialError(`TLS certificate file ${certPath} holds a private key, not a certificate (are the certificate and key paths swapped?).`);
    }
    throw new TlsMaterialError(`TLS certificate file ${certPath} holds no PEM certificate (expected a '-----BEGIN CERTIFICATE-----' block).`);
  }
  const chain = blocks.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (err) {
      throw new TlsMaterialError(`TLS certificate file ${certPath}: certificate #${i + 1} cannot be parsed: ${(err as Error).message}`, { cause: err });
    }
  });
  const leaf = chain[0] as X509Certificate;

  let key: KeyObject;
  try {
    key = parsePrivateKey(keyPem, keyPath);
  } catch (err) {
    throw new TlsMaterialError(`TLS private key file ${(err as Error).message}`, { cause: err });
  }
  if (!leaf.checkPrivateKey(key)) {
    throw new TlsMaterialError(`TLS private key in ${keyPath} does not match the certificate in ${certPath} (subject ${leaf.subject.replace(/\n/g, ", ")}).`);
  }
  const notAfter = new Date(leaf.validTo);
  if (notAfter.getTime() <= Date.now()) {
    throw new TlsMaterialError(`TLS certificate in ${certPath} expired on ${notAfter.toISOString()}.`);
  }
  const certs = blocks.map(pemBlock);
  return { key: keyPem, cert: certs[0] as string, ca: certs.join(""), caPath: null };
}
