import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { X509Certificate, createPrivateKey, generateKeyPairSync } from "node:crypto";
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, chmodSync, writeFileSync, unlinkSync } from "node:fs";
import { createServer } from "node:net";
import https from "node:https";
import { tmpdir, hostname } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import Fastify, { type FastifyInstance } from "fastify";
import {
  ensureLocalTls,
  issueLeafCertificate,
  loadTlsFiles,
  caCommonName,
  ipBytes,
  TlsMaterialError,
  type LocalTlsMaterial,
  type TlsMaterial,
} from "../../src/identity/tls.js";

const execFileAsync = promisify(execFile);
const DAY = 24 * 60 * 60 * 1000;
const daysFromNow = (days: number) => new Date(Date.now() + days * DAY);

const root = mkdtempSync(join(tmpdir(), "triage-tls-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = () => join(root, `data-${++dirCount}`);

const tlsFiles = (dataDir: string) => ({
  ca: join(dataDir, "tls", "ca.pem"),
  caKey: join(dataDir, "tls", "ca-key.pem"),
  leaf: join(dataDir, "tls", "server.pem"),
  leafKey: join(dataDir, "tls", "server-key.pem"),
});

const onPath = (cmd: string) => (process.env.PATH ?? "").split(delimiter).some((d) => d && existsSync(join(d, cmd)));
const hasOpenssl = onPath("openssl");

/** Whether this machine can listen on the IPv6 loopback. */
async function hasIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(0, "::1", () => s.close(() => resolve(true)));
  });
}

/** A Fastify instance serving HTTPS with the material exactly as the integrator would pass it. */
async function serve(m: TlsMaterial, host: string): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ https: { key: m.key, cert: m.ca } });
  app.get("/", async () => "hello from triage");
  await app.listen({ port: 0, host });
  const addr = app.server.address();
  if (addr === null || typeof addr === "string") throw new Error("no port");
  return { app, port: addr.port };
}

/** GET over https.get trusting only `ca`; resolves with the body or rejects with the TLS error. */
function httpsGet(opts: { host: string; port: number; ca?: string; servername?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: opts.host, port: opts.port, path: "/", ca: opts.ca, servername: opts.servername, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error("timeout")));
  });
}

/** Runs Node's own fetch in a child process, as an SDK client would, with NODE_EXTRA_CA_CERTS set or not. */
async function childFetch(urls: string[], extraCaPath: string | null): Promise<{ ok: boolean; out: string }> {
  const script = `
    require("node:dns").setDefaultResultOrder("ipv4first");
    (async () => {
      for (const u of JSON.parse(process.argv[1])) {
        const r = await fetch(u);
        console.log(u + " " + r.status + " " + (await r.text()));
      }
    })().catch((e) => { console.error("FETCH FAILED: " + (e.cause?.code ?? "") + " " + (e.cause?.message ?? e.message)); process.exit(3); });`;
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? "" };
  if (extraCaPath) env.NODE_EXTRA_CA_CERTS = extraCaPath;
  try {
    const { stdout } = await execFileAsync(process.execPath, ["-e", script, JSON.stringify(urls)], { env, timeout: 30_000 });
    return { ok: true, out: stdout };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

function sanList(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? "").split(", ");
}

describe("ensureLocalTls: first start", () => {
  const dataDir = freshDir();
  const files = tlsFiles(dataDir);
  let m: LocalTlsMaterial;
  let ca: X509Certificate;
  let leaf: X509Certificate;
  const started = Date.now();

  beforeAll(async () => {
    m = await ensureLocalTls(dataDir, ["triage.example.test", "10.20.30.40", "fd00::5", "[fd00::6]", "Triage.Example.TEST"]);
    ca = new X509Certificate(readFileSync(files.ca));
    leaf = new X509Certificate(readFileSync(files.leaf));
  });

  it("writes the CA and the server certificate with their keys, and returns what it wrote", () => {
    expect(m.caCreated).toBe(true);
    expect(m.leafIssued).toBe(true);
    expect(m.caPath).toBe(files.ca);
    expect(m.key).toBe(readFileSync(files.leafKey, "utf8"));
    expect(m.cert.trim()).toBe(readFileSync(files.leaf, "utf8").trim());
    expect(m.caCert.trim()).toBe(readFileSync(files.ca, "utf8").trim());
    // The served chain is the leaf then the CA.
    expect(m.ca).toBe(m.cert + m.caCert);
    expect(m.ca.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(m.caFingerprint256).toBe(ca.fingerprint256);
    expect(m.leafNotAfter.getTime()).toBe(new Date(leaf.validTo).getTime());
    // The keys really are the certificates' keys.
    expect(leaf.checkPrivateKey(createPrivateKey(m.key))).toBe(true);
    expect(ca.checkPrivateKey(createPrivateKey(readFileSync(files.caKey)))).toBe(true);
  });

  it.skipIf(process.platform === "win32")("keeps the keys private (0600) and the certificates readable", () => {
    expect(statSync(files.caKey).mode & 0o777).toBe(0o600);
    expect(statSync(files.leafKey).mode & 0o777).toBe(0o600);
    expect(statSync(files.ca).mode & 0o077).not.toBe(0); // public: clients point NODE_EXTRA_CA_CERTS at it
    expect(statSync(join(dataDir, "tls")).mode & 0o077).toBe(0);
  });

  it("makes a self-signed 10-year CA named after this machine", () => {
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe(ca.issuer);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.subject).toContain("Triage local CA (");
    expect(ca.subject).toContain(hostname().slice(0, 20));
    expect(ca.subject).toContain(new Date().toISOString().slice(0, 10));
    const years = (new Date(ca.validTo).getTime() - started) / (365 * DAY);
    expect(years).toBeGreaterThan(9.9);
    expect(years).toBeLessThan(10.1);
    expect(new Date(ca.validFrom).getTime()).toBeLessThanOrEqual(started);
    expect(ca.publicKey.asymmetricKeyType).toBe("rsa");
    expect(ca.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it("issues a server certificate signed by the CA, valid for about a year", () => {
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.issuer).toBe(ca.subject);
    expect(leaf.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]); // extended key usage: serverAuth
    const from = new Date(leaf.validFrom).getTime();
    const to = new Date(leaf.validTo).getTime();
    expect(from).toBeLessThanOrEqual(started);
    expect(to - from).toBeLessThanOrEqual(397 * DAY);
    expect(to - Date.now()).toBeGreaterThan(360 * DAY);
    expect(leaf.serialNumber).not.toBe(ca.serialNumber);
  });

  it("names the loopback addresses, localhost and every extra host, IPs as IP SANs and names as DNS SANs", () => {
    const sans = sanList(leaf);
    expect(sans).toContain("DNS:localhost");
    expect(sans).toContain("DNS:triage.example.test"); // given twice in different case: once, lower case
    expect(sans.filter((s) => s.toLowerCase() === "dns:triage.example.test")).toHaveLength(1);
    expect(sans).toContain("IP Address:127.0.0.1");
    expect(sans).toContain("IP Address:10.20.30.40");
    expect(sans.some((s) => s.startsWith("DNS:") && /\d+\.\d+|:/.test(s.slice(4)))).toBe(false);
    for (const ip of ["127.0.0.1", "::1", "10.20.30.40", "fd00::5", "fd00::6"]) expect(leaf.checkIP(ip), ip).toBe(ip);
    for (const name of ["localhost", "triage.example.test"]) expect(leaf.checkHost(name, { subject: "never" }), name).toBe(name);
    expect(leaf.checkHost("other.example.test")).toBeUndefined();
    expect(leaf.checkIP("10.20.30.41")).toBeUndefined();
    expect(sans).toHaveLength(7);
  });

  it.skipIf(!hasOpenssl)("passes `openssl verify -CAfile ca.pem server.pem` (as a TLS server certificate)", async () => {
    const { stdout } = await execFileAsync("openssl", ["verify", "-CAfile", files.ca, "-purpose", "sslserver", files.leaf]);
    expect(stdout.trim()).toBe(`${files.leaf}: OK`);
    // And openssl refuses it against some other CA.
    const other = await ensureLocalTls(freshDir(), []);
    await expect(execFileAsync("openssl", ["verify", "-CAfile", other.caPath, files.leaf])).rejects.toThrow();
  });

  describe("real TLS handshakes", () => {
    let v4: { app: FastifyInstance; port: number };
    let v6: { app: FastifyInstance; port: number } | null = null;
    beforeAll(async () => {
      v4 = await serve(m, "127.0.0.1");
      if (await hasIpv6Loopback()) v6 = await serve(m, "::1");
    });
    afterAll(async () => {
      await v4?.app.close();
      await v6?.app.close();
    });

    it("https.get trusting only the CA accepts 127.0.0.1, localhost and the extra names", async () => {
      expect(await httpsGet({ host: "127.0.0.1", port: v4.port, ca: m.caCert })).toBe("hello from triage");
      expect(await httpsGet({ host: "127.0.0.1", port: v4.port, ca: m.caCert, servername: "localhost" })).toBe("hello from triage");
      expect(await httpsGet({ host: "127.0.0.1", port: v4.port, ca: m.caCert, servername: "triage.example.test" })).toBe("hello from triage");
    });

    it("https.get rejects the server without the CA, and for a name the certificate does not carry", async () => {
      await expect(httpsGet({ host: "127.0.0.1", port: v4.port })).rejects.toMatchObject({
        code: expect.stringMatching(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/),
      });
      await expect(httpsGet({ host: "127.0.0.1", port: v4.port, ca: m.caCert, servername: "elsewhere.example.test" })).rejects.toMatchObject({
        code: "ERR_TLS_CERT_ALTNAME_INVALID",
      });
      const stranger = await ensureLocalTls(freshDir(), []);
      await expect(httpsGet({ host: "127.0.0.1", port: v4.port, ca: stranger.caCert })).rejects.toThrow();
    });

    it("Node's fetch in a process with NODE_EXTRA_CA_CERTS=ca.pem accepts https://127.0.0.1, https://localhost and https://[::1]", async () => {
      const urls = [`https://127.0.0.1:${v4.port}/`, `https://localhost:${v4.port}/`];
      if (v6) urls.push(`https://[::1]:${v6.port}/`);
      const res = await childFetch(urls, m.caPath);
      expect(res.out).not.toContain("FETCH FAILED");
      expect(res.ok).toBe(true);
      for (const u of urls) expect(res.out).toContain(`${u} 200 hello from triage`);
    });

    it("Node's fetch without NODE_EXTRA_CA_CERTS refuses the server", async () => {
      const res = await childFetch([`https://127.0.0.1:${v4.port}/`], null);
      expect(res.ok).toBe(false);
      expect(res.out).toMatch(/FETCH FAILED: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/);
    });

    it("a server given only the leaf (cert: material.cert) is accepted too", async () => {
      const leafOnly = await serve({ ...m, ca: m.cert }, "127.0.0.1");
      try {
        expect(await httpsGet({ host: "127.0.0.1", port: leafOnly.port, ca: m.caCert, servername: "localhost" })).toBe("hello from triage");
      } finally {
        await leafOnly.app.close();
      }
    });
  });
});

describe("ensureLocalTls: later starts", () => {
  it("reuses the CA and the server certificate as they are", async () => {
    const dataDir = freshDir();
    const first = await ensureLocalTls(dataDir, ["a.example.test"]);
    const again = await ensureLocalTls(dataDir, ["a.example.test"]);
    expect(again.caCreated).toBe(false);
    expect(again.leafIssued).toBe(false);
    expect(again.key).toBe(first.key);
    expect(again.cert).toBe(first.cert);
    expect(again.ca).toBe(first.ca);
    expect(again.caFingerprint256).toBe(first.caFingerprint256);
    // Asking for fewer names than the certificate carries keeps it too.
    const fewer = await ensureLocalTls(dataDir, []);
    expect(fewer.leafIssued).toBe(false);
    expect(fewer.cert).toBe(first.cert);
  });

  it("re-issues the server certificate, with the same CA, when a new host is asked for", async () => {
    const dataDir = freshDir();
    const first = await ensureLocalTls(dataDir, ["a.example.test"]);
    const more = await ensureLocalTls(dataDir, ["a.example.test", "b.example.test", "192.0.2.7"]);
    expect(more.caCreated).toBe(false);
    expect(more.leafIssued).toBe(true);
    expect(more.caCert).toBe(first.caCert);
    expect(more.cert).not.toBe(first.cert);
    expect(more.key).not.toBe(first.key);
    const leaf = new X509Certificate(more.cert);
    expect(leaf.checkIssued(new X509Certificate(first.caCert))).toBe(true);
    expect(leaf.checkHost("a.example.test")).toBe("a.example.test");
    expect(leaf.checkHost("b.example.test")).toBe("b.example.test");
    expect(leaf.checkIP("192.0.2.7")).toBe("192.0.2.7");
    expect(readFileSync(tlsFiles(dataDir).leaf, "utf8").trim()).toBe(more.cert.trim());
    // The same IP written differently is the same SAN: no new certificate.
    const same = await ensureLocalTls(dataDir, ["A.example.test.", "b.example.test", "192.0.2.7", "0:0:0:0:0:0:0:1"]);
    expect(same.leafIssued).toBe(false);
  });

  it("re-issues a server certificate within 30 days of expiry, keeping the CA", async () => {
    const dataDir = freshDir();
    const files = tlsFiles(dataDir);
    const first = await ensureLocalTls(dataDir, []);
    // Replace the leaf with one that has 20 days left.
    const short = await issueLeafCertificate({
      caCertPem: first.caCert,
      caKeyPem: readFileSync(files.caKey, "utf8"),
      hosts: ["localhost", "127.0.0.1", "::1"],
      validityDays: 20,
    });
    writeFileSync(files.leaf, short.certPem);
    writeFileSync(files.leafKey, short.keyPem, { mode: 0o600 });
    const shortLeaf = new X509Certificate(short.certPem);
    expect(new Date(shortLeaf.validTo).getTime() - Date.now()).toBeLessThan(21 * DAY);
    expect(shortLeaf.checkIssued(new X509Certificate(first.caCert))).toBe(true);

    const next = await ensureLocalTls(dataDir, []);
    expect(next.caCreated).toBe(false);
    expect(next.leafIssued).toBe(true);
    expect(next.caCert).toBe(first.caCert);
    expect(next.cert.trim()).not.toBe(short.certPem.trim());
    expect(next.leafNotAfter.getTime() - Date.now()).toBeGreaterThan(360 * DAY);
    expect(new X509Certificate(next.cert).verify(new X509Certificate(first.caCert).publicKey)).toBe(true);
  });

  it("re-issues an expired server certificate (made by a start 400 days ago), keeping the CA", async () => {
    const dataDir = freshDir();
    const old = await ensureLocalTls(dataDir, [], { now: daysFromNow(-400) });
    expect(old.leafNotAfter.getTime()).toBeLessThan(Date.now());
    const next = await ensureLocalTls(dataDir, []);
    expect(next.caCreated).toBe(false);
    expect(next.leafIssued).toBe(true);
    expect(next.caCert).toBe(old.caCert);
    expect(next.leafNotAfter.getTime()).toBeGreaterThan(Date.now() + 360 * DAY);
    // The new certificate must not outlive its CA, and starts no later than now.
    expect(new Date(new X509Certificate(next.cert).validFrom).getTime()).toBeLessThanOrEqual(Date.now());
  });

  it("re-issues a server certificate that is missing, damaged, or signed by another CA", async () => {
    const dataDir = freshDir();
    const files = tlsFiles(dataDir);
    const first = await ensureLocalTls(dataDir, []);

    unlinkSync(files.leaf);
    const afterMissing = await ensureLocalTls(dataDir, []);
    expect(afterMissing.leafIssued).toBe(true);
    expect(afterMissing.caCert).toBe(first.caCert);

    writeFileSync(files.leaf, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
    const afterGarbage = await ensureLocalTls(dataDir, []);
    expect(afterGarbage.leafIssued).toBe(true);

    const otherDir = freshDir();
    await ensureLocalTls(otherDir, []);
    copyFileSync(tlsFiles(otherDir).leaf, files.leaf);
    copyFileSync(tlsFiles(otherDir).leafKey, files.leafKey);
    const afterForeign = await ensureLocalTls(dataDir, []);
    expect(afterForeign.leafIssued).toBe(true);
    expect(new X509Certificate(afterForeign.cert).checkIssued(new X509Certificate(first.caCert))).toBe(true);

    // A key that is not the certificate's.
    copyFileSync(tlsFiles(otherDir).leafKey, files.leafKey);
    const afterWrongKey = await ensureLocalTls(dataDir, []);
    expect(afterWrongKey.leafIssued).toBe(true);
    expect(new X509Certificate(afterWrongKey.cert).checkPrivateKey(createPrivateKey(afterWrongKey.key))).toBe(true);
  });

  it("replaces a CA within 30 days of its expiry, with a new server certificate", async () => {
    const dataDir = freshDir();
    const old = await ensureLocalTls(dataDir, [], { now: daysFromNow(-3640) });
    const next = await ensureLocalTls(dataDir, []);
    expect(next.caCreated).toBe(true);
    expect(next.leafIssued).toBe(true);
    expect(next.caFingerprint256).not.toBe(old.caFingerprint256);
    expect(new X509Certificate(next.cert).checkIssued(new X509Certificate(next.caCert))).toBe(true);
  });

  it("never issues a server certificate that outlives its CA", async () => {
    const dataDir = freshDir();
    // A CA made 3600 days ago has 50 days left today: still kept, but a new leaf must stop when it does.
    const old = await ensureLocalTls(dataDir, [], { now: daysFromNow(-3600) });
    const next = await ensureLocalTls(dataDir, []);
    expect(next.caCreated).toBe(false);
    expect(next.leafIssued).toBe(true);
    const caEnd = new Date(new X509Certificate(old.caCert).validTo).getTime();
    expect(caEnd - Date.now()).toBeLessThan(51 * DAY);
    expect(next.leafNotAfter.getTime()).toBe(caEnd);
  });

  it.skipIf(process.platform === "win32")("tightens key files whose permissions were loosened", async () => {
    const dataDir = freshDir();
    const files = tlsFiles(dataDir);
    await ensureLocalTls(dataDir, []);
    chmodSync(files.caKey, 0o644);
    chmodSync(files.leafKey, 0o644);
    const again = await ensureLocalTls(dataDir, []);
    expect(again.leafIssued).toBe(false);
    expect(statSync(files.caKey).mode & 0o777).toBe(0o600);
    expect(statSync(files.leafKey).mode & 0o777).toBe(0o600);
  });

  it("refuses a damaged CA, or half of one, rather than silently replacing what clients trust", async () => {
    const dataDir = freshDir();
    const files = tlsFiles(dataDir);
    await ensureLocalTls(dataDir, []);
    const caPem = readFileSync(files.ca, "utf8");

    writeFileSync(files.ca, "garbage\n");
    const damaged = ensureLocalTls(dataDir, []);
    await expect(damaged).rejects.toBeInstanceOf(TlsMaterialError);
    await expect(ensureLocalTls(dataDir, [])).rejects.toThrow(files.ca);

    writeFileSync(files.ca, caPem);
    unlinkSync(files.caKey);
    await expect(ensureLocalTls(dataDir, [])).rejects.toThrow(/ca-key\.pem is missing/);

    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(files.caKey, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    await expect(ensureLocalTls(dataDir, [])).rejects.toThrow(/is not the key of/);
  });

  it("rejects extra hosts that cannot be certificate names, before writing anything", async () => {
    const dataDir = freshDir();
    await expect(ensureLocalTls(dataDir, ["https://triage.example.test:8443"])).rejects.toThrow(/neither an IP address nor a DNS host name/);
    await expect(ensureLocalTls(dataDir, ["two words"])).rejects.toThrow(TlsMaterialError);
    expect(existsSync(join(dataDir, "tls"))).toBe(false);
  });
});

describe("helpers", () => {
  it("ipBytes reads IPv4, IPv6 (compressed, full, IPv4-suffixed) and nothing else", () => {
    expect(ipBytes("127.0.0.1")?.toString("hex")).toBe("7f000001");
    expect(ipBytes("::1")?.toString("hex")).toBe("00000000000000000000000000000001");
    expect(ipBytes("0:0:0:0:0:0:0:1")?.toString("hex")).toBe("00000000000000000000000000000001");
    expect(ipBytes("fd00::5:0")?.toString("hex")).toBe("fd000000000000000000000000050000");
    expect(ipBytes("2001:db8::")?.toString("hex")).toBe("20010db8000000000000000000000000");
    expect(ipBytes("::ffff:10.0.0.1")?.toString("hex")).toBe("00000000000000000000ffff0a000001");
    expect(ipBytes("fe80::1%eth0")?.toString("hex")).toBe("fe800000000000000000000000000001");
    expect(ipBytes("localhost")).toBeNull();
    expect(ipBytes("1.2.3")).toBeNull();
  });

  it("caCommonName keeps within 64 characters and tells machines and days apart", () => {
    const day = new Date("2026-03-04T05:06:07Z");
    expect(caCommonName(day, "build-7")).toBe("Triage local CA (build-7, 2026-03-04)");
    expect(caCommonName(day, "x".repeat(200)).length).toBeLessThanOrEqual(64);
    expect(caCommonName(day, "a")).not.toBe(caCommonName(day, "b"));
  });
});

describe("loadTlsFiles", () => {
  const dataDir = freshDir();
  const files = tlsFiles(dataDir);
  let local: LocalTlsMaterial;
  beforeAll(async () => {
    local = await ensureLocalTls(dataDir, ["ops.example.test"]);
    writeFileSync(join(root, "chain.pem"), local.ca);
  });

  it("loads a certificate and its key", async () => {
    const m = await loadTlsFiles(files.leaf, files.leafKey);
    expect(m.caPath).toBeNull();
    expect(m.key).toBe(local.key);
    expect(m.cert).toBe(local.cert);
    expect(m.ca).toBe(local.cert);
  });

  it("loads a chain file: cert is its first certificate, ca the whole chain", async () => {
    const m = await loadTlsFiles(join(root, "chain.pem"), files.leafKey);
    expect(m.cert).toBe(local.cert);
    expect(m.ca).toBe(local.ca);
  });

  it("serves what it loaded over a real handshake", async () => {
    const m = await loadTlsFiles(join(root, "chain.pem"), files.leafKey);
    const s = await serve(m, "127.0.0.1");
    try {
      expect(await httpsGet({ host: "127.0.0.1", port: s.port, ca: local.caCert, servername: "ops.example.test" })).toBe("hello from triage");
    } finally {
      await s.app.close();
    }
  });

  it.skipIf(!hasOpenssl)("loads an EC P-256 certificate made by openssl", async () => {
    const cert = join(root, "ec-cert.pem");
    const key = join(root, "ec-key.pem");
    await execFileAsync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-subj",
      "/CN=ec.example.test",
      "-days",
      "2",
    ]);
    const m = await loadTlsFiles(cert, key);
    expect(new X509Certificate(m.cert).publicKey.asymmetricKeyType).toBe("ec");
  });

  it("names a missing certificate or key file", async () => {
    const missing = join(root, "nope.pem");
    await expect(loadTlsFiles(missing, files.leafKey)).rejects.toThrow(`TLS certificate file ${missing} does not exist`);
    await expect(loadTlsFiles(files.leaf, missing)).rejects.toThrow(`TLS private key file ${missing} does not exist`);
    await expect(loadTlsFiles(files.leaf, missing)).rejects.toBeInstanceOf(TlsMaterialError);
  });

  it("says when the certificate file is not a PEM certificate", async () => {
    const text = join(root, "text.pem");
    writeFileSync(text, "hello, I am not a certificate\n");
    await expect(loadTlsFiles(text, files.leafKey)).rejects.toThrow(/holds no PEM certificate/);

    const broken = join(root, "broken.pem");
    writeFileSync(broken, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
    await expect(loadTlsFiles(broken, files.leafKey)).rejects.toThrow(new RegExp(`${broken}: certificate #1 cannot be parsed`));

    await expect(loadTlsFiles(files.leafKey, files.leaf)).rejects.toThrow(
      /holds a private key, not a certificate \(are the certificate and key paths swapped\?\)/,
    );
  });

  it("says when the key file is not a usable PEM key", async () => {
    const text = join(root, "text-key.pem");
    writeFileSync(text, "not a key\n");
    await expect(loadTlsFiles(files.leaf, text)).rejects.toThrow(/holds no PEM private key/);

    const broken = join(root, "broken-key.pem");
    writeFileSync(broken, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
    await expect(loadTlsFiles(files.leaf, broken)).rejects.toThrow(new RegExp(`${broken} does not hold a valid private key`));

    const encrypted = join(root, "encrypted-key.pem");
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(encrypted, privateKey.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "secret" }));
    await expect(loadTlsFiles(files.leaf, encrypted)).rejects.toThrow(/encrypted private key/);
  });

  it("says when the key does not match the certificate", async () => {
    const other = join(root, "other-key.pem");
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(other, privateKey.export({ type: "pkcs8", format: "pem" }));
    await expect(loadTlsFiles(files.leaf, other)).rejects.toThrow(`TLS private key in ${other} does not match the certificate in ${files.leaf}`);
    // The CA's key is a real key too, just not this certificate's.
    await expect(loadTlsFiles(files.leaf, files.caKey)).rejects.toThrow(/does not match the certificate/);
  });

  it("says when the certificate has expired", async () => {
    const expired = await issueLeafCertificate({
      caCertPem: local.caCert,
      caKeyPem: readFileSync(files.caKey, "utf8"),
      hosts: ["localhost"],
      now: daysFromNow(-30),
      validityDays: 10,
    });
    const cert = join(root, "expired.pem");
    const key = join(root, "expired-key.pem");
    writeFileSync(cert, expired.certPem);
    writeFileSync(key, expired.keyPem);
    await expect(loadTlsFiles(cert, key)).rejects.toThrow(/expired on/);
  });
});
